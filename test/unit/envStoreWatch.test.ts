// EnvStore.watch: outside edits (in place, by rename, breaking ones, deletes) are reported once settled; the
// store's own saves are not.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EnvStore, type LoadResult } from '../../src/environments/store';
import { eu, fileText, prod, scratchApp, staging } from './envStoreFixtures';

const fileOf = (dir: string) => path.join(dir, 'encore.environments.json');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects what the watcher reports, and waits for the next report. */
function recorder() {
  const seen: LoadResult[] = [];
  let wake: (() => void) | undefined;
  return {
    seen,
    onChange: (r: LoadResult) => {
      seen.push(r);
      wake?.();
    },
    async next(count: number, timeoutMs = 5000): Promise<LoadResult> {
      const deadline = Date.now() + timeoutMs;
      while (seen.length < count) {
        if (Date.now() > deadline) throw new Error(`waited for report ${count}, have ${seen.length}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return seen[count - 1];
    },
  };
}

test('an outside edit in place is reported with the new environments', async (t) => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const store = new EnvStore(dir, { watchDebounceMs: 50 });
  await store.load();
  const r = recorder();
  const watching = store.watch(r.onChange);
  t.after(() => watching.close());
  writeFileSync(fileOf(dir), fileText([staging, prod]));
  const result = await r.next(1);
  assert.ok(result.ok);
  assert.deepEqual(result.environments.map((e) => e.name), ['staging', 'prod']);
  assert.deepEqual(store.current(), result, 'the store itself has reloaded');
});

test('an edit that breaks the file is reported with positioned errors, and the file is left as it is', async (t) => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const store = new EnvStore(dir, { watchDebounceMs: 50 });
  await store.load();
  const r = recorder();
  const watching = store.watch(r.onChange);
  t.after(() => watching.close());
  const broken = fileText([staging]).replace('"development"', '"develpment"');
  writeFileSync(fileOf(dir), broken);
  const result = await r.next(1);
  assert.ok(!result.ok);
  assert.deepEqual(
    result.errors.map((e) => [e.path, e.line, e.column]),
    [['/environments/0/type', 5, 15]],
  );
  await assert.rejects(store.create(eu), /is not valid, so it was left untouched/);
  assert.equal(readFileSync(fileOf(dir), 'utf8'), broken);
  // Fixed again by hand: reported as ok.
  writeFileSync(fileOf(dir), fileText([staging]));
  const fixed = await r.next(2);
  assert.ok(fixed.ok);
});

test('an editor-style save (write elsewhere, rename over) and a delete are both reported', async (t) => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const store = new EnvStore(dir, { watchDebounceMs: 50 });
  await store.load();
  const r = recorder();
  const watching = store.watch(r.onChange);
  t.after(() => watching.close());
  writeFileSync(path.join(dir, '.swap'), fileText([eu]));
  renameSync(path.join(dir, '.swap'), fileOf(dir));
  const replaced = await r.next(1);
  assert.ok(replaced.ok);
  assert.deepEqual(replaced.environments.map((e) => e.name), ['eu']);
  rmSync(fileOf(dir));
  const deleted = await r.next(2);
  assert.deepEqual(deleted, { ok: true, file: fileOf(dir), exists: false, environments: [], version: { exists: false } });
});

test('the store\'s own saves are not reported, and a burst of outside writes is reported once, settled', async (t) => {
  const dir = scratchApp();
  const store = new EnvStore(dir, { watchDebounceMs: 80 });
  await store.load();
  const r = recorder();
  const watching = store.watch(r.onChange);
  t.after(() => watching.close());
  await store.create(staging);
  await store.update('staging', { ...staging, deploy: { trigger: 'manual' } });
  await store.create(prod);
  await store.delete('prod');
  await sleep(400);
  assert.deepEqual(r.seen, [], 'own writes are ignored');

  for (let i = 0; i < 10; i++) writeFileSync(fileOf(dir), fileText(i % 2 ? [staging, eu] : [staging]));
  writeFileSync(fileOf(dir), fileText([staging, eu, prod]));
  const settled = await r.next(1);
  await sleep(300);
  assert.equal(r.seen.length, 1, 'one report for the burst');
  assert.ok(settled.ok);
  assert.deepEqual(settled.environments.map((e) => e.name), ['staging', 'eu', 'prod']);
});

test('lock and temp files beside the file are not changes, and nothing is reported after close', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const store = new EnvStore(dir, { watchDebounceMs: 30 });
  await store.load();
  const r = recorder();
  const watching = store.watch(r.onChange);
  writeFileSync(`${fileOf(dir)}.lock`, '{}');
  rmSync(`${fileOf(dir)}.lock`);
  writeFileSync(path.join(dir, 'encore.app'), '{"id": "shop"}');
  await sleep(250);
  assert.deepEqual(r.seen, []);
  watching.close();
  writeFileSync(fileOf(dir), fileText([staging, prod]));
  await sleep(250);
  assert.deepEqual(r.seen, []);
});
