import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, readlink, realpath, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

// Temp files live in the target's directory, because rename is only atomic within one file system.
const tempPrefix = (file: string) => `${path.basename(file)}.tmp-`;

export interface WriteOptions {
  /**
   * The file's mode, whatever the file it replaces had and whatever the umask says (0o600 for state: it names what
   * exists in the cloud). Without it the new file keeps the mode of the one it replaces.
   */
  mode?: number;
  /**
   * false: not flushed to disk before the rename, for a file that may be lost or torn in a crash because it is
   * checked when read (the analysis cache, under its MAC). Default true.
   */
  durable?: boolean;
}

/**
 * Writes `text` to a new temp file beside `file` and flushes it to disk (unless `options.durable` is false), so that
 * after the rename the new content is complete even if the machine goes down. Keeps the mode of the file it will
 * replace, unless `options.mode`.
 */
export async function writeTemp(file: string, text: string | Uint8Array, options: WriteOptions = {}): Promise<string> {
  const mode =
    options.mode ??
    (await stat(file).then(
      (s) => s.mode & 0o777,
      () => 0o666, // a new file: the process umask applies
    ));
  const temp = path.join(path.dirname(file), `${tempPrefix(file)}${process.pid}-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', mode);
  try {
    // The umask may have taken bits away from a mode that was asked for explicitly.
    if (options.mode !== undefined) await handle.chmod(options.mode);
    await handle.writeFile(text, 'utf8');
    if (options.durable !== false) await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  return temp;
}

/** Makes the rename itself durable; some platforms cannot open or sync a directory, where this is a no-op. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM/EINVAL on Windows and some file systems: the rename is still atomic, only less durable.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Removes temp files that a crashed save left behind. Only called while holding the lock: writers create temp
 * files only under the lock, so any temp file seen then belongs to a save that died.
 */
export async function removeLeftoverTemps(file: string): Promise<string[]> {
  const prefix = tempPrefix(file);
  const dir = path.dirname(file);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
  await Promise.all(names.map((n) => unlink(path.join(dir, n)).catch(() => undefined)));
  return names;
}

/**
 * The file an atomic replace of `file` must rename onto: `file` itself, or the file a symbolic link at `file` points
 * to (through every link in the chain), so a save writes through the link instead of replacing it with a plain file.
 * A link to nothing is refused: there is no file to write through to, and replacing the link would break it.
 */
export async function writeTarget(file: string): Promise<string> {
  let info;
  try {
    info = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return file;
    throw err;
  }
  if (!info.isSymbolicLink()) return file;
  try {
    return await realpath(file);
  } catch (err) {
    const to = await readlink(file).catch(() => 'somewhere');
    throw new Error(`${file} is a symbolic link to ${to}, which cannot be reached (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was written. Point the link at an existing file, or replace it with the file itself.`, { cause: err });
  }
}
