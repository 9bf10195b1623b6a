import type { LockHolder, StateBackend } from '../../model/state';

export interface UnlockResult {
  /** The holder whose lock was broken; null when the environment was not locked. */
  broken: LockHolder | null;
  /** Why it was safe (or forced), for the message. */
  why: string;
}

/**
 * Deliberately breaks an environment's lock: only when its holder is gone (same host and its process no longer
 * runs, an expired Lease) unless `force`. The backend refuses a live holder with a StateError 'locked'.
 */
export async function unlock(backend: StateBackend, options: { force?: boolean } = {}): Promise<UnlockResult> {
  const seen = await backend.inspectLock();
  if (!seen) return { broken: null, why: 'it was not locked' };
  const broken = await backend.breakLock({ force: options.force === true });
  if (!broken) return { broken: null, why: 'the lock was released meanwhile' };
  return { broken, why: seen.gone ? seen.why : 'forced' };
}
