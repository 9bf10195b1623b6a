import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { readRegular } from './regularFile';
import os from 'node:os';
import { processAlive } from './processAlive';

/** Who holds the lock; written into the lock file so others can tell a live holder from a crashed one. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Unique per acquisition, so a holder only ever removes its own lock. */
  token: string;
  since: string;
}

/** Another process holds the lock file and did not let go in time; `holder` describes it. */
export class FileLockedError extends Error {
  readonly code = 'locked';
  constructor(
    readonly lockFile: string,
    readonly holder: string,
  ) {
    super(`${lockFile} is held by ${holder}`);
    this.name = 'FileLockedError';
  }
}

export interface LockOptions {
  /** A lock older than this is considered abandoned (its holder hung or died on another host). */
  staleMs?: number;
  /** How long to wait for a live holder to let go before giving up with a FileLockedError. */
  waitMs?: number;
}

// A live holder writes its details right after creating the file; an empty lock file older than this was left by a
// process that died in between.
const EMPTY_LOCK_GRACE_MS = 1000;

/**
 * Takes `lockFile` with O_EXCL (`wx`), which only one process can win, waiting for a live holder and breaking the
 * lock of a dead one (same host, pid gone) or an abandoned one (older than `staleMs`). Returns the release function,
 * which removes the lock only while it is still ours.
 */
export async function acquireLock(lockFile: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.waitMs ?? 3_000);
  const me: LockHolder = { pid: process.pid, host: os.hostname(), token: randomBytes(8).toString('hex'), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      try {
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      return () => releaseLock(lockFile, me.token);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = await inspect(lockFile);
    if (seen === undefined) continue; // released between our open and our read
    if (isStale(seen, staleMs)) {
      await breakStale(lockFile, seen.text);
      continue;
    }
    if (Date.now() >= deadline) throw new FileLockedError(lockFile, describe(seen.holder));
    await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** attempt, 100)));
  }
}

interface SeenLock {
  text: string;
  holder: LockHolder | undefined;
  ageMs: number;
}

async function inspect(lockFile: string): Promise<SeenLock | undefined> {
  try {
    // A lock file that is a named pipe would block every save for ever: readRegular refuses it instead.
    const [bytes, info] = await Promise.all([readRegular(lockFile), stat(lockFile)]);
    if (bytes === undefined) return undefined;
    const text = bytes.toString('utf8');
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(text) as LockHolder;
    } catch {
      holder = undefined;
    }
    return { text, holder, ageMs: Date.now() - info.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function isStale({ holder, ageMs }: SeenLock, staleMs: number): boolean {
  if (ageMs > staleMs) return true;
  if (!holder || typeof holder.pid !== 'number') return ageMs > EMPTY_LOCK_GRACE_MS;
  return holder.host === os.hostname() && !processAlive(holder.pid);
}


/**
 * Moves the stale lock aside under a unique name before deleting it: if another process broke it and took a fresh
 * lock in the meantime, we would have moved *that* one, which the content check detects and puts back.
 */
async function breakStale(lockFile: string, staleText: string): Promise<void> {
  const aside = `${lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockFile, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleText);
  if (moved !== staleText) await link(aside, lockFile).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function releaseLock(lockFile: string, token: string): Promise<void> {
  const seen = await inspect(lockFile).catch(() => undefined);
  if (seen?.holder?.token === token) await unlink(lockFile).catch(() => undefined);
}

function describe(holder: LockHolder | undefined): string {
  return holder ? `process ${holder.pid} on ${holder.host} since ${holder.since}` : 'an unknown process';
}
