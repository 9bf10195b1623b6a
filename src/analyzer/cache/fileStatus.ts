// A file's status as a stand-in for its content, as git's index uses it: when a file's size, times and inode are the
// ones recorded when its bytes were read, the bytes are the same, so a run need not read and hash them again.
import type { Stats } from 'node:fs';

/**
 * How long after its last change a file's status is trusted to show the next one: a write in the same tick of the
 * file system's clock can leave size and times as they were (git's "racily clean" files). Two seconds also cover
 * file systems that keep times in 2 s steps.
 */
export const STAT_MARGIN_MS = 2000;

/** What a file's status says of its content: a change of it changes its size, times or inode (ctime: not settable). */
export function statusSignature(stat: Stats): string {
  return `${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.ino}:${stat.dev}`;
}

/** Whether `stat`, taken at `now` before the file was read, shows any later change of it (see STAT_MARGIN_MS). */
export function statusTrusted(stat: Stats, now: number, marginMs = STAT_MARGIN_MS): boolean {
  return stat.isFile() && now - stat.ctimeMs >= marginMs && now - stat.mtimeMs >= marginMs;
}
