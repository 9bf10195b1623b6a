// The build step against real registries: the stand-in `encore build docker` (run by the product's buildDocker)
// pushes with the one credential of a temporary DOCKER_CONFIG; the product's RegistryClient reads the digest back
// through each kind of registry authentication (none: crane registry serve; Basic: distribution with htpasswd;
// the Docker token flow: distribution with bearer tokens) and it is the digest pushed. Wrong or missing credentials,
// a pull-only account, a deleted image, and the CLI's own failures (no parser, push denied, a cancelled build) each
// end with a clear error, no credential in any message, and no temporary DOCKER_CONFIG left behind.
// Run: node --import tsx --test test/integration/deployRegistry.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { withTemporaryDockerConfig } from '../../src/provisioning/deploy/dockerConfig';
import { buildDocker, EncoreCliError, findEncore, type BuildLine } from '../../src/provisioning/deploy/encoreCli';
import { credentialFromDockerConfig, formatImageRef, parseImageRef, RegistryClient, RegistryError, type RegistryCredential } from '../../src/provisioning/deploy/registry';
import { crane, startRegistry, type TestRegistry } from '../../scripts/registry.mjs';
import { standinEnv } from '../deploy/encoreStandin';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'deploy-registry-'));
/** Temporary DOCKER_CONFIGs go here, so the test can prove none is left. */
const configParent = path.join(tmp, 'docker-configs');
const appRoot = path.join(tmp, 'app');
const password = `pw-${process.pid}-${Math.random().toString(36).slice(2)}`;
const user = { username: 'deployer', password };
let open: TestRegistry;
let basic: TestRegistry;
let token: TestRegistry;
let pullOnly: TestRegistry;

before(async () => {
  mkdirSync(configParent);
  mkdirSync(appRoot);
  writeFileSync(path.join(appRoot, 'encore.app'), '{"id": "registry-test"}\n');
  [open, basic, token, pullOnly] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: { ...user, scheme: 'basic' } }),
    startRegistry({ auth: { ...user, scheme: 'token' } }),
    startRegistry({ auth: { ...user, scheme: 'token', pullOnly: true } }),
  ]);
});
after(async () => {
  await Promise.all([open, basic, token, pullOnly].map((r) => r?.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

const leftConfigs = () => readdirSync(configParent);

/** Whether a process has ended within 2 s (gone, or a zombie waiting for its new parent to reap it). */
async function exited(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      process.kill(pid, 0);
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The deploy's build step: a temporary DOCKER_CONFIG with `credential`, then `encore build docker --push`. */
async function buildAndPush(registry: TestRegistry, image: string, credential: RegistryCredential, options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; app?: string } = {}) {
  const env = options.env ?? standinEnv();
  const lines: BuildLine[] = [];
  await withTemporaryDockerConfig(registry.host, credential, async (config) => {
    await buildDocker({ encore: findEncore({ env }), appRoot: options.app ?? appRoot, image, env: config.env(env), signal: options.signal, onLine: (l) => lines.push(l) });
  }, { parentDir: configParent, signal: options.signal });
  return lines;
}

const pushedDigest = (lines: BuildLine[]) => /^pushed \S+@(sha256:[a-f0-9]{64})$/.exec(lines.map((l) => l.line).find((l) => l.startsWith('pushed ')) ?? '')?.[1];
const noSecret = (err: Error) => !err.message.includes(password) && !err.message.includes(Buffer.from(`deployer:${password}`).toString('base64'));

test('no auth (crane registry serve): the digest of the tag is the one pushed; a missing tag is not-found', async () => {
  const ref = parseImageRef(`${open.host}/app:v1`);
  const lines = await buildAndPush(open, formatImageRef(ref), { username: 'any', password: 'any' });
  const digest = pushedDigest(lines);
  assert.ok(digest, lines.map((l) => l.line).join('\n'));
  const client = new RegistryClient(open.host);
  assert.equal(await client.digestOf(ref), digest);
  // crane's own answer agrees.
  assert.equal(execFileSync(crane.binary, ['digest', formatImageRef(ref)], { encoding: 'utf8' }).trim(), digest);
  await assert.rejects(client.digestOf(parseImageRef(`${open.host}/app:nope`)), (err: RegistryError) => err.code === 'not-found' && /app:nope is not in the registry .* \(404\)/.test(err.message));
  assert.deepEqual(leftConfigs(), []);
});

test('whether a digest still exists: true after the push, false once the image is deleted from the registry', async () => {
  const ref = parseImageRef(`${open.host}/gc:v1`);
  const digest = pushedDigest(await buildAndPush(open, formatImageRef(ref), { username: 'any', password: 'any' }))!;
  const client = new RegistryClient(open.host);
  assert.equal(await client.hasDigest('gc', digest), true);
  assert.equal(await client.hasDigest('gc', `sha256:${'0'.repeat(64)}`), false);
  execFileSync(crane.binary, ['delete', `${open.host}/gc@${digest}`]);
  assert.equal(await client.hasDigest('gc', digest), false);
});

test('Basic (distribution + htpasswd): pushed with the temporary config, read back through Basic, the same digest', async () => {
  const ref = parseImageRef(`${basic.host}/app:v1`);
  const digest = pushedDigest(await buildAndPush(basic, formatImageRef(ref), user));
  assert.ok(digest);
  assert.equal(await new RegistryClient(basic.host, { credential: user }).digestOf(ref), digest);
  assert.equal(await new RegistryClient(basic.host, { credential: user }).hasDigest('app', digest), true);
  assert.deepEqual(leftConfigs(), []);
});

test('Basic: a wrong password and no credentials are clear errors that never show the password', async () => {
  const ref = parseImageRef(`${basic.host}/app:v1`);
  await assert.rejects(new RegistryClient(basic.host, { credential: { username: 'deployer', password: `${password}x` } }).digestOf(ref), (err: RegistryError) =>
    err.code === 'unauthorized' && err.message.startsWith(`The registry ${basic.host} refused user "deployer" for ${basic.host}/app:v1 (401 Unauthorized): check the user name and password`) && noSecret(err));
  await assert.rejects(new RegistryClient(basic.host).digestOf(ref), (err: RegistryError) => err.code === 'unauthorized' && /refused no credentials .* it needs credentials: log in with "docker login"/.test(err.message));
});

test('the Docker token flow (Bearer realm, service, scope): the digest read back equals the one pushed', async () => {
  const before = token.tokenStats!.tokenRequests;
  const ref = parseImageRef(`${token.host}/team/app:v2`);
  const digest = pushedDigest(await buildAndPush(token, formatImageRef(ref), user));
  assert.ok(digest);
  const client = new RegistryClient(token.host, { credential: user });
  assert.equal(await client.digestOf(ref), digest);
  assert.equal(await client.hasDigest('team/app', digest), true);
  // The pushes and the reads went through the token server.
  assert.ok(token.tokenStats!.tokenRequests > before + 1, `token requests: ${token.tokenStats!.tokenRequests - before}`);
  assert.deepEqual(leftConfigs(), []);
});

test('the token flow: a wrong password is refused by the token service, clearly, without the password', async () => {
  const refusedBefore = token.tokenStats!.refused;
  await assert.rejects(new RegistryClient(token.host, { credential: { username: 'deployer', password: 'wrong' } }).digestOf(parseImageRef(`${token.host}/team/app:v2`)), (err: RegistryError) =>
    err.code === 'unauthorized' && /^The token service http:\/\/localhost:\d+ of the registry 127\.0\.0\.1:\d+ refused user "deployer" \(401\): check the user name and password/.test(err.message) && !err.message.includes('wrong'));
  assert.equal(token.tokenStats!.refused, refusedBefore + 1);
});

test('a credential from the user\'s Docker config file works through the token flow', async () => {
  const userConfig = path.join(tmp, 'user-docker');
  mkdirSync(userConfig);
  writeFileSync(path.join(userConfig, 'config.json'), JSON.stringify({ auths: { [token.host]: { auth: Buffer.from(`deployer:${password}`).toString('base64') } } }));
  const credential = await credentialFromDockerConfig(token.host, { configDir: userConfig });
  assert.deepEqual(credential, user);
  const ref = parseImageRef(`${token.host}/from-config:v1`);
  const digest = pushedDigest(await buildAndPush(token, formatImageRef(ref), credential!));
  assert.equal(await new RegistryClient(token.host, { credential }).digestOf(ref), digest);
});

test('a push with a wrong password fails as the real CLI does: the registry\'s refusal in the last lines, the config removed', async () => {
  for (const registry of [basic, token]) {
    await assert.rejects(buildAndPush(registry, `${registry.host}/app:denied`, { username: 'deployer', password: 'not-it' }), (err: EncoreCliError) =>
      err.code === 'build-failed' && err.details.exitCode === 1 && (err.details.lastLines ?? []).some((l) => /UNAUTHORIZED|authentication required|401/i.test(l)) && !err.message.includes('not-it'));
    assert.deepEqual(leftConfigs(), []);
  }
});

test('a pull-only account: the registry denies the push; reading the digest still works', async () => {
  const ref = parseImageRef(`${pullOnly.host}/app:v1`);
  await assert.rejects(buildAndPush(pullOnly, formatImageRef(ref), user), (err: EncoreCliError) =>
    err.code === 'build-failed' && (err.details.lastLines ?? []).some((l) => /UNAUTHORIZED|DENIED|insufficient/i.test(l)));
  assert.deepEqual(leftConfigs(), []);
});

test('the CLI without its parser: build-failed with its message, nothing pushed', async () => {
  const app = path.join(tmp, 'no-parser-app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'encore.app'), '{}\n');
  writeFileSync(path.join(app, '.encore-standin-fail'), 'no-parser\n');
  await assert.rejects(buildAndPush(open, `${open.host}/no-parser:v1`, user, { app }), (err: EncoreCliError) =>
    err.code === 'build-failed' && err.details.exitCode === 1 && /TypeScript parser/.test(err.message) && /install\.sh/.test(err.message));
  await assert.rejects(new RegistryClient(open.host).digestOf(parseImageRef(`${open.host}/no-parser:v1`)), (err: RegistryError) => err.code === 'not-found');
  assert.deepEqual(leftConfigs(), []);
});

test('the CLI told the push was denied: build-failed with the exit code and the last lines, in order', async () => {
  const lines: string[] = [];
  await assert.rejects(
    (async () => {
      const env = standinEnv({ ENCORE_STANDIN_FAIL: 'push-denied' });
      await withTemporaryDockerConfig(open.host, user, (config) => buildDocker({ encore: findEncore({ env }), appRoot, image: `${open.host}/app:x`, env: config.env(env), onLine: (l) => lines.push(l.line) }), { parentDir: configParent });
    })(),
    (err: EncoreCliError) => {
      assert.equal(err.code, 'build-failed');
      assert.equal(err.details.exitCode, 1);
      assert.match(err.message, /`encore build docker --skip-config --push 127\.0\.0\.1:\d+\/app:x` failed \(exit code 1\) in .*\. Its last lines:\n {4}✔ Building Encore application graph\.\.\. Done!\n/);
      assert.match(err.details.lastLines!.at(-1)!, /DENIED: requested access to the resource is denied/);
      return true;
    },
  );
  assert.deepEqual(lines.slice(0, 2), ['  ✔ Building Encore application graph... Done!', '  ✔ Analyzing service topology... Done!']);
  assert.deepEqual(leftConfigs(), []);
});

test('a cancelled build ends the whole process group at once, rejects with the reason, and leaves no DOCKER_CONFIG', async () => {
  const controller = new AbortController();
  const env = standinEnv({ ENCORE_STANDIN_FAIL: 'hang' });
  let compilerPid: number | undefined;
  const started = Date.now();
  const building = withTemporaryDockerConfig(open.host, user, (config) => buildDocker({
    encore: findEncore({ env }), appRoot, image: `${open.host}/app:hang`, env: config.env(env), signal: controller.signal,
    onLine: (l) => {
      const m = /compiler pid (\d+)/.exec(l.line);
      if (m) {
        compilerPid = Number(m[1]);
        controller.abort(new Error('deploy cancelled'));
      }
    },
  }), { parentDir: configParent, signal: controller.signal });
  await assert.rejects(building, /deploy cancelled/);
  assert.ok(compilerPid, 'the stand-in never said it started its compiler');
  assert.ok(Date.now() - started < 4000, `cancel took ${Date.now() - started} ms`);
  assert.ok(await exited(compilerPid!), `the build's child process ${compilerPid} survived the cancel`);
  assert.deepEqual(leftConfigs(), []);
});
