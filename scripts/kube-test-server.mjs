// Test equipment for the Kubernetes provider: a real kube-apiserver with a real etcd, built from the Go module proxy
// by the wrapper modules in test/kube/ (apiserver/ and etcd/, go.mod + go.sum committed), cached outside the
// repository, never shipped. Tests reach the server only through the kubeconfig that startKubeServer() writes.
// ../shared/notes/kube-apiserver-for-tests.md has the background: the recipe, the flags and what a bare apiserver
// without controllers cannot do.
//
// Usage:
//   node scripts/kube-test-server.mjs build    builds kube-apiserver and etcd into the cache (skipped when present)
//   node scripts/kube-test-server.mjs start    builds if needed, starts both, prints the kubeconfig until Ctrl+C
// Environment: ENCORE_ENV_CACHE moves the cache (default ~/.cache/encore-environments); GOFLAGS=-p=1 builds one
// package at a time when the machine is busy.
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from './vscode-host.mjs';

export { freePort };

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const apiserverModule = path.join(root, 'test', 'kube', 'apiserver');
const etcdModule = path.join(root, 'test', 'kube', 'etcd');

/** Reads the version a wrapper module requires, so go.mod stays the one place that names it. */
export function requiredVersion(moduleDir, modulePath) {
  const goMod = readFileSync(path.join(moduleDir, 'go.mod'), 'utf8');
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+v(\\S+)`, 'm').exec(goMod);
  if (!match) throw new Error(`${path.join(moduleDir, 'go.mod')} does not require ${modulePath}`);
  return match[1];
}

/** The Kubernetes release built, e.g. "1.35.4". */
export const KUBE_VERSION = requiredVersion(apiserverModule, 'k8s.io/kubernetes');
/** The etcd release built, e.g. "3.6.5": the one that Kubernetes release pins. */
export const ETCD_VERSION = requiredVersion(etcdModule, 'go.etcd.io/etcd/server/v3');

export const cacheDir = process.env.ENCORE_ENV_CACHE || path.join(os.homedir(), '.cache', 'encore-environments');
export const binDir = path.join(cacheDir, `kube-v${KUBE_VERSION}`);
export const kubeApiserverBin = path.join(binDir, 'kube-apiserver');
export const etcdBin = path.join(binDir, 'etcd');

/** Go 1.25 is what Kubernetes 1.35 declares; Debian bookworm's golang (1.19) is far too old. */
const MIN_GO = [1, 25];

const say = (message) => process.stderr.write(`[kube-test-server] ${message}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const minutes = (ms) => {
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
};

// ---------------------------------------------------------------------------------------------------------------
// build

/** The version a built binary reports, or undefined when it is missing or does not run. */
function reportedVersion(bin) {
  if (!existsSync(bin)) return undefined;
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) return undefined;
  const out = `${result.stdout}${result.stderr}`;
  // kube-apiserver: "Kubernetes v1.35.4"; etcd: "etcd Version: 3.6.5" on its first line.
  return /Kubernetes v(\S+)/.exec(out)?.[1] ?? /etcd Version: (\S+)/.exec(out)?.[1];
}

function binariesIn(dir) {
  const apiserver = path.join(dir, 'kube-apiserver');
  const etcd = path.join(dir, 'etcd');
  return { apiserver, etcd, ok: reportedVersion(apiserver) === KUBE_VERSION && reportedVersion(etcd) === ETCD_VERSION };
}

/** True when both cached binaries exist and report the wanted versions. */
export function kubeBinariesReady() {
  return binariesIn(binDir).ok;
}

/** Finds a Go toolchain that can build the wrapper modules, or throws with what to install. */
export function findGo() {
  const candidates = ['go', '/usr/local/go/bin/go'];
  for (const go of candidates) {
    const result = spawnSync(go, ['env', 'GOVERSION'], { encoding: 'utf8' });
    if (result.error || result.status !== 0) continue;
    const version = result.stdout.trim();
    const match = /^go(\d+)\.(\d+)/.exec(version);
    if (!match) continue;
    const [major, minor] = [Number(match[1]), Number(match[2])];
    if (major < MIN_GO[0] || (major === MIN_GO[0] && minor < MIN_GO[1])) {
      throw new Error(
        `${go} is ${version}, but building Kubernetes ${KUBE_VERSION} needs Go ${MIN_GO.join('.')} or later. ` +
        'Debian\'s golang package is too old (1.19 on bookworm); install a current Go toolchain ' +
        '(https://go.dev/doc/install, or the machine kind that comes with Go 1.26) and put its bin folder on PATH.',
      );
    }
    return { go, version };
  }
  throw new Error(
    `Go was not found (tried ${candidates.join(', ')}). The Kubernetes test server is built from source with Go ` +
    `${MIN_GO.join('.')} or later: install a current Go toolchain (https://go.dev/doc/install, or use the machine kind ` +
    'that comes with Go 1.26 in /usr/local/go) and put its bin folder on PATH. Debian\'s golang package (1.19 on ' +
    'bookworm) is too old.',
  );
}

/** The same version stamps Kubernetes' own build sets (hack/lib/version.sh), so /version and --version tell the truth. */
export function kubeLdflags() {
  const [major, minor] = KUBE_VERSION.split('.');
  const stamps = ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=v${KUBE_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
  return ['-s', '-w', ...stamps].join(' ');
}

/**
 * `go build -v` under `nice -n 19`, with a progress line every 20 s instead of one line per package. `tags` are Go
 * build tags (scripts/local-cluster.mjs builds containerd with some); `log` receives the progress lines.
 */
export async function goBuild(go, { name, moduleDir, pkg, ldflags, out, tags, log = say }) {
  const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' };
  // Also downloads the modules on a first run ("go: downloading ..." lines on stderr).
  const listed = spawnSync(go, ['list', '-deps', pkg], {
    cwd: moduleDir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const total = listed.status === 0 ? listed.stdout.split('\n').filter(Boolean).length : undefined;
  const args = ['build', '-v', '-trimpath', ...(tags ? ['-tags', tags] : []), '-ldflags', ldflags, '-o', out, pkg];
  const [command, commandArgs] = existsSync('/usr/bin/nice') ? ['/usr/bin/nice', ['-n', '19', go, ...args]] : [go, args];
  log(`building ${name}: ${go} ${args.join(' ')}  (in ${path.relative(root, moduleDir)})`);
  const started = Date.now();
  let compiled = 0;
  let last = '';
  const child = spawn(command, commandArgs, { cwd: moduleDir, env, stdio: ['ignore', 'inherit', 'pipe'] });
  let pending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      // -v prints one import path per compiled package; anything else (downloads, errors) is shown as it is.
      if (/^[\w.\-/~]+$/.test(line) && !line.startsWith('go:')) {
        compiled += 1;
        last = line;
      } else if (line.trim()) {
        process.stderr.write(`${line}\n`);
      }
    }
  });
  const timer = setInterval(() => {
    log(`  ${name}: ${compiled}${total ? ` of up to ${total}` : ''} packages compiled, ${minutes(Date.now() - started)} (${last || 'starting'})`);
  }, 20_000);
  const code = await new Promise((resolve) => child.on('close', (status, signal) => resolve(status ?? signal)));
  clearInterval(timer);
  if (pending.trim()) process.stderr.write(`${pending}\n`);
  if (code !== 0) throw new Error(`go build of ${name} failed (exit ${code}); the lines above say why`);
  log(`built ${name} in ${minutes(Date.now() - started)} (${compiled} packages compiled, ${(statSync(out).size / 1e6).toFixed(1)} MB)`);
}

/**
 * Builds kube-apiserver (stamped with KUBE_VERSION) and etcd into binDir, unless both are there and report the
 * wanted versions. Builds into a temporary sibling folder renamed into place at the end, so a killed build never
 * leaves binaries that look complete.
 */
export async function buildKubeBinaries({ force = false } = {}) {
  if (!force && kubeBinariesReady()) {
    say(`kube-apiserver v${KUBE_VERSION} and etcd ${ETCD_VERSION} are already built in ${binDir}`);
    return { kubeApiserverBin, etcdBin };
  }
  const { go, version } = findGo();
  say(`building kube-apiserver v${KUBE_VERSION} and etcd ${ETCD_VERSION} with ${version} into ${binDir}`);
  say(
    'a cold build takes about 5 minutes on two cores (about 760 MB of modules from the Go module proxy, 2.3 GB of Go ' +
    'build cache, under 2 GB of memory); later builds reuse the Go caches and take seconds',
  );
  const started = Date.now();
  const tmp = `${binDir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await goBuild(go, {
      name: 'kube-apiserver', moduleDir: apiserverModule, pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', ldflags: kubeLdflags(),
      out: path.join(tmp, 'kube-apiserver'),
    });
    await goBuild(go, { name: 'etcd', moduleDir: etcdModule, pkg: 'go.etcd.io/etcd/server/v3', ldflags: '-s -w', out: path.join(tmp, 'etcd') });
    const built = binariesIn(tmp);
    if (!built.ok) {
      throw new Error(
        `the built binaries report kube-apiserver ${reportedVersion(built.apiserver)} and etcd ${reportedVersion(built.etcd)}, ` +
        `not v${KUBE_VERSION} and ${ETCD_VERSION}`,
      );
    }
    rmSync(binDir, { recursive: true, force: true });
    try {
      renameSync(tmp, binDir);
    } catch (err) {
      // Another build finished first and put its folder in place: fine if it is complete.
      if (!kubeBinariesReady()) throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  // Leftovers of earlier builds that were killed.
  for (const name of readdirSync(path.dirname(binDir))) {
    if (name.startsWith(`${path.basename(binDir)}.partial-`)) rmSync(path.join(path.dirname(binDir), name), { recursive: true, force: true });
  }
  say(`kube-apiserver v${KUBE_VERSION} and etcd ${ETCD_VERSION} ready in ${binDir} after ${minutes(Date.now() - started)}`);
  return { kubeApiserverBin, etcdBin };
}

// ---------------------------------------------------------------------------------------------------------------
// start


function tail(file, lines = 60) {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET over TLS verified against `ca`, with a bearer token; resolves to the status code and body. */
function httpsGet(url, { ca, token, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Starts a process whose stdout and stderr go to `logFile`; on Linux it gets SIGKILL when this process dies. */
function startProcess(bin, args, logFile) {
  const fd = openSync(logFile, 'a');
  // setpriv --pdeathsig: a test run killed with SIGKILL must not leave an apiserver and an etcd behind.
  const [command, commandArgs] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', bin, ...args]]
    : [bin, args];
  const child = spawn(command, commandArgs, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const state = { child, exited: false, code: /** @type {number | string | null} */ (null) };
  child.on('exit', (code, signal) => {
    state.exited = true;
    state.code = code ?? signal;
  });
  return state;
}

async function stopProcess(state, graceMs = 10_000) {
  if (state.exited) return;
  const gone = new Promise((resolve) => state.child.once('exit', resolve));
  state.child.kill('SIGTERM');
  const timer = setTimeout(() => state.child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

function kubeconfigYaml({ server, caFile, adminToken, viewerToken }) {
  const q = JSON.stringify;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: encore-test',
    '    cluster:',
    `      server: ${q(server)}`,
    // The serving certificate kube-apiserver generates in --cert-dir (apiserver.crt holds the self-signed leaf and
    // the self-signed CA that issued it, for 127.0.0.1, localhost and kubernetes.default.svc): verified TLS, no
    // insecure-skip-tls-verify.
    `      certificate-authority: ${q(caFile)}`,
    'users:',
    '  - name: admin',
    '    user:',
    `      token: ${q(adminToken)}`,
    '  - name: viewer',
    '    user:',
    `      token: ${q(viewerToken)}`,
    'contexts:',
    '  - name: encore-test',
    '    context:',
    '      cluster: encore-test',
    '      user: admin',
    '  - name: encore-test-viewer',
    '    context:',
    '      cluster: encore-test',
    '      user: viewer',
    'current-context: encore-test',
    '',
  ].join('\n');
}

async function startOnce(dir, { readyTimeoutMs, tokenWebhook }) {
  const started = Date.now();
  const [etcdClientPort, etcdPeerPort, securePort] = await Promise.all([freePort(), freePort(), freePort()]);
  const pki = path.join(dir, 'pki');
  mkdirSync(pki, { recursive: true });
  const saKey = path.join(dir, 'sa.key');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  const adminToken = randomBytes(24).toString('hex');
  const viewerToken = randomBytes(24).toString('hex');
  // token,user,uid,"group1,group2": the admin is in system:masters; the viewer has no group and so no RBAC rights.
  writeFileSync(path.join(dir, 'tokens.csv'), `${adminToken},admin,admin-uid,"system:masters"\n${viewerToken},viewer,viewer-uid\n`, { mode: 0o600 });

  const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
  const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const etcdLog = path.join(dir, 'etcd.log');
  const apiserverLog = path.join(dir, 'kube-apiserver.log');
  const etcd = startProcess(etcdBin, [
    '--name', 't', '--data-dir', path.join(dir, 'etcd'),
    '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `t=${peerUrl}`,
    '--unsafe-no-fsync', '--log-level', 'warn',
  ], etcdLog);
  const apiserver = startProcess(kubeApiserverBin, [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${securePort}`,
    `--cert-dir=${pki}`, `--token-auth-file=${path.join(dir, 'tokens.csv')}`, '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc', `--service-account-key-file=${saKey}`,
    `--service-account-signing-key-file=${saKey}`, '--service-cluster-ip-range=10.0.0.0/24',
    '--disable-admission-plugins=ServiceAccount', '--endpoint-reconciler-type=none', '--enable-priority-and-fairness=false',
    ...webhookFlags(dir, tokenWebhook),
  ], apiserverLog);

  const server = `https://127.0.0.1:${securePort}`;
  const caFile = path.join(pki, 'apiserver.crt');
  const failure = async (why) => {
    await Promise.all([stopProcess(apiserver, 3000), stopProcess(etcd, 3000)]);
    const error = new Error(
      `the Kubernetes test server did not start: ${why}\n` +
      `--- ${etcdLog} (last lines)\n${tail(etcdLog)}\n--- ${apiserverLog} (last lines)\n${tail(apiserverLog)}`,
    );
    error.portInUse = /address already in use/.test(`${tail(etcdLog, 200)}\n${tail(apiserverLog, 200)}`);
    return error;
  };
  let lastProblem = 'no answer yet';
  for (;;) {
    if (etcd.exited) throw await failure(`etcd exited with ${etcd.code}`);
    if (apiserver.exited) throw await failure(`kube-apiserver exited with ${apiserver.code}`);
    if (Date.now() - started > readyTimeoutMs) throw await failure(`/readyz was not ok within ${seconds(readyTimeoutMs)} (${lastProblem})`);
    if (existsSync(caFile)) {
      try {
        const { status, body } = await httpsGet(`${server}/readyz`, { ca: readFileSync(caFile), token: adminToken });
        if (status === 200) break;
        lastProblem = `/readyz answered ${status}: ${body.trim().split('\n').filter((l) => l.includes('[-]')).join('; ') || body.slice(0, 200)}`;
      } catch (err) {
        lastProblem = err.message;
      }
    }
    await delay(200);
  }
  const readyMs = Date.now() - started;
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml({ server, caFile, adminToken, viewerToken }), { mode: 0o600 });
  return { kubeconfigPath, server, token: adminToken, viewerToken, caFile, etcdUrl, etcd, apiserver, etcdLog, apiserverLog, readyMs };
}

/**
 * Flags for a token authentication webhook (TokenReview v1), as managed clusters authenticate their cloud's tokens:
 * bearer tokens not in tokens.csv go to `url` (test/kube/tokenWebhook.ts). No cache, so an expired token is refused
 * at once.
 */
function webhookFlags(dir, tokenWebhook) {
  if (!tokenWebhook) return [];
  const config = path.join(dir, 'token-webhook.kubeconfig');
  writeFileSync(config, [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '  - name: token-webhook', '    cluster:', `      server: ${JSON.stringify(tokenWebhook.url)}`,
    'users:', '  - name: kube-apiserver', '    user: {}',
    'contexts:', '  - name: token-webhook', '    context:', '      cluster: token-webhook', '      user: kube-apiserver',
    'current-context: token-webhook', '',
  ].join('\n'));
  return [`--authentication-token-webhook-config-file=${config}`, '--authentication-token-webhook-version=v1', '--authentication-token-webhook-cache-ttl=0s'];
}

const TMP_PREFIX = 'encore-kube-';
const OWNER_FILE = 'owner.pid';

/** Temporary folders of runs that were killed before stop() (etcd preallocates 64 MB of WAL in each). */
function removeAbandonedDirs() {
  for (const name of readdirSync(os.tmpdir())) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    let owner;
    try {
      owner = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue;
    }
    try {
      process.kill(owner, 0);
    } catch (err) {
      if (err.code === 'ESRCH') rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Starts etcd and kube-apiserver on 127.0.0.1 only and waits until /readyz answers 200. Everything lives in `dir`:
 * by default a fresh temporary folder that stop() deletes; a given `dir` is created if needed and kept (with the
 * logs etcd.log and kube-apiserver.log). The binaries must have been built (`npm run kube:build`). `tokenWebhook: { url }`
 * sends bearer tokens the server does not know to a TokenReview webhook (test/kube/tokenWebhook.ts).
 */
export async function startKubeServer({ dir, readyTimeoutMs = 120_000, tokenWebhook } = {}) {
  if (!kubeBinariesReady()) {
    throw new Error(
      `kube-apiserver v${KUBE_VERSION} and etcd ${ETCD_VERSION} are not built in ${binDir}: run \`npm run kube:build\` ` +
      '(node scripts/kube-test-server.mjs build) first; a cold build takes about 5 minutes on two cores',
    );
  }
  const ownDir = !dir;
  if (ownDir) removeAbandonedDirs();
  const workDir = dir ?? mkdtempSync(path.join(os.tmpdir(), TMP_PREFIX));
  mkdirSync(workDir, { recursive: true });
  if (ownDir) writeFileSync(path.join(workDir, OWNER_FILE), `${process.pid}\n`);
  let running;
  for (let attempt = 1; ; attempt++) {
    try {
      running = await startOnce(workDir, { readyTimeoutMs, tokenWebhook });
      break;
    } catch (err) {
      if (err.portInUse && attempt < 3) {
        // A port taken by someone else between freePort() and the bind: start afresh on new ports.
        for (const name of ['etcd', 'pki', 'etcd.log', 'kube-apiserver.log']) rmSync(path.join(workDir, name), { recursive: true, force: true });
        continue;
      }
      if (ownDir) rmSync(workDir, { recursive: true, force: true });
      throw err;
    }
  }
  const onExit = () => {
    running.apiserver.child.kill('SIGKILL');
    running.etcd.child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  let stopped;
  return {
    kubeconfigPath: running.kubeconfigPath,
    server: running.server,
    token: running.token,
    viewerToken: running.viewerToken,
    caFile: running.caFile,
    etcdUrl: running.etcdUrl,
    dir: workDir,
    logs: { etcd: running.etcdLog, apiserver: running.apiserverLog },
    pids: { etcd: running.etcd.child.pid, apiserver: running.apiserver.child.pid },
    readyMs: running.readyMs,
    kubeVersion: KUBE_VERSION,
    etcdVersion: ETCD_VERSION,
    stop() {
      stopped ??= (async () => {
        process.removeListener('exit', onExit);
        await stopProcess(running.apiserver);
        await stopProcess(running.etcd);
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
    await buildKubeBinaries({ force: process.argv.includes('--force') });
    return;
  }
  if (command === 'start') {
    await buildKubeBinaries();
    say(`starting etcd ${ETCD_VERSION} and kube-apiserver v${KUBE_VERSION} on 127.0.0.1`);
    const server = await startKubeServer();
    say(`ready in ${seconds(server.readyMs)}: ${server.server} (logs in ${server.dir})`);
    process.stdout.write(`${server.kubeconfigPath}\n`);
    say(`export KUBECONFIG=${server.kubeconfigPath}   # contexts: encore-test (admin), encore-test-viewer (no rights)`);
    say('Ctrl+C stops both and deletes the folder');
    await new Promise((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    say('stopping');
    await server.stop();
    return;
  }
  process.stderr.write('usage: node scripts/kube-test-server.mjs build [--force] | start\n');
  process.exitCode = 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv[2]).catch((err) => {
    say(err.message);
    process.exitCode = 1;
  });
}
