// Encore's file walk: which files of an app are searched for resources.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ENCORE_APP_FILE, isSkippedDirectory } from './findApps';

/** Whether a file name is one Encore parses: exactly `.ts`, and not a test or spec file. */
export function isSourceFileName(name: string): boolean {
  return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.spec.ts');
}

/**
 * Lists the .ts files Encore's walk visits below `root`, sorted. Folders holding another `encore.app` are separate
 * apps (a monorepo) and are left to their own analysis.
 */
export function listSourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!isSkippedDirectory(entry.name) && !existsSync(path.join(full, ENCORE_APP_FILE))) walk(full);
      } else if (entry.isFile() && isSourceFileName(entry.name)) {
        out.push(full);
      }
    }
  };
  walk(root);
  return out.sort();
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
