// Test equipment for the GCP provider: Google's own Pub/Sub fake (pstest, with a small IAMPolicy service beside it)
// and fake-gcs-server, built from the Go module proxy by the wrapper modules in test/gcp/ (go.mod + go.sum committed,
// and pstest's main.go), cached outside the repository, never shipped. ../shared/notes/cloud-test-equipment.md
// (section GCP) has what each fake does and where it differs from Google.
//
// Usage:
//   node scripts/gcp-fakes.mjs build    builds both into the cache (skipped when present)
//   node scripts/gcp-fakes.mjs start    builds if needed, starts both on 127.0.0.1, prints how to reach them until Ctrl+C
// Environment: ENCORE_ENV_CACHE moves the cache (default ~/.cache/encore-environments).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from './vscode-host.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pstestModule = path.join(root, 'test', 'gcp', 'pstest');
const gcsModule = path.join(root, 'test', 'gcp', 'fake-gcs-server');

function requiredVersion(moduleDir, modulePath) {
  const goMod = readFileSync(path.join(moduleDir, 'go.mod'), 'utf8');
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+v(\\S+)`, 'm').exec(goMod);
  if (!match) throw new Error(`${path.join(moduleDir, 'go.mod')} does not require ${modulePath}`);
  return match[1];
}

/** A short hash of the wrapper module's files, so an edited main.go or go.sum builds a new binary. */
function moduleHash(moduleDir) {
  const hash = createHash('sha256');
  for (const name of readdirSync(moduleDir).filter((n) => /^(go\.mod|go\.sum|.*\.go)$/.test(n)).sort()) {
    hash.update(name).update('\0').update(readFileSync(path.join(moduleDir, name))).update('\0');
  }
  return hash.digest('hex').slice(0, 10);
}

/** The Pub/Sub module whose pstest is built, e.g. "2.9.0". */
export const PSTEST_VERSION = requiredVersion(pstestModule, 'cloud.google.com/go/pubsub/v2');
/** The fake-gcs-server release built, e.g. "1.56.1". */
export const FAKE_GCS_VERSION = requiredVersion(gcsModule, 'github.com/fsouza/fake-gcs-server');

export const cacheDir = process.env.ENCORE_ENV_CACHE || path.join(os.homedir(), '.cache', 'encore-environments');
export const pstestBin = path.join(cacheDir, `pstest-v${PSTEST_VERSION}-${moduleHash(pstestModule)}`, 'pstest');
export const fakeGcsBin = path.join(cacheDir, `fake-gcs-server-v${FAKE_GCS_VERSION}-${moduleHash(gcsModule)}`, 'fake-gcs-server');

/** Both modules declare go 1.26 (pubsub/v2 v2.9.0 and fake-gcs-server v1.56.1 do). */
const MIN_GO = [1, 26];

const say = (message) => process.stderr.write(`[gcp-fakes] ${message}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------------------------
// build

function findGo() {
  const candidates = ['go', '/usr/local/go/bin/go'];
  for (const go of candidates) {
    const result = spawnSync(go, ['env', 'GOVERSION'], { encoding: 'utf8' });
    if (result.error || result.status !== 0) continue;
    const version = result.stdout.trim();
    const match = /^go(\d+)\.(\d+)/.exec(version);
    if (!match) continue;
    if (Number(match[1]) < MIN_GO[0] || (Number(match[1]) === MIN_GO[0] && Number(match[2]) < MIN_GO[1])) {
      throw new Error(
        `${go} is ${version}, but pstest v${PSTEST_VERSION} and fake-gcs-server v${FAKE_GCS_VERSION} need Go ` +
        `${MIN_GO.join('.')} or later: install a current Go toolchain (https://go.dev/doc/install) and put its bin folder on PATH`,
      );
    }
    return { go, version };
  }
  throw new Error(
    `Go was not found (tried ${candidates.join(', ')}). The GCP fakes are built from source with Go ${MIN_GO.join('.')} or ` +
    'later: install a current Go toolchain (https://go.dev/doc/install) and put its bin folder on PATH.',
  );
}

/** `go build` under `nice -n 19` into a temporary folder renamed into place, so a killed build leaves nothing that looks done. */
async function buildOne(go, { name, moduleDir, pkg, bin }) {
  const finalDir = path.dirname(bin);
  const tmp = `${finalDir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const out = path.join(tmp, path.basename(bin));
  const args = ['build', '-trimpath', '-ldflags', '-s -w', '-o', out, pkg];
  const [command, commandArgs] = existsSync('/usr/bin/nice') ? ['/usr/bin/nice', ['-n', '19', go, ...args]] : [go, args];
  say(`building ${name}: ${go} ${args.join(' ')}  (in ${path.relative(root, moduleDir)})`);
  const started = Date.now();
  const child = spawn(command, commandArgs, {
    cwd: moduleDir, env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  const timer = setInterval(() => say(`  ${name}: still building, ${seconds(Date.now() - started)}`), 20_000);
  const code = await new Promise((resolve) => child.on('close', (status, signal) => resolve(status ?? signal)));
  clearInterval(timer);
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`go build of ${name} failed (exit ${code}); the lines above say why`);
  }
  rmSync(finalDir, { recursive: true, force: true });
  try {
    renameSync(tmp, finalDir);
  } catch (err) {
    // Another build finished first and put its folder in place.
    if (!existsSync(bin)) throw err;
    rmSync(tmp, { recursive: true, force: true });
  }
  say(`built ${name} in ${seconds(Date.now() - started)} (${(statSync(bin).size / 1e6).toFixed(1)} MB)`);
}

export function gcpFakesReady() {
  return existsSync(pstestBin) && existsSync(fakeGcsBin);
}

/** Builds pstest and fake-gcs-server into the cache unless both are there. A cold build takes about 2 minutes. */
export async function buildGcpFakes({ force = false } = {}) {
  if (!force && gcpFakesReady()) {
    say(`pstest v${PSTEST_VERSION} and fake-gcs-server v${FAKE_GCS_VERSION} are already built in ${cacheDir}`);
    return { pstestBin, fakeGcsBin };
  }
  const { go, version } = findGo();
  say(`building pstest v${PSTEST_VERSION} and fake-gcs-server v${FAKE_GCS_VERSION} with ${version} into ${cacheDir}`);
  const started = Date.now();
  mkdirSync(cacheDir, { recursive: true });
  if (force || !existsSync(pstestBin)) await buildOne(go, { name: 'pstest', moduleDir: pstestModule, pkg: '.', bin: pstestBin });
  if (force || !existsSync(fakeGcsBin)) {
    await buildOne(go, { name: 'fake-gcs-server', moduleDir: gcsModule, pkg: 'github.com/fsouza/fake-gcs-server', bin: fakeGcsBin });
  }
  say(`GCP fakes ready after ${seconds(Date.now() - started)}`);
  return { pstestBin, fakeGcsBin };
}

// ---------------------------------------------------------------------------------------------------------------
// start

function requireBuilt(bin) {
  if (!existsSync(bin)) {
    throw new Error(`${bin} is not built: run \`node scripts/gcp-fakes.mjs build\` first (about 2 minutes the first time)`);
  }
}

/** Spawns `bin` under setpriv --pdeathsig (a killed test run leaves no fake behind), collecting its output for errors. */
function startProcess(bin, args) {
  const [command, commandArgs] = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const state = { child, exited: false, code: null, output: '' };
  const keep = (chunk) => {
    state.output = (state.output + chunk).slice(-20_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.on('exit', (code, signal) => {
    state.exited = true;
    state.code = code ?? signal;
  });
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  let stopped;
  state.stop = () => {
    stopped ??= (async () => {
      process.removeListener('exit', onExit);
      if (state.exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    })();
    return stopped;
  };
  return state;
}

/**
 * Starts pstest on 127.0.0.1 (a port it picks) and waits for its "listening" line. Point @google-cloud/pubsub at it with
 * `PUBSUB_EMULATOR_HOST` = `emulatorHost` (or `apiEndpoint` + `port` + insecure credentials in code).
 */
export async function startPubsubFake({ readyTimeoutMs = 30_000 } = {}) {
  requireBuilt(pstestBin);
  const started = Date.now();
  const proc = startProcess(pstestBin, ['-port', '0']);
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pstest did not say it was listening within ${seconds(readyTimeoutMs)}:\n${proc.output}`)), readyTimeoutMs);
    const check = () => {
      const match = /^listening (\S+)$/m.exec(proc.output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    proc.child.stdout.on('data', check);
    proc.child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`pstest exited with ${proc.code} before listening:\n${proc.output}`));
    });
    check();
  }).catch(async (err) => {
    await proc.stop();
    throw err;
  });
  const port = Number(address.split(':').pop());
  return {
    emulatorHost: address,
    host: '127.0.0.1',
    port,
    pid: proc.child.pid,
    readyMs: Date.now() - started,
    version: PSTEST_VERSION,
    output: () => proc.output,
    stop: proc.stop,
  };
}

function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts fake-gcs-server on 127.0.0.1 with an in-memory backend and waits until it lists buckets. Give
 * @google-cloud/storage `apiEndpoint` in code; `STORAGE_EMULATOR_HOST` breaks its uploads.
 */
export async function startGcsFake({ readyTimeoutMs = 30_000 } = {}) {
  requireBuilt(fakeGcsBin);
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const port = await freePort();
    const apiEndpoint = `http://127.0.0.1:${port}`;
    const proc = startProcess(fakeGcsBin, [
      '-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory',
      // The URLs it hands back (resumable upload sessions, media links) name this address, not a made-up host.
      '-external-url', apiEndpoint, '-public-host', `127.0.0.1:${port}`, '-log-level', 'warn',
    ]);
    let problem = 'no answer yet';
    for (;;) {
      if (proc.exited) break;
      if (Date.now() - started > readyTimeoutMs) break;
      try {
        if ((await httpGet(`${apiEndpoint}/storage/v1/b`)) === 200) {
          return {
            apiEndpoint, port, pid: proc.child.pid, readyMs: Date.now() - started, version: FAKE_GCS_VERSION,
            output: () => proc.output, stop: proc.stop,
          };
        }
      } catch (err) {
        problem = err.message;
      }
      await delay(50);
    }
    await proc.stop();
    // A port taken between freePort() and the bind: try again on another.
    if (/address already in use/.test(proc.output) && attempt < 3) continue;
    throw new Error(`fake-gcs-server did not start on ${apiEndpoint} (${proc.exited ? `exited with ${proc.code}` : problem}):\n${proc.output}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

async function main(command) {
  if (command === 'build') {
    await buildGcpFakes({ force: process.argv.includes('--force') });
    return;
  }
  if (command === 'start') {
    await buildGcpFakes();
    const [pubsub, gcs] = await Promise.all([startPubsubFake(), startGcsFake()]);
    say(`pstest v${PSTEST_VERSION} ready in ${pubsub.readyMs} ms: export PUBSUB_EMULATOR_HOST=${pubsub.emulatorHost}`);
    say(`fake-gcs-server v${FAKE_GCS_VERSION} ready in ${gcs.readyMs} ms: new Storage({ apiEndpoint: '${gcs.apiEndpoint}' })`);
    process.stdout.write(`PUBSUB_EMULATOR_HOST=${pubsub.emulatorHost}\nGCS_API_ENDPOINT=${gcs.apiEndpoint}\n`);
    say('Ctrl+C stops both');
    await new Promise((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.all([pubsub.stop(), gcs.stop()]);
    return;
  }
  process.stderr.write('usage: node scripts/gcp-fakes.mjs build [--force] | start\n');
  process.exitCode = 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv[2]).catch((err) => {
    say(err.message);
    process.exitCode = 1;
  });
}

export { freePort };
