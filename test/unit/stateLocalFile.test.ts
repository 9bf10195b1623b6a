// The local state backend: atomic snapshots with optimistic concurrency, the journal, the environment lock.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { emptyState, type EnvState, type JournalEntry } from '../../src/model/state';
import { LocalFileBackend, localStateDirectory } from '../../src/provisioning/state';

function setup() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'state-'));
  return { root, backend: LocalFileBackend.forApp(root, 'dev'), done: () => rmSync(root, { recursive: true, force: true }) };
}

const entry = (event: JournalEntry['event'], resourceId?: string): JournalEntry => ({ at: new Date().toISOString(), operation: 'op-1', serial: 1, event, resourceId });
const who = { user: 'alice', host: os.hostname(), pid: process.pid, startedAt: '2026-05-01T10:00:00.000Z', operation: 'apply' as const };

test('state lives in .encore/state/<env>/ under the app root; environment names cannot escape it', () => {
  assert.equal(localStateDirectory('/apps/shop', 'staging'), path.join('/apps/shop', '.encore', 'state', 'staging'));
  for (const bad of ['../x', 'a/b', '', '.']) assert.throws(() => localStateDirectory('/apps/shop', bad), /cannot name a state folder/);
});

test('nothing recorded loads as null; commits need the version they were based on', async () => {
  const s = setup();
  try {
    assert.deepEqual(await s.backend.load(), { state: null, version: null });
    const state: EnvState = { ...emptyState('dev', 'kubernetes'), serial: 1 };
    const v1 = await s.backend.commit(state, [entry('operation-start')], null);
    const loaded = await s.backend.load();
    assert.equal(loaded.version, v1);
    assert.deepEqual(loaded.state, state);

    await assert.rejects(s.backend.commit({ ...state, serial: 2 }, [], null), { name: 'StateError', code: 'conflict', message: /was changed by another run since it was read \(expected no state, found version [0-9a-f]{12}\); nothing was written/ });
    const v2 = await s.backend.commit({ ...state, serial: 2 }, [entry('step-start', 'a')], v1);
    await assert.rejects(s.backend.commit({ ...state, serial: 3 }, [entry('step-done', 'a')], v1), { code: 'conflict' });
    assert.equal((await s.backend.load()).state?.serial, 2, 'the refused commit wrote nothing');
    assert.deepEqual((await s.backend.readJournal()).map((e) => e.event), ['operation-start', 'step-start'], 'nor appended to the journal');
    assert.notEqual(v1, v2);
  } finally {
    s.done();
  }
});

test('of two writers racing from the same version, exactly one wins', async () => {
  const s = setup();
  try {
    const base = await s.backend.commit(emptyState('dev', 'kubernetes'), [], null);
    const other = LocalFileBackend.forApp(s.root, 'dev');
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? other : s.backend).commit({ ...emptyState('dev', 'kubernetes'), serial: i + 1 }, [entry('step-done', `w${i}`)], base)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r.reason as { code: string }).code === 'conflict'));
    assert.equal((await s.backend.readJournal()).length, 1);
    assert.deepEqual(readdirSync(s.backend.directory).sort(), ['journal.jsonl', 'state.json'], 'no temp files or save locks left');
  } finally {
    s.done();
  }
});

test('a damaged or foreign state file is refused and left untouched', async () => {
  const s = setup();
  try {
    mkdirSync(s.backend.directory, { recursive: true });
    const file = path.join(s.backend.directory, 'state.json');
    for (const [text, message] of [
      ['{"format": 1, "environment": "dev"', /is not valid JSON .* it was left untouched/],
      ['{"format": 9}', /not a state file this version can read: format 9 \(this version reads format 1\)/],
      ['{"format": 1, "environment": "dev", "provider": "kubernetes", "serial": 1, "resources": {"a": {"resource": {"id": "b"}}}}', /the record of a is malformed/],
    ] as const) {
      writeFileSync(file, text);
      await assert.rejects(s.backend.load(), { code: 'corrupt', message });
      assert.equal(readFileSync(file, 'utf8'), text);
    }
  } finally {
    s.done();
  }
});

test('a torn last journal line from a crash is skipped, and the next append starts on a fresh line', async () => {
  const s = setup();
  try {
    const v = await s.backend.commit(emptyState('dev', 'kubernetes'), [entry('step-start', 'a')], null);
    appendFileSync(path.join(s.backend.directory, 'journal.jsonl'), '{"at":"2026-05-01T10:00:00Z","event":"step-do');
    assert.deepEqual((await s.backend.readJournal()).map((e) => e.resourceId), ['a']);
    await s.backend.commit(emptyState('dev', 'kubernetes'), [entry('step-done', 'b')], v);
    assert.deepEqual((await s.backend.readJournal()).map((e) => e.resourceId), ['a', 'b']);
  } finally {
    s.done();
  }
});

test('the lock: one holder at a time, released only by its holder, inspectable, broken only when gone or forced', async () => {
  const s = setup();
  try {
    assert.equal(await s.backend.inspectLock(), null);
    const held = await s.backend.acquireLock(who);
    assert.equal(held.holder.user, 'alice');
    assert.match(held.holder.token, /^[0-9a-f]{16}$/);
    assert.deepEqual(JSON.parse(readFileSync(path.join(s.backend.directory, 'lock.json'), 'utf8')), held.holder);
    await assert.rejects(s.backend.acquireLock({ ...who, user: 'bob' }), { code: 'locked', message: /locked by alice on .+ \(pid \d+\), running apply since 2026-05-01T10:00:00\.000Z\. Wait for it to finish/ });
    assert.deepEqual(await s.backend.inspectLock(), { holder: held.holder, gone: false, why: `process ${process.pid} is still running on ${os.hostname()}` });
    await assert.rejects(s.backend.breakLock({ force: false }), { code: 'locked' });
    assert.equal(held.lost.aborted, false);
    await held.release();
    await held.release();
    assert.equal(await s.backend.inspectLock(), null);

    // A holder from another host cannot be checked from here: only a forced break removes it.
    writeFileSync(path.join(s.backend.directory, 'lock.json'), JSON.stringify({ ...who, host: 'build-7', pid: 1, token: 'abc' }));
    assert.equal((await s.backend.inspectLock())?.why, 'held from host build-7, where this machine cannot check its process');
    await assert.rejects(s.backend.breakLock({ force: false }), { code: 'locked' });
    assert.equal((await s.backend.breakLock({ force: true }))?.host, 'build-7');

    // An empty lock file (its holder died between creating and writing it) counts as gone once it is a second old.
    const lockFile = path.join(s.backend.directory, 'lock.json');
    writeFileSync(lockFile, '');
    const old = new Date(Date.now() - 5000);
    (await import('node:fs')).utimesSync(lockFile, old, old);
    assert.equal((await s.backend.inspectLock())?.gone, true);
    assert.equal((await s.backend.breakLock({ force: false }))?.user, 'unknown');
    assert.ok(!existsSync(lockFile));
  } finally {
    s.done();
  }
});

test('a held lock that someone breaks by force signals the holder', async () => {
  const s = setup();
  try {
    const held = await s.backend.acquireLock(who);
    await s.backend.breakLock({ force: true });
    // The holder's check runs on an unref'd timer (it must not keep a finished CLI alive): keep this test alive.
    const keepAlive = setTimeout(() => undefined, 10_000);
    await new Promise<void>((resolve) => held.lost.addEventListener('abort', () => resolve(), { once: true }));
    clearTimeout(keepAlive);
    assert.match(String((held.lost.reason as Error).message), /was removed \(by unlock --force\?\)/);
    const next = await s.backend.acquireLock({ ...who, user: 'bob' });
    await held.release(); // not ours any more: leaves bob's lock alone
    assert.equal((await s.backend.inspectLock())?.holder.user, 'bob');
    await next.release();
  } finally {
    s.done();
  }
});
