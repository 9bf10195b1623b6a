// Image references, registry challenges, credentials from a Docker config (auths entries and credential helpers
// through their real stdin/stdout protocol), and the temporary DOCKER_CONFIG of a build: its permissions, its one
// credential, and its removal on success, failure, abort and after a killed run.
// Run: node --import tsx --test test/unit/deployRegistry.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createTemporaryDockerConfig, removeAbandonedDockerConfigs, withTemporaryDockerConfig } from '../../src/provisioning/deploy/dockerConfig';
import { credentialFromDockerConfig, formatImageRef, ImageRefError, parseChallenge, parseImageRef, pinnedRef, realmProblem } from '../../src/provisioning/deploy/registry';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'deploy-registry-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('image references: registries with ports, nested repositories, tags, digests, Docker Hub defaults', () => {
  const cases: [string, ReturnType<typeof parseImageRef>][] = [
    ['node', { registry: 'docker.io', repository: 'library/node', tag: 'latest' }],
    ['node:22-slim', { registry: 'docker.io', repository: 'library/node', tag: '22-slim' }],
    ['encoredev/app', { registry: 'docker.io', repository: 'encoredev/app', tag: 'latest' }],
    ['docker.io/node', { registry: 'docker.io', repository: 'library/node', tag: 'latest' }],
    ['index.docker.io/library/node:20', { registry: 'docker.io', repository: 'library/node', tag: '20' }],
    ['127.0.0.1:5000/my-app:abc123', { registry: '127.0.0.1:5000', repository: 'my-app', tag: 'abc123' }],
    ['localhost/team/app', { registry: 'localhost', repository: 'team/app', tag: 'latest' }],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/sample-app:3f2c1d0', { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repository: 'sample-app', tag: '3f2c1d0' }],
    [`ghcr.io/org/sub/app@${DIGEST}`, { registry: 'ghcr.io', repository: 'org/sub/app', digest: DIGEST }],
    [`registry.example.com:443/app:v1@${DIGEST}`, { registry: 'registry.example.com:443', repository: 'app', tag: 'v1', digest: DIGEST }],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1' }],
    ['my_org/app__x-y.z', { registry: 'docker.io', repository: 'my_org/app__x-y.z', tag: 'latest' }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseImageRef(text), want, text);
  assert.equal(formatImageRef(parseImageRef('node')), 'docker.io/library/node:latest');
  assert.equal(pinnedRef(parseImageRef('127.0.0.1:5000/my-app:abc'), DIGEST), `127.0.0.1:5000/my-app@${DIGEST}`);
});

test('bad image references are refused with what is wrong and the expected form', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    [' app', /spaces/],
    ['App/x', /"App" has uppercase letters/],
    ['127.0.0.1:5000/my-app:', /"" is not a tag/],
    ['r.io/app:-x', /"-x" is not a tag/],
    ['r.io/app@sha256:abc', /is not a digest/],
    ['r.io/app@md5:' + 'a'.repeat(32), /is not a digest/],
    ['r.io//app', /empty path component/],
    ['bad_host.io:x/app', /not a registry host/],
  ];
  for (const [text, why] of bad) {
    assert.throws(() => parseImageRef(text), (err: Error) => err instanceof ImageRefError && why.test(err.message) && /host\[:port\]\/repository/.test(err.message), text);
  }
  assert.throws(() => pinnedRef(parseImageRef('r.io/app'), 'latest'), ImageRefError);
});

test('WWW-Authenticate challenges: Bearer with realm, service and scope; Basic; quoted commas and escapes', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull"'), {
    scheme: 'bearer',
    params: Object.assign(Object.create(null), { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/node:pull' }),
  });
  assert.deepEqual({ ...parseChallenge('Basic realm="Registry Realm"')!.params }, { realm: 'Registry Realm' });
  assert.deepEqual({ ...parseChallenge('Bearer realm="https://x/token", scope="repository:a:pull,push" , error="insufficient_scope"')!.params }, {
    realm: 'https://x/token', scope: 'repository:a:pull,push', error: 'insufficient_scope',
  });
  assert.equal(parseChallenge('Bearer realm="a\\"b"')!.params.realm, 'a"b');
  assert.equal(parseChallenge('')!, undefined);
});

test('a token realm that would send the credentials somewhere they must not go is refused', () => {
  const ok = (realm: string, host: string, overHttp = false) => assert.equal(realmProblem(new URL(realm), host, overHttp), undefined, realm);
  const bad = (realm: string, host: string, why: RegExp, overHttp = false) => assert.match(realmProblem(new URL(realm), host, overHttp) ?? 'allowed', why, realm);
  ok('https://auth.docker.io/token', 'registry-1.docker.io');
  ok('https://ghcr.io/token', 'ghcr.io');
  ok('http://127.0.0.1:5000/token', '127.0.0.1:5000', true);
  ok('http://localhost:5001/token', '127.0.0.1:5000', true);
  bad('http://auth.example.com/token', 'registry.example.com', /scheme http: is not allowed/);
  bad('ftp://auth.example.com/token', 'registry.example.com', /scheme ftp:/);
  bad('https://169.254.169.254/latest/meta-data', 'registry.example.com', /169\.254\.169\.254 is a private or link-local address/);
  bad('https://10.1.2.3/token', 'registry.example.com', /private/);
  bad('https://192.168.1.1/token', 'registry.example.com', /private/);
  bad('http://127.0.0.1:5001/token', '127.0.0.1:5000', /private/, true);
  bad('https://[::1]/token', 'registry.example.com', /::1 is a private/);
  bad('https://[fd00:ec2::254]/token', 'registry.example.com', /private/);
  ok('https://8.8.8.8/token', 'registry.example.com');
});

function dockerConfig(name: string, config: unknown): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

test('credentials from a Docker config: auth, username/password, identity and registry tokens, the keys docker login uses', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const configDir = dockerConfig('auths', {
    auths: {
      '127.0.0.1:5000': { auth: b64('ci:pa:ss') },
      'https://ghcr.io': { username: 'me', password: 'tok' },
      'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
      'quay.io': { identitytoken: 'refresh-me' },
      'r.example.com': { registrytoken: 'bearer-me' },
    },
  });
  assert.deepEqual(await credentialFromDockerConfig('127.0.0.1:5000', { configDir }), { username: 'ci', password: 'pa:ss' });
  assert.deepEqual(await credentialFromDockerConfig('ghcr.io', { configDir }), { username: 'me', password: 'tok' });
  assert.deepEqual(await credentialFromDockerConfig('docker.io', { configDir }), { username: 'hubuser', password: 'hubpass' });
  assert.deepEqual(await credentialFromDockerConfig('quay.io', { configDir }), { identityToken: 'refresh-me' });
  assert.deepEqual(await credentialFromDockerConfig('r.example.com', { configDir }), { registryToken: 'bearer-me' });
  assert.equal(await credentialFromDockerConfig('other.io', { configDir }), undefined);
  assert.equal(await credentialFromDockerConfig('other.io', { configDir: path.join(tmp, 'nothing-here') }), undefined);
  // DOCKER_CONFIG is where Docker's tools look.
  assert.deepEqual(await credentialFromDockerConfig('ghcr.io', { env: { DOCKER_CONFIG: configDir } }), { username: 'me', password: 'tok' });
});

test('a broken Docker config is an error that says which file and what to do, never the credential', async () => {
  const secret = 'hunter2-secret';
  await assert.rejects(credentialFromDockerConfig('r.io', { configDir: dockerConfig('broken', '{"auths": ') }), /config\.json cannot be read: .*docker login r\.io/);
  await assert.rejects(
    credentialFromDockerConfig('r.io', { configDir: dockerConfig('badauth', { auths: { 'r.io': { auth: Buffer.from(secret).toString('base64') } } }) }),
    (err: Error) => /not base64 of user:password/.test(err.message) && !err.message.includes(secret) && !err.message.includes(Buffer.from(secret).toString('base64')),
  );
});

test('credential helpers: credHelpers per registry, credsStore for the rest, "credentials not found", a missing helper', async () => {
  const bin = path.join(tmp, 'bin');
  mkdirSync(bin, { recursive: true });
  // A credential helper speaking Docker's protocol: the server on stdin, JSON on stdout.
  const helper = path.join(bin, 'docker-credential-standin');
  writeFileSync(helper, [
    '#!/bin/sh',
    'read server',
    'case "$server" in',
    '  r.example.com) echo \'{"ServerURL":"r.example.com","Username":"robot","Secret":"s3cret"}\' ;;',
    '  tok.example.com) echo \'{"ServerURL":"tok.example.com","Username":"<token>","Secret":"refresh"}\' ;;',
    '  *) echo "credentials not found in native keychain"; exit 1 ;;',
    'esac',
    '',
  ].join('\n'));
  chmodSync(helper, 0o755);
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
  const configDir = dockerConfig('helpers', { credsStore: 'standin', credHelpers: { 'x.example.com': 'absent' }, auths: { 'fallback.io': { username: 'u', password: 'p' } } });
  assert.deepEqual(await credentialFromDockerConfig('r.example.com', { configDir, env }), { username: 'robot', password: 's3cret' });
  assert.deepEqual(await credentialFromDockerConfig('tok.example.com', { configDir, env }), { identityToken: 'refresh' });
  // The store has nothing: the auths entry is used.
  assert.deepEqual(await credentialFromDockerConfig('fallback.io', { configDir, env }), { username: 'u', password: 'p' });
  assert.equal(await credentialFromDockerConfig('nothing.io', { configDir, env }), undefined);
  await assert.rejects(credentialFromDockerConfig('x.example.com', { configDir, env }), /credential helper "absent", but docker-credential-absent is not on PATH/);
});

test('a temporary DOCKER_CONFIG: a 0700 folder, a 0600 config.json with one credential for one registry, removed by dispose', () => {
  const config = createTemporaryDockerConfig('127.0.0.1:5000', { username: 'AWS', password: 'short-lived' }, { parentDir: tmp });
  assert.equal(statSync(config.dir).mode & 0o777, 0o700);
  const file = path.join(config.dir, 'config.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { auths: { '127.0.0.1:5000': { auth: Buffer.from('AWS:short-lived').toString('base64') } } });
  assert.equal(config.env({ PATH: '/bin' }).DOCKER_CONFIG, config.dir);
  assert.equal(config.env({ PATH: '/bin' }).PATH, '/bin');
  config.dispose();
  config.dispose();
  assert.equal(existsSync(config.dir), false);
  const hub = createTemporaryDockerConfig('docker.io', { registryToken: 't' }, { parentDir: tmp });
  assert.deepEqual(JSON.parse(readFileSync(path.join(hub.dir, 'config.json'), 'utf8')), { auths: { 'https://index.docker.io/v1/': { registrytoken: 't' } } });
  hub.dispose();
});

test('withTemporaryDockerConfig removes the folder on success, on failure and as soon as the build is aborted', async () => {
  const cred = { username: 'u', password: 'p' };
  let seen = '';
  assert.equal(await withTemporaryDockerConfig('r.io', cred, async (c) => ((seen = c.dir), 'built'), { parentDir: tmp }), 'built');
  assert.equal(existsSync(seen), false);
  await assert.rejects(withTemporaryDockerConfig('r.io', cred, async (c) => {
    seen = c.dir;
    throw new Error('push denied');
  }, { parentDir: tmp }), /push denied/);
  assert.equal(existsSync(seen), false);
  const controller = new AbortController();
  let goneOnAbort: boolean | undefined;
  await assert.rejects(withTemporaryDockerConfig('r.io', cred, async (c) => {
    seen = c.dir;
    controller.abort(new Error('cancelled'));
    goneOnAbort = !existsSync(c.dir);
    controller.signal.throwIfAborted();
  }, { parentDir: tmp, signal: controller.signal }), /cancelled/);
  assert.equal(goneOnAbort, true);
  await assert.rejects(withTemporaryDockerConfig('r.io', cred, async () => 'never', { parentDir: tmp, signal: controller.signal }), /cancelled/);
  assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('encore-docker-config-')), []);
});

test("a killed run's temporary DOCKER_CONFIG is removed by the next one; a living owner's is kept", () => {
  const parent = mkdtempSync(path.join(tmp, 'abandoned-'));
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  for (const [name, pid] of [['encore-docker-config-dead', dead], ['encore-docker-config-alive', String(process.pid)]] as const) {
    mkdirSync(path.join(parent, name));
    writeFileSync(path.join(parent, name, 'owner.pid'), pid);
    writeFileSync(path.join(parent, name, 'config.json'), '{}');
  }
  mkdirSync(path.join(parent, 'encore-docker-config-being-created'));
  removeAbandonedDockerConfigs(parent);
  assert.deepEqual(readdirSync(parent).sort(), ['encore-docker-config-alive', 'encore-docker-config-being-created']);
});
