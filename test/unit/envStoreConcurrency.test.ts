// EnvStore under concurrent writers: optimistic concurrency, the lock file, two stores and two processes saving at
// once, and saves killed part-way (the file is the old or the new content, never a mix, and nothing stale blocks).
import assert from 'node:assert/strict';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConflictError, LockedError } from '../../src/environments/errors';
import { acquireLock } from '../../src/files/lock';
import { parseEnvironmentsText } from '../../src/environments/parse';
import { EnvStore } from '../../src/environments/store';
import type { Environment } from '../../src/model/environment';
import { eu, fileText, leftovers, prod, scratchApp, staging, StoreChild } from './envStoreFixtures';

const fileOf = (dir: string) => path.join(dir, 'encore.environments.json');
const names = (text: string) => {
  const parsed = parseEnvironmentsText(text);
  assert.ok(parsed.ok, `the file must be valid: ${text.slice(0, 200)}`);
  return parsed.document.environments.map((e) => e.name);
};
const dev = (name: string): Environment => ({ ...staging, name, deploy: { trigger: 'push', branch: name } });

test('an edit by someone else after the load refuses the save, keeps their edit, and reloads the store', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const store = new EnvStore(dir);
  await store.load();
  const theirs = fileText([staging, eu]);
  writeFileSync(fileOf(dir), theirs);
  await assert.rejects(store.create(prod), (err: unknown) => {
    assert.ok(err instanceof ConflictError);
    assert.equal(err.code, 'conflict');
    assert.match(err.message, /was changed by someone else since it was read; nothing was written/);
    assert.ok(err.reloaded.ok);
    assert.deepEqual(err.reloaded.environments.map((e) => e.name), ['staging', 'eu']);
    return true;
  });
  assert.equal(readFileSync(fileOf(dir), 'utf8'), theirs);
  assert.deepEqual(leftovers(dir), []);
  const current = store.current();
  assert.ok(current?.ok);
  assert.deepEqual(current.environments.map((e) => e.name), ['staging', 'eu']);
  // Redone on top of the reloaded file, the same change goes through.
  assert.deepEqual((await store.create(prod)).environments.map((e) => e.name), ['staging', 'eu', 'prod']);
});

test('a file created, deleted or rewritten by someone else is a conflict too; an identical rewrite is not', async () => {
  const dir = scratchApp();
  const store = new EnvStore(dir);
  await store.load(); // no file yet
  writeFileSync(fileOf(dir), fileText([eu]));
  await assert.rejects(store.create(staging), ConflictError);
  assert.equal(readFileSync(fileOf(dir), 'utf8'), fileText([eu]));

  rmSync(fileOf(dir));
  await assert.rejects(store.create(staging), ConflictError);
  assert.deepEqual(store.current()?.version, { exists: false });

  await store.create(staging);
  // Same bytes, newer mtime: nothing of theirs could be lost, so the save goes through.
  writeFileSync(fileOf(dir), readFileSync(fileOf(dir)));
  utimesSync(fileOf(dir), new Date(), new Date(Date.now() + 5000));
  assert.deepEqual((await store.create(prod)).environments.map((e) => e.name), ['staging', 'prod']);
});

test('an edit that lands between writing the temp file and the rename is caught by the second check', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const theirs = fileText([staging, eu]);
  const store = new EnvStore(dir, { onStep: (step) => void (step === 'temp-written' && writeFileSync(fileOf(dir), theirs)) });
  await store.load();
  await assert.rejects(store.create(prod), ConflictError);
  assert.equal(readFileSync(fileOf(dir), 'utf8'), theirs);
  assert.deepEqual(leftovers(dir), [], 'the temp file is removed and the lock released');
});

test('two stores in one process saving at once: exactly one wins, the other gets a ConflictError', async () => {
  for (let round = 0; round < 20; round++) {
    const dir = scratchApp();
    writeFileSync(fileOf(dir), fileText([staging]));
    const a = new EnvStore(dir);
    const b = new EnvStore(dir);
    await Promise.all([a.load(), b.load()]);
    const outcomes = await Promise.allSettled([a.create(prod), b.create(eu)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(won.length, 1, `round ${round}`);
    assert.ok(lost[0].reason instanceof ConflictError, String(lost[0].reason));
    const winner = outcomes[0].status === 'fulfilled' ? 'prod' : 'eu';
    assert.deepEqual(names(readFileSync(fileOf(dir), 'utf8')), ['staging', winner]);
    assert.deepEqual(leftovers(dir), []);
  }
});

test('two processes saving at once: exactly one wins, the other gets a ConflictError', async () => {
  for (let round = 0; round < 4; round++) {
    const dir = scratchApp();
    writeFileSync(fileOf(dir), fileText([staging]));
    const child = new StoreChild('race', dir, 'from-child');
    try {
      await child.waitFor('loaded');
      const store = new EnvStore(dir);
      await store.load();
      child.send('go');
      const mine = store.create(dev('from-parent')).then(
        () => 'saved',
        (err: unknown) => (err instanceof ConflictError ? 'conflict' : `error ${String(err)}`),
      );
      const theirs = (await child.waitFor('result ')).slice('result '.length);
      const outcomes = [await mine, theirs].sort();
      assert.deepEqual(outcomes, ['conflict', 'saved'], `round ${round}`);
      const winner = (await mine) === 'saved' ? 'from-parent' : 'from-child';
      assert.deepEqual(names(readFileSync(fileOf(dir), 'utf8')), ['staging', winner]);
      assert.deepEqual(leftovers(dir), []);
    } finally {
      await child.kill();
    }
  }
});

test('a save waits for a live lock holder and goes through once it lets go', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const release = await acquireLock(`${fileOf(dir)}.lock`);
  const store = new EnvStore(dir, { lockWaitMs: 5000 });
  await store.load();
  setTimeout(() => void release(), 200);
  const started = Date.now();
  await store.create(prod);
  assert.ok(Date.now() - started >= 150, 'it waited for the lock');
  assert.deepEqual(names(readFileSync(fileOf(dir), 'utf8')), ['staging', 'prod']);
  assert.deepEqual(leftovers(dir), []);
});

test('a lock held too long by a live process gives a LockedError naming the holder, and nothing is written', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const release = await acquireLock(`${fileOf(dir)}.lock`);
  try {
    const store = new EnvStore(dir, { lockWaitMs: 150 });
    await assert.rejects(store.create(prod), (err: unknown) => {
      assert.ok(err instanceof LockedError);
      assert.match(err.message, new RegExp(`held by process ${process.pid} on ${os.hostname()}`));
      return true;
    });
    assert.equal(readFileSync(fileOf(dir), 'utf8'), fileText([staging]));
  } finally {
    await release();
  }
  assert.deepEqual(leftovers(dir), []);
});

test('stale locks are broken: a dead holder on this host at once, any holder after the stale time', async () => {
  const dir = scratchApp();
  const lock = `${fileOf(dir)}.lock`;
  const store = new EnvStore(dir, { lockWaitMs: 300, lockStaleMs: 30_000 });

  // A holder that died: take a real pid that no longer exists.
  const gone = new StoreChild('loop', path.join(dir, 'no-such-folder'));
  await gone.exited;
  writeFileSync(lock, JSON.stringify({ pid: gone.proc.pid, host: os.hostname(), token: 'dead', since: new Date().toISOString() }));
  await store.create(staging);
  assert.deepEqual(leftovers(dir), []);

  // A holder on another host that we cannot check: young means wait, old means abandoned.
  const foreign = JSON.stringify({ pid: 1, host: 'build-agent-7', token: 'far', since: new Date().toISOString() });
  writeFileSync(lock, foreign);
  await assert.rejects(store.create(prod), /held by process 1 on build-agent-7/);
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  await store.create(prod);
  assert.deepEqual(leftovers(dir), []);

  // An empty lock file (its writer died between creating and filling it) is abandoned after a second.
  writeFileSync(lock, '');
  const aWhileAgo = new Date(Date.now() - 2000);
  utimesSync(lock, aWhileAgo, aWhileAgo);
  await store.create(eu);
  assert.deepEqual(names(readFileSync(fileOf(dir), 'utf8')), ['staging', 'prod', 'eu']);
  assert.deepEqual(leftovers(dir), []);
});

for (const step of ['locked', 'temp-written'] as const) {
  test(`a save killed at "${step}" leaves the old content, and the next save cleans up and succeeds`, async () => {
    const dir = scratchApp();
    const original = fileText([staging]);
    writeFileSync(fileOf(dir), original);
    const child = new StoreChild('hang', dir, step, 'doomed');
    try {
      await child.waitFor(`at ${step}`);
    } finally {
      await child.kill();
    }
    assert.equal(readFileSync(fileOf(dir), 'utf8'), original);
    const left = leftovers(dir);
    assert.ok(left.includes('encore.environments.json.lock'), `the dead save left its lock: ${left}`);
    if (step === 'temp-written') assert.ok(left.some((n) => n.startsWith('encore.environments.json.tmp-')), `and its temp file: ${left}`);

    // The stale time is 30 s and the wait 5 s: succeeding proves the dead holder was seen at once.
    const saved = await new EnvStore(dir, { lockWaitMs: 5000, lockStaleMs: 30_000 }).create(prod);
    assert.deepEqual(saved.environments.map((e) => e.name), ['staging', 'prod']);
    assert.deepEqual(leftovers(dir), []);
  });
}

test('saves killed at random moments leave a complete file, old or new, never a partial one', async () => {
  const dir = scratchApp();
  // A large file (about 400 KB) so a write takes long enough to be cut in the middle.
  const seed = Array.from({ length: 2000 }, (_, i) => dev(`seed-${i}`));
  writeFileSync(fileOf(dir), fileText(seed));
  for (let round = 0; round < 8; round++) {
    const before = names(readFileSync(fileOf(dir), 'utf8'));
    const child = new StoreChild('loop', dir);
    try {
      // Aim at the second save's write: from taking the lock to the rename, give or take a few milliseconds.
      await child.waitFor('step locked 1');
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 25)));
    } finally {
      await child.kill();
    }
    const saved = child.lines.filter((l) => l.startsWith('saved ')).length;
    const after = names(readFileSync(fileOf(dir), 'utf8'));
    // Each save adds one environment: the file holds every save that finished, plus at most the one in flight.
    const added = after.length - before.length;
    assert.ok(added === saved || added === saved + 1, `round ${round}: ${saved} saves reported, ${added} environments added`);
    assert.deepEqual(after.slice(0, before.length), before);
    // Whatever the crash left (a lock, a temp file) must not block the next writer.
    const store = new EnvStore(dir, { lockWaitMs: 2000 });
    const next = await store.create(dev(`after-crash-${round}`));
    assert.equal(next.environments.length, after.length + 1);
    assert.deepEqual(leftovers(dir), []);
    // The loop child reuses the names loop-0, loop-1, …; start each round from a file without them.
    for (const name of next.environments.map((e) => e.name).filter((n) => n.startsWith('loop-'))) await store.delete(name);
  }
});
