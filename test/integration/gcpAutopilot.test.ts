// A GCP environment on GKE Autopilot, applied through the provider module against the GKE fake and the other GCP
// fakes (test/gcp/sampleEnvironment.ts): a regional Autopilot cluster whose nodes GKE runs, no node pool of the
// environment's own, Workload Identity on the project's pool; the in-cluster half on the test kube-apiserver; a re-plan
// that changes nothing (GKE's own autoprovisioned pool is not drift); destroy. Run:
// npm test -- integration test/integration/gcpAutopilot.test.ts
import '../gcp/tls';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { apply, destroy, planChanges } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { playLoadBalancers } from '../aws/sampleEnvironment';
import { TEST_PROJECT, TEST_REGION } from '../gcp/harness';
import { startGcpEnvironmentBed, type GcpEnvironmentBed } from '../gcp/sampleEnvironment';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();

let bed: GcpEnvironmentBed;
let dir: string;

before(async () => {
  bed = await startGcpEnvironmentBed();
  dir = mkdtempSync(path.join(os.tmpdir(), 'gcp-autopilot-'));
});

after(async () => {
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const type of ['development', 'production'] as const) {
  test(`a ${type} environment on GKE Autopilot: a regional cluster GKE runs the nodes of, no node pool of its own, applied, re-planned with no change, destroyed`, { timeout: 600_000 }, async () => {
    const name = type === 'production' ? 'ap-prod' : 'ap-dev';
    const env: Environment = { name, type, deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: TEST_PROJECT, region: TEST_REGION, autopilot: true } };
    const graph = desiredGraph(sample, env, { appId: 'sample-app' });
    const clusterResource = graph.resources.find((r) => r.id === 'gcp:gke')!;
    assert.ok(!graph.resources.some((r) => r.id === 'gcp:gke-nodepool'), 'no node pool in the graph');
    const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: 20, deleteTimeoutMs: 60_000 } });
    const backend = await opened.state();
    const admin = KubeClient.fromKubeConfig(bed.kube.kubeConfig(), 'encore-test');
    const controllers = simulateControllers(admin, name);
    const lbs = playLoadBalancers(admin, name);
    try {
      await opened.driver.preflight(new AbortController().signal);
      const applied = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
      assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));

      // Read from the fake's own record, not from our state.
      const cluster = bed.gke.clusters.get(`projects/${TEST_PROJECT}/locations/${TEST_REGION}/clusters/${clusterResource.name}`) as Any | undefined;
      assert.ok(cluster, `a regional cluster in ${TEST_REGION}: ${[...bed.gke.clusters.keys()].join(', ')}`);
      assert.equal(cluster.autopilot?.enabled, true, 'Autopilot');
      assert.equal(cluster.workloadIdentityConfig.workloadPool, `${TEST_PROJECT}.svc.id.goog`);
      assert.deepEqual((cluster.nodePools as Any[]).map((p) => [p.name, p.autoscaling?.autoprovisioned]), [['default-pool', true]], 'only the pool GKE runs');
      assert.ok(await admin.find('v1', 'ServiceAccount', name, 'orders'), 'the in-cluster half went through the Autopilot cluster\'s connection');
      if (type === 'development') assert.ok(await admin.find('apps/v1', 'StatefulSet', name, 'encore-postgres-orders'), 'Development databases run in the cluster');
      else assert.ok(bed.sql.instances.get(`${TEST_PROJECT}/${graph.resources.find((r) => r.id === 'gcp:sql:orders')!.name}`), 'Production databases are Cloud SQL');

      const again = await planChanges(graph, await backend.load(), opened.driver);
      assert.deepEqual(again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${e.action} ${JSON.stringify(e.changes)}`), [], 'a re-plan right after apply changes nothing');

      const gone = await destroy(name, 'gcp', { backend, driver: opened.driver, confirm: name, retry: { attempts: 2, baseDelayMs: 10 } });
      assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
      assert.equal(bed.gke.clusters.size, 0, 'the cluster is gone');
      assert.equal(bed.compute.networks.size + bed.compute.routers.size + bed.compute.connections.size, 0, 'and its network');
    } finally {
      await lbs.stop();
      await controllers.stop();
      await opened.dispose();
    }
  });
}
