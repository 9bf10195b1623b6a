import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEncoreApp, type EncoreAppFile } from '../model/encoreApp';
import { compareText } from './compareText';

export const ENCORE_APP_FILE = 'encore.app';

/** An Encore app found on disk: the directory holding `encore.app`, and what that file says. */
export type FoundApp =
  | { root: string; ok: true; app: EncoreAppFile }
  | { root: string; ok: false; error: string };

/**
 * Folders' entries as one walk read them (names as bytes), by the folder's absolute path: a later walk of the same
 * folders (listSourceFiles after findApps, in the CLI) takes them from here instead of reading each folder again.
 */
export type DirectoryListings = Map<string, Dirent<Buffer>[]>;

/** Directories never searched: the ones Encore's own file walk skips, plus VCS folders. */
export function isSkippedDirectory(name: string): boolean {
  return name === 'node_modules' || name === 'encore.gen' || name === '__tests__' || name.startsWith('.');
}

/** Reads and parses one `encore.app` file. An unreadable or malformed file becomes an error entry, never a throw. */
export async function readApp(appFile: string): Promise<FoundApp> {
  const root = path.dirname(appFile);
  try {
    const parsed = parseEncoreApp(await readFile(appFile, 'utf8'));
    return parsed.ok ? { root, ok: true, app: parsed.app } : { root, ok: false, error: `${appFile}: ${parsed.error}` };
  } catch (err) {
    return { root, ok: false, error: `${appFile}: ${(err as Error).message}` };
  }
}

/**
 * Finds every Encore app at or below `dir`, nested apps included (a monorepo may hold several).
 * Results are sorted by root path, so output is stable. `listings`, when given, receives what was read of each folder.
 */
export async function findApps(dir: string, listings?: DirectoryListings): Promise<FoundApp[]> {
  const appFiles: string[] = [];
  async function walk(current: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      // The start directory must exist; unreadable folders below it are skipped like the editor's search does.
      if (current === dir) throw new Error(`cannot read ${dir}: ${(err as Error).message}`, { cause: err });
      return;
    }
    listings?.set(current, entries);
    const subdirs: string[] = [];
    for (const entry of entries) {
      // Decoded as a string would decode it (a name that is not UTF-8 then names no folder, and is skipped).
      const name = (entry.name as Buffer).toString('utf8');
      if (entry.isFile() && name === ENCORE_APP_FILE) appFiles.push(path.join(current, name));
      else if (entry.isDirectory() && !isSkippedDirectory(name)) subdirs.push(path.join(current, name));
    }
    await Promise.all(subdirs.map(walk));
  }
  await walk(path.resolve(dir));
  const apps = await Promise.all(appFiles.map(readApp));
  return apps.sort((a, b) => compareText(a.root, b.root));
}
