// Migrations: the session reads each database's migration SQL from the app, the planner puts it on the database's
// resource in Encore's order (within the bounds a Job can carry, with a warning past them), and the database Job gets
// it as environment variables its script applies. The script itself runs against a real Postgres in
// test/integration/localClusterApply.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppModel } from '../../src/model/appModel';
import { desiredGraph, MIGRATION_LIMITS } from '../../src/provisioning/planner';
import { renderGraph } from '../../src/provisioning/providers/kubernetes/manifests/graph';
import { readMigrationSql } from '../../src/session';
import { byId, env, sample } from './plannerHelpers';

type Migration = { version: number; file: string; sql: string };
const jobMigrations = (graph: ReturnType<typeof desiredGraph>, db: string) => (byId(graph, `database:${db}`).settings.job as { migrations: Migration[] }).migrations;

test('the session reads the SQL of every migration of the sample app, by database and file', () => {
  const sql = readMigrationSql(sample);
  assert.deepEqual(Object.keys(sql).sort(), ['orders', 'users']);
  assert.deepEqual(Object.keys(sql.users!), ['1_create_users.up.sql', '2_add_email.up.sql']);
  assert.match(sql.users!['1_create_users.up.sql']!, /CREATE TABLE/i);
});

test('each database\'s Job carries its migrations in order, and renders them as the script\'s environment', () => {
  const graph = desiredGraph(sample, env('kubernetes', 'development'), { migrationSql: readMigrationSql(sample) });
  assert.deepEqual(graph.warnings, []);
  const users = jobMigrations(graph, 'users');
  assert.deepEqual(users.map((m) => [m.version, m.file]), [[1, '1_create_users.up.sql'], [2, '2_add_email.up.sql']]);
  const job = renderGraph(graph).find(({ resource }) => resource.id === 'database:users')!.manifest as unknown as { metadata: { name: string }; spec: { template: { spec: { containers: { env: { name: string; value?: string }[]; command: string[] }[] } } } };
  const container = job.spec.template.spec.containers[0]!;
  const envOf = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
  assert.equal(envOf.MIGRATIONS, '1 2');
  assert.equal(envOf.MIGRATION_1, users[0]!.sql);
  assert.equal(envOf.MIGRATION_2, users[1]!.sql);
  assert.match(container.command[2]!, /schema_migrations/);

  // A changed migration changes the Job (its name hashes the pod template), so an apply runs it again.
  const changed = readMigrationSql(sample);
  changed.users!['2_add_email.up.sql'] += '\n-- edited';
  const again = renderGraph(desiredGraph(sample, env('kubernetes', 'development'), { migrationSql: changed })).find(({ resource }) => resource.id === 'database:users')!;
  assert.notEqual(again.manifest.metadata.name, job.metadata.name);

  // Without the SQL (a graph for display), no migration and no warning.
  const display = desiredGraph(sample, env('kubernetes', 'development'));
  assert.deepEqual(jobMigrations(display, 'users'), []);
  assert.deepEqual(display.warnings, []);
});

test('a migration whose SQL was not read, or SQL too large for a Job, applies none and says so', () => {
  const missing = readMigrationSql(sample);
  delete missing.users!['2_add_email.up.sql'];
  const graph = desiredGraph(sample, env('kubernetes', 'development'), { migrationSql: missing });
  assert.deepEqual(jobMigrations(graph, 'users'), []);
  assert.equal(jobMigrations(graph, 'orders').length, 1);
  assert.deepEqual(graph.warnings, ['Database users: the SQL of migration 2_add_email.up.sql was not read, so its Job applies no migration; apply them yourself or plan from the app\'s folder.']);

  const big = readMigrationSql(sample);
  big.orders!['1_create_orders.up.sql'] = `-- ${'x'.repeat(MIGRATION_LIMITS.fileBytes)}`;
  const tooBig = desiredGraph(sample, env('aws', 'production'), { migrationSql: big });
  assert.deepEqual(jobMigrations(tooBig, 'orders'), []);
  assert.match(tooBig.warnings.join('\n'), /Database orders: its migrations are larger than the database Job can carry \(64 KiB a file, 96 KiB in all\)/);
});

test('a database named like an Object.prototype member reads no inherited SQL', () => {
  const model = { ...sample, databases: [{ ...sample.databases[0]!, name: 'constructor', migrations: [{ filename: '1_x.up.sql', number: 1, description: 'x' }] }] } as AppModel;
  const graph = desiredGraph(model, env('kubernetes', 'development'), { migrationSql: {} });
  assert.deepEqual(jobMigrations(graph, 'constructor'), []);
  assert.equal(graph.warnings.length, 1);
});
