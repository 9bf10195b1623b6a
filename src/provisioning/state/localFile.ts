/**
 * The local state backend: one folder per environment, `.encore/state/<env>/` under the app root (Encore apps already
 * ignore `.encore` in git), holding
 *   state.json     the latest snapshot, replaced atomically (temp file + fsync + rename + directory fsync);
 *   journal.jsonl  every step's start, end or failure, appended and fsynced before the snapshot that follows it;
 *   lock.json      the environment lock with its holder (localLock.ts).
 * Optimistic concurrency: the version is the snapshot's content hash, checked and replaced under the short save
 * lock the environments file uses (src/environments/lock.ts), so two writers cannot both win.
 * State and journal name what exists in the cloud: they are 0600, and the folders the backend creates 0700 (as
 * mirror.json is), whatever the umask.
 */

import { chmod, mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { removeLeftoverTemps, syncDirectory, writeTemp } from '../../files/atomicWrite';
import { hashText, readWithVersion } from '../../files/fileVersion';
import { acquireLock } from '../../files/lock';
import { StateError, type BreakLockOptions, type EnvState, type HeldLock, type JournalEntry, type LoadedState, type LockHolder, type StateBackend, type StateVersion } from '../../model/state';
import { acquireFileLock, inspectFileLock, lockedMessage, removeInspectedLock } from './localLock';
import { parseJournal, parseState } from './parse';
import { readRegular } from '../../files/regularFile';

const ENV_NAME = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/i;

/** Where the local backend keeps an environment's state. */
export function localStateDirectory(appRoot: string, environment: string): string {
  if (!ENV_NAME.test(environment)) throw new StateError('io', `"${environment}" cannot name a state folder (letters, digits, dashes only)`);
  return path.join(appRoot, '.encore', 'state', environment);
}

export class LocalFileBackend implements StateBackend {
  readonly location: string;
  private readonly stateFile: string;
  private readonly journalFile: string;
  private readonly lockFile: string;
  private readonly saveLock: string;

  constructor(
    readonly directory: string,
    private readonly environment: string,
    /** True for `.encore/state/<env>/`, the backend's own folder: made 0700 even when an older version created it. */
    private readonly ownFolder = false,
  ) {
    this.location = directory;
    this.stateFile = path.join(directory, 'state.json');
    this.journalFile = path.join(directory, 'journal.jsonl');
    this.lockFile = path.join(directory, 'lock.json');
    this.saveLock = path.join(directory, '.save.lock');
  }

  static forApp(appRoot: string, environment: string): LocalFileBackend {
    return new LocalFileBackend(localStateDirectory(appRoot, environment), environment, true);
  }

  async load(): Promise<LoadedState> {
    const { text, version } = await this.read();
    if (text === undefined || !version) return { state: null, version: null };
    return { state: parseState(text, this.stateFile), version };
  }

  async commit(state: EnvState, journal: JournalEntry[], expected: StateVersion | null): Promise<StateVersion> {
    await this.makeDirectory();
    const release = await acquireLock(this.saveLock, { waitMs: 10_000 });
    try {
      await removeLeftoverTemps(this.stateFile);
      const { version } = await this.read();
      if (version !== expected) {
        throw new StateError('conflict', `${this.stateFile} was changed by another run since it was read (expected ${short(expected)}, found ${short(version)}); nothing was written`);
      }
      // Journal first: a crash between the two leaves entries newer than the snapshot, never a snapshot that claims
      // steps the journal does not show.
      if (journal.length > 0) await this.append(journal);
      const text = `${JSON.stringify(state, null, 2)}\n`;
      const temp = await writeTemp(this.stateFile, text, { mode: 0o600 });
      await rename(temp, this.stateFile);
      await syncDirectory(this.directory);
      return hashText(text);
    } catch (err) {
      if (err instanceof StateError) throw err;
      throw new StateError('io', `could not write ${this.stateFile}: ${(err as Error).message}`, { cause: err });
    } finally {
      await release();
    }
  }

  async readJournal(): Promise<JournalEntry[]> {
    return parseJournal((await readRegular(this.journalFile))?.toString('utf8') ?? '');
  }

  async acquireLock(holder: Omit<LockHolder, 'token'>): Promise<HeldLock> {
    await this.makeDirectory();
    return acquireFileLock(this.lockFile, this.environment, holder);
  }

  async inspectLock(): Promise<{ holder: LockHolder; gone: boolean; why: string } | null> {
    const seen = await inspectFileLock(this.lockFile);
    return seen && { holder: seen.holder, gone: seen.gone, why: seen.why };
  }

  async breakLock(options: BreakLockOptions): Promise<LockHolder | null> {
    const seen = await inspectFileLock(this.lockFile);
    if (!seen) return null;
    if (!seen.gone && !options.force) {
      throw new StateError('locked', `${lockedMessage(this.environment, seen)} It was left in place; force it only if you know that run has stopped.`, { holder: seen.holder });
    }
    if (!(await removeInspectedLock(this.lockFile, seen))) return null;
    const state = await this.load().catch(() => ({ state: null }));
    await this.append([
      {
        at: new Date().toISOString(), operation: 'unlock', serial: state.state?.serial ?? 0, event: 'lock-broken',
        message: `broke the lock of ${seen.holder.user} on ${seen.holder.host} (pid ${seen.holder.pid}, ${seen.holder.operation} since ${seen.holder.startedAt})${seen.gone ? `: ${seen.why}` : ', forced'}`,
      },
    ]);
    return seen.holder;
  }

  private async read(): Promise<{ text: string | undefined; version: StateVersion | null }> {
    const { text, version } = await readWithVersion(this.stateFile);
    return { text, version: version.exists ? version.hash : null };
  }

  /** The folder, 0700 when this backend creates it (every level it creates) or owns it. */
  private async makeDirectory(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    if (this.ownFolder) await chmod(this.directory, 0o700);
  }

  private async append(entries: JournalEntry[]): Promise<void> {
    await this.makeDirectory();
    const handle = await open(this.journalFile, 'a+', 0o600);
    try {
      // A journal an older version wrote with the umask's mode becomes private too.
      await handle.chmod(0o600);
      // A crash mid-append can leave a torn last line; start on a fresh line so only that one entry is lost.
      const { size } = await handle.stat();
      const last = size > 0 ? (await handle.read(Buffer.alloc(1), 0, 1, size - 1)).buffer.toString('utf8') : '\n';
      const lines = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
      await handle.writeFile(last === '\n' ? lines : `\n${lines}`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function short(version: StateVersion | null): string {
  return version === null ? 'no state' : `version ${version.slice(0, 12)}`;
}
