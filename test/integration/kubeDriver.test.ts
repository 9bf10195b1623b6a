// The Kubernetes driver against a real kube-apiserver, through a kubeconfig only: the sample app's Development graph
// applied (create, idempotent re-apply, adoption, an update), readiness from status fields (driven by the test, as
// no controller runs), the reason of a PVC left pending, drift, deletion in reverse order, and the errors for a
// missing exec plugin and refused credentials. Run: node --import tsx --test test/integration/kubeDriver.test.ts
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { dependencyOrder, type DesiredGraph, type DesiredResource } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { isDriverError, type ResolvedResource, type StepContext } from '../../src/model/providerApi';
import { desiredGraph } from '../../src/provisioning/planner';
import type { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import type { KubernetesDriver } from '../../src/provisioning/providers/kubernetes/driver';
import { jobSucceeded, simulateControllers } from './kubeControllers';
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

function environment(namespace: string, context = 'encore-test'): Environment {
  return { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context, namespace } };
}

async function setup(options: { readyTimeoutMs?: number } = {}): Promise<{ env: Environment; driver: KubernetesDriver; graph: DesiredGraph; client: KubeClient; namespace: string }> {
  const namespace = uniqueName('drv');
  const env = environment(namespace);
  const driver = await kubeDriver(env, { appRoot: repo, kubeconfig: kube.kubeconfigPath, pollIntervalMs: 100, deleteTimeoutMs: 20_000, ...options });
  return { env, driver, graph: desiredGraph(sample, env, { appId: 'sample-app' }), client: await driver.client(), namespace };
}

function step(messages: string[] = []): StepContext {
  return { signal: new AbortController().signal, progress: (m) => messages.push(m) };
}

const resolved = (r: DesiredResource): ResolvedResource => ({ ...r, resolved: r.settings });

async function applyAll(driver: KubernetesDriver, graph: DesiredGraph): Promise<void> {
  for (const r of dependencyOrder(graph)) await driver.create(resolved(r), step());
}

/** Every object of the environment's namespace with its resourceVersion, to prove a re-apply wrote nothing. */
async function versions(client: KubeClient, namespace: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const kinds: [string, string][] = [['v1', 'Secret'], ['v1', 'Service'], ['v1', 'ServiceAccount'], ['v1', 'PersistentVolumeClaim'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'Deployment'], ['batch/v1', 'Job'], ['batch/v1', 'CronJob']];
  for (const [v, k] of kinds) for (const o of (await client.list(v, k, namespace)).items) out.set(`${k}/${o.metadata.name}`, o.metadata.resourceVersion ?? '');
  return out;
}

/** For a failure message: each object whose version changed, with its field managers and when each last wrote. */
async function writers(client: KubeClient, namespace: string, before: Map<string, string>, after: Map<string, string>): Promise<string> {
  const apiVersion: Record<string, string> = { StatefulSet: 'apps/v1', Deployment: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1' };
  const changed = [...after.keys()].filter((k) => before.get(k) !== after.get(k));
  const lines = await Promise.all(changed.map(async (key) => {
    const [kind, name] = key.split('/') as [string, string];
    const o = await client.find(apiVersion[kind] ?? 'v1', kind, namespace, name);
    const managers = (o?.metadata.managedFields ?? []).map((m) => `${m.manager} ${m.operation}${(m as { subresource?: string }).subresource ? ` /${(m as { subresource?: string }).subresource}` : ''} at ${(m as { time?: string }).time}`);
    return `${key} (${managers.join('; ')})`;
  }));
  return lines.join(', ') || 'nobody';
}

test('the sample app applies, every object carries our labels, and a re-apply changes nothing and reads back without differences', async () => {
  const { driver, graph, client, namespace } = await setup();
  await driver.preflight(new AbortController().signal);
  const controllers = simulateControllers(client, namespace); // the database and NSQ Jobs need their servers
  try {
    await applyAll(driver, graph);
    // Every claim bound before the snapshot. A claim whose status nobody ever wrote gets one write from the API server
    // on its first re-apply, identical in content (the stored form it was created with is not the one an update
    // stores); stopping the stand-in right after the last create left the newest claim so, 1 run in ~20.
    await controllers.settle();
  } finally {
    await controllers.stop();
  }
  const deployment = await client.get('apps/v1', 'Deployment', namespace, 'orders');
  assert.equal(deployment.metadata.labels?.['app.kubernetes.io/managed-by'], 'encore-environments');
  assert.equal(deployment.metadata.labels?.['encore.dev/environment'], 'dev');
  // A label value cannot hold ':' (the annotation keeps the exact id); the hash keeps cleaned ids apart.
  assert.match(deployment.metadata.labels?.['encore.dev/resource-id'] ?? '', /^k8s\.deployment\.orders-[0-9a-f]{8}$/);
  assert.equal(deployment.metadata.annotations?.['encore.dev/resource-id'], 'k8s:deployment:orders');
  assert.equal(deployment.metadata.annotations?.['encore.dev/image'], 'placeholder: no app image deployed yet');
  const jobs = (await client.list('batch/v1', 'Job', namespace)).items.map((j) => j.metadata.annotations?.['encore.dev/resource-id']).sort();
  assert.deepEqual(jobs, ['database:orders', 'database:users', 'minio:bucket:order-receipts', 'nsq:channel:order-placed/notify-customer', 'nsq:topic:order-placed']);

  const before = await versions(client, namespace);
  await applyAll(driver, graph);
  const after = await versions(client, namespace);
  assert.deepEqual(after, before, `an identical re-apply writes nothing; who wrote: ${await writers(client, namespace, before, after)}`);

  for (const r of graph.resources) {
    const live = await driver.read(r, new AbortController().signal);
    assert.ok(live, `${r.id} exists`);
    assert.deepEqual(driver.diff(resolved(r), live), [], `${r.id} reads back as applied`);
  }
});

test('a generated password is made once, kept on re-apply, and never in outputs or read-back', async () => {
  const { driver, graph, client, namespace } = await setup();
  const ns = graph.resources.find((r) => r.kind === 'namespace')!;
  const secret = graph.resources.find((r) => r.id === 'k8s:secret:encore-postgres-orders')!;
  await driver.create(resolved(ns), step());
  const outputs = await driver.create(resolved(secret), step());
  const first = (await client.get('v1', 'Secret', namespace, secret.name)) as unknown as { data: Record<string, string> };
  const password = Buffer.from(first.data.password!, 'base64').toString('utf8');
  assert.match(password, /^[A-Za-z0-9]{32}$/);
  await driver.update(resolved(secret), step());
  const second = (await client.get('v1', 'Secret', namespace, secret.name)) as unknown as { data: Record<string, string> };
  assert.equal(second.data.password, first.data.password, 'the password is kept');
  const live = await driver.read(secret, new AbortController().signal);
  assert.ok(!JSON.stringify({ outputs, live }).includes(password), 'the value is in no output or read-back');
  // An app secret's value is set by a person: we create the Secret without it and never take it over.
  const appSecret = graph.resources.find((r) => r.id.startsWith('k8s:secret:encore-secret-email'))!;
  await driver.create(resolved(appSecret), step());
  await client.request('PATCH', `/api/v1/namespaces/${namespace}/secrets/${appSecret.name}`, {
    query: { fieldManager: 'kubectl-edit' }, contentType: 'application/merge-patch+json', body: { data: { value: Buffer.from('hunter2').toString('base64') } },
  });
  await driver.update(resolved(appSecret), step());
  const kept = (await client.get('v1', 'Secret', namespace, appSecret.name)) as unknown as { data: Record<string, string> };
  assert.equal(Buffer.from(kept.data.value!, 'base64').toString(), 'hunter2', 'a re-apply keeps the value a person set');
});

test('an object made outside the tool is adopted, and a settings change updates it', async () => {
  const { driver, graph, client, namespace } = await setup();
  for (const r of graph.resources.filter((x) => ['namespace', 'serviceAccount'].includes(x.kind) || x.id === 'k8s:configmap:encore-infra-config' || x.kind === 'secret')) {
    if (r.kind !== 'secret' || r.id.includes('service-auth') || r.id.includes('postgres-orders') || r.id.includes('minio')) await driver.create(resolved(r), step());
  }
  // Someone created the Deployment by hand (another field manager) with other settings.
  await client.request('POST', `/apis/apps/v1/namespaces/${namespace}/deployments`, {
    query: { fieldManager: 'kubectl-create' },
    body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'orders', namespace }, spec: { replicas: 3, selector: { matchLabels: { 'app.kubernetes.io/name': 'orders' } }, template: { metadata: { labels: { 'app.kubernetes.io/name': 'orders' } }, spec: { containers: [{ name: 'app', image: 'nginx:1' }] } } } },
  });
  const orders = graph.resources.find((r) => r.id === 'k8s:deployment:orders')!;
  const messages: string[] = [];
  await driver.create(resolved(orders), step(messages));
  assert.ok(messages.some((m) => m.includes('adopting the existing Deployment orders')), messages.join('\n'));
  const adopted = await client.get('apps/v1', 'Deployment', namespace, 'orders');
  assert.ok(adopted.metadata.managedFields?.some((m) => m.manager === 'encore-environments' && m.operation === 'Apply'));
  assert.equal((adopted as unknown as { spec: { replicas: number } }).spec.replicas, 1);
  assert.equal(adopted.metadata.uid, (await driver.read(orders, new AbortController().signal))?.externalId);

  const changed: DesiredResource = structuredClone(orders);
  (changed.settings.resources as { requests: { cpu: string } }).requests.cpu = '200m';
  changed.settings.replicas = 2;
  const live = await driver.read(changed, new AbortController().signal);
  const changes = driver.diff(resolved(changed), live!);
  assert.deepEqual(changes.map((c) => [c.path, c.before, c.after]).sort(), [['replicas', 1, 2], ['resources.requests.cpu', '50m', '200m']]);
  await driver.update(resolved(changed), step());
  const updated = (await client.get('apps/v1', 'Deployment', namespace, 'orders')) as unknown as { spec: { replicas: number; template: { spec: { containers: { resources: { requests: { cpu: string } } }[] } } } };
  assert.equal(updated.spec.replicas, 2);
  assert.equal(updated.spec.template.spec.containers[0]!.resources.requests.cpu, '200m');
  assert.deepEqual(driver.diff(resolved(changed), (await driver.read(changed, new AbortController().signal))!), []);
});

test('drift: a Deployment scaled outside the tool reads back as changed, and an update takes the field back', async () => {
  const { driver, graph, client, namespace } = await setup();
  const ns = graph.resources.find((r) => r.kind === 'namespace')!;
  const gateway = graph.resources.find((r) => r.id === 'k8s:deployment:encore-gateway')!;
  await driver.create(resolved(ns), step());
  await driver.create(resolved(gateway), step());
  await client.request('PATCH', `/apis/apps/v1/namespaces/${namespace}/deployments/encore-gateway`, {
    query: { fieldManager: 'kubectl-scale' }, contentType: 'application/merge-patch+json', body: { spec: { replicas: 5 } },
  });
  const live = await driver.read(gateway, new AbortController().signal);
  assert.deepEqual(driver.diff(resolved(gateway), live!), [{ path: 'replicas', before: 5, after: 1 }]);
  const messages: string[] = [];
  await driver.update(resolved(gateway), step(messages));
  assert.ok(messages.some((m) => /taking back \.spec\.replicas/.test(m)), messages.join('\n'));
  assert.deepEqual(driver.diff(resolved(gateway), (await driver.read(gateway, new AbortController().signal))!), []);
});

test('readiness follows the status fields, and a pending PVC says there is no default StorageClass', async () => {
  const { driver, graph, client, namespace } = await setup({ readyTimeoutMs: 1500 });
  const byId = (id: string) => graph.resources.find((r) => r.id === id)!;
  for (const id of ['k8s:namespace', 'k8s:pvc:data-encore-postgres-orders-0', 'k8s:secret:encore-postgres-orders', 'k8s:service:encore-postgres-orders', 'k8s:statefulset:encore-postgres-orders']) {
    await driver.create(resolved(byId(id)), step());
  }
  await driver.waitReady(resolved(byId('k8s:namespace')), step());
  const pvc = byId('k8s:pvc:data-encore-postgres-orders-0');
  await assert.rejects(driver.waitReady(resolved(pvc), step()), (err: Error) => {
    assert.ok(isDriverError(err) && err.code === 'not-ready');
    assert.match(err.message, /was not ready after 2 s: PVC pending: no default StorageClass in the cluster/);
    return true;
  });
  assert.match((await driver.read(pvc, new AbortController().signal))!.status.reason ?? '', /no default StorageClass/);

  const sts = byId('k8s:statefulset:encore-postgres-orders');
  const messages: string[] = [];
  const waiting = driver.waitReady(resolved(sts), step(messages));
  await new Promise((r) => setTimeout(r, 300));
  await client.mergePatch('apps/v1', 'StatefulSet', namespace, sts.name, { status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, currentReplicas: 1 } }, 'status');
  await waiting;
  assert.ok(messages.some((m) => m.includes('StatefulSet encore-postgres-orders has 0/1 ready replicas: no pods yet')), messages.join('\n'));

  // A pod that cannot pull its image: the Deployment's reason says so.
  const deployment = byId('k8s:deployment:orders');
  await driver.create(resolved(byId('k8s:serviceaccount:orders')), step());
  await driver.create(resolved(deployment), step());
  await client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orders-abc', namespace, labels: { 'app.kubernetes.io/name': 'orders' } }, spec: { containers: [{ name: 'app', image: 'registry.example/orders:1' }] } } as never);
  await client.mergePatch('v1', 'Pod', namespace, 'orders-abc', { status: { phase: 'Pending', containerStatuses: [{ name: 'app', image: 'registry.example/orders:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example/orders:1"' } } }] } }, 'status');
  await assert.rejects(driver.waitReady(resolved(deployment), step()), /Deployment orders has 0\/1 available replicas.*: ImagePullBackOff \(Back-off pulling image "registry\.example\/orders:1"\)/);

  // A pod that cannot start because an app secret has no value: the wait ends at once (a value comes only from a
  // person) and names the secret and how to set it. A missing key of any other Secret keeps waiting.
  const appSecret = graph.resources.find((r) => r.source?.kind === 'secret' && r.source.name === 'SessionSigningKey')!;
  await driver.create(resolved(appSecret), step());
  const configError = (secret: string) => ({ status: { phase: 'Pending', containerStatuses: [{ name: 'app', image: 'registry.example/orders:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message: `couldn't find key value in Secret ${namespace}/${secret}` } } }] } });
  await client.mergePatch('v1', 'Pod', namespace, 'orders-abc', configError(appSecret.name), 'status');
  const started = Date.now();
  await assert.rejects(driver.waitReady(resolved(deployment), step()), (err: Error) => {
    assert.ok(isDriverError(err) && err.code === 'not-ready');
    assert.equal(err.message, `k8s:deployment:orders: Deployment orders cannot start its pods until the secret SessionSigningKey (Secret ${appSecret.name}) has a value: set it (Set Secret Value… in VS Code, or encore-env secret set), then apply again`);
    return true;
  });
  assert.ok(Date.now() - started < 1000, `failed at once, not after the timeout (${Date.now() - started} ms)`);
  await client.mergePatch('v1', 'Pod', namespace, 'orders-abc', configError('encore-postgres-orders'), 'status');
  await assert.rejects(driver.waitReady(resolved(deployment), step()), /was not ready after 2 s: Deployment orders has 0\/1 available replicas.*: CreateContainerConfigError \(couldn.t find key value in Secret/);

  // The database Job: ready once it succeeded.
  const db = byId('database:orders');
  await driver.create(resolved(db), step());
  const job = (await client.list('batch/v1', 'Job', namespace)).items[0]!;
  await client.mergePatch('batch/v1', 'Job', namespace, job.metadata.name, { status: jobSucceeded() }, 'status');
  await driver.waitReady(resolved(db), step());
});

test('everything is deleted in reverse order; claims and the namespace wait for their finalizers', async () => {
  const { driver, graph, client, namespace } = await setup();
  const controllers = simulateControllers(client, namespace);
  try {
    await applyAll(driver, graph);
    for (const r of dependencyOrder(graph).reverse()) {
      const messages: string[] = [];
      await driver.delete(r, step(messages));
      assert.equal(await driver.read(r, new AbortController().signal), null, `${r.id} is gone`);
      if (r.kind === 'pvc') assert.ok(messages.some((m) => m.includes('waiting for finalizers kubernetes.io/pvc-protection')), messages.join('\n'));
      if (r.kind === 'namespace') assert.ok(messages.some((m) => m.includes('Namespace') && m.includes('kubernetes')), messages.join('\n'));
    }
    // Deleting what is already gone succeeds.
    await driver.delete(graph.resources.find((r) => r.id === 'k8s:deployment:orders')!, step());
  } finally {
    await controllers.stop();
  }
});

test('a namespace that no controller finalizes is reported as Terminating with its finalizer', async () => {
  const { env, graph } = await setup();
  const slow = await kubeDriver(env, { appRoot: repo, kubeconfig: kube.kubeconfigPath, pollIntervalMs: 100, deleteTimeoutMs: 1000 });
  const ns = graph.resources.find((r) => r.kind === 'namespace')!;
  await slow.create(resolved(ns), step());
  await assert.rejects(slow.delete(ns, step()), /was not gone after 1 s: Namespace drv-[0-9a-f]+ is Terminating, waiting for finalizers kubernetes \(the cluster's controllers remove them\)/);
});

function kubeconfigWith(user: Record<string, unknown>): string {
  const config = parse(readFileSync(kube.kubeconfigPath, 'utf8')) as { users: { name: string; user: unknown }[]; contexts: { name: string; context: { user: string } }[] };
  config.users.push({ name: 'other', user });
  config.contexts.push({ name: 'other', context: { ...config.contexts[0]!.context, user: 'other' } });
  const file = path.join(kube.dir, `${uniqueName('kubeconfig')}.yaml`);
  writeFileSync(file, stringify(config));
  return file;
}

test('a context whose exec plugin is not on PATH fails before any request, saying what to install', async () => {
  const file = kubeconfigWith({ exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'gke-gcloud-auth-plugin', interactiveMode: 'IfAvailable' } });
  const driver = await kubeDriver(environment('x', 'other'), { appRoot: repo, kubeconfig: file, env: { ...process.env, PATH: '/nonexistent' } });
  await assert.rejects(driver.preflight(new AbortController().signal), (err: Error) => {
    assert.ok(isDriverError(err) && err.code === 'unavailable');
    assert.match(err.message, /exec plugin "gke-gcloud-auth-plugin" was not found on PATH: install it with "gcloud components install gke-gcloud-auth-plugin".*or put it on PATH/);
    return true;
  });
});

test('refused credentials (401) say to refresh the credentials of that context', async () => {
  const file = kubeconfigWith({ token: 'expired-or-revoked' });
  const driver = await kubeDriver(environment('x', 'other'), { appRoot: repo, kubeconfig: file });
  await assert.rejects(driver.preflight(new AbortController().signal), (err: Error) => {
    assert.ok(isDriverError(err) && err.code === 'unavailable');
    assert.match(err.message, /refused its credentials \(401 Unauthorized\).*Refresh the credentials of the kubeconfig context "other"/);
    return true;
  });
});

test('a context that does not exist is named with the contexts there are', async () => {
  const driver = await kubeDriver(environment('x', 'nope'), { appRoot: repo, kubeconfig: kube.kubeconfigPath });
  await assert.rejects(driver.preflight(new AbortController().signal), /The kubeconfig context "nope" does not exist .*contexts: encore-test, encore-test-viewer/);
});

test('the viewer without RBAC rights is refused as forbidden', async () => {
  const driver = await kubeDriver(environment(uniqueName('x'), 'encore-test-viewer'), { appRoot: repo, kubeconfig: kube.kubeconfigPath });
  await assert.rejects(driver.preflight(new AbortController().signal), (err: Error) => isDriverError(err) && err.code === 'forbidden' && /403 Forbidden/.test(err.message));
});
