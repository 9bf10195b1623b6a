/**
 * What the remote state backends' locks share (a Kubernetes Lease, an S3 object, a GCS object): the renewal loop
 * that keeps a held lock alive, and the break rules that say when its holder is gone.
 *
 * - holdLease: renews every third of the lease while held. A renewal that finds the lock no longer ours fires
 *   `lost` at once; a renewal that fails (the backend unreachable) is retried on the next tick, and only a whole
 *   lease duration without a successful one fires `lost`. Release stops the loop, waits for a renewal in flight,
 *   then lets the backend remove the lock if it is still ours.
 * - judgeHolder: a holder is gone when its process no longer runs on this host, or when its lock was not renewed
 *   for a whole lease duration; anything else may still be running, and only force breaks its lock.
 */

import os from 'node:os';
import { processAlive } from '../../files/processAlive';
import { describeHolder, StateError, type HeldLock, type LockHolder } from '../../model/state';

export interface LeaseKeeper {
  environment: string;
  leaseSeconds: number;
  /** One renewal: true when renewed, false when the lock is no longer this holder's; throws when it could not tell. */
  renew(): Promise<boolean>;
  /** Removes the lock if it is still this holder's (the loop has stopped by then). */
  release(): Promise<void>;
}

export function holdLease(holder: LockHolder, keeper: LeaseKeeper): HeldLock {
  const lost = new AbortController();
  const leaseMs = keeper.leaseSeconds * 1000;
  let lastRenewed = Date.now();
  let renewing: Promise<void> | null = null;
  const renew = async () => {
    try {
      if (!(await keeper.renew())) {
        lost.abort(new StateError('locked', `the lock of ${keeper.environment} was broken or taken over while this run held it`));
        return;
      }
      lastRenewed = Date.now();
    } catch (err) {
      if (Date.now() - lastRenewed > leaseMs) {
        lost.abort(new StateError('locked', `the lock of ${keeper.environment} could not be renewed for ${keeper.leaseSeconds} s: ${(err as Error).message}`, { cause: err }));
      }
    }
  };
  const timer = setInterval(() => {
    if (!lost.signal.aborted) renewing ??= renew().finally(() => (renewing = null));
  }, leaseMs / 3);
  timer.unref();
  return {
    holder,
    lost: lost.signal,
    release: async () => {
      clearInterval(timer);
      await renewing;
      await keeper.release();
    },
  };
}

export interface HolderVerdict {
  holder: LockHolder;
  gone: boolean;
  why: string;
}

/**
 * Whether the holder of a lock is gone. `renewedAt` is a Date.parse result (NaN: never renewed); `noun` names the
 * lock in the reason ("Lease", "lock").
 */
export function judgeHolder(holder: LockHolder, renewedAt: number, leaseSeconds: number, noun: string, now = Date.now()): HolderVerdict {
  const duration = leaseSeconds * 1000;
  const age = now - renewedAt;
  if (holder.host === os.hostname() && !processAlive(holder.pid)) return { holder, gone: true, why: `process ${holder.pid} no longer runs on ${holder.host}` };
  if (!Number.isFinite(renewedAt) || age > duration) {
    return { holder, gone: true, why: `its ${noun} was last renewed ${Number.isFinite(renewedAt) ? `${Math.round(age / 1000)} s ago` : 'never'}, and expires after ${duration / 1000} s` };
  }
  return { holder, gone: false, why: `its ${noun} was renewed ${Math.round(age / 1000)} s ago` };
}

/** A holder for a lock whose body this version cannot read: gone, so that it can be broken without force. */
export function unreadableHolder(text: string): HolderVerdict {
  const holder: LockHolder = { user: 'unknown', host: 'unknown host', pid: 0, startedAt: 'an unknown time', operation: 'apply', token: '' };
  return { holder, gone: true, why: `the lock object is not a lock this version wrote (${text.slice(0, 60)})` };
}

/** The 'locked' message: who holds it, and what to do. */
export function lockedText(environment: string, s: HolderVerdict): string {
  const next = s.gone
    ? `That holder is gone (${s.why}): if its run is over, break the lock with "encore-env unlock --env ${environment}".`
    : `Wait for it to finish (${s.why}).`;
  return `environment "${environment}" is locked by ${describeHolder(s.holder)}. ${next}`;
}

/** The journal message of a broken lock. */
export function brokenLockMessage(s: HolderVerdict): string {
  const h = s.holder;
  return `broke the lock of ${h.user} on ${h.host} (pid ${h.pid}, ${h.operation} since ${h.startedAt})${s.gone ? `: ${s.why}` : ', forced'}`;
}
