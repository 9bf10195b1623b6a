// Builds one Go command of test equipment from a committed wrapper module (go.mod + go.sum under test/…, which pin
// every dependency) into the cache, the way scripts/kube-test-server.mjs builds kube-apiserver: from the Go module
// proxy, under `nice -n 19`, into a temporary sibling folder renamed into place, so a killed build never leaves a
// binary that looks complete. A `version` stamp beside the binary says which release it is and hashes the wrapper
// module's files (a tool built as a dependency of a wrapper module reports "(devel)" itself). Never shipped.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const cacheDir = process.env.ENCORE_ENV_CACHE || path.join(os.homedir(), '.cache', 'encore-environments');

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** The version a wrapper module requires of `modulePath`, so go.mod stays the one place that names it. */
export function requiredVersion(moduleDir, modulePath) {
  const goMod = readFileSync(path.join(moduleDir, 'go.mod'), 'utf8');
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match) throw new Error(`${path.join(moduleDir, 'go.mod')} does not require ${modulePath}`);
  return match[1];
}

/**
 * The release and a hash of the wrapper module's own files (go.mod, go.sum, its .go files): the stamp a cached build
 * must carry, so a changed wrapper (another version, a trimmed main) is built again.
 */
function fingerprint(moduleDir, version) {
  const hash = createHash('sha256');
  const files = readdirSync(moduleDir, { recursive: true }).map(String).filter((f) => /(^|\/)(go\.mod|go\.sum)$|\.go$/.test(f)).sort();
  for (const f of files) hash.update(`${f}\0`).update(readFileSync(path.join(moduleDir, f))).update('\0');
  return `${version} ${hash.digest('hex').slice(0, 16)}`;
}

/** The Go version a wrapper module declares (its `go` line), e.g. [1, 25]. */
function declaredGo(moduleDir) {
  const match = /^go (\d+)\.(\d+)/m.exec(readFileSync(path.join(moduleDir, 'go.mod'), 'utf8'));
  return match ? [Number(match[1]), Number(match[2])] : [1, 22];
}

function findGo(need, what) {
  const candidates = ['go', '/usr/local/go/bin/go'];
  for (const go of candidates) {
    const result = spawnSync(go, ['env', 'GOVERSION'], { encoding: 'utf8' });
    if (result.error || result.status !== 0) continue;
    const version = result.stdout.trim();
    const match = /^go(\d+)\.(\d+)/.exec(version);
    if (!match) continue;
    const [major, minor] = [Number(match[1]), Number(match[2])];
    if (major < need[0] || (major === need[0] && minor < need[1])) {
      throw new Error(`${go} is ${version}, but building ${what} needs Go ${need.join('.')} or later: install a current Go toolchain (https://go.dev/doc/install) and put its bin folder on PATH.`);
    }
    return { go, version };
  }
  throw new Error(`Go was not found (tried ${candidates.join(', ')}). ${what} is test equipment built from source with Go ${need.join('.')} or later: install a current Go toolchain (https://go.dev/doc/install) and put its bin folder on PATH.`);
}

/**
 * Go commands of test equipment from one wrapper module, built together into one folder: `binary` is the first
 * package's, `binaries` has each by its name (the package path's last element). `ready()` is cheap (stats and a small
 * read); `ensure()` builds when needed and resolves to `binary`.
 */
export function goTool({ name, moduleDir, modulePath, pkgs, folder, log = (m) => process.stderr.write(`[${name}] ${m}\n`) }) {
  const version = requiredVersion(moduleDir, modulePath);
  const dir = path.join(cacheDir, folder ?? `${name}-${version}`);
  const names = pkgs.map((p) => path.basename(p));
  const binaries = Object.fromEntries(names.map((n) => [n, path.join(dir, n)]));
  const binary = binaries[names[0]];
  const stamp = (d) => path.join(d, 'version');
  const wanted = fingerprint(moduleDir, version);
  const readyIn = (d) => names.every((n) => existsSync(path.join(d, n))) && existsSync(stamp(d)) && readFileSync(stamp(d), 'utf8').trim() === wanted;
  let building;

  async function build() {
    const { go, version: goVersion } = findGo(declaredGo(moduleDir), `${name} ${version}`);
    const started = Date.now();
    const tmp = `${dir}.partial-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    // With several packages, -o names a folder (the trailing slash) and each binary is named after its package.
    const args = ['build', '-trimpath', '-ldflags', '-s -w', '-o', `${tmp}/`, ...pkgs];
    const [command, commandArgs] = existsSync('/usr/bin/nice') ? ['/usr/bin/nice', ['-n', '19', go, ...args]] : [go, args];
    log(`building ${name} ${version} with ${goVersion} into ${dir} (from the Go module proxy; about a minute cold on two cores)`);
    try {
      const code = await new Promise((resolve, reject) => {
        const child = spawn(command, commandArgs, { cwd: moduleDir, env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' }, stdio: ['ignore', 'inherit', 'inherit'] });
        child.on('error', reject);
        child.on('close', (status, signal) => resolve(status ?? signal));
      });
      if (code !== 0) throw new Error(`go build of ${name} ${version} failed (exit ${code}); the lines above say why`);
      writeFileSync(stamp(tmp), `${wanted}\n`);
      rmSync(dir, { recursive: true, force: true });
      try {
        renameSync(tmp, dir);
      } catch (err) {
        // Another build finished first and put its folder in place: fine if it is complete.
        if (!readyIn(dir)) throw err;
        rmSync(tmp, { recursive: true, force: true });
      }
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    // Leftovers of earlier builds that were killed.
    for (const entry of readdirSync(cacheDir)) {
      if (entry.startsWith(`${path.basename(dir)}.partial-`)) rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
    }
    log(`built ${name} ${version} in ${seconds(Date.now() - started)} (${(statSync(binary).size / 1e6).toFixed(1)} MB)`);
  }

  return {
    name,
    version,
    dir,
    binary,
    binaries,
    ready: () => readyIn(dir),
    async ensure({ force = false } = {}) {
      if (!force && readyIn(dir)) return binary;
      building ??= build().finally(() => (building = undefined));
      await building;
      return binary;
    },
  };
}
