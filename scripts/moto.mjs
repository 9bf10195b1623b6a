// Test equipment for the AWS provider: moto's server (an AWS emulator) installed from PyPI into a virtual environment
// in the cache, never committed, never shipped. test/aws/moto/requirements.txt names the version (and is the one place
// that does); constraints.txt pins what it pulls in. Tests reach it only through the real SDK clients, pointed at it
// with the standard endpoint configuration. ../shared/notes/cloud-test-equipment.md has what was checked about it.
//
// Usage:
//   node scripts/moto.mjs build    creates the venv and installs moto into the cache (skipped when present)
//   node scripts/moto.mjs start    builds if needed, starts moto on 127.0.0.1, prints its endpoint until Ctrl+C
// Environment: ENCORE_ENV_CACHE moves the cache (default ~/.cache/encore-environments); PYTHON picks the interpreter
// the venv is made from (default python3).
/* global AbortSignal */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from './vscode-host.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const requirementsFile = path.join(root, 'test', 'aws', 'moto', 'requirements.txt');
const constraintsFile = path.join(root, 'test', 'aws', 'moto', 'constraints.txt');

/** The moto release installed, read from requirements.txt (e.g. "5.2.5"). */
export const MOTO_VERSION = (() => {
  const match = /^moto\[server\]==(\S+)/m.exec(readFileSync(requirementsFile, 'utf8'));
  if (!match) throw new Error(`${requirementsFile} does not pin moto[server]==<version>`);
  return match[1];
})();

export const cacheDir = process.env.ENCORE_ENV_CACHE || path.join(os.homedir(), '.cache', 'encore-environments');
export const venvDir = path.join(cacheDir, `moto-${MOTO_VERSION}`);
export const venvPython = path.join(venvDir, 'bin', 'python');
/** Written last by a build: the requirements it installed. A venv without it (or with other requirements) is rebuilt. */
const STAMP = 'encore-moto.stamp';

/** moto 5.2 supports Python 3.9 and later. */
const MIN_PYTHON = [3, 9];

const say = (message) => process.stderr.write(`[moto] ${message}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------------------------
// build

function requirementsDigest() {
  const hash = createHash('sha256');
  for (const file of [requirementsFile, constraintsFile]) hash.update(existsSync(file) ? readFileSync(file) : '');
  return hash.digest('hex');
}

/** The moto version a venv's Python imports, or undefined when it is missing or broken. */
function installedVersion(python) {
  if (!existsSync(python)) return undefined;
  const result = spawnSync(python, ['-c', 'import importlib.metadata as m, moto.server; print(m.version("moto"))'], {
    encoding: 'utf8', timeout: 60_000,
  });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function venvReadyIn(dir) {
  try {
    if (readFileSync(path.join(dir, STAMP), 'utf8').trim() !== requirementsDigest()) return false;
  } catch {
    return false;
  }
  return installedVersion(path.join(dir, 'bin', 'python')) === MOTO_VERSION;
}

/** True when the cached venv holds moto at MOTO_VERSION, installed from the current requirements. */
export function motoReady() {
  return venvReadyIn(venvDir);
}

/** The interpreter the venv is made from, or throws with what to install. */
function findPython() {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  for (const python of candidates) {
    const result = spawnSync(python, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (result.error) continue;
    if (result.status !== 0) {
      if (/No module named '?(ensurepip|venv)/.test(result.stderr)) {
        throw new Error(
          `${python} cannot create virtual environments (no venv/ensurepip module). On Debian: apt-get install python3-venv`,
        );
      }
      continue;
    }
    const [major, minor] = result.stdout.trim().split('.').map(Number);
    if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
      throw new Error(`${python} is Python ${major}.${minor}; moto ${MOTO_VERSION} needs Python ${MIN_PYTHON.join('.')} or later`);
    }
    return { python, version: `${major}.${minor}` };
  }
  throw new Error(`Python 3 was not found (tried ${candidates.join(', ')}). On Debian: apt-get install python3 python3-venv`);
}

function run(command, args, what) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
  if (result.status !== 0) throw new Error(`${what} failed (${command} ${args.join(' ')}: exit ${result.status ?? result.signal}); the lines above say why`);
}

/** Removes the temporary folders of builds whose process is gone (a killed build leaves one). */
function removeAbandonedBuilds() {
  const parent = path.dirname(venvDir);
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const match = new RegExp(`^${path.basename(venvDir).replace(/\./g, '\\.')}\\.partial-(\\d+)$`).exec(name);
    if (!match) continue;
    try {
      process.kill(Number(match[1]), 0);
    } catch (err) {
      if (err.code === 'ESRCH') rmSync(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

/**
 * Creates the venv and installs moto into venvDir, unless it is there with the wanted version. Installs into a
 * temporary sibling folder renamed into place at the end, so a killed install never leaves a venv that looks
 * complete (the scripts are always run as `venv/bin/python -m …`, which works from the renamed folder).
 */
export async function buildMoto({ force = false } = {}) {
  if (!force && motoReady()) {
    say(`moto ${MOTO_VERSION} is already installed in ${venvDir}`);
    return { venvDir, python: venvPython };
  }
  const { python, version } = findPython();
  removeAbandonedBuilds();
  say(`installing moto[server] ${MOTO_VERSION} from PyPI into a Python ${version} venv in ${venvDir} (about a minute)`);
  const started = Date.now();
  const tmp = `${venvDir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(path.dirname(tmp), { recursive: true });
  try {
    run(python, ['-m', 'venv', tmp], 'creating the venv');
    const pip = [path.join(tmp, 'bin', 'python'), '-m', 'pip', 'install', '--quiet', '--no-input', '-r', requirementsFile];
    if (existsSync(constraintsFile)) pip.push('-c', constraintsFile);
    run(pip[0], pip.slice(1), `pip install of moto ${MOTO_VERSION}`);
    const got = installedVersion(path.join(tmp, 'bin', 'python'));
    if (got !== MOTO_VERSION) throw new Error(`after pip install the venv reports moto ${got ?? '(not importable)'}, not ${MOTO_VERSION}`);
    writeFileSync(path.join(tmp, STAMP), `${requirementsDigest()}\n`);
    rmSync(venvDir, { recursive: true, force: true });
    try {
      renameSync(tmp, venvDir);
    } catch (err) {
      // Another build finished first and put its venv in place: fine if it is complete.
      if (!motoReady()) throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  if (!motoReady()) throw new Error(`the moto venv in ${venvDir} does not report moto ${MOTO_VERSION} after the install`);
  say(`moto ${MOTO_VERSION} installed in ${venvDir} in ${seconds(Date.now() - started)}`);
  return { venvDir, python: venvPython };
}

// ---------------------------------------------------------------------------------------------------------------
// start

function tail(file, lines = 60) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function httpCall(url, method = 'GET', timeoutMs = 5000) {
  const response = await fetch(url, { method, signal: AbortSignal.timeout(timeoutMs) });
  const body = await response.text();
  return { status: response.status, body };
}

/** Resident memory of a process in kB, from /proc (0 when it is gone). */
function rssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function startOnce(dir, { readyTimeoutMs, env }) {
  const started = Date.now();
  const port = await freePort();
  const logFile = path.join(dir, 'moto.log');
  const fd = openSync(logFile, 'a');
  const args = ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)];
  // setpriv --pdeathsig: a test run killed with SIGKILL must not leave a moto behind.
  const [command, commandArgs] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', venvPython, ...args]]
    : [venvPython, args];
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      // IAM's AWS-managed policies (AmazonEKSClusterPolicy…) exist only when loaded; the product attaches them.
      MOTO_IAM_LOAD_MANAGED_POLICIES: 'true',
      PYTHONUNBUFFERED: '1',
      ...env,
    },
  });
  closeSync(fd);
  const state = { exited: false, code: null };
  child.on('exit', (code, signal) => {
    state.exited = true;
    state.code = code ?? signal;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (state.exited) {
      const error = new Error(`moto exited with ${state.code} before it was ready\n--- ${logFile} (last lines)\n${tail(logFile)}`);
      error.portInUse = /Address already in use/i.test(tail(logFile, 200));
      throw error;
    }
    if (Date.now() - started > readyTimeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`moto did not answer ${endpoint}/moto-api/ within ${seconds(readyTimeoutMs)} (${lastProblem})\n--- ${logFile} (last lines)\n${tail(logFile)}`);
    }
    try {
      const { status } = await httpCall(`${endpoint}/moto-api/`, 'GET', 2000);
      if (status === 200) break;
      lastProblem = `/moto-api/ answered ${status}`;
    } catch (err) {
      lastProblem = err.cause?.code ?? err.message;
    }
    await delay(100);
  }
  return { child, state, endpoint, port, logFile, readyMs: Date.now() - started };
}

/**
 * Starts moto's server on 127.0.0.1 on a free port and waits until /moto-api/ answers. Everything lives in `dir` (the
 * log moto.log): by default a fresh temporary folder that stop() deletes. moto must have been installed
 * (`npm run moto:build`). One server per test file: reset() between tests is far cheaper than a restart.
 */
export async function startMoto({ dir, readyTimeoutMs = 60_000, env = {} } = {}) {
  if (!motoReady()) {
    throw new Error(`moto ${MOTO_VERSION} is not installed in ${venvDir}: run \`node scripts/moto.mjs build\` first (about a minute)`);
  }
  const ownDir = !dir;
  const workDir = dir ?? mkdtempSync(path.join(os.tmpdir(), 'encore-moto-'));
  mkdirSync(workDir, { recursive: true });
  let running;
  for (let attempt = 1; ; attempt++) {
    try {
      running = await startOnce(workDir, { readyTimeoutMs, env });
      break;
    } catch (err) {
      if (err.portInUse && attempt < 3) continue;
      if (ownDir) rmSync(workDir, { recursive: true, force: true });
      throw err;
    }
  }
  const onExit = () => running.child.kill('SIGKILL');
  process.once('exit', onExit);
  let stopped;
  return {
    endpoint: running.endpoint,
    port: running.port,
    pid: running.child.pid,
    dir: workDir,
    log: running.logFile,
    readyMs: running.readyMs,
    motoVersion: MOTO_VERSION,
    /** Resident memory of the moto process in kB. */
    rssKb: () => rssKb(running.child.pid),
    /** Forgets every resource of every account and region (POST /moto-api/reset). */
    async reset() {
      const { status, body } = await httpCall(`${running.endpoint}/moto-api/reset`, 'POST', 30_000);
      if (status !== 200) throw new Error(`moto's reset answered ${status}: ${body.slice(0, 300)}`);
    },
    stop() {
      stopped ??= (async () => {
        process.removeListener('exit', onExit);
        if (!running.state.exited) {
          const gone = new Promise((resolve) => running.child.once('exit', resolve));
          running.child.kill('SIGTERM');
          const timer = setTimeout(() => running.child.kill('SIGKILL'), 5000);
          await gone;
          clearTimeout(timer);
        }
        if (ownDir) rmSync(workDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

async function main(command) {
  if (command === 'build') {
    await buildMoto({ force: process.argv.includes('--force') });
    return;
  }
  if (command === 'start') {
    await buildMoto();
    const moto = await startMoto();
    say(`moto ${MOTO_VERSION} ready in ${seconds(moto.readyMs)}: ${moto.endpoint} (log ${moto.log}), RSS ${Math.round(moto.rssKb() / 1024)} MB`);
    process.stdout.write(`${moto.endpoint}\n`);
    say(`export AWS_ENDPOINT_URL=${moto.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1`);
    say('Ctrl+C stops it');
    await new Promise((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    say('stopping');
    await moto.stop();
    return;
  }
  process.stderr.write('usage: node scripts/moto.mjs build [--force] | start\n');
  process.exitCode = 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv[2]).catch((err) => {
    say(err.message);
    process.exitCode = 1;
  });
}
