import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEncoreApp, type EncoreAppFile } from '../model/encoreApp';
import { compareText } from './compareText';

export const ENCORE_APP_FILE = 'encore.app';

/** An Encore app found on disk: the directory holding `encore.app`, and what that file says. */
export type FoundApp =
  | { root: string; ok: true; app: EncoreAppFile }
  | { root: string; ok: false; error: string };

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
 * Results are sorted by root path, so output is stable.
 */
export async function findApps(dir: string): Promise<FoundApp[]> {
  const appFiles: string[] = [];
  async function walk(current: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (err) {
      // The start directory must exist; unreadable folders below it are skipped like the editor's search does.
      if (current === dir) throw new Error(`cannot read ${dir}: ${(err as Error).message}`, { cause: err });
      return;
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.isFile() && entry.name === ENCORE_APP_FILE) appFiles.push(path.join(current, entry.name));
      else if (entry.isDirectory() && !isSkippedDirectory(entry.name)) subdirs.push(path.join(current, entry.name));
    }
    await Promise.all(subdirs.map(walk));
  }
  await walk(path.resolve(dir));
  const apps = await Promise.all(appFiles.map(readApp));
  return apps.sort((a, b) => compareText(a.root, b.root));
}
