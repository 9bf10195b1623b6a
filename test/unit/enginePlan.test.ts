// Plan: actions, reasons, changed fields, drift, adoption, removal, replacement, offline plans.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredGraph } from '../../src/model/desiredGraph';
import { hasChanges, type Plan, type PlanEntry } from '../../src/model/plan';
import { diffPlan, planChanges } from '../../src/provisioning/engine';
import { graph, res, scratch, shopGraph } from './engineGraphs';

const byId = (plan: Plan, id: string): PlanEntry | undefined => plan.entries.find((e) => e.id === id);

test('an offline plan against no state creates everything, in dependency order, and says it is offline', async () => {
  const g = shopGraph();
  const plan = await planChanges(g, { state: null, version: null }, null);
  assert.equal(plan.offline, true);
  assert.equal(plan.operation, 'apply');
  assert.deepEqual(plan.counts, { create: 9, update: 0, delete: 0, keep: 0 });
  assert.match(plan.notes[0], /^offline: planned against recorded state alone/);
  const position = new Map(plan.entries.map((e, i) => [e.id, i]));
  for (const e of plan.entries) for (const d of e.dependsOn) assert.ok((position.get(d) ?? -1) < (position.get(e.id) ?? -1));
  assert.equal(byId(plan, 'ns')?.reason, 'new in the app');
  assert.ok(hasChanges(plan));
});

test('after an apply, live and offline plans keep everything; offline says the live objects were not checked', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    await s.apply(g);
    const loaded = await s.backend.load();
    const live = await planChanges(g, loaded, s.driver);
    assert.equal(live.offline, false);
    assert.deepEqual(live.counts, { create: 0, update: 0, delete: 0, keep: 9 });
    assert.equal(byId(live, 'orders')?.reason, 'up to date');
    assert.equal(live.stateVersion, loaded.version);
    const reads = s.cloud.calls.length;
    const offline = await planChanges(g, loaded, null);
    assert.equal(s.cloud.calls.length, reads, 'an offline plan reaches nothing');
    assert.deepEqual(offline.counts, { create: 0, update: 0, delete: 0, keep: 9 });
    assert.match(byId(offline, 'orders')?.reason ?? '', /not checked: offline/);
    assert.ok(!hasChanges(offline));
  } finally {
    s.done();
  }
});

test('a changed setting is an update listing the changed fields with before and after', async () => {
  const s = scratch();
  try {
    await s.apply(shopGraph());
    const g = shopGraph('dev', (r) => (r.id === 'orders' ? { ...r, settings: { ...r.settings, image: 'orders:2', replicas: 3 } } : r));
    for (const driver of [s.driver, null]) {
      const plan = await planChanges(g, await s.backend.load(), driver);
      const orders = byId(plan, 'orders');
      assert.equal(orders?.action, 'update');
      assert.equal(orders?.reason, 'changed: image, replicas');
      assert.deepEqual(orders?.changes, [
        { path: 'image', before: 'orders:1', after: 'orders:2' },
        { path: 'replicas', before: 1, after: 3 },
      ]);
      assert.equal(orders?.drifted, false);
      assert.deepEqual(plan.counts, { create: 0, update: 1, delete: 0, keep: 8 });
    }
  } finally {
    s.done();
  }
});

test('an object changed outside the tool is drifted, and apply restores the recorded settings', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    await s.apply(g);
    s.cloud.driftSet('mem/deployment', 'users', 'replicas', 5);
    const plan = await planChanges(g, await s.backend.load(), s.driver);
    const users = byId(plan, 'users');
    assert.equal(users?.action, 'update');
    assert.equal(users?.drifted, true);
    assert.deepEqual(users?.drift, [{ path: 'replicas', before: 1, after: 5 }]);
    assert.deepEqual(users?.changes, [{ path: 'replicas', before: 5, after: 1 }]);
    assert.equal(users?.reason, 'changed outside the tool; apply restores the recorded settings');

    const offline = await planChanges(g, await s.backend.load(), null);
    assert.equal(byId(offline, 'users')?.action, 'keep', 'offline cannot see drift');

    await s.apply(g);
    assert.equal(s.cloud.get('mem/deployment', 'users')?.settings.replicas, 1);
  } finally {
    s.done();
  }
});

test('an object deleted outside the tool is created again; one made outside it is adopted once confirmed', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    await s.apply(graph(g.resources.filter((r) => r.id !== 'users')));
    s.cloud.deleteOutside('mem/deployment', 'orders');
    s.cloud.putOutside('mem/deployment', 'users', { image: 'users:0', replicas: 2 });
    const plan = await planChanges(g, await s.backend.load(), s.driver);
    assert.deepEqual(byId(plan, 'orders'), { ...byId(plan, 'orders'), action: 'create', drifted: true, reason: 'deleted outside the tool; apply creates it again' });
    const users = byId(plan, 'users');
    assert.equal(users?.action, 'create');
    assert.equal(users?.adopt, true);
    assert.equal(users?.foreign, true);
    assert.equal(users?.reason, 'exists but was not made by this tool: apply takes it over only when you confirm the adoption (--adopt), and destroy leaves it in place');
    assert.deepEqual(plan.foreignAdoptions, ['users']);
    assert.deepEqual(users?.changes, [{ path: 'image', before: 'users:0', after: 'users:1' }, { path: 'replicas', before: 2, after: 1 }]);

    const uid = s.cloud.get('mem/deployment', 'users')?.uid;
    const { result } = await s.apply(g, { adopt: ['users'] });
    assert.equal(result.outcome, 'succeeded');
    assert.equal(s.cloud.get('mem/deployment', 'users')?.uid, uid, 'adopted, not replaced');
    assert.ok(s.events.some((e) => e.resourceId === 'users' && e.message === 'deployment users adopted'));
  } finally {
    s.done();
  }
});

test('resources no longer in the app are deleted, dependents first; stateful ones are listed apart', async () => {
  const s = scratch();
  try {
    await s.apply(shopGraph());
    const g = graph(shopGraph().resources.filter((r) => ['ns', 'bucket'].includes(r.id)));
    const plan = await planChanges(g, await s.backend.load(), s.driver);
    const deletes = plan.entries.filter((e) => e.action === 'delete').map((e) => e.id);
    assert.deepEqual(deletes.sort(), ['config', 'db-orders', 'db-password', 'db-server', 'db-volume', 'orders', 'users']);
    const at = (id: string) => plan.entries.findIndex((e) => e.id === id);
    assert.ok(at('orders') < at('config') && at('config') < at('db-orders') && at('db-orders') < at('db-server') && at('db-server') < at('db-volume'));
    assert.deepEqual(plan.statefulDeletes.sort(), ['db-orders', 'db-volume']);
    assert.equal(byId(plan, 'orders')?.reason, 'no longer in the app');
  } finally {
    s.done();
  }
});

test('a changed name replaces the object, and a stateful replacement needs the confirmation', async () => {
  const s = scratch();
  try {
    await s.apply(shopGraph());
    const renamed = shopGraph('dev', (r) => (r.id === 'users' ? { ...r, name: 'users-v2' } : r.id === 'bucket' ? { ...r, name: 'bucket-v2' } : r));
    const plan = await planChanges(renamed, await s.backend.load(), s.driver);
    const users = byId(plan, 'users');
    assert.equal(users?.action, 'update');
    assert.equal(users?.replace, true);
    assert.match(users?.reason ?? '', /^replaced \(name users → users-v2\)/);
    assert.deepEqual(plan.statefulDeletes, ['bucket']);
    await assert.rejects(s.apply(renamed), { code: 'confirmation-required' });
    const { result } = await s.apply(renamed, { confirm: 'dev' });
    assert.equal(result.outcome, 'succeeded');
    assert.equal(s.cloud.get('mem/deployment', 'users'), undefined);
    assert.ok(s.cloud.get('mem/deployment', 'users-v2'));
    assert.ok(s.cloud.get('mem/bucket', 'bucket-v2') && !s.cloud.get('mem/bucket', 'bucket'));
  } finally {
    s.done();
  }
});

test('state of another environment is refused', async () => {
  const s = scratch();
  try {
    await s.apply(shopGraph());
    await assert.rejects(planChanges(shopGraph('prod'), await s.backend.load(), null), { code: 'state-mismatch', message: /recorded state is for environment "dev"/ });
  } finally {
    s.done();
  }
});

test('a 500-resource graph with chained references keeps everything against its own state (its speed: BENCH=plan npm run bench)', async () => {
  const resources = Array.from({ length: 500 }, (_, i) =>
    res(`r${i}`, i === 0 ? [] : [`r${Math.floor(i / 2)}`], { settings: { image: `img:${i}`, env: { A: '1', B: i === 0 ? 'none' : `\${r${Math.floor(i / 2)}.host}` }, ports: [{ port: 8080 }] } }),
  );
  const g: DesiredGraph = graph(resources);
  const s = scratch();
  try {
    assert.equal((await s.apply(g, { concurrency: 16 })).result.outcome, 'succeeded');
    const loaded = await s.backend.load();
    assert.equal(diffPlan(g, loaded, null).counts.keep, 500);
    const live = await planChanges(g, loaded, s.driver);
    assert.deepEqual(live.counts, { create: 0, update: 0, delete: 0, keep: 500 });
    assert.equal(live.entries.filter((e) => e.drifted).length, 0);
  } finally {
    s.done();
  }
});

test('a shared object (settings.shared) found outside the tool is used as it is: no adoption asked; removing it says only what the environment made goes', async () => {
  const s = scratch();
  try {
    const access = res('access', [], { kind: 'network', settings: { shared: true, replicas: 1 } });
    s.cloud.putOutside('mem/network', 'access', { shared: true, replicas: 1 });
    const plan = await planChanges(graph([access]), await s.backend.load(), s.driver);
    const entry = byId(plan, 'access');
    assert.equal(entry?.action, 'create');
    assert.equal(entry?.foreign, false, 'no --adopt asked');
    assert.equal(entry?.reason, 'exists already, not made by this tool: apply uses it as it is and changes nothing on it; destroy leaves it in place');
    assert.deepEqual(plan.foreignAdoptions ?? [], []);
    await s.apply(graph([access]));
    const gone = await planChanges(graph([]), await s.backend.load(), s.driver);
    assert.equal(byId(gone, 'access')?.reason, "no longer in the app: only what the environment made goes; what was there before it is left in place");
  } finally {
    s.done();
  }
});
