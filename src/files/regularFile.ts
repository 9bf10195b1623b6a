import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** The file is something else than a regular file (a named pipe, a directory, a device, a socket). */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';
  constructor(
    readonly file: string,
    readonly kind: string,
  ) {
    super(`${file} is ${kind}, not a regular file`);
    this.name = 'NotRegularFileError';
  }
}

// O_NONBLOCK: opening a named pipe for reading otherwise waits for a writer, for ever. It changes nothing for a
// regular file. Windows has no named pipes in the file system, and no such flag.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens `file` for reading, following symbolic links, and refuses anything that is not a regular file before
 * reading a byte: a FIFO (or a link to one) would block the read, a device could be endless. Undefined when the file
 * does not exist. The check is made on the open handle, so the file cannot be swapped between check and read.
 */
export async function openRegular(file: string): Promise<{ handle: FileHandle; stat: Stats } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // ENXIO: a socket, which cannot be opened at all.
    if (code === 'ENXIO') throw new NotRegularFileError(file, 'a socket');
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new NotRegularFileError(file, kindOf(stat));
    return { handle, stat };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** The bytes of a regular file, or undefined when there is none; NotRegularFileError for anything else. */
export async function readRegular(file: string): Promise<Buffer | undefined> {
  const opened = await openRegular(file);
  if (!opened) return undefined;
  try {
    return await opened.handle.readFile();
  } finally {
    await opened.handle.close();
  }
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a plain file';
}
