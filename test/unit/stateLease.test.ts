// The lease the remote state backends share (src/provisioning/state/lease.ts): the renewal loop (every third of the
// lease; a lock found no longer ours is lost at once; failed renewals are retried until a whole lease has passed
// without one; release stops the loop, waits for a renewal in flight, then removes the lock), and the break rules.
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { isStateError, type LockHolder } from '../../src/model/state';
import { brokenLockMessage, holdLease, judgeHolder, lockedText, unreadableHolder } from '../../src/provisioning/state/lease';

const holder = (pid = process.pid, host = os.hostname()): LockHolder => ({ user: 'alice', host, pid, startedAt: '2026-12-06T10:00:00.000Z', operation: 'apply', token: 't1' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('renews every third of the lease while held, and release stops the loop before removing the lock', async () => {
  const events: string[] = [];
  const lock = holdLease(holder(), {
    environment: 'prod', leaseSeconds: 0.3,
    renew: async () => (events.push('renew'), true),
    release: async () => void events.push('release'),
  });
  await sleep(350);
  const renewals = events.length;
  assert.ok(renewals >= 1 && renewals <= 4, `about three renewals in one lease (${renewals})`);
  await lock.release();
  await sleep(250);
  assert.deepEqual(events.slice(renewals), ['release'], 'nothing renewed after release');
  assert.equal(lock.lost.aborted, false);
});

test('a renewal that finds the lock no longer ours loses it at once', async () => {
  const lock = holdLease(holder(), { environment: 'prod', leaseSeconds: 0.15, renew: async () => false, release: async () => undefined });
  await sleep(120);
  assert.equal(lock.lost.aborted, true);
  assert.ok(isStateError(lock.lost.reason) && lock.lost.reason.code === 'locked' && /broken or taken over/.test(lock.lost.reason.message));
  await lock.release();
});

test('failed renewals are retried; only a whole lease without one loses the lock', async () => {
  let failing = true;
  let calls = 0;
  const lock = holdLease(holder(), {
    environment: 'prod', leaseSeconds: 0.3,
    renew: async () => {
      calls++;
      if (failing) throw new Error('connect ECONNREFUSED');
      return true;
    },
    release: async () => undefined,
  });
  await sleep(220);
  assert.ok(calls >= 1);
  assert.equal(lock.lost.aborted, false, 'a missed renewal is not yet a lost lock');
  failing = false;
  await sleep(500);
  assert.equal(lock.lost.aborted, false, 'renewed again in time');
  failing = true;
  await sleep(600);
  assert.equal(lock.lost.aborted, true);
  assert.match((lock.lost.reason as Error).message, /could not be renewed for 0\.3 s: connect ECONNREFUSED/);
  await lock.release();
});

test('release waits for a renewal in flight before removing the lock', async () => {
  const events: string[] = [];
  const lock = holdLease(holder(), {
    environment: 'prod', leaseSeconds: 0.09,
    renew: async () => {
      events.push('renew start');
      await sleep(80);
      events.push('renew end');
      return true;
    },
    release: async () => void events.push('release'),
  });
  await sleep(40);
  await lock.release();
  assert.deepEqual(events, ['renew start', 'renew end', 'release']);
});

test('break rules: a dead process on this host, or a lock not renewed for its lease, is gone; else it waits', () => {
  const now = Date.parse('2026-12-06T10:00:30.000Z');
  const dead = judgeHolder(holder(2 ** 22 + 7), now - 1000, 30, 'lock', now);
  assert.deepEqual([dead.gone, dead.why], [true, `process ${2 ** 22 + 7} no longer runs on ${os.hostname()}`]);
  const stale = judgeHolder(holder(1, 'ci-runner-3'), now - 45_000, 30, 'Lease', now);
  assert.deepEqual([stale.gone, stale.why], [true, 'its Lease was last renewed 45 s ago, and expires after 30 s']);
  const never = judgeHolder(holder(1, 'ci-runner-3'), Number.NaN, 30, 'lock', now);
  assert.deepEqual([never.gone, never.why], [true, 'its lock was last renewed never, and expires after 30 s']);
  const live = judgeHolder(holder(1, 'ci-runner-3'), now - 4000, 30, 'lock', now);
  assert.deepEqual([live.gone, live.why], [false, 'its lock was renewed 4 s ago']);
  assert.equal(judgeHolder(holder(), now - 1000, 30, 'lock', now).gone, false, 'this very process, renewed: alive');

  assert.match(lockedText('prod', live), /^environment "prod" is locked by alice on ci-runner-3 \(pid 1\), running apply since .*\. Wait for it to finish \(its lock was renewed 4 s ago\)\.$/);
  assert.match(lockedText('prod', stale), /That holder is gone \(its Lease .*\): if its run is over, break the lock with "encore-env unlock --env prod"\./);
  assert.equal(brokenLockMessage(stale), 'broke the lock of alice on ci-runner-3 (pid 1, apply since 2026-12-06T10:00:00.000Z): its Lease was last renewed 45 s ago, and expires after 30 s');
  assert.match(brokenLockMessage(live), /, forced$/);
  const odd = unreadableHolder('{"holder": 3}');
  assert.deepEqual([odd.gone, odd.holder.user], [true, 'unknown']);
  assert.match(odd.why, /not a lock this version wrote \(\{"holder": 3\}\)/);
});
