import { watch as watchFs, type FSWatcher } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ENVIRONMENTS_FILE, type Environment, type EnvironmentsFile } from '../model/environment';
import { removeLeftoverTemps, syncDirectory, writeTarget, writeTemp } from '../files/atomicWrite';
import { editEnvironments, type EnvironmentEdit } from './edits';
import { ConflictError, EnvStoreError, InvalidFileError, LockedError, NotFoundError, ValidationError } from './errors';
import { hashText, readWithVersion, sameVersion, type FileVersion } from '../files/fileVersion';
import { acquireLock, FileLockedError } from '../files/lock';
import { parseEnvironmentsText } from './parse';
import type { FileProblem } from './problems';
import { canonicalEnvironment, detectStyle, serializeDocument } from './serialize';
import { validateEnvironment } from './validate';

export interface LoadOk {
  ok: true;
  file: string;
  /** False when there is no file yet: no environments, and the first create writes it. */
  exists: boolean;
  environments: Environment[];
  version: FileVersion;
}

export interface LoadFailed {
  ok: false;
  file: string;
  errors: FileProblem[];
  /** Undefined when the file could not be read at all. */
  version: FileVersion | undefined;
}

export type LoadResult = LoadOk | LoadFailed;

/** The points a save passes through, for tracing and for tests that stop a save part-way. */
export type SaveStep = 'locked' | 'temp-written' | 'renamed';

export interface EnvStoreOptions {
  /** The lock is considered abandoned after this long (default 30 s). */
  lockStaleMs?: number;
  /** How long a save waits for another writer's lock (default 3 s). */
  lockWaitMs?: number;
  /** Quiet time after the last file event before the watcher reloads (default 100 ms). */
  watchDebounceMs?: number;
  onStep?: (step: SaveStep) => void | Promise<void>;
}

export interface Watching {
  close(): void;
}

interface Loaded {
  result: LoadResult;
  text: string | undefined;
  document: EnvironmentsFile | undefined;
}

/**
 * Reads, validates and writes the environments file of one Encore app (`encore.environments.json` beside
 * `encore.app`). Writes are atomic and optimistic: a save only lands if the file still holds what this store last
 * read, otherwise it is refused with a ConflictError and the store reloads. The store never writes over a file it
 * cannot parse or that fails validation.
 */
export class EnvStore {
  readonly file: string;
  private loaded: Loaded | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly appRoot: string,
    private readonly options: EnvStoreOptions = {},
  ) {
    this.file = path.join(appRoot, ENVIRONMENTS_FILE);
  }

  /** What the last load or save found, without touching the disk. */
  current(): LoadResult | undefined {
    return this.loaded?.result;
  }

  load(): Promise<LoadResult> {
    return this.serial(() => this.loadNow());
  }

  /** Adds an environment; its name must be free. */
  create(env: Environment): Promise<LoadOk> {
    return this.mutate((doc) => {
      const problems = validateEnvironment(env, doc.environments.map((e) => e.name));
      if (problems.length > 0) throw new ValidationError(problems);
      const added = canonicalEnvironment(env);
      return { document: { ...doc, environments: [...doc.environments, added] }, edit: { kind: 'append', env: added } };
    });
  }

  /** Replaces the environment called `name`; `env.name` may differ (a rename) if no other environment has it. */
  update(name: string, env: Environment): Promise<LoadOk> {
    return this.mutate((doc) => {
      const index = this.indexOf(doc, name);
      const others = doc.environments.filter((_, i) => i !== index).map((e) => e.name);
      const problems = validateEnvironment(env, others);
      if (problems.length > 0) throw new ValidationError(problems);
      const environments = [...doc.environments];
      environments[index] = canonicalEnvironment(env);
      return { document: { ...doc, environments }, edit: { kind: 'replace', index, env: environments[index] } };
    });
  }

  delete(name: string): Promise<LoadOk> {
    return this.mutate((doc) => {
      const index = this.indexOf(doc, name);
      return { document: { ...doc, environments: doc.environments.filter((_, i) => i !== index) }, edit: { kind: 'remove', index } };
    });
  }

  /**
   * Calls `onChange` with a fresh load result whenever someone else changes the file (an edit that breaks it gives
   * `ok: false` with the errors). The directory is watched, not the file, because saves (ours and most editors')
   * replace the file by a rename. Our own saves are not reported.
   */
  watch(onChange: (result: LoadResult) => void): Watching {
    const base = path.basename(this.file);
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    const check = () => {
      void this.serial(async () => {
        if (closed) return undefined;
        // Checks run in the store's queue, after any save of ours has recorded its version: our own writes
        // therefore compare equal here and are not reported.
        const disk = await readWithVersion(this.file).catch(() => undefined);
        const last = this.loaded?.result.version;
        if (disk && last && sameVersion(disk.version, last)) return undefined;
        return this.loadNow();
      }).then((result) => {
        if (result && !closed) onChange(result);
      });
    };
    let watcher: FSWatcher;
    try {
      watcher = watchFs(path.dirname(this.file), (_event, filename) => {
        // Lock and temp files come and go beside the file on every save; only the file itself matters.
        if (filename !== null && filename.toString() !== base) return;
        clearTimeout(timer);
        timer = setTimeout(check, this.options.watchDebounceMs ?? 100);
      });
    } catch (err) {
      throw new EnvStoreError('io', `cannot watch ${path.dirname(this.file)} for changes`, { cause: err });
    }
    // The folder itself went away (or the watch broke): report what is there now, once, and stop.
    watcher.on('error', () => {
      watcher.close();
      check();
    });
    return {
      close: () => {
        closed = true;
        clearTimeout(timer);
        watcher.close();
      },
    };
  }

  private indexOf(doc: EnvironmentsFile, name: string): number {
    const index = doc.environments.findIndex((e) => e.name === name);
    if (index < 0) throw new NotFoundError(this.file, name);
    return index;
  }

  /** Runs store operations one at a time, so a load never overtakes a save of the same store. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loadNow(): Promise<LoadResult> {
    let read;
    try {
      read = await readWithVersion(this.file);
    } catch (err) {
      const problem: FileProblem = { message: `cannot read the file: ${(err as Error).message}`, path: '', line: 1, column: 1, offset: 0, length: 0 };
      this.loaded = { result: { ok: false, file: this.file, errors: [problem], version: undefined }, text: undefined, document: undefined };
      return this.loaded.result;
    }
    const { text, version } = read;
    if (text === undefined) {
      this.loaded = { result: { ok: true, file: this.file, exists: false, environments: [], version }, text, document: { environments: [] } };
      return this.loaded.result;
    }
    let parsed: ReturnType<typeof parseEnvironmentsText>;
    try {
      parsed = parseEnvironmentsText(text);
    } catch (err) {
      // A file the checks themselves cannot get through is a problem with the file, never a load that rejects.
      parsed = { ok: false, problems: [{ message: `cannot check the file: ${(err as Error).message}`, path: '', line: 1, column: 1, offset: 0, length: 0 }] };
    }
    this.loaded = parsed.ok
      ? { result: { ok: true, file: this.file, exists: true, environments: parsed.document.environments, version }, text, document: parsed.document }
      : { result: { ok: false, file: this.file, errors: parsed.problems, version }, text, document: undefined };
    return this.loaded.result;
  }

  private mutate(change: (doc: EnvironmentsFile) => { document: EnvironmentsFile; edit: EnvironmentEdit }): Promise<LoadOk> {
    return this.serial(async () => {
      // A store that never loaded, or whose file was broken, looks at the disk first: there is no earlier view to
      // protect, and the file may have been fixed meanwhile.
      if (!this.loaded?.result.ok) await this.loadNow();
      const base = this.loaded;
      if (!base?.document || !base.result.ok) {
        throw new InvalidFileError(this.file, base?.result.ok === false ? base.result.errors : []);
      }
      const { document, edit } = change(base.document);
      const text = newText(base.text, document, edit);
      // The whole new file must pass too (it always should: a failure here is a bug, and must not reach the disk).
      const check = parseEnvironmentsText(text);
      if (!check.ok) throw new ValidationError(check.problems);
      return this.save(text, check.document, base.result.version);
    });
  }

  private async save(text: string, document: EnvironmentsFile, expected: FileVersion): Promise<LoadOk> {
    const release = await acquireLock(`${this.file}.lock`, { staleMs: this.options.lockStaleMs, waitMs: this.options.lockWaitMs }).catch((err: unknown) => {
      if (err instanceof FileLockedError) throw new LockedError(err.lockFile, err.holder);
      throw new EnvStoreError('io', `could not save ${this.file}: cannot create its lock file: ${(err as Error).message}`, { cause: err });
    });
    let saved: LoadOk | undefined;
    try {
      // Through a symbolic link, the file it points to is replaced (in its own folder, where the rename is atomic):
      // the link stays a link.
      const target = await writeTarget(this.file);
      await removeLeftoverTemps(target);
      await this.options.onStep?.('locked');
      if (await this.changedSince(expected)) return await this.conflict(release);
      const temp = await writeTemp(target, text);
      await this.options.onStep?.('temp-written');
      // Editors do not honour our lock: check once more, as close to the rename as we can.
      if (await this.changedSince(expected)) {
        await unlink(temp).catch(() => undefined);
        return await this.conflict(release);
      }
      await rename(temp, target);
      await this.options.onStep?.('renamed');
      await syncDirectory(path.dirname(target));
      const info = await stat(target);
      const version: FileVersion = { exists: true, hash: hashText(text), mtimeMs: info.mtimeMs, size: info.size };
      saved = { ok: true, file: this.file, exists: true, environments: document.environments, version };
      this.loaded = { result: saved, text, document };
    } catch (err) {
      if (err instanceof EnvStoreError) throw err;
      throw new EnvStoreError('io', `could not save ${this.file}: ${(err as Error).message}`, { cause: err });
    } finally {
      await release();
    }
    return saved;
  }

  private async changedSince(expected: FileVersion): Promise<boolean> {
    const { version } = await readWithVersion(this.file);
    return !sameVersion(version, expected);
  }

  /** Lets go of the lock, reloads, and refuses the save: never a silent merge. */
  private async conflict(release: () => Promise<void>): Promise<never> {
    await release();
    throw new ConflictError(this.file, await this.loadNow());
  }
}

const BOM = '\uFEFF';

/**
 * The file's next text: the old text with just the changed environment edited in place, so the rest keeps its
 * formatting and a BOM stays; the whole document, written in the file's style, when there is no file yet or the edit
 * would not give exactly the new document.
 */
function newText(old: string | undefined, document: EnvironmentsFile, edit: EnvironmentEdit): string {
  const style = detectStyle(old);
  const edited = old === undefined ? undefined : editEnvironments(old, edit, style);
  if (edited !== undefined) {
    const check = parseEnvironmentsText(edited);
    if (check.ok && JSON.stringify(check.document) === JSON.stringify(document)) return edited;
  }
  return (old?.startsWith(BOM) ? BOM : '') + serializeDocument(document, style);
}
