/**
 * The environment lock of the local backend: a file created with O_EXCL (only one process can win) holding the
 * holder's identity. Unlike the environments file's short save lock (src/environments/lock.ts), which waits and
 * breaks dead holders by itself, this one guards a whole apply that may run for many minutes: a second run is refused
 * at once with the holder's identity, and a lock whose holder is gone is broken only by a deliberate `unlock`
 * (an interrupted apply deserves a look before the next one).
 */

import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import { describeHolder, StateError, type HeldLock, type LockHolder } from '../../model/state';
import { processAlive } from '../../files/processAlive';

export interface SeenLock {
  holder: LockHolder;
  gone: boolean;
  why: string;
  /** The file's exact text, to make sure a break removes the lock it inspected and not a newer one. */
  text: string;
}

// A holder writes its identity right after creating the file; an empty file older than this was left by a process
// that died in between.
const EMPTY_GRACE_MS = 1000;
// How often a holder checks that its lock file is still its own (someone may have run `unlock --force`).
const WATCH_MS = 1000;

export async function acquireFileLock(lockFile: string, environment: string, who: Omit<LockHolder, 'token'>): Promise<HeldLock> {
  const holder: LockHolder = { ...who, token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(holder, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return held(lockFile, holder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StateError('io', `could not create the lock file ${lockFile}: ${(err as Error).message}`, { cause: err });
      }
    }
    const seen = await inspectFileLock(lockFile);
    if (!seen) continue; // released between our attempt and our look: try again
    throw new StateError('locked', lockedMessage(environment, seen), { holder: seen.holder });
  }
  throw new StateError('locked', `environment "${environment}" is being locked and unlocked by other processes in quick succession; try again`);
}

export function lockedMessage(environment: string, seen: SeenLock): string {
  const next = seen.gone
    ? `That holder is gone (${seen.why}): if its run is over, break the lock with "encore-env unlock --env ${environment}".`
    : `Wait for it to finish (${seen.why}).`;
  return `environment "${environment}" is locked by ${describeHolder(seen.holder)}. ${next}`;
}

export async function inspectFileLock(lockFile: string): Promise<SeenLock | null> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StateError('io', `could not read the lock file ${lockFile}: ${(err as Error).message}`, { cause: err });
  }
  const holder = parseHolder(text);
  if (!holder) {
    const unknown: LockHolder = { user: 'unknown', host: 'unknown', pid: 0, startedAt: new Date(mtimeMs).toISOString(), operation: 'apply', token: '' };
    const gone = Date.now() - mtimeMs > EMPTY_GRACE_MS;
    return { holder: unknown, gone, why: gone ? 'the lock file is empty or unreadable: its holder died while taking it' : 'the lock is being taken', text };
  }
  if (holder.host !== os.hostname()) return { holder, gone: false, why: `held from host ${holder.host}, where this machine cannot check its process`, text };
  return processAlive(holder.pid)
    ? { holder, gone: false, why: `process ${holder.pid} is still running on ${holder.host}`, text }
    : { holder, gone: true, why: `process ${holder.pid} no longer runs on ${holder.host}`, text };
}

/**
 * Removes the inspected lock. It is moved aside under a unique name first: if someone broke it and took a fresh lock
 * in the meantime, we moved *that* one, which the content check notices and puts back.
 */
export async function removeInspectedLock(lockFile: string, seen: SeenLock): Promise<boolean> {
  const aside = `${lockFile}.broken-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockFile, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => seen.text);
  if (moved !== seen.text) {
    await link(aside, lockFile).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    return false;
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

function held(lockFile: string, holder: LockHolder): HeldLock {
  const lost = new AbortController();
  // Checks that the lock is still ours; a lost lock stops the run between steps (the engine listens to `lost`).
  const timer = setInterval(() => {
    void readFile(lockFile, 'utf8').then(
      (text) => {
        const now = parseHolder(text);
        if (now?.token !== holder.token) lost.abort(new Error(`the lock file ${lockFile} was taken over${now ? ` by ${describeHolder(now)}` : ''}`));
      },
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') lost.abort(new Error(`the lock file ${lockFile} was removed (by unlock --force?)`));
      },
    );
  }, WATCH_MS);
  timer.unref();
  let released = false;
  return {
    holder,
    lost: lost.signal,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      const text = await readFile(lockFile, 'utf8').catch(() => '');
      if (parseHolder(text)?.token === holder.token) await unlink(lockFile).catch(() => undefined);
    },
  };
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.user === 'string' && typeof h.token === 'string') return h as LockHolder;
  } catch {
    // empty or torn: treated as an unknown holder
  }
  return undefined;
}

