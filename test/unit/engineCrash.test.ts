// Crash safety: an apply (and a destroy) in a child process SIGKILLed at step boundaries and right after state
// commits, then re-run here. Every time: the state file parses, the journal parses, the dead holder's lock is broken
// by a deliberate unlock, the re-run converges with no duplicate and no orphan object, and a further apply is a no-op.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isStateError } from '../../src/model/state';
import { apply, destroy, unlock } from '../../src/provisioning/engine';
import { LocalFileBackend } from '../../src/provisioning/state';
import { MemoryCloud, MemoryDriver } from './engineCloud';
import { cloudMatches, shopGraph } from './engineGraphs';
import { EngineChild } from './engineProcess';

type Boundary = { phase: 'start' | 'done' | 'commit'; n: number };

/** Kills a child at `killAt`, then recovers here; returns what happened for the report. */
async function killAndRecover(mode: 'apply' | 'destroy', killAt: Boundary, prepared?: (dir: string) => Promise<void>): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-crash-'));
  try {
    await prepared?.(dir);
    const child = new EngineChild(mode, dir, { killAt, concurrency: 2, latencyMs: { create: 2, delete: 2 } });
    const exit = await child.exited;
    const where = `${mode} killed at ${killAt.phase} #${killAt.n}`;
    assert.equal(exit, 'SIGKILL', `${where}: the child was not killed (it said ${child.lines.slice(-2).join(' | ')} ${child.stderr})`);

    const backend = LocalFileBackend.forApp(dir, 'dev');
    const loaded = await backend.load(); // throws if the state file does not parse
    await backend.readJournal();
    const driver = new MemoryDriver(new MemoryCloud(path.join(dir, 'cloud.json')));
    const options = { backend, driver, confirm: 'dev', retry: { attempts: 2, baseDelayMs: 1 } };

    // The dead child still holds the lock: the re-run is refused with its identity until it is broken on purpose.
    const refused = await apply(shopGraph(), options).then(() => null, (err: unknown) => err);
    assert.ok(isStateError(refused) && refused.code === 'locked', `${where}: expected the lock to be held, got ${String(refused)}`);
    assert.equal(refused.holder?.pid, child.proc.pid);
    assert.match(refused.message, /That holder is gone \(process \d+ no longer runs on .+\): if its run is over, break the lock with "encore-env unlock --env dev"/);
    const { broken } = await unlock(backend);
    assert.equal(broken?.pid, child.proc.pid);

    const g = shopGraph();
    const rerun = mode === 'apply' ? await apply(g, options) : await destroy('dev', 'kubernetes', options);
    assert.equal(rerun.result.outcome, 'succeeded', `${where}: ${JSON.stringify(rerun.result)}`);
    if (mode === 'apply') {
      assert.ok(cloudMatches(driver.cloud, g), `${where}: the cloud holds ${driver.cloud.objects().map((o) => o.name).join(', ')}`);
      const again = await apply(g, options);
      assert.deepEqual(again.plan.counts, { create: 0, update: 0, delete: 0, keep: 9 }, `${where}: a further apply changes nothing`);
    } else {
      assert.deepEqual(driver.cloud.objects(), [], `${where}: nothing is left`);
      assert.deepEqual((await backend.load()).state?.resources, {});
    }
    return `${where}: recovered (${loaded.state ? Object.keys(loaded.state.resources).length : 0} records at the crash)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inPool<T>(tasks: (() => Promise<T>)[], size: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  }));
  return out;
}

test('an apply killed at every step start, step end and state commit resumes and converges (N/N)', { timeout: 240_000 }, async (t) => {
  // 9 steps. 'commit' n: right after the first commit that records n finished steps (0: the operation's start).
  const boundaries: Boundary[] = [
    ...Array.from({ length: 9 }, (_, i) => ({ phase: 'start' as const, n: i + 1 })),
    ...Array.from({ length: 9 }, (_, i) => ({ phase: 'done' as const, n: i + 1 })),
    ...Array.from({ length: 10 }, (_, i) => ({ phase: 'commit' as const, n: i })),
  ];
  const reports = await inPool(boundaries.map((b) => () => killAndRecover('apply', b)), 4);
  assert.equal(reports.length, boundaries.length);
  t.diagnostic(`crash safety: ${reports.length}/${boundaries.length} killed applies converged`);
});

test('a destroy killed part-way resumes and removes everything', { timeout: 120_000 }, async () => {
  const appliedFirst = async (dir: string) => {
    const driver = new MemoryDriver(new MemoryCloud(path.join(dir, 'cloud.json')));
    const { result } = await apply(shopGraph(), { backend: LocalFileBackend.forApp(dir, 'dev'), driver });
    assert.equal(result.outcome, 'succeeded');
  };
  const boundaries: Boundary[] = [{ phase: 'commit', n: 0 }, { phase: 'start', n: 1 }, { phase: 'done', n: 3 }, { phase: 'commit', n: 5 }, { phase: 'start', n: 9 }, { phase: 'commit', n: 9 }];
  const reports = await inPool(boundaries.map((b) => () => killAndRecover('destroy', b, appliedFirst)), 4);
  assert.equal(reports.length, boundaries.length);
});
