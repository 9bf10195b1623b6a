/**
 * Recorded state of one environment and the backend that stores it (DESIGN.md "State"): what exists, what was last
 * applied, and who is applying right now. Backends: a local folder (development and tests,
 * src/provisioning/state/localFile.ts) and a Kubernetes Secret plus a Lease in the environment's namespace (the
 * Kubernetes provider's, and its default). Both give optimistic concurrency and an exclusive lock with the holder's
 * identity.
 *
 * Nothing here ever holds a secret value: outputs flagged secret are dropped before state is built, and settings
 * that took a secret through a reference are recorded with the reference, not its value.
 */

import type { DesiredResource, JsonValue, ProviderKind } from './desiredGraph';
import type { PlanAction } from './plan';

export const STATE_FORMAT = 1;

/** Where a resource stands in state. */
export type ResourceStatus =
  /** A step started and did not finish (crashed or cancelled mid-call): the object may or may not exist. */
  | 'pending'
  /** Applied and ready at the time it was recorded. */
  | 'ready'
  /** The last step on it failed; `error` says why. The object may exist half-done. */
  | 'failed';

export interface ResourceState {
  /** The resource as last applied: `settings` hold the resolved values, with secret-bearing references left as `${…}`. */
  resource: DesiredResource;
  status: ResourceStatus;
  /** Which operation the status belongs to (create after a crash is still 'create'). */
  lastAction: PlanAction | null;
  /** The non-secret outputs, for `${id.attribute}` references in later runs and for offline plans. */
  outputs: Record<string, JsonValue>;
  /** Names of outputs that exist but are secret, so a resumed run knows to read them live. */
  secretOutputs: string[];
  updatedAt: string;
  error: string | null;
  /**
   * Whether the tool made the object or adopted one someone else made (with the user's confirmation). Destroy
   * deletes only what the tool made. Absent in state written before this was recorded: made by the tool.
   */
  origin?: 'created' | 'adopted';
}

export interface OperationRecord {
  id: string;
  kind: 'apply' | 'destroy';
  startedAt: string;
  finishedAt: string | null;
  outcome: 'running' | 'succeeded' | 'failed' | 'cancelled';
  by: { user: string; host: string };
}

export interface EnvState {
  format: typeof STATE_FORMAT;
  environment: string;
  provider: ProviderKind;
  /** Increments on every write; journal entries carry it, so a reader knows which entries are newer than a snapshot. */
  serial: number;
  updatedAt: string;
  /** By resource id. */
  resources: Record<string, ResourceState>;
  /** The latest apply or destroy, also while it runs (outcome 'running' after a crash tells the next plan). */
  lastOperation: OperationRecord | null;
}

export function emptyState(environment: string, provider: ProviderKind): EnvState {
  return { format: STATE_FORMAT, environment, provider, serial: 0, updatedAt: new Date(0).toISOString(), resources: {}, lastOperation: null };
}

/** One line of the append-only journal: what the engine did, when, and how it ended. No secrets. */
export interface JournalEntry {
  at: string;
  operation: string;
  /** The state serial this entry leads to (the snapshot written with it). */
  serial: number;
  event: 'operation-start' | 'operation-end' | 'step-start' | 'step-done' | 'step-failed' | 'lock-broken';
  resourceId?: string;
  action?: PlanAction;
  message?: string;
}

/** An opaque token for optimistic concurrency: a content hash locally, a resourceVersion for a Secret. */
export type StateVersion = string;

export interface LoadedState {
  /** null when nothing was ever recorded for the environment. */
  state: EnvState | null;
  version: StateVersion | null;
}

/** Who holds an environment's lock; shown to anyone refused by it. */
export interface LockHolder {
  user: string;
  host: string;
  pid: number;
  /** ISO time the lock was taken. */
  startedAt: string;
  operation: 'apply' | 'destroy' | 'deploy';
  /** Unique per acquisition, so a holder only ever releases its own lock (a Lease's holderIdentity). */
  token: string;
}

export interface HeldLock {
  holder: LockHolder;
  /**
   * Fires if the lock is lost while held (a Lease that could not be renewed, a lock file broken by `unlock --force`):
   * the engine stops starting steps and its next state write is refused by optimistic concurrency anyway.
   */
  lost: AbortSignal;
  /** Releases the lock if it is still ours; a no-op otherwise. */
  release(): Promise<void>;
}

export interface BreakLockOptions {
  /** Break even when the holder may still be alive (on another host, or a Lease not yet expired). */
  force: boolean;
}

export interface StateBackend {
  /** Where state lives, for messages: "/app/.encore/state/dev", "Secret encore-state in namespace dev". */
  readonly location: string;
  load(): Promise<LoadedState>;
  /**
   * Writes the snapshot and appends the journal entries, atomically for the snapshot, only if the stored version is
   * still `expected` (null: nothing stored yet). Returns the new version. Throws StateError 'conflict' otherwise.
   * Backends may keep only a bounded tail of the journal (a Secret holds 1 MiB); the local one keeps it all.
   */
  commit(state: EnvState, journal: JournalEntry[], expected: StateVersion | null): Promise<StateVersion>;
  /** The journal, oldest first (what the backend kept of it). */
  readJournal(): Promise<JournalEntry[]>;
  /** Takes the environment's lock, or throws StateError 'locked' with the holder. Never waits, never breaks it. */
  acquireLock(holder: Omit<LockHolder, 'token'>): Promise<HeldLock>;
  /** Who holds the lock now, and whether that holder is known to be gone; null when it is free. */
  inspectLock(): Promise<{ holder: LockHolder; gone: boolean; why: string } | null>;
  /**
   * Deliberately breaks the lock: only when its holder is gone (same host and its process no longer runs, or an
   * expired Lease), or with `force`. Returns the holder it removed, null when it was free. Throws StateError
   * 'locked' when the holder looks alive and `force` is not set.
   */
  breakLock(options: BreakLockOptions): Promise<LockHolder | null>;
}

export type StateErrorCode = 'conflict' | 'locked' | 'corrupt' | 'io' | 'mismatch';

/** A state backend failure, with a code to branch on without instanceof across bundles. */
export class StateError extends Error {
  readonly code: StateErrorCode;
  /** For 'locked': who holds it. */
  readonly holder: LockHolder | undefined;

  constructor(code: StateErrorCode, message: string, options: { holder?: LockHolder; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StateError';
    this.code = code;
    this.holder = options.holder;
  }
}

export function isStateError(err: unknown): err is StateError {
  return err instanceof Error && err.name === 'StateError' && typeof (err as StateError).code === 'string';
}

/** "alice on build-3 (pid 4242), running apply since 2026-05-01T10:00:00.000Z". */
export function describeHolder(holder: LockHolder): string {
  return `${holder.user} on ${holder.host} (pid ${holder.pid}), running ${holder.operation} since ${holder.startedAt}`;
}
