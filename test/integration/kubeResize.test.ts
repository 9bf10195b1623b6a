// A Production database's disk grows when its sizing answer does, against a real kube-apiserver: the claim is
// expanded in place (its StorageClass allows it), and the StatefulSet, whose volume claim template cannot change,
// is made again with its pods and volume orphaned and adopted. A disk cannot shrink, nor grow where its StorageClass
// does not allow expansion: the apply says so and changes nothing else. Run: node --import tsx --test test/integration/kubeResize.test.ts
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import type { ProgressEvent } from '../../src/model/plan';
import { sizingQuestions, withSizingAnswers } from '../../src/provisioning/planner/sizing';
import { apply } from '../../src/provisioning/engine';
import { plan } from '../../src/provisioning/planner';
import { kubernetesStateBackend } from '../../src/provisioning/providers/kubernetes/driver';
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

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

test('a larger disk answer expands the claim and remakes the StatefulSet around it; a smaller one is refused', { timeout: 180_000 }, async () => {
  const namespace = uniqueName('rsz');
  const base: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };
  const sized = (diskGiB: number) => withSizingAnswers(base, sizingQuestions(sample, base).map((question) => ({ question, value: question.resource.name === 'users' && question.field === 'diskGiB' ? diskGiB : question.default })));
  const driver = await kubeDriver(base, { appRoot: repo, kubeconfig: kube.kubeconfigPath, pollIntervalMs: 100, deleteTimeoutMs: 30_000 });
  const client = await driver.client();
  // The cluster's default StorageClass allows expansion, as on EKS and GKE (kind's local-path does not).
  await client.apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'expandable', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'example.com/disk', allowVolumeExpansion: true } as never);
  const backend = await kubernetesStateBackend(driver);
  const controllers = simulateControllers(client, namespace);
  const claim = async () => ((await client.get('v1', 'PersistentVolumeClaim', namespace, 'data-encore-postgres-users-0')) as Any).spec.resources.requests.storage;
  const statefulSet = async () => (await client.get('apps/v1', 'StatefulSet', namespace, 'encore-postgres-users')) as Any;
  try {
    assert.equal((await apply(plan(sample, sized(20)), { backend, driver })).result.outcome, 'succeeded');
    assert.equal(await claim(), '20Gi');
    const before = await statefulSet();

    const events: ProgressEvent[] = [];
    const grown = await apply(plan(sample, sized(30)), { backend, driver, onProgress: (e) => events.push(e) });
    assert.equal(grown.result.outcome, 'succeeded', JSON.stringify(grown.result.failed));
    assert.deepEqual(grown.plan.entries.filter((e) => e.action === 'update').map((e) => e.id).sort(), ['k8s:pvc:data-encore-postgres-users-0', 'k8s:statefulset:encore-postgres-users']);
    assert.ok(events.some((e) => /volume claim template cannot change in place; making it again, keeping its pods and volumes/.test(e.message)));
    assert.equal(await claim(), '30Gi');
    const after = await statefulSet();
    assert.equal(after.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '30Gi');
    assert.notEqual(after.metadata.uid, before.metadata.uid, 'the StatefulSet was made again');
    const again = await apply(plan(sample, sized(30)), { backend, driver });
    assert.deepEqual(again.plan.counts, { create: 0, update: 0, delete: 0, keep: again.plan.entries.length });

    const shrunk = await apply(plan(sample, sized(25)), { backend, driver });
    assert.equal(shrunk.result.outcome, 'failed');
    assert.match(shrunk.result.failed[0]?.error ?? '', /users DB: PersistentVolumeClaim data-encore-postgres-users-0 30Gi → 25Gi: a volume cannot shrink\. Set the disk size back to 30Gi or more\./);
    assert.equal(await claim(), '30Gi');
    assert.equal((await statefulSet()).metadata.uid, after.metadata.uid, 'the StatefulSet was left alone: it depends on the claim that failed');

    // A StorageClass that cannot expand (kind's local-path, for one): growing is refused with the reason.
    await client.mergePatch('storage.k8s.io/v1', 'StorageClass', undefined, 'expandable', { allowVolumeExpansion: false });
    const fixed = await apply(plan(sample, sized(40)), { backend, driver });
    assert.equal(fixed.result.outcome, 'failed');
    assert.match(fixed.result.failed[0]?.error ?? '', /users DB: PersistentVolumeClaim data-encore-postgres-users-0 30Gi → 40Gi: its StorageClass does not allow expansion/);
    assert.equal(await claim(), '30Gi');
  } finally {
    await controllers.stop();
    await driver.dispose();
  }
});
