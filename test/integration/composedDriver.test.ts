// Composition (providers/compose.ts), as a cloud environment uses it: a cloud driver (the in-memory test cloud, whose
// cluster resource's outputs are the real test kube-apiserver's endpoint and CA) applies the cloud resources, and
// every `k8s/*` resource goes to a Kubernetes driver made from that endpoint once the cluster exists, with a bearer
// token, no kubeconfig. Plan reads, apply, drift and destroy all go through the same routing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DesiredGraph, DesiredResource } from '../../src/model/desiredGraph';
import { apply, destroy, planChanges } from '../../src/provisioning/engine';
import { ComposedDriver } from '../../src/provisioning/providers/compose';
import { KubeClient, tokenEndpoint } from '../../src/provisioning/providers/kubernetes/client';
import { LocalFileBackend } from '../../src/provisioning/state/localFile';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { MemoryCloud, MemoryDriver } from '../unit/engineCloud';
import { simulateControllers } from './kubeControllers';

let kube: TestKube;
let dir: string;
let admin: KubeClient;
before(async () => {
  kube = await startTestKube();
  dir = mkdtempSync(path.join(os.tmpdir(), 'composed-'));
  admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
});
after(async () => {
  await kube?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A cloud with a managed cluster: the cluster object's settings say where its API server is. */
function cloudWithCluster(cloud: MemoryCloud, tokensAsked: string[]) {
  const driver = new MemoryDriver(cloud);
  return {
    driver,
    host: {
      clusterEndpoint: async () => {
        const cluster = cloud.get('mem/cluster', 'shop-cluster');
        if (!cluster) return null;
        return tokenEndpoint({
          server: String(cluster.settings.endpoint),
          caPem: String(cluster.settings.caPem),
          label: 'test cluster "shop-cluster"',
          refreshHint: 'Refresh the test credentials.',
          token: async () => {
            tokensAsked.push(new Date().toISOString());
            return kube.token;
          },
        });
      },
    },
  };
}

function graphOf(namespace: string): DesiredGraph {
  const r = (id: string, providerType: string, name: string, settings: DesiredResource['settings'], dependsOn: string[] = []): DesiredResource => ({
    id, kind: 'namespace', providerType, name, source: null, settings, dependsOn, stateful: false, summary: `${providerType} ${name}`,
  });
  return {
    environment: 'prod', provider: 'kubernetes', type: 'development', namespace, warnings: [],
    resources: [
      r('mem:cluster', 'mem/cluster', 'shop-cluster', { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') }),
      r('k8s:namespace', 'k8s/v1/Namespace', namespace, { labels: {} }, ['mem:cluster']),
      { ...r('k8s:serviceaccount:orders', 'k8s/v1/ServiceAccount', 'orders', { annotations: { 'encore.dev/role': 'orders' } }, ['k8s:namespace']), kind: 'serviceAccount' },
    ],
  };
}

test('cloud resources go to the cloud, in-cluster ones to the cluster the same run creates; plan and destroy route alike', async () => {
  const namespace = uniqueName('comp');
  const cloud = new MemoryCloud();
  const tokens: string[] = [];
  const { driver: cloudDriver, host } = cloudWithCluster(cloud, tokens);
  const driver = new ComposedDriver(cloudDriver, host, { environment: 'prod', namespace, production: false, pollIntervalMs: 50, deleteTimeoutMs: 10_000 });
  const backend = new LocalFileBackend(path.join(dir, 'state'), 'prod');
  const graph = graphOf(namespace);
  try {
    // Before the cluster exists, nothing in it can exist: the plan creates all three, and no token was asked for.
    const before = await planChanges(graph, await backend.load(), driver);
    assert.deepEqual(before.entries.map((e) => [e.id, e.action]), [['mem:cluster', 'create'], ['k8s:namespace', 'create'], ['k8s:serviceaccount:orders', 'create']]);
    assert.equal(tokens.length, 0);

    const applied = await apply(graph, { backend, driver, retry: { attempts: 2, baseDelayMs: 1 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed));
    assert.ok(cloud.get('mem/cluster', 'shop-cluster'), 'the cluster is in the cloud');
    assert.equal(cloud.get('k8s/v1/Namespace', namespace), undefined, 'in-cluster objects never reach the cloud driver');
    const sa = await admin.find('v1', 'ServiceAccount', namespace, 'orders');
    assert.equal(sa?.metadata.annotations?.['encore.dev/role'], 'orders', 'the ServiceAccount is in the real cluster');
    assert.ok(tokens.length > 0, 'the Kubernetes driver authenticated with the token');

    // Drift in the cluster is seen through the same routing.
    await admin.mergePatch('v1', 'ServiceAccount', namespace, 'orders', { metadata: { annotations: { 'encore.dev/role': 'changed by hand' } } });
    const drifted = await planChanges(graph, await backend.load(), driver);
    const entry = drifted.entries.find((e) => e.id === 'k8s:serviceaccount:orders')!;
    assert.equal(entry.action, 'update');
    assert.equal(entry.drifted, true);

    // The bare API server has no namespace controller: the stand-in finalizes the namespace.
    const controllers = simulateControllers(admin, namespace);
    const gone = await destroy('prod', 'kubernetes', { backend, driver, retry: { attempts: 2, baseDelayMs: 1 }, confirm: 'prod' }).finally(() => controllers.stop());
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed));
    assert.equal(await admin.find('v1', 'ServiceAccount', namespace, 'orders'), null);
    assert.equal(cloud.get('mem/cluster', 'shop-cluster'), undefined, 'the cluster went last');
  } finally {
    await driver.dispose();
  }
});

test('an in-cluster step before the cluster exists fails with why, and a delete after it is gone succeeds', async () => {
  const cloud = new MemoryCloud();
  const { driver: cloudDriver, host } = cloudWithCluster(cloud, []);
  const driver = new ComposedDriver(cloudDriver, host, { environment: 'prod', namespace: 'nowhere', production: false });
  const [, ns] = graphOf('nowhere').resources;
  const step = { signal: new AbortController().signal, progress: () => undefined };
  await assert.rejects(driver.create({ ...ns!, resolved: ns!.settings }, step), { name: 'DriverError', code: 'not-ready', message: /goes into the environment's Kubernetes cluster, which does not exist yet/ });
  await driver.delete(ns!, step);
  assert.equal(await driver.read(ns!, step.signal), null);
});
