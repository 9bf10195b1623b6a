// Encore's file walk: which files of an app are searched for resources.
import { isUtf8 } from 'node:buffer';
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { ENCORE_APP_FILE, isSkippedDirectory, type DirectoryListings } from './findApps';
import { displayName } from './sourceText';

/** Whether a file name is one Encore parses: exactly `.ts`, and not a test or spec file. */
export function isSourceFileName(name: string): boolean {
  return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.spec.ts');
}

/** Something the walk could not look at: a name that is not UTF-8, or a folder that cannot be read. */
export interface WalkProblem {
  /** Relative to the app root, with `/`, invalid bytes shown as `\xNN`. */
  path: string;
  message: string;
}

/**
 * Lists the .ts files Encore's walk visits below `root`, sorted, and what it could not look at. Folders holding
 * another `encore.app` are separate apps (a monorepo) and are left to their own analysis. A folder in `listings` is
 * not read again.
 */
export function listSourceFiles(root: string, listings?: DirectoryListings): { files: string[]; problems: WalkProblem[] } {
  const files: string[] = [];
  const problems: WalkProblem[] = [];
  const walk = (dir: string, rel: string): void => {
    let entries;
    try {
      // Names as bytes: decoded as strings, one that is not UTF-8 would turn into a path that does not exist.
      entries = listings?.get(dir) ?? readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        problems.push({ path: rel || '.', message: `this folder cannot be read (${(err as Error).message}), so its files were not analysed and the model may miss what they declare` });
      }
      return;
    }
    // A folder holding another encore.app is a separate app (a monorepo), left to its own analysis.
    if (rel !== '' && entries.some((e) => isAppFile(dir, e))) return;
    const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
    for (const entry of entries) {
      const bytes = entry.name as unknown as Buffer;
      const name = bytes.toString('utf8');
      // Only for a problem: most names never need it.
      const relName = () => (rel ? `${rel}/${displayName(bytes)}` : displayName(bytes));
      if (entry.isDirectory()) {
        if (isSkippedDirectory(name)) continue;
        if (!isUtf8(bytes)) {
          problems.push({ path: relName(), message: "this folder's name is not valid UTF-8, so its files were not analysed and the model may miss what they declare; give it a UTF-8 name" });
          continue;
        }
        walk(prefix + name, relName());
      } else if (entry.isFile() && isSourceFileName(name)) {
        if (!isUtf8(bytes)) {
          problems.push({ path: relName(), message: "this file's name is not valid UTF-8, so it was not analysed and the model may miss what it declares; give it a UTF-8 name" });
          continue;
        }
        files.push(prefix + name);
      }
    }
  };
  walk(root, '');
  return { files: files.sort(), problems };
}

/** Whether a folder's entry is its `encore.app` (anything by that name that exists, as existsSync says). */
function isAppFile(dir: string, entry: Dirent<Buffer>): boolean {
  const name = entry.name as Buffer;
  if (name.length !== ENCORE_APP_FILE.length || name.toString('latin1') !== ENCORE_APP_FILE) return false;
  return entry.isFile() || entry.isDirectory() || existsSync(path.join(dir, ENCORE_APP_FILE));
}

/** Whether `file` (absolute) is one `listSourceFiles(root)` would return, judged from its path alone. */
export function isSourceFile(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return false;
  const parts = rel.split(path.sep);
  if (!isSourceFileName(parts[parts.length - 1])) return false;
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    if (isSkippedDirectory(part)) return false;
    dir = path.join(dir, part);
    if (existsSync(path.join(dir, ENCORE_APP_FILE))) return false;
  }
  return true;
}
