/**
 * The SQL of each database's migrations, read from the app's folder for the planner (which does no I/O), so the
 * database Jobs apply them. A file that cannot be read is left out: the planner then says that database's Job
 * applies no migration, and the plan still shows everything else.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppModel } from '../model/appModel';
import type { MigrationSql } from '../provisioning/planner';

export function readMigrationSql(model: AppModel): MigrationSql {
  const out: MigrationSql = Object.create(null) as MigrationSql;
  for (const db of model.databases) {
    if (!db.migrationsDir || db.migrations.length === 0) continue;
    const files: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const m of db.migrations) {
      try {
        files[m.filename] = readFileSync(path.join(model.root, db.migrationsDir, m.filename), 'utf8');
      } catch {
        // Reported by the planner as a migration whose SQL was not read.
      }
    }
    out[db.name] = files;
  }
  return out;
}
