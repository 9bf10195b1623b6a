import { createHash } from 'node:crypto';
import { openRegular } from './regularFile';

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

/**
 * Reads the file and its version from one open handle, so the bytes and the stat belong together. Anything but a
 * regular file (a FIFO, which would block the read for ever, a directory, a device) is a NotRegularFileError.
 */
export async function readWithVersion(file: string): Promise<{ text: string | undefined; version: FileVersion }> {
  const opened = await openRegular(file);
  if (!opened) return { text: undefined, version: { exists: false } };
  const { handle, stat } = opened;
  try {
    const bytes = await handle.readFile();
    return { text: bytes.toString('utf8'), version: { exists: true, hash: hashText(bytes), mtimeMs: stat.mtimeMs, size: bytes.length } };
  } finally {
    await handle.close();
  }
}
