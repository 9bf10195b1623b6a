// Crash safety against a real kube-apiserver: an apply of the sample app in a child process (kubeCrashChild.ts),
// SIGKILLed at a step boundary, then re-run here. Every time: the state in its Secret parses, the dead holder's Lease
// refuses the re-run with its pid until it is broken on purpose, the re-run converges (every resource ready in
// state), the namespace holds no object the graph does not name (no orphan) and none twice, and a further plan keeps
// everything. The test kills at a spread of boundaries; ENCORE_CRASH_ALL=1 kills at every one in turn (N/N, minutes).
// Run: node --import tsx --test test/integration/kubeCrash.test.ts
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isStateError } from '../../src/model/state';
import { apply, unlock } from '../../src/provisioning/engine';
import { kubernetesStateBackend } from '../../src/provisioning/providers/kubernetes/driver';
import { LABEL, MANAGED_BY } from '../../src/provisioning/providers/kubernetes/manifests/common';
import { supportsType, targetOf } from '../../src/provisioning/providers/kubernetes/manifests';
import { STATE_SECRET } from '../../src/provisioning/providers/kubernetes/stateBackend';
import { startTestKube, uniqueName, type TestKube, kubeDriver } from '../kube/harness';
import { crashEnvironment, sampleGraph, type CrashChildConfig } from './kubeCrashChild';
import { simulateControllers } from './kubeControllers';

const repo = path.join(__dirname, '..', '..');
let kube: TestKube;

before(async () => {
  kube = await startTestKube();
});
after(async () => {
  await kube?.stop();
});

function runChild(config: CrashChildConfig): Promise<{ exit: NodeJS.Signals | number | null; pid: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'kubeCrashChild.ts')], {
    cwd: repo,
    env: { ...process.env, CRASH_CHILD: JSON.stringify(config) },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ exit: signal ?? code, pid: child.pid!, output })));
}

/** Kills an apply at `killAt` in a fresh namespace, then recovers; returns a line for the report. */
async function killAndRecover(killAt: CrashChildConfig['killAt']): Promise<string> {
  const namespace = uniqueName('crash');
  const where = `apply killed at ${killAt.phase} #${killAt.n}`;
  const env = crashEnvironment(namespace);
  const driver = await kubeDriver(env, { appRoot: repo, kubeconfig: kube.kubeconfigPath, pollIntervalMs: 100, deleteTimeoutMs: 30_000 });
  const client = await driver.client();
  const controllers = simulateControllers(client, namespace);
  try {
    const child = await runChild({ kubeconfig: kube.kubeconfigPath, namespace, killAt });
    assert.equal(child.exit, 'SIGKILL', `${where}: the child was not killed: ${child.output.slice(-500)}`);

    const backend = await kubernetesStateBackend(driver, { leaseDurationSeconds: 15 });
    const atCrash = await backend.load(); // throws if the state does not parse
    await backend.readJournal();
    const graph = sampleGraph(namespace);

    const refused = await apply(graph, { backend, driver }).then(() => null, (err: unknown) => err);
    assert.ok(isStateError(refused) && refused.code === 'locked', `${where}: expected the dead child's lock, got ${String(refused)}`);
    assert.equal(refused.holder?.pid, child.pid);
    const { broken } = await unlock(backend);
    assert.equal(broken?.pid, child.pid, `${where}: the dead holder's lock is broken without force`);

    const rerun = await apply(graph, { backend, driver });
    assert.equal(rerun.result.outcome, 'succeeded', `${where}: ${JSON.stringify(rerun.result.failed)} ${rerun.result.error ?? ''}`);
    const { state } = await backend.load();
    assert.deepEqual(Object.keys(state!.resources).sort(), graph.resources.map((r) => r.id).sort(), `${where}: state records the graph`);
    assert.ok(Object.values(state!.resources).every((r) => r.status === 'ready'), `${where}: every resource is ready`);

    // Every object the provider made carries its label: each one is named by the graph, and once. (Objects found
    // by label, such as a Job per settings hash, are counted instead of named.)
    const objects = graph.resources.filter((r) => r.kind !== 'namespace' && supportsType(r.providerType)).map((r) => ({ r, target: targetOf(r) }));
    const wanted = objects.filter((o) => !o.target.byLabel).map((o) => `${o.target.kind}/${o.r.name}`);
    const found: string[] = [];
    for (const key of new Set(objects.map((o) => `${o.target.apiVersion}|${o.target.kind}`))) {
      const [apiVersion, kind] = key.split('|') as [string, string];
      const list = await client.list(apiVersion, kind, namespace, { labelSelector: `${LABEL.managedBy}=${MANAGED_BY}` });
      // The state's own Secret is the backend's, not the graph's.
      found.push(...list.items.filter((o) => o.metadata.name !== STATE_SECRET).map((o) => `${kind}/${o.metadata.name}`));
    }
    const byLabel = objects.filter((o) => o.target.byLabel);
    const named = found.filter((f) => !byLabel.some((o) => f.startsWith(`${o.target.kind}/`)));
    assert.deepEqual(named.filter((f) => !wanted.includes(f)), [], `${where}: objects the graph does not name`);
    assert.equal(new Set(named).size, named.length, `${where}: an object listed twice`);
    assert.deepEqual(wanted.filter((w) => !named.includes(w)), [], `${where}: objects missing after the re-run`);
    for (const kind of new Set(byLabel.map((o) => o.target.kind))) {
      assert.equal(found.filter((f) => f.startsWith(`${kind}/`)).length, byLabel.filter((o) => o.target.kind === kind).length, `${where}: ${kind} objects, one per resource`);
    }

    const again = await apply(graph, { backend, driver });
    assert.deepEqual(again.plan.counts, { create: 0, update: 0, delete: 0, keep: graph.resources.length }, `${where}: a further apply changes nothing`);
    return `${where}: recovered (${atCrash.state ? Object.keys(atCrash.state.resources).length : 0} records at the crash)`;
  } finally {
    await controllers.stop();
  }
}

test('an apply of the sample app killed at step boundaries resumes and converges, with no orphan and no duplicate', { timeout: 1_800_000 }, async (t) => {
  const steps = sampleGraph('crash').resources.length;
  const all = process.env.ENCORE_CRASH_ALL === '1';
  const boundaries: CrashChildConfig['killAt'][] = all
    ? [...Array.from({ length: steps }, (_, i) => ({ phase: 'done' as const, n: i + 1 })), { phase: 'commit', n: 0 }]
    : [{ phase: 'commit', n: 0 }, { phase: 'done', n: 1 }, ...[0.25, 0.5, 0.75].map((f) => ({ phase: 'done' as const, n: Math.round(steps * f) })), { phase: 'commit', n: steps - 1 }];
  const reports: string[] = [];
  for (const b of boundaries) reports.push(await killAndRecover(b));
  t.diagnostic(`crash safety against the kube-apiserver: ${reports.length}/${boundaries.length} killed applies of ${steps} steps converged${all ? ' (every step boundary)' : ''}`);
});
