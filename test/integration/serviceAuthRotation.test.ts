// encore-env secret rotate-service-auth on the sample app's Kubernetes environment, against the real test
// kube-apiserver (the controller stand-in writes the Deployments' status as their rollouts finish): starting a
// rotation adds a second generated key, the infra config lists both, every service gets both and the CronJob signs
// with the new one; finishing leaves the new key alone. The CronJob's own script (run with this machine's node, with
// the env its live container gets, the Secret's values filled in as the kubelet would) calls a server that verifies
// as Encore's runtime does with the keys the live infra config lists. The keys never reach state, output or the log.
// Run: npm test -- integration test/integration/serviceAuthRotation.test.ts
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EXIT } from '../../src/cli/exitCodes';
import { runProvisionCommand } from '../../src/cli/provision/commands';
import { runSecretCommand, type SecretIO } from '../../src/cli/provision/secretCommand';
import type { Environment } from '../../src/model/environment';
import { signCall, verifyCall, type ServiceAuthKey } from '../../src/provisioning/deploy/serviceAuth';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { STATE_SECRET } from '../../src/provisioning/providers/kubernetes/stateBackend';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { simulateControllers, type Controllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const repo = path.join(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'svc-auth-rotation-'));
const ENV = 'staging';
let kube: TestKube;
let client: KubeClient;
let controllers: Controllers;
let app: string;
let namespace: string;
const deps = () => ({ provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 50 } } });

/** Every line the commands printed, to check no key reached them. */
const printed: string[] = [];

function io(): SecretIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void ((out += t), printed.push(t)),
    err: (t) => void ((err += t), printed.push(t)),
    interactive: false,
    ask: () => Promise.reject(new Error('no questions in these tests')),
    readSecret: () => Promise.reject(new Error('no values are read in these tests')),
    signal: new AbortController().signal,
    stdout: () => out,
    stderr: () => err,
  };
}

async function rotate(...args: string[]) {
  const i = io();
  const code = await runSecretCommand(['rotate-service-auth', '--env', ENV, ...args, app], i, deps());
  return { code, stdout: i.stdout(), stderr: i.stderr() };
}

before(async () => {
  kube = await startTestKube();
  client = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  app = path.join(tmp, 'sample-app');
  cpSync(path.join(repo, 'examples', 'sample-app'), app, { recursive: true });
  namespace = uniqueName('rotate');
  const env: Environment = { name: ENV, type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };
  writeFileSync(path.join(app, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
  controllers = simulateControllers(client, namespace, { intervalMs: 50 });
  const i = io();
  assert.equal(await runProvisionCommand('apply', ['--env', ENV, '--yes', app], i, deps()), EXIT.ok, i.stderr());
});
after(async () => {
  await controllers?.stop();
  client?.close();
  await kube?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function secretKeys(): Promise<Record<string, string>> {
  const s = await client.get<Any & { apiVersion: string; kind: string; metadata: { name: string } }>('v1', 'Secret', namespace, 'encore-service-auth');
  return Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

async function infraConfigAuth(): Promise<{ type: string; id: number; key: { $env: string } }[]> {
  // A Secret, not a ConfigMap: it names every host of the environment (manifests/secrets.ts).
  const s = await client.get<Any & { apiVersion: string; kind: string; metadata: { name: string } }>('v1', 'Secret', namespace, 'encore-infra-config');
  const doc = JSON.parse(Buffer.from(s.data['infra.config.json'], 'base64').toString('utf8'));
  // Every service's discovery entry carries the same list.
  for (const entry of Object.values(doc.service_discovery as Record<string, { auth: unknown }>)) assert.deepEqual(entry.auth, doc.auth);
  return doc.auth;
}

/** The keys as a pod sees them: the infra config's entries, each `$env` resolved from the Deployment's env and the Secret. */
async function keysServicesVerifyWith(): Promise<ServiceAuthKey[]> {
  const auth = await infraConfigAuth();
  const secret = await secretKeys();
  const deployments = (await client.list('apps/v1', 'Deployment', namespace)).items as Any[];
  assert.ok(deployments.length >= 2);
  const keys: ServiceAuthKey[] = [];
  for (const entry of auth) {
    for (const d of deployments) {
      const v = (d.spec.template.spec.containers[0].env as Any[]).find((e) => e.name === entry.key.$env);
      assert.ok(v, `${d.metadata.name} has no ${entry.key.$env}`);
      assert.equal(v.valueFrom.secretKeyRef.name, 'encore-service-auth');
      assert.ok(secret[v.valueFrom.secretKeyRef.key], `the Secret has no ${v.valueFrom.secretKeyRef.key}`);
    }
    const ref = (deployments[0].spec.template.spec.containers[0].env as Any[]).find((e) => e.name === entry.key.$env)!;
    keys.push({ id: entry.id, key: secret[ref.valueFrom.secretKeyRef.key]! });
  }
  return keys;
}

/** The live CronJob's container run as its pod runs it, against a server that verifies with `keys`. */
async function runCronJob(keys: ServiceAuthKey[]): Promise<{ keyId: number | null; status: number; output: string }> {
  const cron = await client.get<Any & { apiVersion: string; kind: string; metadata: { name: string } }>('batch/v1', 'CronJob', namespace, 'daily-digest');
  const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
  const secret = await secretKeys();
  let verdict: ReturnType<typeof verifyCall> | undefined;
  const server = http.createServer((req, res) => {
    verdict = verifyCall(keys, { appSlug: 'sample-app', envName: ENV }, req.headers);
    res.writeHead(verdict.ok ? 200 : 401).end(verdict.ok ? '{}' : verdict.reason);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const v of container.env as Any[]) env[v.name] = v.valueFrom ? secret[v.valueFrom.secretKeyRef.key]! : v.value;
    env.URL = env.URL!.replace(/^http:\/\/[^/]+/, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const output = await new Promise<string>((resolve) => execFile(process.execPath, container.command.slice(1), { env, encoding: 'utf8', timeout: 20_000 }, (_err, stdout, stderr) => resolve(stdout + stderr)));
    assert.ok(verdict, `the CronJob made no call: ${output}`);
    return { keyId: verdict.ok ? verdict.keyId : null, status: verdict.ok ? 200 : 401, output };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The environment's state (in the cluster and its local copy) as text. */
async function stateText(): Promise<string> {
  const s = await client.get<Any & { apiVersion: string; kind: string; metadata: { name: string } }>('v1', 'Secret', namespace, STATE_SECRET);
  const cluster = Object.values(s.data as Record<string, string>).map((v) => Buffer.from(v, 'base64').toString('utf8')).join('\n');
  const local = path.join(app, '.encore');
  const files = readdirSync(local, { recursive: true }).map((f) => path.join(local, String(f))).filter((f) => statSync(f).isFile());
  return [cluster, ...files.map((f) => readFileSync(f, 'utf8'))].join('\n');
}

test('a rotation: both keys listed and accepted while it runs, the CronJob signs with the new one; after finishing only the new one', async () => {
  // Before: key 1 alone, and a second finish is refused before anything changes.
  assert.deepEqual(await infraConfigAuth(), [{ type: 'key', id: 1, key: { $env: 'ENCORE_SERVICE_AUTH_KEY' } }]);
  const before1 = await secretKeys();
  assert.deepEqual(Object.keys(before1), ['key']);
  const none = await rotate('--finish', '--yes');
  assert.equal(none.code, EXIT.usage, none.stderr);
  assert.match(none.stderr, /no service-auth key rotation is in progress in "staging"/);
  // No terminal and no --yes: refused.
  assert.equal((await rotate()).code, EXIT.confirmation);

  const started = await rotate('--yes');
  assert.equal(started.code, EXIT.ok, started.stderr);
  assert.match(started.stdout, /keys 1 and 2 both verify, key 2 signs/);
  // The plan said what changes: the Secret, the infra config, the workloads, the CronJob; nothing else.
  assert.match(started.stderr, /k8s:secret:encore-service-auth/);
  const during = await secretKeys();
  assert.deepEqual(Object.keys(during).sort(), ['key', 'key-2']);
  assert.equal(during.key, before1.key, 'the old key changed at the start of the rotation');
  assert.notEqual(during['key-2'], during.key);
  assert.ok(during['key-2']!.length >= 32);
  assert.deepEqual(await infraConfigAuth(), [
    { type: 'key', id: 1, key: { $env: 'ENCORE_SERVICE_AUTH_KEY' } },
    { type: 'key', id: 2, key: { $env: 'ENCORE_SERVICE_AUTH_KEY_2' } },
  ]);
  const both = await keysServicesVerifyWith();
  assert.deepEqual(both.map((k) => k.id), [1, 2]);
  // The CronJob signs with the new key, and the services accept it; a caller still on the old key is accepted too.
  const signed = await runCronJob(both);
  assert.equal(signed.keyId, 2, signed.output);
  assert.match(signed.output, /: 200/);
  const oldCaller = signCall([both[0]!], { appSlug: 'sample-app', envName: ENV }, { 'x-encore-meta-caller': 'app:old' });
  assert.deepEqual(verifyCall(both, { appSlug: 'sample-app', envName: ENV }, { 'x-encore-meta-caller': 'app:old', ...oldCaller }), { ok: true, keyId: 1 });
  // A second start while one is in progress is refused.
  const twice = await rotate('--yes');
  assert.equal(twice.code, EXIT.usage);
  assert.match(twice.stderr, /already in progress in "staging" \(keys 1 and 2\)/);
  // An apply in between changes nothing: the rotation is what the state records.
  const plan = io();
  assert.equal(await runProvisionCommand('plan', ['--env', ENV, '--detailed-exitcode', app], plan, deps()), EXIT.ok, plan.stdout());

  const finished = await rotate('--finish', '--yes');
  assert.equal(finished.code, EXIT.ok, finished.stderr);
  assert.match(finished.stdout, /only key 2 verifies now/);
  const afterKeys = await secretKeys();
  assert.deepEqual(Object.keys(afterKeys), ['key-2']);
  assert.equal(afterKeys['key-2'], during['key-2']);
  assert.deepEqual(await infraConfigAuth(), [{ type: 'key', id: 2, key: { $env: 'ENCORE_SERVICE_AUTH_KEY_2' } }]);
  const only = await keysServicesVerifyWith();
  assert.deepEqual(only.map((k) => k.id), [2]);
  for (const d of (await client.list('apps/v1', 'Deployment', namespace)).items as Any[]) {
    assert.ok(!(d.spec.template.spec.containers[0].env as Any[]).some((e) => e.name === 'ENCORE_SERVICE_AUTH_KEY'), `${d.metadata.name} still gets the old key`);
  }
  const signedAfter = await runCronJob(only);
  assert.equal(signedAfter.keyId, 2, signedAfter.output);
  // The old key is refused from now on.
  const stale = signCall([both[0]!], { appSlug: 'sample-app', envName: ENV }, { 'x-encore-meta-caller': 'app:old' });
  assert.deepEqual(verifyCall(only, { appSlug: 'sample-app', envName: ENV }, { 'x-encore-meta-caller': 'app:old', ...stale }), { ok: false, reason: 'unknown key id 1' });
  const plan2 = io();
  assert.equal(await runProvisionCommand('plan', ['--env', ENV, '--detailed-exitcode', app], plan2, deps()), EXIT.ok, plan2.stdout());

  // No key in state (the cluster's and the local copy), nor in anything the commands printed.
  const state = await stateText();
  const all = printed.join('');
  for (const key of [before1.key!, during['key-2']!]) {
    assert.ok(!state.includes(key), 'a service-auth key reached the state');
    assert.ok(!all.includes(key), 'a service-auth key reached the output');
  }
});

test('a rotation is refused with "apply first" while other changes are pending', async () => {
  const file = path.join(app, 'encore.environments.json');
  const original = readFileSync(file, 'utf8');
  const doc = JSON.parse(original);
  doc.environments[0].type = 'production';
  writeFileSync(file, JSON.stringify(doc));
  try {
    const refused = await rotate('--yes');
    assert.equal(refused.code, EXIT.applyFirst, refused.stderr);
    assert.match(refused.stderr, /has changes to apply, and a key rotation changes nothing else: apply first/);
    assert.deepEqual(Object.keys(await secretKeys()), ['key-2']);
  } finally {
    writeFileSync(file, original);
  }
});
