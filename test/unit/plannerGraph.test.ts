// The shape of every desired graph: acyclic, every dependency in the graph, every output ref pointing at a resource
// the referring resource depends on, unique ids, and the same graph (and ids) for the same input, every time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { dependencyOrder, outputRef, outputRefs, type DesiredResource } from '../../src/model/desiredGraph';
import { desiredGraph } from '../../src/provisioning/planner';
import { COMBOS, env, everything, everythingRoot, sample } from './plannerHelpers';

const apps = { sample, everything };

function res(id: string, dependsOn: string[] = []): DesiredResource {
  return { id, kind: 'namespace', providerType: 'k8s/v1/Namespace', name: id, source: null, settings: {}, dependsOn, stateful: false, summary: id };
}

test('dependencyOrder puts dependencies first and keeps graph order otherwise', () => {
  const order = dependencyOrder({ resources: [res('c', ['b']), res('a'), res('b', ['a']), res('d')] });
  assert.deepEqual(order.map((r) => r.id), ['a', 'b', 'c', 'd']);
});

test('dependencyOrder names a cycle and a missing dependency', () => {
  assert.throws(() => dependencyOrder({ resources: [res('a', ['b']), res('b', ['c']), res('c', ['a'])] }), /dependency cycle: a → b → c → a/);
  assert.throws(() => dependencyOrder({ resources: [res('a', ['zzz'])] }), /a depends on zzz, which is not in the graph/);
  assert.throws(() => dependencyOrder({ resources: [res('a', ['a'])] }), /dependency cycle: a → a/);
});

test('outputRef and outputRefs round-trip ids with colons, slashes and dots', () => {
  const value = { host: `${outputRef('aws:rds:users', 'address')}:5432`, list: [outputRef('aws:sqs:a.b/c-d', 'url'), outputRef('aws:rds:users', 'address')], n: 1, z: null };
  assert.deepEqual(outputRefs(value), [
    { id: 'aws:rds:users', attribute: 'address' },
    { id: 'aws:sqs:a.b/c-d', attribute: 'url' },
  ]);
  assert.deepEqual(outputRefs({ plain: '${not a ref}', env: { $env: 'X' } }), []);
});

for (const [appName, model] of Object.entries(apps)) {
  for (const [kind, type] of COMBOS) {
    test(`${appName} · ${kind} ${type}: acyclic, every dependency and output ref resolves, ids unique`, () => {
      const graph = desiredGraph(model, env(kind, type));
      assert.equal(graph.provider, kind);
      assert.equal(graph.type, type);
      assert.equal(graph.environment, type === 'production' ? 'prod' : 'dev');
      const ids = graph.resources.map((r) => r.id);
      assert.equal(new Set(ids).size, ids.length, 'ids are unique');
      const order = dependencyOrder(graph); // throws on a cycle or a missing id
      assert.equal(order.length, graph.resources.length);
      const position = new Map(order.map((r, i) => [r.id, i]));
      for (const r of graph.resources) {
        for (const d of r.dependsOn) assert.ok(position.get(d)! < position.get(r.id)!, `${d} before ${r.id}`);
        assert.ok(!r.dependsOn.includes(r.id), `${r.id} does not depend on itself`);
        // A value known only after apply must come from something the resource waits for, directly or not.
        for (const ref of outputRefs(r.settings)) {
          assert.ok(ids.includes(ref.id), `${r.id} refers to ${ref.id}, which is in the graph`);
          assert.ok(reaches(graph.resources, r.id, ref.id), `${r.id} depends on ${ref.id} for ${ref.attribute}`);
        }
        assert.ok(r.summary.length > 0 && !r.summary.includes('undefined') && !r.summary.includes('NaN'), r.summary);
        assert.deepEqual(JSON.parse(JSON.stringify(r.settings)), r.settings, `${r.id} settings are plain JSON`);
      }
      // Every Kubernetes object of the app lives in the namespace, so it waits for it; a cluster add-on's objects
      // (the EKS cluster autoscaler's, in kube-system or cluster-scoped) wait for the nodes instead.
      for (const r of graph.resources.filter((x) => x.providerType.startsWith('k8s/') && x.kind !== 'namespace')) {
        const elsewhere = r.id.endsWith(':cluster-autoscaler');
        if (elsewhere) {
          assert.ok(reaches(graph.resources, r.id, 'aws:eks-nodegroup') && !reaches(graph.resources, r.id, 'k8s:namespace'), `${r.id} waits for the nodes, not the app's namespace`);
          assert.ok(r.providerType.includes('/ClusterRole') || r.settings.namespace === 'kube-system', `${r.id} is cluster-scoped or in kube-system`);
        } else {
          assert.ok(reaches(graph.resources, r.id, 'k8s:namespace'), `${r.id} waits for the namespace`);
          assert.equal(r.settings.namespace, undefined, `${r.id} is in the environment's namespace`);
        }
      }
    });
  }
}

function reaches(resources: DesiredResource[], from: string, to: string): boolean {
  const byId = new Map(resources.map((r) => [r.id, r]));
  const seen = new Set<string>();
  const stack = [...(byId.get(from)?.dependsOn ?? [])];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(byId.get(id)?.dependsOn ?? []));
  }
  return false;
}

test('the same app and environment give the same graph, also from a fresh analysis', () => {
  for (const [kind, type] of COMBOS) {
    const a = desiredGraph(everything, env(kind, type));
    const b = desiredGraph(new AppAnalyzer(everythingRoot).analyze(), env(kind, type));
    assert.deepEqual(b, a);
    assert.equal(JSON.stringify(b), JSON.stringify(a));
  }
});

test('ids do not depend on the sizing answers, the region, the profile or the app id', () => {
  const ids = (g: ReturnType<typeof desiredGraph>) => g.resources.map((r) => r.id);
  const base = desiredGraph(sample, env('aws', 'production'));
  const resized = desiredGraph(sample, env('aws', 'production', { sizing: { databases: { users: { cpu: 8, memoryGiB: 64 } }, services: { orders: { minInstances: 4, maxInstances: 40 } } } }));
  const moved = desiredGraph(sample, env('aws', 'production', { provider: { kind: 'aws', region: 'us-east-1' } }), { appId: 'shop' });
  assert.deepEqual(ids(resized), ids(base));
  assert.deepEqual(ids(moved), ids(base));
  assert.notDeepEqual(byId(resized, 'aws:rds:users').settings, byId(base, 'aws:rds:users').settings);
});

test('the ids of the sample app on a Development kubernetes environment, in graph order', () => {
  assert.deepEqual(
    desiredGraph(sample, env('kubernetes', 'development')).resources.map((r) => r.id),
    [
      'k8s:namespace',
      'k8s:pvc:data-encore-postgres-orders-0',
      'k8s:secret:encore-postgres-orders',
      'k8s:service:encore-postgres-orders',
      'k8s:statefulset:encore-postgres-orders',
      'database:orders',
      'k8s:pvc:data-encore-postgres-users-0',
      'k8s:secret:encore-postgres-users',
      'k8s:service:encore-postgres-users',
      'k8s:statefulset:encore-postgres-users',
      'database:users',
      'k8s:pvc:data-encore-redis-notifications-0',
      'k8s:secret:encore-redis-notifications',
      'k8s:service:encore-redis-notifications',
      'k8s:statefulset:encore-redis-notifications',
      'k8s:pvc:data-encore-nsqd-0',
      'k8s:service:encore-nsqd',
      'k8s:statefulset:encore-nsqd',
      'nsq:topic:order-placed',
      'nsq:channel:order-placed/notify-customer',
      'k8s:pvc:data-encore-minio-0',
      'k8s:secret:encore-minio',
      'k8s:service:encore-minio',
      'k8s:statefulset:encore-minio',
      'minio:bucket:order-receipts',
      'k8s:secret:encore-secret-email-api-key-1479c9',
      'k8s:secret:encore-secret-session-signing-key-29e351',
      'k8s:secret:encore-service-auth',
      'k8s:configmap:encore-infra-config',
      'k8s:serviceaccount:auth',
      'k8s:service:auth',
      'k8s:deployment:auth',
      'k8s:serviceaccount:notifications',
      'k8s:service:notifications',
      'k8s:deployment:notifications',
      'k8s:serviceaccount:orders',
      'k8s:service:orders',
      'k8s:deployment:orders',
      'k8s:serviceaccount:users',
      'k8s:service:users',
      'k8s:deployment:users',
      'k8s:serviceaccount:encore-gateway',
      'k8s:service:encore-gateway',
      'k8s:deployment:encore-gateway',
      'k8s:cronjob:daily-digest',
      'k8s:cronjob:purge-counters',
    ],
  );
});

function byId(graph: ReturnType<typeof desiredGraph>, id: string): DesiredResource {
  const r = graph.resources.find((x) => x.id === id);
  assert.ok(r, `no ${id}`);
  return r;
}
