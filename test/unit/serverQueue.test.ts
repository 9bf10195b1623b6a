// The edit queue of the language server: debouncing bursts, and merging the changes waiting for one analysis.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { Debouncer } from '../../src/server/debounce';
import { PendingChanges } from '../../src/server/pending';

test('a burst of schedules runs once, after the quiet time', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let runs = 0;
    const debouncer = new Debouncer(() => runs++, () => 150);
    debouncer.schedule();
    mock.timers.tick(100);
    debouncer.schedule();
    mock.timers.tick(100);
    debouncer.schedule();
    assert.equal(runs, 0);
    assert.equal(debouncer.scheduled, true);
    mock.timers.tick(149);
    assert.equal(runs, 0);
    mock.timers.tick(1);
    assert.equal(runs, 1);
    assert.equal(debouncer.scheduled, false);
    mock.timers.tick(1000);
    assert.equal(runs, 1);
  } finally {
    mock.timers.reset();
  }
});

test('the delay is read at each schedule, so a changed setting applies to the next edit', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let delay = 150;
    let runs = 0;
    const debouncer = new Debouncer(() => runs++, () => delay);
    delay = 20;
    debouncer.schedule();
    mock.timers.tick(20);
    assert.equal(runs, 1);
  } finally {
    mock.timers.reset();
  }
});

test('flush runs a scheduled call now (a request needs the current model); cancel drops it', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let runs = 0;
    const debouncer = new Debouncer(() => runs++, () => 150);
    debouncer.flush();
    assert.equal(runs, 0, 'nothing scheduled, nothing to run');
    debouncer.schedule();
    debouncer.flush();
    assert.equal(runs, 1);
    mock.timers.tick(500);
    assert.equal(runs, 1, 'the flushed call does not run a second time');
    debouncer.schedule();
    debouncer.cancel();
    mock.timers.tick(500);
    assert.equal(runs, 1);
  } finally {
    mock.timers.reset();
  }
});

test('pending changes keep the latest event per file, in first-touched order', () => {
  const pending = new PendingChanges();
  pending.add('/a.ts', { kind: 'overlay', text: '1' });
  pending.add('/b.ts', { kind: 'disk' });
  pending.add('/a.ts', { kind: 'overlay', text: '2' });
  assert.equal(pending.size, 2);
  assert.deepEqual(pending.drain(), [
    ['/a.ts', { kind: 'overlay', text: '2' }],
    ['/b.ts', { kind: 'disk' }],
  ]);
  assert.equal(pending.size, 0);
  assert.deepEqual(pending.drain(), []);
});

test('a disk event never hides an open document\'s text or a close; a reopen replaces a close', () => {
  const pending = new PendingChanges();
  pending.add('/a.ts', { kind: 'overlay', text: 'unsaved' });
  pending.add('/a.ts', { kind: 'disk' }); // autosave wrote the file: the editor text still rules
  pending.add('/b.ts', { kind: 'closed' });
  pending.add('/b.ts', { kind: 'disk' }); // the close rereads the disk anyway
  pending.add('/c.ts', { kind: 'closed' });
  pending.add('/c.ts', { kind: 'overlay', text: 'reopened' });
  assert.deepEqual(pending.drain(), [
    ['/a.ts', { kind: 'overlay', text: 'unsaved' }],
    ['/b.ts', { kind: 'closed' }],
    ['/c.ts', { kind: 'overlay', text: 'reopened' }],
  ]);
  pending.add('/d.ts', { kind: 'overlay', text: 'x' });
  pending.clear();
  assert.equal(pending.size, 0);
});
