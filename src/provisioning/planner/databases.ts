/**
 * SQL databases. Production on AWS and GCP: a managed PostgreSQL instance per database (RDS or Cloud SQL) with
 * 7-day backups, point-in-time recovery, deletion protection and a standby in a second zone, as Encore sets them up
 * (notes §1.3, §1.4). Encore puts all of an environment's databases on one instance; we give each its own, because
 * the sizing questions (CPU, memory, disk) are asked per database. Everywhere else: Postgres as a StatefulSet on a
 * persistent volume inside the cluster, one replica.
 */

import type { Database } from '../../model/appModel';
import { outputRef } from '../../model/desiredGraph';
import type { PlanContext } from './context';
import { planInCluster } from './inCluster';
import { cloudSqlTier, rdsInstanceClass } from './instanceClasses';
import { dnsLabel, envVar } from './names';
import { own } from '../../model/records';

export const POSTGRES_MAJOR = '16';
const BACKUP_DAYS = 7;
/** The administrator RDS and Cloud SQL instances are made with; the database Job connects as it. */
const MANAGED_ADMIN_USER = 'encore_admin';

/** The Postgres image: the in-cluster server, and the client (psql) of the Job that creates a database. */
export const POSTGRES_IMAGE = `postgres:${POSTGRES_MAJOR}`;

function postgresImage(ctx: PlanContext): string {
  return ctx.image(POSTGRES_IMAGE);
}

export function planDatabases(ctx: PlanContext): void {
  for (const db of ctx.needs.databases) planDatabase(ctx, db);
}

function planDatabase(ctx: PlanContext, db: Database): void {
  const size = own(ctx.sizing.databases, db.name)!;
  const source = { kind: 'database' as const, name: db.name };
  const label = `${db.name} DB`;
  const managed = ctx.production && ctx.provider !== 'kubernetes';
  let serverId: string;
  let host: string;
  let tls: Record<string, string | boolean>;
  let secret: { id: string; name: string };
  /** Where the Job that creates the database and its role connects, and as whom. */
  let job: { host: string; admin: { user: string; passwordSecret: { name: string; key: string } } };
  const jobNeeds: string[] = [];

  if (managed) {
    const secretName = dnsLabel('encore-db-', db.name);
    secret = { id: `k8s:secret:${secretName}`, name: secretName };
    ctx.add({
      id: secret.id,
      kind: 'secret',
      providerType: 'k8s/v1/Secret',
      name: secretName,
      source,
      settings: { keys: { password: { generate: 'password', length: 32 } } },
      dependsOn: ctx.k8sBase,
      summary: `${label} → Secret ${secretName} (generated password of role ${db.name})`,
    });
    const serverIdOf = ctx.provider === 'aws' ? `aws:rds:${db.name}` : `gcp:sql:${db.name}`;
    const adminName = dnsLabel('encore-db-admin-', db.name);
    const adminId = `k8s:secret:${adminName}`;
    ctx.add({
      id: adminId,
      kind: 'secret',
      providerType: 'k8s/v1/Secret',
      name: adminName,
      source,
      // The instance's own administrator password, copied from the cloud for the Job that creates the database:
      // the driver gives it as a secret output (AWS: the managed master secret; GCP: the password it set on its
      // administrator, kept in Secret Manager).
      settings: { keys: { password: { from: outputRef(serverIdOf, ctx.provider === 'aws' ? 'masterPassword' : 'adminPassword') } } },
      dependsOn: [...ctx.k8sBase, serverIdOf],
      summary: `${label} → Secret ${adminName} (the instance's admin password, copied from the cloud)`,
    });
    const admin = { user: MANAGED_ADMIN_USER, passwordSecret: { name: adminName, key: 'password' } };
    jobNeeds.push(adminId);
    if (ctx.provider === 'aws') {
      const instanceClass = rdsInstanceClass(size.cpu, size.memoryGiB);
      const storage = Math.max(20, size.diskGiB); // gp3 starts at 20 GiB
      serverId = `aws:rds:${db.name}`;
      ctx.add({
        id: serverId,
        kind: 'databaseServer',
        providerType: 'AWS::RDS::DBInstance',
        name: ctx.names.cloud(db.name),
        source,
        settings: {
          engine: 'postgres',
          engineVersion: POSTGRES_MAJOR,
          instanceClass,
          vcpu: size.cpu,
          memoryGiB: size.memoryGiB,
          allocatedStorageGiB: storage,
          maxAllocatedStorageGiB: storage * 4,
          storageType: 'gp3',
          storageEncrypted: true,
          multiAZ: true,
          backupRetentionDays: BACKUP_DAYS,
          // RDS point-in-time recovery comes with automated backups (retention > 0); stated so the plan says it.
          pointInTimeRecovery: true,
          deletionProtection: true,
          publiclyAccessible: false,
          subnetTier: 'storage',
          subnetIds: ctx.awsStorage.subnetIds,
          securityGroupId: ctx.awsStorage.databaseSecurityGroupId,
          masterUsername: MANAGED_ADMIN_USER,
          manageMasterUserPassword: true,
          finalSnapshot: true,
        },
        dependsOn: [ctx.awsStorage.id],
        stateful: true,
        summary: `${label} → RDS PostgreSQL ${instanceClass}, ${BACKUP_DAYS}-day backups`,
      });
      host = `${outputRef(serverId, 'address')}:5432`;
      tls = { ca: outputRef(serverId, 'caCertificate') };
      job = { host: outputRef(serverId, 'address'), admin };
    } else {
      const tier = cloudSqlTier(size.cpu, size.memoryGiB);
      serverId = `gcp:sql:${db.name}`;
      ctx.add({
        id: serverId,
        kind: 'databaseServer',
        providerType: 'sqladmin.googleapis.com/Instance',
        name: ctx.names.cloud(db.name, 80),
        source,
        settings: {
          databaseVersion: `POSTGRES_${POSTGRES_MAJOR}`,
          tier,
          vcpu: size.cpu,
          memoryGiB: size.memoryGiB,
          diskSizeGb: size.diskGiB,
          diskAutoresize: true,
          availabilityType: 'REGIONAL',
          // Cloud SQL keeps fewer days of transaction logs than it retains backups: 8 daily backups, 7 days of PITR.
          backupRetainedCount: BACKUP_DAYS + 1,
          pointInTimeRecovery: true,
          transactionLogRetentionDays: BACKUP_DAYS,
          deletionProtection: true,
          ipv4Enabled: false,
          privateNetwork: ctx.gcpStorage.network,
          sslMode: 'ENCRYPTED_ONLY',
        },
        dependsOn: [ctx.gcpStorage.id],
        stateful: true,
        summary: `${label} → Cloud SQL PostgreSQL ${tier}, ${BACKUP_DAYS}-day backups`,
      });
      host = `${outputRef(serverId, 'privateIp')}:5432`;
      tls = { ca: outputRef(serverId, 'serverCaCert') };
      job = { host: outputRef(serverId, 'privateIp'), admin };
    }
  } else {
    const pg = planInCluster(ctx, {
      kind: 'postgres',
      source,
      label,
      workload: dnsLabel('encore-postgres-', db.name),
      image: postgresImage(ctx),
      port: 5432,
      replicas: 1,
      cpu: size.cpu,
      memoryGiB: size.memoryGiB,
      diskGiB: size.diskGiB,
      credentials: ['password'],
      settings: {
        database: db.name,
        user: db.name,
        // Said plainly: nothing backs up an in-cluster database; a Production one needs the team's own backups.
        backups: ctx.production ? 'not managed: back up the volume or run pg_dump yourself' : 'none (development)',
      },
      summary: ctx.production
        ? `${label} → StatefulSet postgres:${POSTGRES_MAJOR}, ${size.cpu} vCPU, ${size.memoryGiB} GiB, ${size.diskGiB} GiB PVC, backups not managed`
        : `${label} → StatefulSet postgres:${POSTGRES_MAJOR}, ${size.diskGiB} GiB PVC`,
    });
    serverId = pg.statefulSetId;
    secret = pg.secret as { id: string; name: string };
    host = pg.address;
    tls = { disabled: true };
    // The server's superuser (POSTGRES_USER of its StatefulSet) is the database's own role.
    job = { host: pg.host, admin: { user: db.name, passwordSecret: { name: secret.name, key: 'password' } } };
  }

  const databaseId = `database:${db.name}`;
  ctx.add({
    id: databaseId,
    kind: 'database',
    providerType: 'postgres/Database',
    name: db.name,
    source,
    settings: {
      server: serverId,
      database: db.name,
      owner: db.name,
      passwordSecret: secret.name,
      migrations: db.migrations.length,
      job: { name: dnsLabel('encore-db-', db.name, 43), image: postgresImage(ctx), host: job.host, port: 5432, admin: job.admin, migrations: migrationsToApply(ctx, db) },
    },
    dependsOn: [serverId, secret.id, ...jobNeeds],
    stateful: true,
    summary: `${label} → database and role "${db.name}"${db.migrations.length > 0 ? `, ${plural(db.migrations.length, 'migration')}` : ''}`,
  });

  const passwordEnv = envVar('ENCORE_DB_PASSWORD_', db.name);
  const users = db.usedBy.filter((s) => ctx.needs.services.some((h) => h.name === s));
  ctx.secretEnv.push({ envVar: passwordEnv, secretId: secret.id, secretName: secret.name, key: 'password', services: users });
  for (const s of users) ctx.need(s, databaseId);
  ctx.config.sql_servers.push({
    host,
    tls_config: tls,
    databases: { [db.name]: { name: db.name, username: db.name, password: { $env: passwordEnv } } },
  });
  ctx.config.dependsOn.push(databaseId);
}

/**
 * Bounds on the SQL a database Job carries: each migration is an environment variable of the Job's pod (Linux caps
 * one at 128 KiB) and the Job keeps its settings in an annotation (256 KiB for all of them).
 */
export const MIGRATION_LIMITS = { fileBytes: 64 * 1024, totalBytes: 96 * 1024 };

/**
 * The migrations the database's Job applies, in order, as Encore numbers them (self-hosted Encore images do not
 * apply them; Encore Cloud does). Empty, with a warning, when their SQL was not given or is too large to carry.
 */
function migrationsToApply(ctx: PlanContext, db: Database): { version: number; file: string; sql: string }[] {
  if (db.migrations.length === 0 || ctx.migrationSql === undefined) return [];
  const given = own(ctx.migrationSql, db.name);
  const out: { version: number; file: string; sql: string }[] = [];
  let total = 0;
  for (const m of db.migrations) {
    const sql = given ? own(given, m.filename) : undefined;
    if (sql === undefined) {
      ctx.warnings.push(`Database ${db.name}: the SQL of migration ${m.filename} was not read, so its Job applies no migration; apply them yourself or plan from the app's folder.`);
      return [];
    }
    const bytes = new TextEncoder().encode(sql).length;
    total += bytes;
    if (bytes > MIGRATION_LIMITS.fileBytes || total > MIGRATION_LIMITS.totalBytes) {
      ctx.warnings.push(`Database ${db.name}: its migrations are larger than the database Job can carry (${MIGRATION_LIMITS.fileBytes / 1024} KiB a file, ${MIGRATION_LIMITS.totalBytes / 1024} KiB in all), so it applies none; apply them yourself.`);
      return [];
    }
    out.push({ version: m.number, file: m.filename, sql });
  }
  return out;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
