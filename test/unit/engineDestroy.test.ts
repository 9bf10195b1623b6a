// Destroy: reverse order, the typed confirmation for stateful resources, refusal before anything is touched.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfirmation } from '../../src/model/plan';
import { planDestroy } from '../../src/provisioning/engine';
import { graph, res, scratch, shopGraph } from './engineGraphs';

test('the destroy plan deletes everything recorded, dependents first, and lists the stateful resources apart', async () => {
  const s = scratch();
  try {
    await s.apply(shopGraph());
    const plan = await planDestroy('dev', 'kubernetes', await s.backend.load(), s.driver);
    assert.equal(plan.operation, 'destroy');
    assert.deepEqual(plan.counts, { create: 0, update: 0, delete: 9, keep: 0 });
    assert.deepEqual(plan.statefulDeletes.sort(), ['bucket', 'db-orders', 'db-volume']);
    assert.equal(plan.entries.at(-1)?.id, 'ns');
    assert.ok(plan.entries.every((e) => e.reason === 'destroy'));
  } finally {
    s.done();
  }
});

test('without the typed confirmation, destroy refuses before touching anything', async () => {
  const s = scratch();
  try {
    await s.apply(shopGraph());
    const stateFile = path.join(s.backend.directory, 'state.json');
    const before = readFileSync(stateFile, 'utf8');
    const objects = s.cloud.objects().length;
    const mutations = () => s.cloud.calls.filter((c) => c.op !== 'read').length;
    const calls = mutations();
    s.events.length = 0;
    for (const confirm of [undefined, 'prod', 'Dev', '']) {
      await assert.rejects(s.destroy('dev', { confirm }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'confirmation-required');
        assert.match(err.message, /destroy would delete resources that hold data \((bucket|db-\w+)(, (bucket|db-\w+)){2}\); their data would be lost\. Nothing was changed/);
        assert.match(err.message, /confirm with the environment's name, "dev"/);
        return true;
      });
    }
    assert.equal(mutations(), calls, 'no create, update or delete was called');
    assert.equal(s.cloud.objects().length, objects);
    assert.equal(readFileSync(stateFile, 'utf8'), before);
    assert.deepEqual(s.events, []);
    assert.equal(await s.backend.inspectLock(), null, 'the lock is released');
  } finally {
    s.done();
  }
});

test('with the confirmation, destroy deletes in reverse dependency order and leaves an empty state', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    await s.apply(g);
    s.cloud.latencyMs = { delete: 3 };
    const { result } = await s.destroy('dev', { confirm: 'dev' });
    assert.equal(result.outcome, 'succeeded');
    assert.equal(s.cloud.objects().length, 0);
    const deleted = new Map(s.cloud.calls.filter((c) => c.op === 'delete').map((c) => [c.id, c]));
    for (const r of g.resources) {
      for (const d of r.dependsOn) {
        assert.ok((deleted.get(r.id)?.end ?? Infinity) <= (deleted.get(d)?.start ?? -1), `${r.id} was deleted before ${d}`);
      }
    }
    const { state } = await s.backend.load();
    assert.deepEqual(state?.resources, {});
    assert.equal(state?.lastOperation?.kind, 'destroy');
    assert.equal(state?.lastOperation?.outcome, 'succeeded');
    const again = await s.destroy('dev', { confirm: 'dev' });
    assert.equal(again.plan.entries.length, 0);
    assert.equal(again.result.outcome, 'succeeded');
  } finally {
    s.done();
  }
});

test('an environment with nothing stateful is destroyed without a confirmation; an object already gone is only forgotten', async () => {
  const s = scratch();
  try {
    await s.apply(graph([res('ns', [], { kind: 'namespace' }), res('web', ['ns'])]));
    s.cloud.deleteOutside('mem/deployment', 'web');
    const { plan, result } = await s.destroy('dev');
    assert.equal(result.outcome, 'succeeded');
    assert.equal(plan.entries.find((e) => e.id === 'web')?.reason, 'destroy (already gone: only the record is removed)');
    assert.equal(s.cloud.objects().length, 0);
  } finally {
    s.done();
  }
});

test('apply that would delete a stateful resource no longer in the app needs the same confirmation', async () => {
  const s = scratch();
  try {
    await s.apply(shopGraph());
    const without = graph(shopGraph().resources.filter((r) => r.id !== 'bucket').map((r) => ({ ...r, dependsOn: r.dependsOn.filter((d) => d !== 'bucket'), settings: r.id === 'config' ? { dsn: 'x' } : r.settings })));
    await assert.rejects(s.apply(without), { code: 'confirmation-required', message: /apply would delete resources that hold data \(bucket\)/ });
    assert.ok(s.cloud.get('mem/bucket', 'bucket'));
    const { result } = await s.apply(without, { confirm: 'dev' });
    assert.equal(result.outcome, 'succeeded');
    assert.equal(s.cloud.get('mem/bucket', 'bucket'), undefined);
    // The config stopped referring to the bucket, so it was updated before the bucket went.
    const update = s.cloud.calls.find((c) => c.op === 'update' && c.id === 'config');
    const del = s.cloud.calls.find((c) => c.op === 'delete' && c.id === 'bucket');
    assert.ok(update && del && update.end <= del.start);
  } finally {
    s.done();
  }
});

test('a destroy that fails part-way stops the dependencies of what failed and records it', async () => {
  const s = scratch();
  try {
    await s.apply(shopGraph());
    s.cloud.failOn('config', 'delete', () => new Error('finalizer kubernetes.io/pvc-protection did not clear'), 1);
    const { result } = await s.destroy('dev', { confirm: 'dev' });
    assert.equal(result.outcome, 'failed');
    assert.deepEqual(result.failed, [{ id: 'config', error: 'finalizer kubernetes.io/pvc-protection did not clear' }]);
    assert.ok(s.cloud.get('mem/statefulSet', 'db-server'), 'what config depends on is kept');
    assert.equal(s.cloud.get('mem/deployment', 'orders'), undefined, 'config dependents were deleted first');
    const { state } = await s.backend.load();
    assert.equal(state?.resources.config.status, 'failed');
    const again = await s.destroy('dev', { confirm: 'dev' });
    assert.equal(again.result.outcome, 'succeeded');
    assert.equal(s.cloud.objects().length, 0);
  } finally {
    s.done();
  }
});

test('the typed confirmation reaches the deletes of what holds data, and only them; "NAME without snapshot" declines the final snapshots', async () => {
  for (const [confirm, finalSnapshot] of [['dev', true], ['  dev   without snapshot ', false]] as const) {
    const s = scratch();
    try {
      await s.apply(shopGraph('dev', (r) => (r.id === 'db-orders' ? { ...r, settings: { ...r.settings, finalSnapshot: true } } : r)));
      const plan = await planDestroy('dev', 'kubernetes', await s.backend.load(), s.driver);
      assert.deepEqual(plan.finalSnapshots, ['db-orders'], 'the database whose settings keep a final snapshot');
      const seen = new Map<string, unknown>();
      const remove = s.driver.delete.bind(s.driver);
      s.driver.delete = (resource, ctx) => {
        seen.set(resource.id, ctx.confirmedDataLoss);
        return remove(resource, ctx);
      };
      const { result } = await s.destroy('dev', { confirm });
      assert.equal(result.outcome, 'succeeded');
      assert.deepEqual(Object.fromEntries([...seen].filter(([, v]) => v !== undefined)), {
        'db-orders': { finalSnapshot }, 'db-volume': { finalSnapshot }, bucket: { finalSnapshot },
      });
      assert.equal(seen.size, 9, 'every resource was deleted');
    } finally {
      s.done();
    }
  }
  // With nothing that keeps a final snapshot, the plan says none.
  const s = scratch();
  try {
    await s.apply(shopGraph());
    assert.equal((await planDestroy('dev', 'kubernetes', await s.backend.load(), s.driver)).finalSnapshots, undefined);
  } finally {
    s.done();
  }
});

test('a confirmation is the name, or the name and "without snapshot"; nothing else', () => {
  assert.deepEqual(parseConfirmation('prod', 'prod'), { confirmed: true, finalSnapshots: true });
  assert.deepEqual(parseConfirmation(' prod ', 'prod'), { confirmed: true, finalSnapshots: true });
  assert.deepEqual(parseConfirmation('prod without snapshot', 'prod'), { confirmed: true, finalSnapshots: false });
  assert.deepEqual(parseConfirmation('prod\twithout  snapshot', 'prod'), { confirmed: true, finalSnapshots: false });
  for (const typed of [undefined, '', 'Prod', 'prod without', 'prod without snapshots', 'prod Without Snapshot', 'without snapshot', 'prod prod']) {
    assert.deepEqual(parseConfirmation(typed, 'prod'), { confirmed: false, finalSnapshots: true }, String(typed));
  }
});
