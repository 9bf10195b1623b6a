// The rollout watcher against a real kube-apiserver. No controllers run there, so the test plays the Deployment
// controller: it writes each Deployment's /status (and its pods' status) in the sequences a cluster goes through:
// rolled out at once, progressing then done, stuck past the progress deadline (with the pods' reasons), out of time,
// a new generation while one is in progress, and several Deployments of which one fails.
// Run: node --import tsx --test test/integration/deployRollout.test.ts
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { watchRollout, type RolloutStatus, type WatchOptions } from '../../src/provisioning/deploy/rollout';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';

let kube: TestKube;
let client: KubeClient;

before(async () => {
  kube = await startTestKube();
  client = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
});
after(async () => {
  client?.close();
  await kube?.stop();
});

const IMAGE_A = '127.0.0.1:5000/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const IMAGE_B = '127.0.0.1:5000/app@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

async function namespace(): Promise<string> {
  const name = uniqueName('rollout');
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

/** Applies a Deployment as the deploy step does (server-side apply); resolves to its generation. */
async function applyDeployment(ns: string, name: string, image: string, replicas = 2): Promise<number> {
  const d = await client.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      progressDeadlineSeconds: 60,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
    },
  });
  return d.metadata.generation ?? 0;
}

/** What the Deployment controller would write. */
function writeStatus(ns: string, name: string, status: Record<string, unknown>) {
  return client.mergePatch('apps/v1', 'Deployment', ns, name, { status }, 'status');
}

const counts = (generation: number, replicas: number, updated: number, ready: number, available: number, conditions?: unknown[]) => ({
  observedGeneration: generation, replicas, updatedReplicas: updated, readyReplicas: ready, availableReplicas: available, ...(conditions ? { conditions } : {}),
});

/** Progress as the watcher reports it, and a way to wait until it has reported a given line. */
function progressLog() {
  const seen: RolloutStatus[] = [];
  const waiters: { match: RegExp; resolve: () => void }[] = [];
  const onProgress = (s: RolloutStatus) => {
    seen.push(s);
    for (const w of [...waiters]) if (w.match.test(`${s.name}: ${s.message}`)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const seenLine = (match: RegExp, timeoutMs = 10_000) => {
    if (seen.some((s) => match.test(`${s.name}: ${s.message}`))) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the watcher never reported ${match}; it reported:\n${seen.map((s) => `${s.name}: ${s.message}`).join('\n')}`)), timeoutMs);
      waiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
    });
  };
  return { seen, onProgress, seenLine, lines: () => seen.map((s) => s.message) };
}

const fast: WatchOptions = { pollMs: 40, timeoutMs: 20_000 };

test('a Deployment whose status is written at once is reported rolled out', async () => {
  const ns = await namespace();
  const generation = await applyDeployment(ns, 'api', IMAGE_A);
  await writeStatus(ns, 'api', counts(generation, 2, 2, 2, 2));
  const log = progressLog();
  const started = Date.now();
  const report = await watchRollout(client, ns, ['api'], { ...fast, onProgress: log.onProgress });
  assert.equal(report.ok, true, report.summary);
  assert.equal(report.summary, '');
  assert.deepEqual(report.deployments.map((d) => [d.name, d.result, d.message]), [['api', 'done', 'deployment "api" successfully rolled out']]);
  assert.deepEqual(log.lines(), ['deployment "api" successfully rolled out']);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('progressing, then rolled out: every step of the controller is reported in kubectl words', async () => {
  const ns = await namespace();
  const generation = await applyDeployment(ns, 'api', IMAGE_A, 3);
  const log = progressLog();
  const watching = watchRollout(client, ns, ['api'], { ...fast, onProgress: log.onProgress });
  await log.seenLine(/spec update to be observed/);
  await writeStatus(ns, 'api', counts(generation, 4, 1, 3, 3));
  await log.seenLine(/1 out of 3 new replicas have been updated/);
  await writeStatus(ns, 'api', counts(generation, 5, 3, 4, 4));
  await log.seenLine(/2 old replicas are pending termination/);
  await writeStatus(ns, 'api', counts(generation, 3, 3, 2, 2));
  await log.seenLine(/2 of 3 updated replicas are available/);
  await writeStatus(ns, 'api', counts(generation, 3, 3, 3, 3));
  const report = await watching;
  assert.equal(report.ok, true, report.summary);
  assert.deepEqual(log.lines(), [
    'Waiting for deployment spec update to be observed...',
    'Waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been updated...',
    'Waiting for deployment "api" rollout to finish: 2 old replicas are pending termination...',
    'Waiting for deployment "api" rollout to finish: 2 of 3 updated replicas are available...',
    'deployment "api" successfully rolled out',
  ]);
});

/** A pod of the Deployment's new template whose container cannot pull its image, as kubelet would report it. */
async function podWithPullError(ns: string, name: string, image: string) {
  const podName = `${name}-${uniqueName('p')}`;
  await client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: ns, labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } });
  await client.mergePatch('v1', 'Pod', ns, podName, {
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{
        name: 'app', image, imageID: '', ready: false, restartCount: 0,
        state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": not found` } },
      }],
    },
  }, 'status');
}

test('stuck past the progress deadline: failed, with the condition message and the pods\' waiting reasons', async () => {
  const ns = await namespace();
  const g1 = await applyDeployment(ns, 'api', IMAGE_A);
  await writeStatus(ns, 'api', counts(g1, 2, 2, 2, 2));
  const g2 = await applyDeployment(ns, 'api', IMAGE_B);
  assert.equal(g2, g1 + 1);
  // The old pods run IMAGE_A and are fine; the new one cannot pull IMAGE_B.
  await podWithPullError(ns, 'api', IMAGE_B);
  const log = progressLog();
  const watching = watchRollout(client, ns, ['api'], { ...fast, onProgress: log.onProgress });
  await writeStatus(ns, 'api', counts(g2, 3, 1, 2, 2, [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "api-b" is progressing.' }]));
  await log.seenLine(/1 out of 2 new replicas/);
  await writeStatus(ns, 'api', counts(g2, 3, 1, 2, 2, [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "api-b" has timed out progressing.' }]));
  const report = await watching;
  assert.equal(report.ok, false);
  const [api] = report.deployments;
  assert.equal(api!.result, 'failed');
  assert.equal(api!.message, 'deployment "api" exceeded its progress deadline: ReplicaSet "api-b" has timed out progressing.');
  assert.deepEqual(api!.podReasons, [`container app: ImagePullBackOff (Back-off pulling image "${IMAGE_B}": not found)`]);
  assert.match(report.summary, /^deployment "api" exceeded its progress deadline: .*\(pods: container app: ImagePullBackOff/);
});

test('out of time: the last state is reported as a timeout, with the pods\' reasons', async () => {
  const ns = await namespace();
  const g = await applyDeployment(ns, 'api', IMAGE_A);
  await podWithPullError(ns, 'api', IMAGE_A);
  await writeStatus(ns, 'api', counts(g, 2, 2, 1, 1));
  const started = Date.now();
  const report = await watchRollout(client, ns, ['api'], { pollMs: 50, timeoutMs: 600 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 600 && elapsed < 3000, `took ${elapsed} ms`);
  assert.equal(report.ok, false);
  assert.equal(report.deployments[0]!.result, 'timeout');
  assert.equal(report.deployments[0]!.message, 'deployment "api" did not roll out within 0.6 s: Waiting for deployment "api" rollout to finish: 1 of 2 updated replicas are available...');
  assert.equal(report.deployments[0]!.podReasons.length, 1);
});

test('a new generation while one is in progress: the old generation\'s status never counts as rolled out', async () => {
  const ns = await namespace();
  const g1 = await applyDeployment(ns, 'api', IMAGE_A);
  await writeStatus(ns, 'api', counts(g1, 3, 1, 2, 2));
  const log = progressLog();
  const watching = watchRollout(client, ns, ['api'], { ...fast, onProgress: log.onProgress });
  await log.seenLine(/1 out of 2 new replicas/);
  // A newer deploy applies IMAGE_B; then the controller finishes generation 1, not yet having seen generation 2.
  const g2 = await applyDeployment(ns, 'api', IMAGE_B);
  await log.seenLine(/spec update to be observed/);
  await writeStatus(ns, 'api', counts(g1, 2, 2, 2, 2));
  // Several polls see generation 1 complete: still waiting.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!log.lines().includes('deployment "api" successfully rolled out'), log.lines().join('\n'));
  await writeStatus(ns, 'api', counts(g2, 2, 2, 2, 2));
  const report = await watching;
  assert.equal(report.ok, true, report.summary);
  assert.equal(report.deployments[0]!.generation, g2);
  assert.equal(report.deployments[0]!.observedGeneration, g2);
  assert.deepEqual(log.lines(), [
    'Waiting for deployment "api" rollout to finish: 1 out of 2 new replicas have been updated...',
    'Waiting for deployment spec update to be observed...',
    'deployment "api" successfully rolled out',
  ]);
});

test('a watch that expects its own image reports a Deployment changed by a newer deploy as superseded', async () => {
  const ns = await namespace();
  const g1 = await applyDeployment(ns, 'api', IMAGE_A);
  await writeStatus(ns, 'api', counts(g1, 3, 1, 2, 2));
  const log = progressLog();
  const watching = watchRollout(client, ns, ['api'], { ...fast, onProgress: log.onProgress, expectImages: { api: IMAGE_A } });
  await log.seenLine(/1 out of 2 new replicas/);
  await applyDeployment(ns, 'api', IMAGE_B);
  const report = await watching;
  assert.equal(report.ok, false);
  assert.equal(report.deployments[0]!.result, 'superseded');
  assert.equal(report.deployments[0]!.message, `deployment "api" was changed to ${IMAGE_B} during the rollout of ${IMAGE_A} (a newer deploy?)`);
});

test('several Deployments: one fails, the others are still watched to the end, and a missing one is named', async () => {
  const ns = await namespace();
  for (const name of ['api', 'billing', 'worker']) await applyDeployment(ns, name, IMAGE_A);
  const log = progressLog();
  const watching = watchRollout(client, ns, ['api', 'billing', 'worker', 'gone'], { ...fast, onProgress: log.onProgress });
  await writeStatus(ns, 'billing', counts(1, 2, 0, 0, 0, [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "billing-a" has timed out progressing.' }]));
  await log.seenLine(/^billing: .*exceeded its progress deadline/);
  await writeStatus(ns, 'api', counts(1, 2, 2, 2, 2));
  await writeStatus(ns, 'worker', counts(1, 2, 1, 1, 1));
  await log.seenLine(/^worker: .*1 out of 2/);
  await writeStatus(ns, 'worker', counts(1, 2, 2, 2, 2));
  const report = await watching;
  assert.equal(report.ok, false);
  assert.deepEqual(report.deployments.map((d) => [d.name, d.result]), [['api', 'done'], ['billing', 'failed'], ['worker', 'done'], ['gone', 'missing']]);
  assert.equal(report.summary, [
    'deployment "billing" exceeded its progress deadline: ReplicaSet "billing-a" has timed out progressing.',
    `Deployment "gone" does not exist in namespace "${ns}"`,
  ].join('\n'));
});

test('an abort stops the watch at once with the signal\'s reason', async () => {
  const ns = await namespace();
  await applyDeployment(ns, 'api', IMAGE_A);
  const controller = new AbortController();
  const watching = watchRollout(client, ns, ['api'], { pollMs: 5000, timeoutMs: 60_000, signal: controller.signal });
  setTimeout(() => controller.abort(new Error('cancelled by the user')), 100);
  const started = Date.now();
  await assert.rejects(watching, /cancelled by the user/);
  assert.ok(Date.now() - started < 1000);
});

test('refused credentials are an error of the API server, not a rollout result', async () => {
  const viewer = KubeClient.fromKubeConfig(kube.kubeConfig('encore-test-viewer'), 'encore-test-viewer');
  try {
    await assert.rejects(watchRollout(viewer, 'default', ['api'], fast), (err: Error) => err.name === 'KubeApiError' && /403 Forbidden/.test(err.message));
  } finally {
    viewer.close();
  }
});
