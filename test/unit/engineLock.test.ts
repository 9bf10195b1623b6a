// One apply or destroy per environment at a time, across processes: the second is refused with the holder's
// identity; a dead holder's lock is broken only deliberately; a live one only by force, which stops its run.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isStateError, type LockHolder } from '../../src/model/state';
import { apply, unlock } from '../../src/provisioning/engine';
import { LocalFileBackend } from '../../src/provisioning/state';
import { MemoryCloud, MemoryDriver } from './engineCloud';
import { cloudMatches, shopGraph } from './engineGraphs';
import { EngineChild } from './engineProcess';

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-lock-'));
  const backend = LocalFileBackend.forApp(dir, 'dev');
  const driver = new MemoryDriver(new MemoryCloud(path.join(dir, 'cloud.json')));
  return { dir, backend, driver, options: { backend, driver, retry: { attempts: 2, baseDelayMs: 1 } }, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const holderOf = (line: string) => JSON.parse(line.slice('holding '.length)) as LockHolder;

test('a second apply, in this process or another, is refused with the holder\'s identity, host and start time', { timeout: 60_000 }, async () => {
  const s = setup();
  const a = new EngineChild('apply', s.dir, { hang: ['orders'] });
  try {
    const holder = holderOf(await a.waitFor('holding '));
    assert.equal(holder.pid, a.proc.pid);
    assert.equal(holder.host, os.hostname());
    assert.equal(holder.operation, 'apply');
    await a.waitFor('event {"step":'); // it is applying

    const refused = await apply(shopGraph(), s.options).then(() => null, (err: unknown) => err);
    assert.ok(isStateError(refused) && refused.code === 'locked', String(refused));
    assert.deepEqual(refused.holder, holder);
    assert.equal(
      refused.message,
      `environment "dev" is locked by ${holder.user} on ${holder.host} (pid ${holder.pid}), running apply since ${holder.startedAt}. Wait for it to finish (process ${holder.pid} is still running on ${holder.host}).`,
    );

    const b = new EngineChild('apply', s.dir);
    const line = await b.waitFor('error ');
    assert.match(line, new RegExp(`^error locked environment "dev" is locked by .+ \\(pid ${holder.pid}\\), running apply since ${holder.startedAt.replace(/\./g, '\\.')}`));
    assert.equal(await b.exited, 1);
    assert.ok(!b.lines.some((l) => l.startsWith('holding ')), 'the second process never held the lock');

    // A live holder is not unlocked without force.
    await assert.rejects(unlock(s.backend), { code: 'locked', message: /is still running .* It was left in place; force it only if you know that run has stopped\./ });
  } finally {
    await a.kill();
    s.done();
  }
});

test('the lock of a killed holder stays until unlock breaks it; then apply converges', { timeout: 60_000 }, async () => {
  const s = setup();
  try {
    const a = new EngineChild('apply', s.dir, { hang: ['orders'] });
    const holder = holderOf(await a.waitFor('holding '));
    await a.waitFor('event {"step":');
    await a.kill();

    const seen = await s.backend.inspectLock();
    assert.deepEqual(seen, { holder, gone: true, why: `process ${holder.pid} no longer runs on ${holder.host}` });
    await assert.rejects(apply(shopGraph(), s.options), {
      code: 'locked',
      message: `environment "dev" is locked by ${holder.user} on ${holder.host} (pid ${holder.pid}), running apply since ${holder.startedAt}. That holder is gone (process ${holder.pid} no longer runs on ${holder.host}): if its run is over, break the lock with "encore-env unlock --env dev".`,
    });
    const { broken, why } = await unlock(s.backend);
    assert.deepEqual(broken, holder);
    assert.equal(why, `process ${holder.pid} no longer runs on ${holder.host}`);
    assert.equal(await s.backend.inspectLock(), null);
    const journal = await s.backend.readJournal();
    assert.match(journal.at(-1)?.message ?? '', new RegExp(`^broke the lock of .+ \\(pid ${holder.pid}, apply since`));
    assert.deepEqual(await unlock(s.backend), { broken: null, why: 'it was not locked' });

    const { result } = await apply(shopGraph(), s.options);
    assert.equal(result.outcome, 'succeeded');
    assert.ok(cloudMatches(s.driver.cloud, shopGraph()));
  } finally {
    s.done();
  }
});

test('a forced unlock of a live holder makes that run stop before its next step, and says why', { timeout: 60_000 }, async () => {
  const s = setup();
  const a = new EngineChild('apply', s.dir, { hang: ['db-server'], concurrency: 1 });
  try {
    await a.waitFor('holding ');
    await a.waitFor('event {"step":');
    const { broken, why } = await unlock(s.backend, { force: true });
    assert.equal(broken?.pid, a.proc.pid);
    assert.equal(why, 'forced');
    const result = JSON.parse((await a.waitFor('result ')).slice('result '.length)) as { outcome: string; error: string };
    assert.equal(result.outcome, 'failed');
    assert.match(result.error, /^the lock on the environment was lost during the apply \(the lock file .+lock\.json was removed \(by unlock --force\?\)\); it stopped before further steps$/);
    assert.equal(await a.exited, 0);
  } finally {
    await a.kill();
    s.done();
  }
});
