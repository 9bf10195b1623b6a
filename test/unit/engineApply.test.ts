// Apply over the in-memory cloud: order, parallelism, references, idempotence, failures, retries, cancellation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DriverError } from '../../src/model/providerApi';
import { planChanges } from '../../src/provisioning/engine';
import { parseState } from '../../src/provisioning/state';
import { cloudMatches, graph, res, scratch, shopGraph } from './engineGraphs';

test('apply creates every resource after its dependencies, records state, and a second apply changes nothing', async () => {
  const s = scratch();
  try {
    s.cloud.latencyMs = { create: 3, waitReady: 2 };
    const g = shopGraph();
    const { plan, result } = await s.apply(g);
    assert.equal(result.outcome, 'succeeded', JSON.stringify(result));
    assert.equal(plan.counts.create, 9);
    assert.ok(cloudMatches(s.cloud, g));

    // Each create started only after every dependency was ready.
    const readyAt = new Map(s.cloud.calls.filter((c) => c.op === 'waitReady').map((c) => [c.id, c.end]));
    for (const r of g.resources) {
      const created = s.cloud.calls.find((c) => c.op === 'create' && c.id === r.id);
      assert.ok(created, `${r.id} was created`);
      for (const d of r.dependsOn) assert.ok((readyAt.get(d) ?? Infinity) <= created.start, `${r.id} started before ${d} was ready`);
    }

    // Progress: a start and a done per step, numbered 1..9 of 9.
    const starts = s.events.filter((e) => e.phase === 'start');
    assert.deepEqual(starts.map((e) => e.step).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(s.events.every((e) => e.total === 9));
    assert.equal(s.events.filter((e) => e.phase === 'done').length, 9);

    const stateFile = path.join(s.backend.directory, 'state.json');
    const state = parseState(readFileSync(stateFile, 'utf8'), stateFile);
    assert.deepEqual(Object.values(state.resources).map((r) => r.status), Array(9).fill('ready'));
    assert.equal(state.lastOperation?.outcome, 'succeeded');
    assert.equal(result.stateVersion !== null, true);

    const before = readFileSync(stateFile, 'utf8');
    const calls = s.cloud.calls.length;
    const again = await s.apply(g);
    assert.equal(again.result.outcome, 'succeeded');
    assert.deepEqual(again.plan.counts, { create: 0, update: 0, delete: 0, keep: 9 });
    assert.equal(readFileSync(stateFile, 'utf8'), before, 'an apply with nothing to do writes nothing');
    assert.deepEqual(s.cloud.calls.slice(calls).map((c) => c.op), Array(9).fill('read'), 'only live reads');
  } finally {
    s.done();
  }
});

test('independent steps run in parallel, never more than the concurrency bound', async () => {
  const wide = graph([res('root'), ...Array.from({ length: 12 }, (_, i) => res(`leaf-${i}`, ['root']))]);
  for (const concurrency of [1, 4, 6]) {
    const s = scratch();
    try {
      s.cloud.latencyMs = { create: 15 };
      const { result } = await s.apply(wide, { concurrency });
      assert.equal(result.outcome, 'succeeded');
      assert.equal(s.cloud.maxActiveMutations, concurrency, `concurrency ${concurrency}`);
    } finally {
      s.done();
    }
  }
  const s = scratch();
  try {
    s.cloud.latencyMs = { create: 15 };
    await s.apply(wide);
    assert.equal(s.cloud.maxActiveMutations, 4, 'the default bound is 4');
  } finally {
    s.done();
  }
});

test('references resolve to the outputs of earlier steps, of the same run and of earlier runs', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    await s.apply(g);
    const server = s.cloud.get('mem/statefulSet', 'db-server');
    const password = s.cloud.get('mem/secret', 'db-password')?.secrets.password;
    const config = s.cloud.get('mem/infraConfig', 'config');
    assert.ok(server && password && config);
    assert.equal(config.settings.dsn, `postgres://orders:${password}@db-server.internal:5432/orders`);
    assert.equal(config.settings.serverUid, server.uid);
    assert.equal(s.cloud.get('mem/deployment', 'orders')?.settings.configUid, config.uid);

    // A later run changes the config only: the password is not in state, so it is read live to resolve the DSN.
    const changed = shopGraph('dev', (r) => (r.id === 'config' ? { ...r, settings: { ...r.settings, poolSize: 5 } } : r));
    const { plan, result } = await s.apply(changed);
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(plan.entries.filter((e) => e.action === 'update').map((e) => e.id), ['config']);
    assert.equal(s.cloud.get('mem/infraConfig', 'config')?.settings.dsn, `postgres://orders:${password}@db-server.internal:5432/orders`);
  } finally {
    s.done();
  }
});

test('a failing step stops its dependents, lets independent steps finish, and records the failure with its cause', async () => {
  const s = scratch();
  try {
    s.cloud.latencyMs = { create: 5 };
    s.cloud.failOn('db-server', 'waitReady', () => new DriverError('not-ready', 'PVC pending: no default StorageClass', { resourceId: 'db-server' }), 1);
    const g = shopGraph();
    const { result } = await s.apply(g);
    assert.equal(result.outcome, 'failed');
    assert.deepEqual(result.failed, [{ id: 'db-server', error: 'PVC pending: no default StorageClass' }]);
    assert.deepEqual(result.skipped.sort(), ['config', 'db-orders', 'orders', 'users']);
    assert.deepEqual(result.done.sort(), ['bucket', 'db-password', 'db-volume', 'ns']);

    const failed = s.events.find((e) => e.phase === 'failed');
    assert.match(failed?.message ?? '', /^statefulSet db-server: PVC pending: no default StorageClass$/);
    assert.deepEqual(s.events.filter((e) => e.phase === 'skipped').map((e) => e.resourceId).sort(), ['config', 'db-orders', 'orders', 'users']);
    assert.match(s.events.find((e) => e.resourceId === 'db-orders')?.message ?? '', /db-server failed/);

    const { state } = await s.backend.load();
    assert.equal(state?.resources['db-server'].status, 'failed');
    assert.equal(state?.resources['db-server'].error, 'PVC pending: no default StorageClass');
    assert.equal(state?.resources['db-orders'], undefined, 'skipped steps leave no record');
    assert.equal(state?.lastOperation?.outcome, 'failed');

    // The next plan says why, and the next apply converges.
    const again = await s.apply(g);
    assert.match(again.plan.entries.find((e) => e.id === 'db-server')?.reason ?? '', /the last run failed here \(PVC pending/);
    assert.equal(again.result.outcome, 'succeeded');
    assert.ok(cloudMatches(s.cloud, g));
  } finally {
    s.done();
  }
});

test('transient errors are retried with backoff and say so in the progress', async () => {
  const s = scratch();
  try {
    s.cloud.failOn('ns', 'create', () => new DriverError('transient', 'HTTP 503 from the API server'), 2);
    const { result } = await s.apply(shopGraph());
    assert.equal(result.outcome, 'succeeded');
    assert.equal(s.cloud.calls.filter((c) => c.op === 'create' && c.id === 'ns').length, 3);
    assert.equal(s.events.filter((e) => e.phase === 'progress' && /retrying after a transient error: HTTP 503/.test(e.message)).length, 2);

    const t = scratch();
    try {
      t.cloud.failOn('ns', 'create', () => new DriverError('invalid', 'namespace name is not a DNS label'), 5);
      const failed = await t.apply(shopGraph());
      assert.equal(failed.result.outcome, 'failed');
      assert.equal(t.cloud.calls.filter((c) => c.op === 'create' && c.id === 'ns').length, 1, 'a refused setting is not retried');
    } finally {
      t.done();
    }
  } finally {
    s.done();
  }
});

test('cancelling stops between steps: the in-flight step is aborted through the signal, nothing new starts, and a re-run converges', async () => {
  const s = scratch();
  try {
    s.cloud.hang.add('db-server');
    const controller = new AbortController();
    const g = shopGraph();
    const run = s.apply(g, {
      signal: controller.signal,
      onProgress: (e) => {
        s.events.push(e);
        if (e.resourceId === 'db-server' && e.phase === 'start') setTimeout(() => controller.abort(new Error('cancelled by the user')), 20);
      },
    });
    const { result } = await run;
    assert.equal(result.outcome, 'cancelled');
    assert.equal(result.error, null);
    assert.ok(result.skipped.includes('orders') && result.skipped.includes('config'));
    const abortedAt = s.cloud.calls.find((c) => c.id === 'db-server' && c.op === 'waitReady')?.end ?? 0;
    assert.ok(s.cloud.calls.every((c) => c.start <= abortedAt), 'no call started after the cancellation');
    assert.match(s.events.find((e) => e.resourceId === 'db-server' && e.phase === 'failed')?.message ?? '', /cancelled/);

    const { state } = await s.backend.load();
    assert.equal(state?.resources['db-server'].status, 'pending', 'an interrupted step is left for the next run to finish');
    assert.equal(state?.lastOperation?.outcome, 'cancelled');
    assert.equal(await s.backend.inspectLock(), null, 'the lock is released');

    s.cloud.hang.clear();
    const again = await s.apply(g);
    assert.match(again.plan.entries.find((e) => e.id === 'db-server')?.reason ?? '', /interrupted/);
    assert.equal(again.result.outcome, 'succeeded');
    assert.ok(cloudMatches(s.cloud, g));
  } finally {
    s.done();
  }
});

test('a resource whose dependency changed its outputs is updated even though its own settings did not change', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    await s.apply(g);
    const oldUid = s.cloud.get('mem/statefulSet', 'db-server')?.uid;
    s.cloud.deleteOutside('mem/statefulSet', 'db-server'); // re-created with a new uid, which config refers to
    const { plan, result } = await s.apply(g);
    assert.equal(result.outcome, 'succeeded');
    const config = plan.entries.find((e) => e.id === 'config');
    assert.equal(config?.action, 'update');
    assert.deepEqual(config?.changes.find((c) => c.path === 'serverUid'), { path: 'serverUid', before: oldUid, after: '${db-server.uid}', knownAfterApply: true });
    assert.equal(s.cloud.get('mem/infraConfig', 'config')?.settings.serverUid, s.cloud.get('mem/statefulSet', 'db-server')?.uid);
  } finally {
    s.done();
  }
});

test('an unresolvable reference fails that step with a clear message', async () => {
  const s = scratch();
  try {
    const g = graph([res('a'), res('b', ['a'], { settings: { endpoint: '${a.nothing}' } })]);
    const { result } = await s.apply(g);
    assert.equal(result.outcome, 'failed');
    assert.match(result.failed[0].error, /its settings refer to \$\{a\.nothing\}, which no resource provides/);
  } finally {
    s.done();
  }
});

test('a driver that cannot be reached stops apply before the lock is taken or anything is read', async () => {
  const s = scratch();
  try {
    s.driver.preflightError = new DriverError('unavailable', 'context kind-dev: exec plugin aws not found on PATH');
    await assert.rejects(s.apply(shopGraph()), /exec plugin aws not found/);
    assert.equal(s.cloud.calls.length, 0);
    assert.equal(await s.backend.inspectLock(), null);
  } finally {
    s.done();
  }
});

test('provider types the driver does not support are refused before anything changes', async () => {
  const s = scratch();
  try {
    await assert.rejects(s.apply(graph([res('a'), res('b', [], { providerType: 'unsupported/Thing' })])), { name: 'EngineError', code: 'unsupported', message: /cannot handle unsupported\/Thing/ });
    assert.equal(s.cloud.objects().length, 0);
    assert.equal(await s.backend.inspectLock(), null);
  } finally {
    s.done();
  }
});

test('a reviewed plan is applied only while apply would still do the same; otherwise it is refused as stale', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    const reviewed = await planChanges(g, await s.backend.load(), s.driver);
    // Left by an earlier run of this tool: still a create (taken back), so still what was reviewed.
    s.cloud.putOutside('mem/deployment', 'users', { image: 'users:0', replicas: 1 }, { ours: true });
    const ok = await s.apply(g, { reviewed });
    assert.equal(ok.result.outcome, 'succeeded');

    const later = await planChanges(g, await s.backend.load(), s.driver);
    s.cloud.deleteOutside('mem/deployment', 'orders'); // now apply would create orders: not what was reviewed
    await assert.rejects(s.apply(g, { reviewed: later }), { name: 'EngineError', code: 'stale-plan', message: /has changed since the plan was shown \(the app, the state or the live objects changed: now also create orders\); nothing was changed\. Plan again and review it\./ });
    assert.equal(s.cloud.get('mem/deployment', 'orders'), undefined);
    assert.equal(await s.backend.inspectLock(), null);
  } finally {
    s.done();
  }
});

test('the journal records the operation and every step in order, with serials that lead to the snapshot', async () => {
  const s = scratch();
  try {
    const g = graph([res('a'), res('b', ['a'])]);
    s.cloud.failOn('b', 'create', () => new Error('quota exceeded'), 1);
    await s.apply(g);
    await s.apply(g);
    const journal = await s.backend.readJournal();
    assert.deepEqual(
      journal.map((e) => [e.event, e.resourceId ?? '', e.message ?? '']),
      [
        ['operation-start', '', `apply by ${os.userInfo().username} on ${os.hostname()} (pid ${process.pid})`],
        ['step-start', 'a', ''], ['step-done', 'a', ''],
        ['step-start', 'b', ''], ['step-failed', 'b', 'quota exceeded'],
        ['operation-end', '', 'failed'],
        ['operation-start', '', `apply by ${os.userInfo().username} on ${os.hostname()} (pid ${process.pid})`],
        ['step-start', 'b', ''], ['step-done', 'b', ''],
        ['operation-end', '', 'succeeded'],
      ],
    );
    assert.equal(new Set(journal.slice(0, 6).map((e) => e.operation)).size, 1);
    assert.notEqual(journal[0].operation, journal[6].operation);
    const serials = journal.map((e) => e.serial);
    assert.deepEqual(serials, [...serials].sort((x, y) => x - y));
    assert.equal(serials.at(-1), (await s.backend.load()).state?.serial);
  } finally {
    s.done();
  }
});
