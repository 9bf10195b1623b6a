import path from 'node:path';
import { findApps, type FoundApp } from '../analyzer/findApps';

/**
 * The innermost app root that contains `file` (a monorepo may nest apps: a file belongs to the closest encore.app
 * above it), or undefined when no app contains it.
 */
export function appForFile(roots: Iterable<string>, file: string): string | undefined {
  let best: string | undefined;
  for (const root of roots) {
    if (isInside(root, file) && (best === undefined || root.length > best.length)) best = root;
  }
  return best;
}

/** Whether `file` is `dir` itself or lies below it. */
export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Finds the apps of every workspace folder. Folders may overlap (a multi-root workspace can hold a folder and one of
 * its subfolders), so apps are keyed by root and listed once, sorted. A folder that cannot be read is reported through
 * `onError` and skipped: the other folders still count.
 */
export async function discoverApps(folders: readonly string[], onError: (message: string) => void): Promise<FoundApp[]> {
  const byRoot = new Map<string, FoundApp>();
  await Promise.all(
    folders.map(async (folder) => {
      try {
        for (const app of await findApps(folder)) byRoot.set(app.root, app);
      } catch (err) {
        onError(`cannot search ${folder} for Encore apps: ${(err as Error).message}`);
      }
    }),
  );
  return [...byRoot.values()].sort((a, b) => a.root.localeCompare(b.root));
}
