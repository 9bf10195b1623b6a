// Builds the local cluster's test equipment once into the cache (scripts/local-cluster.mjs, scripts/cluster-images.mjs):
// each thing gets a folder named for its version, made in a temporary sibling and renamed into place, with a
// `.recipe` file holding the hash of what it was made from (the wrapper module's go.mod and go.sum, the flags, the Go
// version). A folder whose recipe hash differs is made again; one that matches is used as it is.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, findGo, goBuild } from './kube-test-server.mjs';

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export { cacheDir };

export const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const RECIPE_FILE = '.recipe';

export function minutes(ms) {
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
}

/** CPU seconds (user + system) the finished children of this process used: the build cost on a shared machine. */
export function childCpuSeconds() {
  const usage = process.resourceUsage();
  // resourceUsage() is this process; children's times come from /proc/self/stat (cutime + cstime, in clock ticks).
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  }
}

/** The hash of a recipe: any JSON value, with file contents read in by the caller. */
export function recipeKey(recipe) {
  return sha256(JSON.stringify(recipe)).slice(0, 16);
}

/** True when `dir` was completely made from `key`. */
export function builtFrom(dir, key) {
  try {
    return readFileSync(path.join(dir, RECIPE_FILE), 'utf8').trim() === key;
  } catch {
    return false;
  }
}

/**
 * Makes `dir` with `make(tmpDir)` unless it was made from the same recipe already. A killed build never leaves a
 * folder that looks complete; a concurrent build that finished first wins.
 */
export async function cachedBuild({ dir, key, make }) {
  if (builtFrom(dir, key)) return { dir, built: false };
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await make(tmp);
    writeFileSync(path.join(tmp, RECIPE_FILE), `${key}\n`);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      if (!builtFrom(dir, key)) throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  removeDeadPartials(dir);
  return { dir, built: true };
}

/** Leftovers of builds whose process is gone (`<dir>.partial-<pid>`). */
function removeDeadPartials(dir) {
  const parent = path.dirname(dir);
  for (const name of readdirSync(parent)) {
    const match = /^(.*)\.partial-(\d+)$/.exec(name);
    if (!match || match[1] !== path.basename(dir)) continue;
    try {
      process.kill(Number(match[2]), 0);
    } catch (err) {
      if (err.code === 'ESRCH') rmSync(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

/**
 * Go programs from one wrapper module under test/kube/, built into `<cache>/<name>/`: `binaries` are
 * `{ name, pkg, ldflags?, tags? }`. The recipe is the module's go.mod and go.sum, the binaries' flags and the Go
 * version, so a changed pin rebuilds and nothing else does.
 */
export async function buildGoTools({ name, module, binaries, log }) {
  const moduleDir = path.join(root, module);
  const dir = path.join(cacheDir, name);
  const files = ['go.mod', 'go.sum'].filter((f) => existsSync(path.join(moduleDir, f))).map((f) => [f, sha256(readFileSync(path.join(moduleDir, f)))]);
  const sources = readdirSync(moduleDir, { recursive: true }).filter((f) => String(f).endsWith('.go')).sort()
    .map((f) => [String(f), sha256(readFileSync(path.join(moduleDir, String(f))))]);
  let goVersion = 'unknown';
  const probe = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (probe.status === 0) goVersion = probe.stdout.trim();
  const key = recipeKey({ files, sources, binaries, goVersion });
  const paths = Object.fromEntries(binaries.map((b) => [b.name, path.join(dir, b.name)]));
  if (builtFrom(dir, key)) return { dir, paths, built: false, ms: 0 };
  const started = Date.now();
  const { go } = findGo();
  log(`building ${binaries.map((b) => b.name).join(', ')} into ${dir}`);
  await cachedBuild({
    dir,
    key,
    make: async (tmp) => {
      for (const b of binaries) {
        await goBuild(go, { name: b.name, moduleDir, pkg: b.pkg, ldflags: b.ldflags ?? '-s -w', tags: b.tags, out: path.join(tmp, b.name), log });
      }
    },
  });
  const mb = binaries.reduce((sum, b) => sum + statSync(paths[b.name]).size, 0) / 1e6;
  log(`${name} ready after ${minutes(Date.now() - started)} (${mb.toFixed(0)} MB)`);
  return { dir, paths, built: true, ms: Date.now() - started };
}
