// Issue 9 item 13: state and journal written by the local backend (also with `--state-dir`) are 0600 and the folders
// it creates 0700, whatever the umask, as mirror.json is: they name everything the environment has in the cloud.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { emptyState, type JournalEntry } from '../../src/model/state';
import { LocalFileBackend } from '../../src/provisioning/state';

const root = mkdtempSync(path.join(os.tmpdir(), 'state-modes-'));
after(() => rmSync(root, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o777;
const entry: JournalEntry = { at: new Date().toISOString(), operation: 'op-1', serial: 1, event: 'operation-start' };

test('state.json and journal.jsonl are 0600 and new folders 0700, even with a permissive umask', async () => {
  const old = process.umask(0o000);
  try {
    // As `--state-dir` makes it: a folder that does not exist yet, two levels deep.
    const dir = path.join(root, 'given', 'state');
    const backend = new LocalFileBackend(dir, 'dev');
    await backend.commit({ ...emptyState('dev', 'kubernetes'), serial: 1 }, [entry], null);
    assert.equal(mode(path.join(dir, 'state.json')).toString(8), '600');
    assert.equal(mode(path.join(dir, 'journal.jsonl')).toString(8), '600');
    assert.equal(mode(dir).toString(8), '700');
    assert.equal(mode(path.join(root, 'given')).toString(8), '700');

    // The app's own folder, with files an older version wrote 0644 in a folder it made 0755: made private.
    const app = path.join(root, 'app');
    const own = path.join(app, '.encore', 'state', 'dev');
    mkdirSync(own, { recursive: true, mode: 0o755 });
    const journal = path.join(own, 'journal.jsonl');
    writeFileSync(journal, `${JSON.stringify(entry)}\n`, { mode: 0o644 });
    const forApp = LocalFileBackend.forApp(app, 'dev');
    await forApp.commit({ ...emptyState('dev', 'kubernetes'), serial: 1 }, [{ ...entry, serial: 1 }], null);
    assert.equal(mode(journal).toString(8), '600');
    assert.equal(mode(path.join(own, 'state.json')).toString(8), '600');
    assert.equal(mode(own).toString(8), '700');
    // A state.json that was 0644 is replaced by a 0600 one.
    chmodSync(path.join(own, 'state.json'), 0o644);
    const { version } = await forApp.load();
    await forApp.commit({ ...emptyState('dev', 'kubernetes'), serial: 2 }, [], version);
    assert.equal(mode(path.join(own, 'state.json')).toString(8), '600');
  } finally {
    process.umask(old);
  }
});

test('a folder given with --state-dir that already exists keeps its mode: it is the user\'s', async () => {
  const dir = path.join(root, 'existing');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  await new LocalFileBackend(dir, 'dev').commit({ ...emptyState('dev', 'kubernetes'), serial: 1 }, [entry], null);
  assert.equal(mode(dir).toString(8), '755');
  assert.equal(mode(path.join(dir, 'state.json')).toString(8), '600');
});
