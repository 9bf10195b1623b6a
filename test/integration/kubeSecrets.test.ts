// App secret values in a real kube-apiserver: after an apply of the sample app, each `secret("Name")` reads as not
// set; setting one stores it in the environment's Secret under its own field manager, so a re-apply of that Secret
// keeps it and a plan sees no drift; the value never reaches state, the journal or the command's output. Setting a
// value before the environment exists, or for a secret the app does not have, is refused. Also through the CLI
// (`encore-env secret list|set`). Run: node --import tsx --test test/integration/kubeSecrets.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runSecretCommand, type SecretIO } from '../../src/cli/provision/secretCommand';
import type { ProvisionDeps } from '../../src/cli/provision/context';
import { EXIT } from '../../src/cli/exitCodes';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { isDriverError } from '../../src/model/providerApi';
import { appSecrets, MAX_SECRET_BYTES, secretStatuses, setSecretValue } from '../../src/provisioning/appSecrets';
import { apply, planChanges, resolveSettings } from '../../src/provisioning/engine';
import { plan } from '../../src/provisioning/planner';
import { kubernetesStateBackend } from '../../src/provisioning/providers/kubernetes/driver';
import { STATE_SECRET } from '../../src/provisioning/providers/kubernetes/stateBackend';
import { startTestKube, uniqueName, type TestKube, kubeDriver } from '../kube/harness';
import { simulateControllers } from './kubeControllers';

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
let kube: TestKube;

before(async () => {
  kube = await startTestKube();
});
after(async () => {
  await kube?.stop();
});

const environment = (namespace: string): Environment => ({ name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } });
const signal = new AbortController().signal;

test('a secret value is stored in the cluster only, survives a re-apply of its Secret, and causes no drift', async () => {
  const namespace = uniqueName('sec');
  const env = environment(namespace);
  const driver = await kubeDriver(env, { appRoot: repo, kubeconfig: kube.kubeconfigPath, pollIntervalMs: 100 });
  const client = await driver.client();
  const graph = plan(sample, env, { appId: 'sample-app' });
  assert.deepEqual(appSecrets(graph).map((s) => [s.name, s.services]), [['EmailApiKey', ['notifications']], ['SessionSigningKey', ['auth']]]);

  // Before the environment exists there is nowhere to put it.
  await assert.rejects(setSecretValue(graph, driver, 'EmailApiKey', 'too-early', signal), (err: Error) => isDriverError(err) && err.code === 'not-ready' && /apply the environment first/.test(err.message));
  await assert.rejects(setSecretValue(graph, driver, 'StripeKey', 'x', signal), /the app has no secret "StripeKey"; its secrets are EmailApiKey, SessionSigningKey/);

  const controllers = simulateControllers(client, namespace);
  try {
    const backend = await kubernetesStateBackend(driver);
    assert.equal((await apply(graph, { backend, driver })).result.outcome, 'succeeded');
    assert.deepEqual((await secretStatuses(graph, driver, signal)).map((s) => s.status), ['unset', 'unset']);

    const value = `sk-live-${uniqueName('v')}`;
    await setSecretValue(graph, driver, 'EmailApiKey', value, signal);
    await assert.rejects(setSecretValue(graph, driver, 'EmailApiKey', '', signal), /The value is empty/);
    await assert.rejects(setSecretValue(graph, driver, 'EmailApiKey', 'x'.repeat(MAX_SECRET_BYTES + 1), signal), /larger than 512 KiB/);
    assert.deepEqual((await secretStatuses(graph, driver, signal)).map((s) => s.status), ['set', 'unset']);
    const secret = appSecrets(graph).find((s) => s.name === 'EmailApiKey')!.resource;
    const read = async () => Buffer.from((await client.get<{ data?: Record<string, string> } & { apiVersion: string; kind: string; metadata: { name: string } }>('v1', 'Secret', namespace, secret.name)).data?.value ?? '', 'base64').toString();
    assert.equal(await read(), value);

    // The provider's own re-apply of that Secret owns other fields only: the value stays.
    await driver.update({ ...secret, resolved: resolveSettings(secret.settings, () => undefined).resolved }, { signal, progress: () => undefined });
    assert.equal(await read(), value);
    const again = await planChanges(graph, await backend.load(), driver);
    assert.deepEqual(again.counts, { create: 0, update: 0, delete: 0, keep: graph.resources.length });
    assert.equal(again.entries.filter((e) => e.drifted).length, 0);

    const state = (await client.get<{ data?: Record<string, string> } & { apiVersion: string; kind: string; metadata: { name: string } }>('v1', 'Secret', namespace, STATE_SECRET)).data ?? {};
    for (const text of Object.values(state)) assert.ok(!Buffer.from(text, 'base64').toString().includes(value), 'the value reached state');
  } finally {
    await controllers.stop();
  }
});

test('encore-env secret list and set: the value comes from stdin, never from an argument, and is never printed', async () => {
  const namespace = uniqueName('cli');
  const env = environment(namespace);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-secret-'));
  cpSync(path.join(repo, 'examples', 'sample-app'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
  const deps: ProvisionDeps = { provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 100 } } };
  const value = `pw-${uniqueName('cli')}`;
  let out = '';
  let err = '';
  const io: SecretIO = {
    out: (t) => (out += t), err: (t) => (err += t), interactive: false, ask: () => Promise.reject(new Error('no questions')), signal,
    readSecret: () => Promise.resolve(value),
  };
  const driver = await kubeDriver(env, { appRoot: dir, kubeconfig: kube.kubeconfigPath, pollIntervalMs: 100 });
  const controllers = simulateControllers(await driver.client(), namespace);
  try {
    assert.equal(await runSecretCommand(['set', '--env', 'dev', '--secret', 'SessionSigningKey', dir], io, deps), EXIT.failure);
    assert.match(err, /encore-env secret set: Secret encore-secret-session-signing-key-[0-9a-f]+ does not exist in namespace .* apply the environment first/);
    assert.equal(await runSecretCommand(['set', '--env', 'dev', '--secret', 'Nope', dir], io, deps), EXIT.usage);
    assert.equal(await runSecretCommand(['set', '--env', 'dev', '--value', 'x', dir], io, deps), EXIT.usage, 'no value as an argument');

    const graph = plan(new AppAnalyzer(dir).analyze(), env);
    assert.equal((await apply(graph, { backend: await kubernetesStateBackend(driver), driver })).result.outcome, 'succeeded');
    out = err = '';
    assert.equal(await runSecretCommand(['set', '--env', 'dev', '--secret', 'SessionSigningKey', dir], io, deps), EXIT.ok, err);
    assert.match(err, /Stored the value of SessionSigningKey in Kubernetes context encore-test, namespace .*; auth reads it when its pods start/);
    assert.equal(await runSecretCommand(['list', '--env', 'dev', dir], io, deps), EXIT.ok, err);
    assert.match(out, /EmailApiKey\s+not set\s+\(read by notifications\)\nSessionSigningKey\s+set\s+\(read by auth\)\n/);
    out = '';
    assert.equal(await runSecretCommand(['list', '--env', 'dev', '--json', dir], io, deps), EXIT.ok, err);
    assert.deepEqual((JSON.parse(out) as { name: string; status: string }[]).map((s) => [s.name, s.status]), [['EmailApiKey', 'unset'], ['SessionSigningKey', 'set']]);
    assert.ok(!`${out}${err}`.includes(value), 'the value was printed');

    // The real entry point, the value piped in with the newline echo adds.
    const piped = `piped-${uniqueName('v')}`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), 'secret', 'set', '--env', 'dev', '--secret', 'EmailApiKey', dir], {
      cwd: repo, encoding: 'utf8', input: `${piped}\n`, env: { ...process.env, KUBECONFIG: kube.kubeconfigPath }, timeout: 60_000,
    });
    assert.equal(run.status, EXIT.ok, run.stderr);
    assert.ok(!`${run.stdout}${run.stderr}`.includes(piped), 'the piped value was printed');
    const stored = (await (await driver.client()).list('v1', 'Secret', namespace)).items.find((o) => o.metadata.name.startsWith('encore-secret-email-api-key-')) as { data?: Record<string, string> } | undefined;
    assert.equal(Buffer.from(stored?.data?.value ?? '', 'base64').toString(), piped);
  } finally {
    await controllers.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
