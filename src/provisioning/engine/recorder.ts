/**
 * Writes state as steps happen. Changes are applied to the in-memory state at once and committed in order, one
 * commit at a time (optimistic concurrency needs the previous version); changes that arrive while a commit is in
 * flight are coalesced into the next one, so parallel steps share writes instead of queueing one per step. Every
 * commit is a full snapshot plus the journal entries since the last, which the backend writes atomically.
 *
 * A failed commit (a conflict, an unwritable disk) is fatal for the run: `failure` is set and the engine starts no
 * further step, since it could no longer record what it does.
 */

import type { EnvState, JournalEntry, StateBackend, StateVersion } from '../../model/state';
import { StateError } from '../../model/state';
import type { Redactor } from './redact';

export type JournalDraft = Omit<JournalEntry, 'at' | 'operation' | 'serial'>;

export class StateRecorder {
  private pendingJournal: JournalEntry[] = [];
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private dirty = false;
  private writing: Promise<void> | undefined;
  failure: Error | undefined;

  constructor(
    private readonly backend: StateBackend,
    readonly state: EnvState,
    private version: StateVersion | null,
    private readonly operation: string,
    private readonly redactor: Redactor,
    private readonly onCommit?: (state: EnvState, version: StateVersion) => void,
  ) {}

  get currentVersion(): StateVersion | null {
    return this.version;
  }

  /**
   * Applies `change` to the state now and queues a commit with `entry`. The promise settles when a commit that
   * includes the change is durable; callers that need not wait may ignore it (a failure is also kept in `failure`).
   */
  record(change: ((state: EnvState) => void) | null, entry: JournalDraft | null): Promise<void> {
    if (this.failure) {
      const refused = Promise.reject(this.failure);
      refused.catch(() => undefined); // callers that do not wait must not cause an unhandled rejection
      return refused;
    }
    change?.(this.state);
    if (entry) this.pendingJournal.push({ at: new Date().toISOString(), operation: this.operation, serial: 0, ...entry, message: entry.message === undefined ? undefined : this.redactor.redact(entry.message) });
    this.dirty = true;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    done.catch(() => undefined); // callers that do not wait must not cause an unhandled rejection
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
    });
    return done;
  }

  /** Waits until everything recorded so far is committed (or the recorder failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }

  private async writeLoop(): Promise<void> {
    while (this.dirty && !this.failure) {
      this.dirty = false;
      const waiters = this.waiters.splice(0);
      const journal = this.pendingJournal.splice(0);
      this.state.serial++;
      this.state.updatedAt = new Date().toISOString();
      for (const e of journal) e.serial = this.state.serial;
      const snapshot = structuredClone(this.state);
      try {
        // The last line of defence: whatever a bug might have put into state, a secret seen in this run never leaves.
        if (this.redactor.leaks(JSON.stringify(snapshot)) || this.redactor.leaks(JSON.stringify(journal))) {
          throw new Error('refusing to write state: it would contain a secret value (a bug in the engine or a driver)');
        }
        this.version = await this.backend.commit(snapshot, journal, this.version);
        this.onCommit?.(snapshot, this.version);
        for (const w of waiters) w.resolve();
      } catch (err) {
        const cause = err as Error;
        this.failure = new StateError(
          (err as StateError).code === 'conflict' ? 'conflict' : 'io',
          `could not record state in ${this.backend.location}: ${cause.message}`,
          { cause },
        );
        for (const w of [...waiters, ...this.waiters.splice(0)]) w.reject(this.failure);
      }
    }
  }
}
