// Faults between our client and a real kube-apiserver (test/kube/faultProxy.ts): 500s, 429s, dropped connections,
// hung requests and a failed state write, injected at chosen calls of a full apply of the sample app through the
// engine, the Kubernetes driver and the Secret + Lease state backend. Each run must fail clearly or recover, and a
// re-run must converge with no duplicate and no orphan object. The simulated controllers talk to the server
// directly, as a cluster's own would. Run: node --import tsx --test test/integration/kubeFaults.test.ts
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredGraph } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import type { ProgressEvent } from '../../src/model/plan';
import { apply } from '../../src/provisioning/engine';
import { plan } from '../../src/provisioning/planner';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { kubernetesStateBackend } from '../../src/provisioning/providers/kubernetes/driver';
import { JOB_TYPES } from '../../src/provisioning/providers/kubernetes/manifests';
import { ANNOTATION, LABEL, MANAGED_BY } from '../../src/provisioning/providers/kubernetes/manifests/common';
import { STATE_SECRET } from '../../src/provisioning/providers/kubernetes/stateBackend';
import { simulateControllers, type Controllers } from './kubeControllers';
import { startFaultProxy, type FaultProxy } from '../kube/faultProxy';
import { startTestKube, uniqueName, type TestKube, kubeDriver } from '../kube/harness';

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
/** Kinds the driver writes into the namespace (the infra config is a Secret; database and topic work are Jobs). */
const KINDS: [string, string][] = [
  ['v1', 'Secret'], ['v1', 'Service'], ['v1', 'ServiceAccount'], ['v1', 'PersistentVolumeClaim'],
  ['apps/v1', 'StatefulSet'], ['apps/v1', 'Deployment'], ['batch/v1', 'Job'], ['batch/v1', 'CronJob'], ['autoscaling/v2', 'HorizontalPodAutoscaler'],
];
const RETRYING = 'retrying after a transient error';

let kube: TestKube;
let proxy: FaultProxy;
/** Straight to the server, bypassing the proxy: the controllers and the assertions see the cluster as it is. */
let direct: KubeClient;
const running: Controllers[] = [];

before(async () => {
  kube = await startTestKube();
  proxy = await startFaultProxy(kube);
  direct = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
});
afterEach(async () => {
  proxy.clearFaults();
  await Promise.all(running.splice(0).map((c) => c.stop()));
});
after(async () => {
  await proxy?.close();
  await kube?.stop();
});

async function setup(options: { requestTimeoutMs?: number } = {}) {
  const namespace = uniqueName('flt');
  const env: Environment = { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };
  const driver = await kubeDriver(env, { appRoot: repo, kubeconfig: proxy.kubeconfigPath, pollIntervalMs: 50, deleteTimeoutMs: 30_000, ...options });
  const backend = await kubernetesStateBackend(driver, { leaseDurationSeconds: 15 });
  const graph = plan(sample, env, { appId: 'sample-app' });
  running.push(simulateControllers(direct, namespace, { intervalMs: 50 }));
  const events: ProgressEvent[] = [];
  // Short backoff: the policy's shape (4 tries, doubling) is what is exercised, not its wall time.
  const run = () => apply(graph, { backend, driver, retry: { attempts: 4, baseDelayMs: 50 }, onProgress: (e) => events.push(e) });
  const callsTo = (pattern: RegExp, method?: string) => proxy.calls.filter((c) => c.path.includes(`/namespaces/${namespace}/`) && pattern.test(c.path) && (!method || c.method === method));
  return { namespace, driver, backend, graph, events, run, callsTo };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** `kind/name` of every object we manage in the namespace, with the resource id it carries. */
async function managedObjects(namespace: string): Promise<{ key: string; resourceId: string | undefined }[]> {
  const out: { key: string; resourceId: string | undefined }[] = [];
  for (const [apiVersion, kind] of KINDS) {
    for (const o of (await direct.list(apiVersion, kind, namespace, { labelSelector: `${LABEL.managedBy}=${MANAGED_BY}` })).items) {
      if (kind === 'Secret' && o.metadata.name === STATE_SECRET) continue;
      out.push({ key: `${kind}/${o.metadata.name}`, resourceId: o.metadata.annotations?.[ANNOTATION.resourceId] });
    }
  }
  return out;
}

/** The state records exactly the graph, all ready; a re-plan keeps everything; each resource is one object, and no object is outside the state. */
async function assertConverged(s: Setup, graph: DesiredGraph = s.graph): Promise<void> {
  const { state } = await s.backend.load();
  assert.ok(state, 'state exists and parses');
  assert.deepEqual(Object.keys(state.resources).sort(), graph.resources.map((r) => r.id).sort());
  for (const [id, r] of Object.entries(state.resources)) assert.equal(r.status, 'ready', `${id}: ${r.status} ${r.error ?? ''}`);
  assert.equal(state.lastOperation?.outcome, 'succeeded');

  const again = await apply(graph, { backend: s.backend, driver: s.driver });
  assert.deepEqual(again.plan.counts, { create: 0, update: 0, delete: 0, keep: graph.resources.length });
  assert.equal(again.result.outcome, 'succeeded');

  const objects = await managedObjects(s.namespace);
  const perResource = new Map<string, string[]>();
  for (const o of objects) {
    assert.ok(o.resourceId && state.resources[o.resourceId], `orphan object ${o.key} (resource ${o.resourceId ?? 'none'})`);
    perResource.set(o.resourceId, [...(perResource.get(o.resourceId) ?? []), o.key]);
  }
  for (const id of Object.keys(state.resources)) {
    if (id === 'k8s:namespace') continue;
    assert.equal(perResource.get(id)?.length, 1, `${id} has ${perResource.get(id)?.length ?? 0} objects: ${perResource.get(id)?.join(', ')}`);
  }
  assert.ok(await direct.find('v1', 'Namespace', undefined, s.namespace));
}

test('a 500, a 429 and dropped connections at chosen calls are retried, the apply succeeds, nothing is duplicated', async () => {
  const s = await setup();
  const ns = s.namespace;
  const f500 = proxy.addFault({ method: 'PATCH', path: new RegExp(`/namespaces/${ns}/deployments/orders$`), nth: 1, fault: '500' });
  const f429 = proxy.addFault({ method: 'PATCH', path: new RegExp(`/namespaces/${ns}/services/users$`), nth: 1, fault: '429' });
  // The server applies these, and the answer is lost: the retry must find (not duplicate) what it made.
  const dropJob = proxy.addFault({ method: 'PATCH', path: new RegExp(`/namespaces/${ns}/jobs/[^/]+$`), nth: 1, fault: 'drop', afterForward: true });
  const dropSts = proxy.addFault({ method: 'PATCH', path: new RegExp(`/namespaces/${ns}/statefulsets/encore-postgres-users$`), nth: 1, fault: 'drop', afterForward: true });
  // And one dropped before the server saw it.
  const dropRead = proxy.addFault({ method: 'GET', path: new RegExp(`/namespaces/${ns}/secrets/encore-minio$`), nth: 2, fault: 'drop' });

  const { result } = await s.run();
  assert.equal(result.outcome, 'succeeded', JSON.stringify(result.failed));
  for (const f of [f500, f429, dropJob, dropSts, dropRead]) assert.equal(f.fired, 1);

  const retried = new Set(s.events.filter((e) => e.phase === 'progress' && e.message.startsWith(RETRYING)).map((e) => e.resourceId));
  for (const id of ['k8s:deployment:orders', 'k8s:service:users', 'k8s:statefulset:encore-postgres-users']) assert.ok(retried.has(id), `${id} retried (retried: ${[...retried].join(', ')})`);
  assert.ok([...retried].some((id) => id.startsWith('database:') || id.startsWith('nsq:') || id.startsWith('minio:')), 'the Job whose answer was dropped was retried');

  // The proxy saw each fault, then the same call succeed.
  const deployment = s.callsTo(/\/deployments\/orders$/, 'PATCH');
  assert.deepEqual(deployment.map((c) => c.status), [500, 201]);
  const service = s.callsTo(/\/services\/users$/, 'PATCH');
  assert.deepEqual(service.map((c) => c.status), [429, 201]);
  // A 200, not a 201, on retry: the dropped call had created the object, and the retry applied to it.
  assert.deepEqual(s.callsTo(/\/statefulsets\/encore-postgres-users$/, 'PATCH').map((c) => c.status), ['dropped', 200]);
  const firstJob = s.callsTo(/\/jobs\/[^/]+$/, 'PATCH')[0]!;
  assert.equal(firstJob.status, 'dropped');
  assert.deepEqual(s.callsTo(new RegExp(`${firstJob.path}$`), 'PATCH').map((c) => c.status), ['dropped', 200]);

  // One Job per Job resource: the dropped apply's retry did not make a second.
  const jobs = (await direct.list('batch/v1', 'Job', ns)).items;
  const jobResources = s.graph.resources.filter((r) => (JOB_TYPES as readonly string[]).includes(r.providerType)).length;
  assert.equal(jobs.length, jobResources, jobs.map((j) => j.metadata.name).join(', '));
  await assertConverged(s);
});

test('a persistent 500 on one resource fails the apply naming it and the answer, the state parses, and a re-run converges', async () => {
  const s = await setup();
  const ns = s.namespace;
  const fault = proxy.addFault({ method: 'PATCH', path: new RegExp(`/namespaces/${ns}/services/notifications$`), fault: '500' });

  const first = await s.run();
  assert.equal(first.result.outcome, 'failed');
  assert.deepEqual(first.result.failed.map((f) => f.id), ['k8s:service:notifications']);
  const error = first.result.failed[0]!.error;
  assert.match(error, new RegExp(`PATCH /api/v1/namespaces/${ns}/services/notifications`));
  assert.match(error, /500 InternalError/);
  assert.match(error, /Internal error occurred: injected by the test proxy/);
  const failedEvent = s.events.find((e) => e.phase === 'failed');
  assert.ok(failedEvent?.message.startsWith('Service notifications: '), failedEvent?.message);
  // Four tries (the retry policy), each a 500; its dependents (the CronJobs) never started.
  assert.equal(fault.fired, 4);
  assert.equal(s.events.filter((e) => e.resourceId === 'k8s:service:notifications' && e.message.startsWith(RETRYING)).length, 3);
  assert.deepEqual(first.result.skipped.sort(), ['k8s:cronjob:daily-digest', 'k8s:cronjob:purge-counters']);
  assert.equal(await direct.find('batch/v1', 'CronJob', ns, 'daily-digest'), null);

  // The state parses and says what happened.
  const raw = (await direct.get('v1', 'Secret', ns, STATE_SECRET)) as unknown as { data: Record<string, string> };
  JSON.parse(Buffer.from(raw.data['state.json']!, 'base64').toString('utf8'));
  const { state } = await s.backend.load();
  assert.equal(state?.resources['k8s:service:notifications']?.status, 'failed');
  assert.match(state?.resources['k8s:service:notifications']?.error ?? '', /500 InternalError/);
  assert.equal(state?.lastOperation?.outcome, 'failed');

  fault.remove();
  const second = await s.run();
  assert.equal(second.result.outcome, 'succeeded', JSON.stringify(second.result.failed));
  assert.deepEqual(second.result.done.sort(), ['k8s:cronjob:daily-digest', 'k8s:cronjob:purge-counters', 'k8s:service:notifications']);
  await assertConverged(s);
});

test('a request the server never answers is abandoned after the request timeout, says it timed out, and a re-run converges', async () => {
  const s = await setup({ requestTimeoutMs: 2000 });
  const ns = s.namespace;
  const fault = proxy.addFault({ method: 'PATCH', path: new RegExp(`/namespaces/${ns}/serviceaccounts/users$`), fault: 'timeout' });

  const first = await s.run();
  assert.equal(first.result.outcome, 'failed');
  assert.deepEqual(first.result.failed.map((f) => f.id), ['k8s:serviceaccount:users']);
  const error = first.result.failed[0]!.error;
  assert.match(error, new RegExp(`PATCH /api/v1/namespaces/${ns}/serviceaccounts/users on context "encore-test" timed out`));
  assert.match(error, /no answer within 2 s/);
  assert.equal(fault.fired, 4);
  const held = s.callsTo(/\/serviceaccounts\/users$/, 'PATCH');
  assert.equal(held.length, 4);
  for (const c of held) {
    assert.equal(c.status, 'timeout');
    assert.ok(c.end! - c.start >= 1800 && c.end! - c.start < 8000, `held ${c.end! - c.start} ms`);
  }
  assert.deepEqual(first.result.skipped, ['k8s:deployment:users']);
  assert.equal(await direct.find('v1', 'ServiceAccount', ns, 'users'), null, 'the abandoned call never reached the server');

  fault.remove();
  const second = await s.run();
  assert.equal(second.result.outcome, 'succeeded', JSON.stringify(second.result.failed));
  await assertConverged(s);
});

test('a failed state write stops the run before further steps, naming the state location, and a re-run converges', async () => {
  const s = await setup();
  const ns = s.namespace;
  // The first state write creates the Secret (POST); later ones replace it (PUT). The third replace fails.
  const fault = proxy.addFault({ method: 'PUT', path: new RegExp(`/namespaces/${ns}/secrets/${STATE_SECRET}$`), nth: 3, fault: '500' });

  const first = await s.run();
  assert.equal(fault.fired, 1);
  assert.equal(first.result.outcome, 'failed');
  assert.ok(first.result.error?.includes(s.backend.location), first.result.error ?? '(no error)');
  assert.match(first.result.error!, /could not record state in Secret encore-environments-state in namespace/);
  assert.match(first.result.error!, /500 InternalError/);

  // No step started once the write had failed: every step that started finished, the rest were skipped as stopped.
  const started = s.events.filter((e) => e.phase === 'start');
  const skipped = s.events.filter((e) => e.phase === 'skipped');
  assert.ok(skipped.length > 0 && started.length < s.graph.resources.length, `${started.length} started, ${skipped.length} skipped`);
  assert.equal(first.result.done.length + first.result.failed.length, started.length);
  assert.equal(first.result.done.length + first.result.failed.length + first.result.skipped.length, s.graph.resources.length);
  const firstSkip = Math.min(...skipped.map((e) => Date.parse(e.at)));
  assert.ok(started.every((e) => Date.parse(e.at) <= firstSkip));
  assert.ok(skipped.some((e) => e.message.includes('stopped before it started')));
  const failedPut = s.callsTo(new RegExp(`/secrets/${STATE_SECRET}$`), 'PUT').find((c) => c.status === 500)!;
  const laterPuts = s.callsTo(new RegExp(`/secrets/${STATE_SECRET}$`), 'PUT').filter((c) => c.seq > failedPut.seq);
  assert.deepEqual(laterPuts, [], 'nothing more was written to state after the failure');

  const { state } = await s.backend.load();
  assert.ok(state, 'the state still parses');
  assert.equal(state.lastOperation?.outcome, 'running', 'the unfinished run is visible to the next plan');

  fault.remove();
  const second = await s.run();
  assert.equal(second.result.outcome, 'succeeded', JSON.stringify(second.result.failed));
  await assertConverged(s);
});

test('a run reuses its connections (far fewer TLS connections than API calls), and a disposed driver connects again', async () => {
  const s = await setup();
  const calls = proxy.calls.length;
  const connections = proxy.connections;
  const { result } = await s.run();
  assert.equal(result.outcome, 'succeeded');
  const made = proxy.calls.length - calls;
  const opened = proxy.connections - connections;
  assert.ok(made > 100, `${made} API calls`);
  console.log(`${made} API calls over ${opened} TLS connections`);
  // At most one connection per call in flight at once (27 steps run in parallel here), not one per call.
  assert.ok(opened <= 40, `${opened} connections for ${made} calls`);
  await s.driver.dispose();
  const client = await s.driver.client();
  // A disposed driver connects again on its next use.
  assert.ok(await client.find('v1', 'Namespace', undefined, s.namespace));
  await s.driver.dispose();
});
