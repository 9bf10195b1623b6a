// SQL migration directories, read and validated as Encore does for each migration source.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Migration } from '../model/appModel';
import type { MigrationSource } from './facts';
import { compareText } from './compareText';

export type MigrationsRead = { migrations: Migration[]; error: null } | { migrations: Migration[]; error: string };

/** Reads the migrations of `dir` (absolute). Problems come back as Encore's messages; nothing throws. */
export function readMigrations(dir: string, source: MigrationSource): MigrationsRead {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    return { migrations: [], error: 'migrations directory does not exist' };
  }
  if (!stat.isDirectory()) return { migrations: [], error: 'migrations path is not a directory' };
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => compareText(a.name, b.name));
  const migrations: Migration[] = [];
  if (source === 'prisma' || source === 'drizzle/v1') {
    for (const entry of entries) {
      if (!entry.isDirectory() || (source === 'drizzle/v1' && entry.name === 'meta')) continue;
      const m = /^(\d+)_(.+)$/.exec(entry.name);
      if (!m) return { migrations, error: `invalid migration directory name: ${entry.name}` };
      try {
        statSync(path.join(dir, entry.name, 'migration.sql'));
      } catch {
        return { migrations, error: `missing migration.sql in ${entry.name}` };
      }
      migrations.push({ filename: `${entry.name}/migration.sql`, number: Number(m[1]), description: m[2] });
    }
  } else {
    const pattern = source === 'drizzle' ? /^(\d+)_([^.]+)\.sql$/ : /^(\d+)_([^.]+)\.(up|down)\.sql$/;
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.sql')) continue;
      const m = pattern.exec(entry.name);
      if (!m) return { migrations, error: `invalid migration filename: ${entry.name}` };
      if (source === 'default' && m[3] === 'down') continue;
      migrations.push({ filename: entry.name, number: Number(m[1]), description: m[2] });
    }
  }
  migrations.sort((a, b) => a.number - b.number || compareText(a.filename, b.filename));
  return { migrations, error: null };
}
