import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/**
 * What the store last saw of the file. Two versions are the same when the content hash is: mtime and size are kept
 * for logs and quick looks, but a rewrite with identical bytes loses nothing, and an edit of the same size within the
 * file system's mtime granularity would slip past a stat-only check.
 */
export type FileVersion = { exists: false } | { exists: true; hash: string; mtimeMs: number; size: number };

export function sameVersion(a: FileVersion, b: FileVersion): boolean {
  return a.exists ? b.exists && a.hash === b.hash : !b.exists;
}

export function hashText(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads the file and its version from one open handle, so the bytes and the stat belong together. */
export async function readWithVersion(file: string): Promise<{ text: string | undefined; version: FileVersion }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: undefined, version: { exists: false } };
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    const bytes = await handle.readFile();
    return { text: bytes.toString('utf8'), version: { exists: true, hash: hashText(bytes), mtimeMs: stat.mtimeMs, size: bytes.length } };
  } finally {
    await handle.close();
  }
}
