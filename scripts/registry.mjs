// Test equipment for deploys: real OCI registries on 127.0.0.1, built from the Go module proxy by the wrapper modules
// in test/deploy/ (go.mod + go.sum committed), cached outside the repository, never shipped.
// - crane (go-containerregistry v0.22.1): `crane registry serve` is the plain registry; `crane append`/`crane mutate`
//   build images with no Docker daemon (the stand-in encore in test/deploy/encore-standin/ uses them).
// - distribution v3.1.2 (the Docker registry): the authenticated one, with htpasswd (Basic) or with bearer tokens from
//   a small token server of ours (the Docker Registry v2 token flow, tokens signed with a key the registry trusts
//   through a JWKS file).
// ../shared/notes/cloud-test-equipment.md ("Deploying the app") has the background.
//
// Usage:
//   node scripts/registry.mjs build                       builds crane and distribution into the cache (skipped when present)
//   node scripts/registry.mjs start [--auth basic|token]  starts a registry and prints its address until Ctrl+C
// Environment: ENCORE_ENV_CACHE moves the cache (default ~/.cache/encore-environments).
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { goTool, requiredVersion } from './go-tool.mjs';
import { freePort } from './vscode-host.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const say = (message) => process.stderr.write(`[registry] ${message}\n`);

export const crane = goTool({
  name: 'crane',
  moduleDir: path.join(root, 'test', 'deploy', 'crane'),
  modulePath: 'github.com/google/go-containerregistry',
  pkgs: ['github.com/google/go-containerregistry/cmd/crane'],
  // Not crane-v0.22.1: the local cluster's equipment (scripts/local-cluster.mjs) builds crane there with its own
  // stamp, and two builders sharing a folder would rebuild over each other until they are unified.
  folder: `crane-deploy-${requiredVersion(path.join(root, 'test', 'deploy', 'crane'), 'github.com/google/go-containerregistry')}`,
  log: say,
});

export const distribution = goTool({
  name: 'distribution',
  moduleDir: path.join(root, 'test', 'deploy', 'distribution'),
  modulePath: 'github.com/distribution/distribution/v3',
  pkgs: ['./registry', './htpasswd'],
  log: say,
});

/** Builds crane into the cache if needed (about a minute cold); resolves to its path. */
export function ensureCrane() {
  return crane.ensure();
}

/** Builds distribution's registry and the htpasswd writer into the cache if needed; resolves to the registry's path. */
export function ensureDistribution() {
  return distribution.ensure();
}

/** Both, one after the other (two cores: parallel Go builds only slow each other down). */
export async function ensureRegistryTools() {
  await ensureCrane();
  await ensureDistribution();
  return { crane: crane.binary, registry: distribution.binaries.registry, htpasswd: distribution.binaries.htpasswd };
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a process whose output goes to `logFile`; on Linux it gets SIGKILL when this process dies. */
function startProcess(bin, args, logFile, env = process.env) {
  const fd = openSync(logFile, 'a');
  const [command, commandArgs] = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
  const child = spawn(command, commandArgs, { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  const state = { child, exited: false, code: null };
  child.on('exit', (code, signal) => {
    state.exited = true;
    state.code = code ?? signal;
  });
  return state;
}

async function stopProcess(state, graceMs = 5000) {
  if (state.exited) return;
  const gone = new Promise((resolve) => state.child.once('exit', resolve));
  state.child.kill('SIGTERM');
  const timer = setTimeout(() => state.child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const base64url = (data) => Buffer.from(data).toString('base64url');

/**
 * The token server of the Docker Registry v2 token flow, as auth.docker.io is for Docker Hub: GET /token with Basic
 * credentials, `service` and `scope` parameters answers `{token, access_token, expires_in, issued_at}`, a JWT the
 * registry verifies against the JWKS file. Grants what the scopes ask for to the one user (pull only when
 * `pullOnly`), nothing to anyone else (401). Counts requests, so tests can prove the flow was used.
 */
async function startTokenServer({ username, password, service, issuer, pullOnly = false }) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(8).toString('hex');
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' }] };
  const stats = { tokenRequests: 0, refused: 0 };
  const equal = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    stats.tokenRequests += 1;
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const [user, ...rest] = scheme === 'Basic' && encoded ? Buffer.from(encoded, 'base64').toString('utf8').split(':') : [];
    if (user === undefined || !equal(user, username) || !equal(rest.join(':'), password) || url.searchParams.get('service') !== service) {
      stats.refused += 1;
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] }));
      return;
    }
    // scope=repository:NAME:pull,push (several scope parameters, or several scopes separated by spaces).
    const access = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean).map((scope) => {
      const parts = scope.split(':');
      const actions = (parts.pop() ?? '').split(',').filter((a) => !pullOnly || a === 'pull');
      return { type: parts[0], name: parts.slice(1).join(':'), actions };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }));
    const claims = base64url(JSON.stringify({ iss: issuer, sub: username, aud: service, exp: now + 300, nbf: now - 5, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key: createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })), dsaEncoding: 'ieee-p1363' });
    const token = `${header}.${claims}.${base64url(signature)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() }));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    // `localhost`, not 127.0.0.1: go-containerregistry (crane, and Encore's CLI) refuses a token realm on a private or
    // loopback IP literal unless it is the registry's own host:port (an SSRF guard); a host name passes, as a real
    // registry's auth.example.com does.
    realm: `http://localhost:${port}/token`,
    jwks,
    stats,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function distributionConfig({ port, dataDir, auth }) {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(dataDir)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    'auth:',
  ];
  if (auth.scheme === 'basic') {
    lines.push('  htpasswd:', '    realm: encore-test-registry', `    path: ${JSON.stringify(auth.htpasswdFile)}`);
  } else {
    lines.push('  token:', `    realm: ${auth.realm}`, `    service: ${auth.service}`, `    issuer: ${auth.issuer}`, `    jwks: ${JSON.stringify(auth.jwksFile)}`);
  }
  return `${lines.join('\n')}\n`;
}

const TMP_PREFIX = 'encore-registry-';

/**
 * Starts a registry on 127.0.0.1 and waits until /v2/ answers (200, or 401 with a challenge when authenticated).
 * - no `auth`: `crane registry serve --disk DIR`, open to anyone;
 * - `auth: { username, password, scheme: 'basic' }`: distribution with an htpasswd file;
 * - `auth: { username, password, scheme: 'token', pullOnly? }`: distribution with bearer tokens from our token
 *   server, which checks the user's Basic credentials (`pullOnly` grants pull but never push).
 * Everything lives in `dir` (default: a temporary folder that stop() deletes).
 */
export async function startRegistry({ auth, dir, readyTimeoutMs = 30_000 } = {}) {
  const ownDir = !dir;
  const workDir = dir ?? mkdtempSync(path.join(os.tmpdir(), TMP_PREFIX));
  const dataDir = path.join(workDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(workDir, 'registry.log');
  let tokenServer;
  let proc;
  let port;
  try {
    port = await freePort();
    if (!auth) {
      await ensureCrane();
      proc = startProcess(crane.binary, ['registry', 'serve', '--address', `127.0.0.1:${port}`, '--disk', dataDir], logFile);
    } else {
      if (!auth.username || !auth.password) throw new Error('startRegistry: auth needs a username and a password');
      await ensureDistribution();
      const scheme = auth.scheme ?? 'basic';
      const config = { scheme };
      if (scheme === 'basic') {
        const line = spawnSync(distribution.binaries.htpasswd, [auth.username], { input: `${auth.password}\n`, encoding: 'utf8' });
        if (line.status !== 0) throw new Error(`htpasswd failed: ${line.stderr}`);
        config.htpasswdFile = path.join(workDir, 'htpasswd');
        writeFileSync(config.htpasswdFile, line.stdout, { mode: 0o600 });
      } else if (scheme === 'token') {
        config.service = 'encore-test-registry';
        config.issuer = 'encore-test-token-issuer';
        tokenServer = await startTokenServer({ ...auth, service: config.service, issuer: config.issuer });
        config.realm = tokenServer.realm;
        config.jwksFile = path.join(workDir, 'jwks.json');
        writeFileSync(config.jwksFile, JSON.stringify(tokenServer.jwks));
      } else {
        throw new Error(`startRegistry: unknown auth scheme "${scheme}" (basic or token)`);
      }
      const configFile = path.join(workDir, 'config.yml');
      writeFileSync(configFile, distributionConfig({ port, dataDir, auth: config }), { mode: 0o600 });
      // OTEL_TRACES_EXPORTER=none: distribution 3 exports traces to localhost:4318 by default and logs every failure.
      proc = startProcess(distribution.binaries.registry, ['serve', configFile], logFile, { ...process.env, OTEL_TRACES_EXPORTER: 'none' });
    }
    const started = Date.now();
    let lastProblem = 'no answer yet';
    for (;;) {
      if (proc.exited) throw new Error(`the registry exited with ${proc.code}`);
      if (Date.now() - started > readyTimeoutMs) throw new Error(`/v2/ did not answer within ${readyTimeoutMs / 1000} s (${lastProblem})`);
      try {
        const { status, headers } = await httpGet(`http://127.0.0.1:${port}/v2/`);
        if (status === 200 || (status === 401 && headers['www-authenticate'])) break;
        lastProblem = `/v2/ answered ${status}`;
      } catch (err) {
        lastProblem = err.message;
      }
      await delay(50);
    }
  } catch (err) {
    if (proc) await stopProcess(proc, 1000);
    await tokenServer?.close();
    const log = tail(logFile);
    if (ownDir) rmSync(workDir, { recursive: true, force: true });
    throw new Error(`the test registry did not start: ${err.message}\n--- registry log (last lines)\n${log}`, { cause: err });
  }
  const onExit = () => proc.child.kill('SIGKILL');
  process.once('exit', onExit);
  let stopped;
  const host = `127.0.0.1:${port}`;
  return {
    /** `127.0.0.1:PORT`, the registry part of an image reference. */
    host,
    url: `http://${host}`,
    dir: workDir,
    log: logFile,
    kind: auth ? `distribution (${auth.scheme ?? 'basic'})` : 'crane',
    /** Requests the token server answered and refused (token scheme only). */
    tokenStats: tokenServer?.stats,
    stop() {
      stopped ??= (async () => {
        process.removeListener('exit', onExit);
        await stopProcess(proc);
        await tokenServer?.close();
        if (ownDir) rmSync(workDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

async function main(command) {
  if (command === 'build') {
    await ensureRegistryTools();
    return;
  }
  if (command === 'start') {
    const i = process.argv.indexOf('--auth');
    const scheme = i > 0 ? process.argv[i + 1] : undefined;
    const auth = scheme ? { username: 'encore', password: randomBytes(12).toString('hex'), scheme } : undefined;
    const registry = await startRegistry({ auth });
    say(`${registry.kind} registry at ${registry.url} (data and log in ${registry.dir})`);
    if (auth) say(`user "${auth.username}", password printed on stdout`);
    process.stdout.write(`${registry.host}${auth ? ` ${auth.password}` : ''}\n`);
    await new Promise((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await registry.stop();
    return;
  }
  process.stderr.write('usage: node scripts/registry.mjs build | start [--auth basic|token]\n');
  process.exitCode = 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv[2]).catch((err) => {
    say(err.message);
    process.exitCode = 1;
  });
}
