// Adoption (issue: destroy must never delete what the tool did not make): an object that exists but carries no mark
// of this environment is taken over only with the user's confirmation, state records that it was adopted, and
// destroy (or its removal from the app) leaves it in place; what an earlier run made and did not record is taken back
// silently, as crash recovery needs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planChanges, planDestroy } from '../../src/provisioning/engine';
import { graph, res, scratch, shopGraph } from './engineGraphs';

test('a foreign object is not taken over without a confirmation, and nothing changes', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    s.cloud.putOutside('mem/namespace', 'ns', { labels: { team: 'payments' } });
    await assert.rejects(s.apply(g), { name: 'EngineError', code: 'adoption-required', message: /^apply would take over an object that exists but was not made by this tool \(namespace ns\): it would change it to the app's settings, and destroy would leave it in place\. Nothing was changed\. To go ahead, confirm the adoption\.$/ });
    assert.deepEqual(s.cloud.objects().map((o) => o.name), ['ns'], 'nothing was created');
    assert.deepEqual(s.cloud.get('mem/namespace', 'ns')?.settings, { labels: { team: 'payments' } }, 'the foreign object is untouched');
    assert.equal((await s.backend.load()).state, null, 'nothing was recorded');
    assert.equal(await s.backend.inspectLock(), null);
    // A confirmation for other objects does not cover this one.
    await assert.rejects(s.apply(g, { adopt: ['users'] }), { code: 'adoption-required' });
  } finally {
    s.done();
  }
});

test('an approval that shows the adoption confirms it; state records the object as adopted', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    s.cloud.putOutside('mem/namespace', 'ns', { labels: { team: 'payments' } });
    const shown: string[][] = [];
    const { result } = await s.apply(g, { approve: (plan) => (shown.push(plan.foreignAdoptions), 'adopt') });
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(shown, [['ns']]);
    const state = (await s.backend.load()).state!;
    assert.equal(state.resources.ns?.origin, 'adopted');
    assert.equal(state.resources.orders?.origin, 'created');
  } finally {
    s.done();
  }
});

test('destroy leaves an adopted object in place and says so; it deletes what it made, data included', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    s.cloud.putOutside('mem/namespace', 'ns', { labels: { team: 'payments' } });
    assert.equal((await s.apply(g, { adopt: ['ns'] })).result.outcome, 'succeeded');
    const plan = await planDestroy('dev', 'kubernetes', await s.backend.load(), s.driver);
    const ns = plan.entries.find((e) => e.id === 'ns')!;
    assert.equal(ns.action, 'delete');
    assert.equal(ns.leave, true);
    assert.match(ns.reason, /adopted from outside the tool, so it is left in place and only its record is removed$/);
    assert.ok(!plan.statefulDeletes.includes('ns'));
    const { result } = await s.destroy('dev', { confirm: 'dev' });
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(s.cloud.objects().map((o) => `${o.providerType} ${o.name}`), ['mem/namespace ns'], 'only the adopted object is left');
    assert.deepEqual((await s.backend.load()).state?.resources, {});
    assert.ok(s.events.some((e) => e.resourceId === 'ns' && e.message === 'namespace ns left in place'));
  } finally {
    s.done();
  }
});

test('an adopted object the app no longer has is forgotten, not deleted', async () => {
  const s = scratch();
  try {
    s.cloud.putOutside('mem/deployment', 'legacy', { replicas: 3 });
    assert.equal((await s.apply(graph([res('legacy')]), { adopt: true })).result.outcome, 'succeeded');
    const plan = await planChanges(graph([]), await s.backend.load(), s.driver);
    assert.deepEqual(plan.entries.map((e) => [e.id, e.action, e.leave]), [['legacy', 'delete', true]]);
    assert.equal((await s.apply(graph([]))).result.outcome, 'succeeded');
    assert.ok(s.cloud.get('mem/deployment', 'legacy'), 'still there');
  } finally {
    s.done();
  }
});

test('what an earlier run made and did not record is taken back silently (crash recovery), and destroyed', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    s.cloud.putOutside('mem/deployment', 'orders', { image: 'orders:0', replicas: 1 }, { ours: true });
    const plan = await planChanges(g, await s.backend.load(), s.driver);
    const orders = plan.entries.find((e) => e.id === 'orders')!;
    assert.deepEqual([orders.action, orders.adopt, orders.foreign], ['create', true, false]);
    assert.equal(orders.reason, 'made by an earlier run of this tool that did not record it: apply takes it back');
    assert.deepEqual(plan.foreignAdoptions, []);
    assert.equal((await s.apply(g)).result.outcome, 'succeeded');
    assert.equal((await s.backend.load()).state?.resources.orders?.origin, 'created');
    assert.equal((await s.destroy('dev', { confirm: 'dev' })).result.outcome, 'succeeded');
    assert.equal(s.cloud.objects().length, 0);
  } finally {
    s.done();
  }
});
