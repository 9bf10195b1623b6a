/**
 * A local copy of state kept elsewhere (a Kubernetes Secret), so what needs no cluster still has something to read:
 * `plan --offline` and the statuses the tree shows at start. The remote backend stays the truth; the copy is a cache.
 *
 *   MirroredBackend   wraps the remote backend: every successful load and commit also writes the copy,
 *                     `.encore/state/<env>/mirror.json` ({format, source, seenAt, version, state}).
 *   MirrorReader      the read-only backend for when no cluster is reached: it reads the copy, and refuses writes.
 *   MigratingBackend  moves state recorded by an earlier version in the local folder (state.json) into the remote
 *                     backend on the first commit, then renames the local files aside.
 */

import { chmod, mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory, writeTemp } from '../../files/atomicWrite';
import { StateError, type BreakLockOptions, type EnvState, type HeldLock, type JournalEntry, type LoadedState, type LockHolder, type StateBackend, type StateVersion } from '../../model/state';
import { LocalFileBackend, localStateDirectory } from './localFile';
import { parseState } from './parse';
import { readRegular } from '../../files/regularFile';

export const MIRROR_FILE = 'mirror.json';
export const MIRROR_FORMAT = 1;

export interface Mirror {
  format: typeof MIRROR_FORMAT;
  /** The remote backend's location, e.g. "Secret encore-environments-state in namespace dev (context kind-dev)". */
  source: string;
  /** When the state was known to be the remote one (ISO time). */
  seenAt: string;
  version: StateVersion | null;
  /** null: nothing recorded (never applied, or destroyed). */
  state: EnvState | null;
}

export function mirrorFile(appRoot: string, environment: string): string {
  return path.join(localStateDirectory(appRoot, environment), MIRROR_FILE);
}

/** The copy, or null when there is none; a copy that cannot be read is a StateError 'corrupt', left in place. */
export async function readMirror(file: string): Promise<Mirror | null> {
  let text: string;
  try {
    // Not a plain read: a FIFO put in its place would block it forever.
    const bytes = await readRegular(file);
    if (bytes === undefined) return null;
    text = bytes.toString('utf8');
  } catch (err) {
    throw new StateError('io', `could not read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const refresh = 'it was left untouched; a plan with the cluster reachable replaces it (or remove it)';
  let data: Partial<Mirror>;
  try {
    data = JSON.parse(text) as Partial<Mirror>;
  } catch (err) {
    throw new StateError('corrupt', `${file} (the local copy of the state) is not valid JSON (${(err as Error).message}); ${refresh}.`, { cause: err });
  }
  const problem =
    typeof data !== 'object' || data === null || Array.isArray(data) ? 'it is not a JSON object'
    : data.format !== MIRROR_FORMAT ? `format ${JSON.stringify(data.format)} (this version reads format ${MIRROR_FORMAT})`
    : typeof data.source !== 'string' || typeof data.seenAt !== 'string' ? 'no source or time'
    : data.version !== null && typeof data.version !== 'string' ? 'no version'
    : null;
  if (problem) throw new StateError('corrupt', `${file} is not a local copy of state this version can read: ${problem}; ${refresh}.`);
  let state: EnvState | null = null;
  if (data.state !== null && data.state !== undefined) {
    try {
      state = parseState(JSON.stringify(data.state), file);
    } catch (err) {
      throw new StateError('corrupt', `${file} holds a state this version cannot read (${(err as Error).message}); ${refresh}.`, { cause: err });
    }
  }
  return { format: MIRROR_FORMAT, source: data.source!, seenAt: data.seenAt!, version: data.version ?? null, state };
}

/**
 * Replaces the copy atomically (temp file + rename), unless the copy already holds something seen later (another
 * process committed meanwhile). Never throws: the remote backend is the truth, and a copy that could not be written
 * must not fail an apply.
 */
async function writeMirror(file: string, mirror: Mirror): Promise<void> {
  let temp: string | undefined;
  try {
    // A copy that does not parse is replaced: it is only a cache of what the remote backend just returned.
    const current = await readMirror(file).catch(() => null);
    if (current && current.seenAt > mirror.seenAt) return;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    temp = await writeTemp(file, `${JSON.stringify(mirror, null, 2)}\n`);
    // The Secret is behind the cluster's RBAC; its copy is for this user only.
    await chmod(temp, 0o600);
    await rename(temp, file);
    temp = undefined;
    await syncDirectory(path.dirname(file));
  } catch {
    // see above
    if (temp) await unlink(temp).catch(() => undefined);
  }
}

/** A backend that adds to `inner`'s load and commit and passes everything else through. */
abstract class WrappedBackend implements StateBackend {
  constructor(readonly inner: StateBackend) {}

  get location(): string {
    return this.inner.location;
  }

  abstract load(): Promise<LoadedState>;
  abstract commit(state: EnvState, journal: JournalEntry[], expected: StateVersion | null): Promise<StateVersion>;

  readJournal(): Promise<JournalEntry[]> {
    return this.inner.readJournal();
  }

  acquireLock(holder: Omit<LockHolder, 'token'>): Promise<HeldLock> {
    return this.inner.acquireLock(holder);
  }

  inspectLock(): Promise<{ holder: LockHolder; gone: boolean; why: string } | null> {
    return this.inner.inspectLock();
  }

  breakLock(options: BreakLockOptions): Promise<LockHolder | null> {
    return this.inner.breakLock(options);
  }
}

/** The remote backend, with the local copy written after every successful load and commit. */
export class MirroredBackend extends WrappedBackend {
  constructor(
    inner: StateBackend,
    readonly file: string,
    /** The version the inner backend returns once the state is gone with its environment (a deleted namespace). */
    private readonly goneVersion?: StateVersion,
  ) {
    super(inner);
  }

  async load(): Promise<LoadedState> {
    // The read started now, so what it returns is at least that recent.
    const seenAt = new Date().toISOString();
    const loaded = await this.inner.load();
    await writeMirror(this.file, { format: MIRROR_FORMAT, source: this.inner.location, seenAt, version: loaded.version, state: loaded.state });
    return loaded;
  }

  async commit(state: EnvState, journal: JournalEntry[], expected: StateVersion | null): Promise<StateVersion> {
    const version = await this.inner.commit(state, journal, expected);
    const gone = this.goneVersion !== undefined && version === this.goneVersion;
    const seenAt = new Date().toISOString();
    await writeMirror(this.file, { format: MIRROR_FORMAT, source: this.inner.location, seenAt, version: gone ? null : version, state: gone ? null : state });
    return version;
  }
}

/**
 * Read-only state for when no cluster is reached: the local copy, else state an earlier version recorded in the local
 * folder (not migrated yet), else nothing. Writes and the lock need the remote backend, so they are refused.
 */
export class MirrorReader implements StateBackend {
  private described: string;

  constructor(
    readonly file: string,
    private readonly options: { environment: string; source: string; legacy?: LocalFileBackend },
  ) {
    this.described = `the local copy ${file} of ${options.source} (not read yet)`;
  }

  get location(): string {
    return this.described;
  }

  async load(): Promise<LoadedState> {
    const mirror = await readMirror(this.file);
    if (mirror) {
      this.described = `${this.file}, a local copy of ${mirror.source} as seen at ${mirror.seenAt}`;
      return { state: mirror.state, version: mirror.version };
    }
    const legacy = await this.options.legacy?.load();
    if (legacy?.state) {
      this.described = `${this.options.legacy!.location}, recorded by an earlier version (the next apply moves it into ${this.options.source})`;
      return { state: legacy.state, version: null };
    }
    this.described = `${this.options.source}, never read on this machine: no local copy, so nothing recorded is known`;
    return { state: null, version: null };
  }

  async readJournal(): Promise<JournalEntry[]> {
    return [];
  }

  commit(): Promise<StateVersion> {
    return Promise.reject(this.refuse('record state'));
  }

  acquireLock(): Promise<HeldLock> {
    return Promise.reject(this.refuse('take the lock'));
  }

  /** Unknown without the cluster; nothing offline ever needs to wait for it. */
  async inspectLock(): Promise<null> {
    return null;
  }

  breakLock(): Promise<LockHolder | null> {
    return Promise.reject(this.refuse('break the lock'));
  }

  private refuse(what: string): StateError {
    return new StateError('io', `cannot ${what} of environment "${this.options.environment}" offline: its state is kept in ${this.options.source}, and only a local copy was read. Run it again with the cluster reachable.`);
  }
}

/**
 * State recorded by an earlier version in the local folder moves into `inner` (the Secret): while `inner` holds no
 * state, load returns the local one with version null, so the first commit creates the remote state from it (and the
 * plan still deletes what the app no longer has). After a commit, the local state.json and journal.jsonl are renamed
 * aside (`.migrated-<time>`): nothing is lost, and they are not read again.
 */
export class MigratingBackend extends WrappedBackend {
  private fromLegacy = false;

  constructor(
    inner: StateBackend,
    readonly legacy: LocalFileBackend,
  ) {
    super(inner);
  }

  async load(): Promise<LoadedState> {
    const live = await this.inner.load();
    if (live.state) return live;
    const local = await this.legacy.load();
    this.fromLegacy = local.state !== null;
    return local.state ? { state: local.state, version: live.version } : live;
  }

  async commit(state: EnvState, journal: JournalEntry[], expected: StateVersion | null): Promise<StateVersion> {
    // The earlier journal goes along (the remote backend keeps what fits).
    const earlier = this.fromLegacy && expected === null ? await this.legacy.readJournal().catch(() => []) : [];
    const version = await this.inner.commit(state, [...earlier, ...journal], expected);
    this.fromLegacy = false;
    // After any commit, not just a migrating one: the remote state is the truth from now on, and a local state.json
    // left behind would be taken for it again once the remote state is gone (after a destroy).
    await moveAside(this.legacy.directory);
    return version;
  }
}

/** Best effort: a rename that fails is tried again after the next commit. */
async function moveAside(directory: string): Promise<void> {
  const stateFile = path.join(directory, 'state.json');
  if (!(await stat(stateFile).then(() => true, () => false))) return;
  const suffix = `.migrated-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    await rename(path.join(directory, 'journal.jsonl'), path.join(directory, `journal.jsonl${suffix}`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(stateFile, `${stateFile}${suffix}`);
    await syncDirectory(directory);
  } catch {
    // see above
  }
}
