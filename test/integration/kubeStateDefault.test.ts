// The CLI's provisioning commands with the real provider registry (providerModule) against a real
// kube-apiserver: a Kubernetes environment's state goes to the Secret in its namespace by default, with a local copy
// that `plan --offline` reads with no cluster reached (the last test stops the server first); destroy empties the
// copy; state an earlier version kept in .encore/state/<env>/state.json moves into the Secret on the next apply.
// Run: node --import tsx --test test/integration/kubeStateDefault.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EXIT } from '../../src/cli/exitCodes';
import { runProvisionCommand, type CliIO } from '../../src/cli/provision/commands';
import type { ProvisionDeps } from '../../src/cli/provision/context';
import type { Environment } from '../../src/model/environment';
import type { Plan } from '../../src/model/plan';
import type { EnvState } from '../../src/model/state';
import { providerModule } from '../../src/provisioning/providers';
import type { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { STATE_SECRET } from '../../src/provisioning/providers/kubernetes/stateBackend';
import type { Mirror } from '../../src/provisioning/state/mirror';
import { kubeDriver, startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { simulateControllers } from './kubeControllers';

const repo = path.join(__dirname, '..', '..');
let kube: TestKube;
let app: string;
let client: KubeClient;
const namespaces = { dev: uniqueName('dflt'), old: uniqueName('migr') };
const environments: Environment[] = (['dev', 'old'] as const).map((name) => ({
  name, type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace: namespaces[name] },
}));

/** The real registry, on the test server's kubeconfig. */
const deps = (): ProvisionDeps => ({ provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 100, deleteTimeoutMs: 30_000 } } });

/** What an offline plan may use: the real modules' offline state; any attempt to open a provider fails the test. */
const offlineDeps: ProvisionDeps = {
  providers: async (kind) => ({ ...(await providerModule(kind)), open: () => Promise.reject(new Error('an offline plan opened the provider')) }),
};

async function cli(d: ProvisionDeps, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const [command, ...rest] = args;
  const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), interactive: false, ask: async () => '', signal: new AbortController().signal };
  const code = await runProvisionCommand(command as 'plan', [...rest, app], io, d);
  return { code, out, err };
}

const stateDir = (env: string) => path.join(app, '.encore', 'state', env);
const mirrorOf = (env: string) => JSON.parse(readFileSync(path.join(stateDir(env), 'mirror.json'), 'utf8')) as Mirror;

async function secretState(namespace: string): Promise<EnvState | null> {
  const secret = (await client.find('v1', 'Secret', namespace, STATE_SECRET)) as { data?: Record<string, string> } | null;
  const text = secret?.data?.['state.json'];
  return text ? (JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as EnvState) : null;
}

/** Every value in the namespace's Secrets but the state's own: none may reach the local copy. */
async function secretValues(namespace: string): Promise<string[]> {
  const secrets = (await client.list('v1', 'Secret', namespace)).items as unknown as { metadata: { name: string }; data?: Record<string, string> }[];
  return secrets
    .filter((s) => s.metadata.name !== STATE_SECRET && s.metadata.name !== 'encore-infra-config')
    .flatMap((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')))
    .filter((v) => v.length >= 8);
}

before(async () => {
  kube = await startTestKube();
  app = mkdtempSync(path.join(os.tmpdir(), 'kube-state-default-'));
  cpSync(path.join(repo, 'examples', 'sample-app'), app, { recursive: true });
  writeFileSync(path.join(app, 'encore.environments.json'), JSON.stringify({ environments }));
  client = await (await kubeDriver(environments[0]!, { appRoot: app, kubeconfig: kube.kubeconfigPath })).client();
});
after(async () => {
  await kube?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
});

test('apply keeps state in the Secret in the namespace, with a local copy only; offline plan reads the copy; destroy empties it', async () => {
  const ns = namespaces.dev;
  const controllers = simulateControllers(client, ns);
  try {
    const applied = await cli(deps(), ['apply', '--env', 'dev', '--yes', '--json']);
    assert.equal(applied.code, EXIT.ok, applied.err);
    const { plan } = JSON.parse(applied.out) as { plan: Plan };
    const ids = plan.entries.map((e) => e.id).sort();
    assert.equal(plan.counts.create, ids.length);

    const inSecret = await secretState(ns);
    assert.deepEqual(Object.keys(inSecret?.resources ?? {}).sort(), ids, 'the Secret holds the state');
    assert.deepEqual(readdirSync(stateDir('dev')), ['mirror.json'], 'no state.json, no journal, no lock file beside the app');
    const mirror = mirrorOf('dev');
    assert.equal(mirror.source, `Secret ${STATE_SECRET} in namespace ${ns} (context "encore-test")`);
    assert.deepEqual(mirror.state, inSecret, 'the copy is the last state written');
    const copyText = readFileSync(path.join(stateDir('dev'), 'mirror.json'), 'utf8');
    const values = await secretValues(ns);
    assert.ok(values.length >= 4, `generated values: ${values.length}`);
    for (const v of values) assert.ok(!copyText.includes(v), 'a secret value reached the local copy');

    const live = await cli(deps(), ['plan', '--env', 'dev', '--detailed-exitcode']);
    assert.equal(live.code, EXIT.ok, live.err);
    assert.match(live.out, /0 to create, 0 to update, 0 to delete, \d+ unchanged\./);

    const offline = await cli(offlineDeps, ['plan', '--env', 'dev', '--offline', '--detailed-exitcode']);
    assert.equal(offline.code, EXIT.ok, offline.err);
    const where = new RegExp(`^Plan for environment "dev" \\(offline, state from ${stateDir('dev').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/mirror\\.json, a local copy of Secret ${STATE_SECRET} in namespace ${ns} \\(context "encore-test"\\) as seen at \\d{4}-[^)]+\\): 0 to create, 0 to update, 0 to delete, ${ids.length} unchanged\\.\\n {2}note: offline:`);
    assert.match(offline.out, where);

    const gone = await cli(deps(), ['destroy', '--env', 'dev', '--confirm', 'dev']);
    assert.equal(gone.code, EXIT.ok, gone.err);
    assert.equal(await client.find('v1', 'Namespace', undefined, ns), null, 'the namespace went, and the state Secret with it');
    assert.equal(mirrorOf('dev').state, null, 'the copy says nothing is recorded');
    const emptied = await cli(offlineDeps, ['plan', '--env', 'dev', '--offline', '--json']);
    assert.equal(emptied.code, EXIT.ok, emptied.err);
    assert.deepEqual((JSON.parse(emptied.out) as Plan).counts, { create: ids.length, update: 0, delete: 0, keep: 0 });
  } finally {
    await controllers.stop();
  }
});

test('migration: state an earlier version kept in .encore/state/<env>/state.json moves into the Secret, and what the app dropped is deleted', async () => {
  const ns = namespaces.old;
  const controllers = simulateControllers(client, ns);
  try {
    // An earlier version: the local folder backend, where it kept state.
    const first = await cli(deps(), ['apply', '--env', 'old', '--yes', '--json', '--state-dir', stateDir('old')]);
    assert.equal(first.code, EXIT.ok, first.err);
    const recorded = JSON.parse(readFileSync(path.join(stateDir('old'), 'state.json'), 'utf8')) as EnvState;
    assert.equal(await secretState(ns), null);

    // This version, on an app that no longer has the notifications service.
    rmSync(path.join(app, 'notifications'), { recursive: true });
    const plan = await cli(deps(), ['plan', '--env', 'old', '--json']);
    assert.equal(plan.code, EXIT.ok, plan.err);
    const planned = JSON.parse(plan.out) as Plan;
    assert.equal(planned.counts.create, 0, 'everything recorded locally is known');
    assert.ok(planned.counts.delete > 0);
    const dropped = planned.entries.filter((e) => e.action === 'delete').map((e) => e.id);

    const second = await cli(deps(), ['apply', '--env', 'old', '--yes', '--confirm', 'old', '--json']);
    assert.equal(second.code, EXIT.ok, second.err);
    const inSecret = await secretState(ns);
    assert.ok(inSecret, 'the state is in the Secret now');
    for (const id of dropped) assert.equal(inSecret.resources[id], undefined, `${id} was deleted`);
    assert.deepEqual(Object.keys(inSecret.resources).sort(), Object.keys(recorded.resources).filter((id) => !dropped.includes(id)).sort());
    const names = readdirSync(stateDir('old')).sort();
    assert.ok(!names.includes('state.json') && !names.includes('journal.jsonl'), names.join(' '));
    assert.ok(names.some((n) => /^state\.json\.migrated-/.test(n)) && names.some((n) => /^journal\.jsonl\.migrated-/.test(n)), `renamed aside: ${names.join(' ')}`);
    assert.deepEqual(mirrorOf('old').state, inSecret);

    const again = await cli(deps(), ['plan', '--env', 'old', '--detailed-exitcode']);
    assert.equal(again.code, EXIT.ok, again.out + again.err);
  } finally {
    await controllers.stop();
  }
});

test('with the cluster stopped, the real entry point plans offline from the local copy and says so', async () => {
  // The kubeconfig outlives the server (stop() deletes its folder): it names a server nobody answers at.
  const kubeconfig = path.join(app, 'kubeconfig');
  copyFileSync(kube.kubeconfigPath, kubeconfig);
  await kube.stop();
  const kept = Object.keys(mirrorOf('old').state!.resources).length;
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), 'plan', '--env', 'old', '--offline', '--detailed-exitcode', app], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 60_000,
  });
  assert.equal(run.status, EXIT.ok, run.stderr);
  assert.match(run.stdout, new RegExp(`^Plan for environment "old" \\(offline, state from .*mirror\\.json, a local copy of Secret ${STATE_SECRET} in namespace ${namespaces.old} \\(context "encore-test"\\) as seen at [^)]+\\): 0 to create, 0 to update, 0 to delete, ${kept} unchanged\\.\\n {2}note: offline: planned against recorded state alone`));
  assert.ok(existsSync(kubeconfig));

  const apply = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), 'apply', '--env', 'old', '--yes', app], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 120_000,
  });
  assert.equal(apply.status, EXIT.failure, 'apply needs the cluster');
  assert.equal(Object.keys(mirrorOf('old').state!.resources).length, kept, 'and a failed one leaves the copy as it was');
});
