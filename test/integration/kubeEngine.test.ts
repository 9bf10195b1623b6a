// A full apply and destroy of the sample app through the engine, the Kubernetes driver and the Secret + Lease state
// backend, against a real kube-apiserver (readiness driven by kubeControllers.ts, as no controller runs). Then:
// no secret value anywhere in state or journal, a re-apply that plans nothing, and a second apply refused by the
// lock with the holder's name. Run: node --import tsx --test test/integration/kubeEngine.test.ts
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import type { ProgressEvent } from '../../src/model/plan';
import { isStateError } from '../../src/model/state';
import { apply, destroy } from '../../src/provisioning/engine';
import { plan } from '../../src/provisioning/planner';
import { kubernetesStateBackend } from '../../src/provisioning/providers/kubernetes/driver';
import { STATE_SECRET } from '../../src/provisioning/providers/kubernetes/stateBackend';
import { simulateControllers } from './kubeControllers';
import { startTestKube, uniqueName, type TestKube, kubeDriver } from '../kube/harness';

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
let kube: TestKube;

before(async () => {
  kube = await startTestKube();
});
after(async () => {
  await kube?.stop();
});

test('the sample app: apply through the engine, nothing secret recorded, a re-apply plans nothing, destroy removes it all', async () => {
  const namespace = uniqueName('eng');
  const env: Environment = { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };
  const driver = await kubeDriver(env, { appRoot: repo, kubeconfig: kube.kubeconfigPath, pollIntervalMs: 100, deleteTimeoutMs: 30_000 });
  const backend = await kubernetesStateBackend(driver, { leaseDurationSeconds: 15 });
  const client = await driver.client();
  const graph = plan(sample, env, { appId: 'sample-app' });
  const events: ProgressEvent[] = [];
  const controllers = simulateControllers(client, namespace);
  try {
    const t0 = performance.now();
    const first = await apply(graph, { backend, driver, onProgress: (e) => events.push(e) });
    const ms = performance.now() - t0;
    assert.equal(first.result.outcome, 'succeeded', JSON.stringify(first.result.failed));
    assert.equal(first.plan.counts.create, graph.resources.length);
    assert.equal(first.result.done.length, graph.resources.length);
    console.log(`apply of ${graph.resources.length} resources: ${(ms / 1000).toFixed(1)} s, ${events.length} progress events`);

    const { state } = await backend.load();
    assert.deepEqual(Object.keys(state!.resources).sort(), graph.resources.map((r) => r.id).sort());
    assert.ok(Object.values(state!.resources).every((r) => r.status === 'ready'));

    // Every generated value in the cluster's Secrets, and none of them in state, journal or progress.
    const secrets = (await client.list('v1', 'Secret', namespace)).items as unknown as { metadata: { name: string }; data?: Record<string, string> }[];
    const values = secrets
      .filter((s) => s.metadata.name !== STATE_SECRET && s.metadata.name !== 'encore-infra-config')
      .flatMap((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')));
    assert.ok(values.length >= 5, `generated values: ${values.length}`);
    const stored = secrets.find((s) => s.metadata.name === STATE_SECRET)!.data!;
    const recorded = [Buffer.from(stored['state.json']!, 'base64').toString(), Buffer.from(stored['journal.jsonl']!, 'base64').toString(), JSON.stringify(events)].join('\n');
    for (const v of values) assert.ok(!recorded.includes(v), 'a secret value reached state, journal or progress');

    const second = await apply(graph, { backend, driver });
    assert.deepEqual(second.plan.counts, { create: 0, update: 0, delete: 0, keep: graph.resources.length });
    assert.equal(second.plan.entries.filter((e) => e.drifted).length, 0);

    // A second apply while one holds the lock is refused with the holder's name.
    const held = await backend.acquireLock({ user: 'carol', host: 'ci-runner-3', pid: 4242, startedAt: new Date().toISOString(), operation: 'apply' });
    await assert.rejects(apply(graph, { backend, driver }), (err: Error) => /carol on ci-runner-3 \(pid 4242\)/.test(err.message) || (isStateError(err) && err.holder?.user === 'carol'));
    await held.release();

    const gone = await destroy('dev', 'kubernetes', { backend, driver, confirm: 'dev' });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result));
    for (const r of graph.resources) assert.equal(await driver.read(r, new AbortController().signal), null, `${r.id} is gone`);
  } finally {
    await controllers.stop();
  }
});
