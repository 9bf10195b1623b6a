/**
 * AWS::RDS::DBInstance: a PostgreSQL instance per database, in the storage subnets behind the database security
 * group, Multi-AZ, with automated backups (and so point-in-time recovery), deletion protection, encrypted storage
 * and the master password managed by RDS in Secrets Manager. The driver reads that password back as a secret
 * output for the in-cluster Job that creates the database; it never chooses or sees another.
 *
 * Delete happens only inside a confirmed destroy (the engine asks for the typed confirmation of stateful
 * resources): deletion protection is lifted there, and a final snapshot is taken unless the settings decline it.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { rdsCaBundle } from '../rdsCa';
import { asTagList, bool, isCode, marked, num, out, poll, readyStatus, str, strings, tagRecord, tagsFor, type AwsContext, type Handler } from './common';

const rdsSdk = () => import('@aws-sdk/client-rds');
const subnetGroupName = (name: string) => `${name}-subnets`.toLowerCase();

async function describe(c: AwsContext, name: string, signal: AbortSignal) {
  const { DescribeDBInstancesCommand } = await rdsSdk();
  try {
    return (await c.clients.send('RDS', new DescribeDBInstancesCommand({ DBInstanceIdentifier: name }), signal)).DBInstances?.[0] ?? null;
  } catch (err) {
    if (isCode(err, 'DBInstanceNotFound', 'DBInstanceNotFoundFault')) return null;
    throw err;
  }
}

type Instance = NonNullable<Awaited<ReturnType<typeof describe>>>;

/** The password RDS keeps in its managed secret, as a secret output; absent while the secret does not exist yet. */
async function masterPassword(c: AwsContext, db: Instance, signal: AbortSignal): Promise<string | undefined> {
  const arn = db.MasterUserSecret?.SecretArn;
  if (!arn) return undefined;
  const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  try {
    const value = await c.clients.send('Secrets Manager', new GetSecretValueCommand({ SecretId: arn }), signal);
    const parsed = JSON.parse(value.SecretString ?? '{}') as { password?: unknown };
    return typeof parsed.password === 'string' ? parsed.password : undefined;
  } catch (err) {
    if (isCode(err, 'ResourceNotFoundException')) return undefined;
    throw err;
  }
}

async function outputsOf(c: AwsContext, db: Instance, signal: AbortSignal): Promise<Outputs> {
  const o: Outputs = { identifier: out(db.DBInstanceIdentifier ?? ''), arn: out(db.DBInstanceArn ?? '') };
  if (db.Endpoint?.Address) o.address = out(db.Endpoint.Address);
  if (db.Endpoint?.Port) o.port = out(db.Endpoint.Port);
  if (db.MasterUserSecret?.SecretArn) o.masterSecretArn = out(db.MasterUserSecret.SecretArn);
  // The CA the instance's certificate chains to: the API gives its identifier, rdsCa.ts the PEM bundle that
  // Encore's tls_config.ca wants (an unknown region gets no bundle, so the apps verify with the system's roots).
  o.caCertificateId = out(db.CACertificateIdentifier ?? '');
  o.caCertificate = out((await rdsCaBundle(c.region, db.CACertificateIdentifier)) ?? '');
  const password = await masterPassword(c, db, signal);
  if (password !== undefined) o.masterPassword = out(password, true);
  return o;
}

/** "16.4" observes as the "16" asked for: the planner picks the major, RDS the minor. */
const majorOf = (wanted: unknown, live: string | undefined) => (typeof wanted === 'string' && live?.startsWith(`${wanted}.`) ? wanted : (live ?? null));

async function read(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const db = await describe(c, r.name, signal);
  if (!db) return null;
  return {
    externalId: db.DbiResourceId ?? db.DBInstanceArn ?? r.name,
    observed: {
      engine: db.Engine ?? null,
      engineVersion: majorOf(r.settings.engineVersion, db.EngineVersion),
      instanceClass: db.DBInstanceClass ?? null,
      allocatedStorageGiB: db.AllocatedStorage ?? null,
      maxAllocatedStorageGiB: db.MaxAllocatedStorage ?? null,
      storageType: db.StorageType ?? null,
      storageEncrypted: db.StorageEncrypted ?? false,
      multiAZ: db.MultiAZ ?? false,
      backupRetentionDays: db.BackupRetentionPeriod ?? 0,
      pointInTimeRecovery: (db.BackupRetentionPeriod ?? 0) > 0,
      deletionProtection: db.DeletionProtection ?? false,
      publiclyAccessible: db.PubliclyAccessible ?? false,
      masterUsername: db.MasterUsername ?? null,
      manageMasterUserPassword: Boolean(db.MasterUserSecret?.SecretArn),
    },
    outputs: await outputsOf(c, db, signal),
    status: readyStatus(db.DBInstanceStatus ?? 'unknown', ['available', 'backing-up', 'storage-optimization'], ['failed', 'incompatible-parameters', 'incompatible-restore', 'storage-full']),
    ours: marked(tagRecord(db.TagList), r, c),
  };
}

async function ensure(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const sdk = await rdsSdk();
  const s = r.resolved;
  const signal = step.signal;
  const tags = asTagList(tagsFor(r, c));
  const group = subnetGroupName(r.name);
  try {
    await c.clients.send('RDS', new sdk.CreateDBSubnetGroupCommand({
      DBSubnetGroupName: group, DBSubnetGroupDescription: `Encore environment ${c.environment}: ${r.name}`, SubnetIds: strings(s, 'subnetIds', r.id), Tags: tags,
    }), signal);
  } catch (err) {
    if (!isCode(err, 'DBSubnetGroupAlreadyExists', 'DBSubnetGroupAlreadyExistsFault')) throw err;
  }
  const wanted = {
    DBInstanceClass: str(s, 'instanceClass', r.id),
    AllocatedStorage: num(s, 'allocatedStorageGiB', r.id),
    MaxAllocatedStorage: num(s, 'maxAllocatedStorageGiB', r.id),
    StorageType: str(s, 'storageType', r.id),
    MultiAZ: bool(s, 'multiAZ'),
    BackupRetentionPeriod: num(s, 'backupRetentionDays', r.id),
    DeletionProtection: bool(s, 'deletionProtection'),
    PubliclyAccessible: bool(s, 'publiclyAccessible'),
    VpcSecurityGroupIds: [str(s, 'securityGroupId', r.id)],
  };
  if (wanted.BackupRetentionPeriod < 1 && bool(s, 'pointInTimeRecovery')) {
    throw new DriverError('invalid', `${r.id}: point-in-time recovery needs automated backups (a retention of at least 1 day)`, { resourceId: r.id });
  }
  let db = await describe(c, r.name, signal);
  if (!db) {
    step.progress(`creating RDS instance ${r.name} (about 10 minutes on AWS)`);
    try {
      await c.clients.send('RDS', new sdk.CreateDBInstanceCommand({
        DBInstanceIdentifier: r.name,
        Engine: str(s, 'engine', r.id),
        EngineVersion: str(s, 'engineVersion', r.id),
        MasterUsername: str(s, 'masterUsername', r.id),
        ManageMasterUserPassword: bool(s, 'manageMasterUserPassword'),
        StorageEncrypted: bool(s, 'storageEncrypted'),
        DBSubnetGroupName: group,
        CopyTagsToSnapshot: true,
        AutoMinorVersionUpgrade: true,
        Tags: tags,
        ...wanted,
      }), signal);
    } catch (err) {
      if (!isCode(err, 'DBInstanceAlreadyExists', 'DBInstanceAlreadyExistsFault')) throw err;
    }
    db = await describe(c, r.name, signal);
  } else {
    if (db.DBInstanceArn) await c.clients.send('RDS', new sdk.AddTagsToResourceCommand({ ResourceName: db.DBInstanceArn, Tags: tags }), signal);
    const changed =
      db.DBInstanceClass !== wanted.DBInstanceClass || (db.AllocatedStorage ?? 0) < wanted.AllocatedStorage || db.MaxAllocatedStorage !== wanted.MaxAllocatedStorage ||
      db.MultiAZ !== wanted.MultiAZ || db.BackupRetentionPeriod !== wanted.BackupRetentionPeriod || db.DeletionProtection !== wanted.DeletionProtection ||
      db.PubliclyAccessible !== wanted.PubliclyAccessible || (bool(s, 'manageMasterUserPassword') && !db.MasterUserSecret?.SecretArn);
    if (changed) {
      step.progress(`modifying RDS instance ${r.name}`);
      await c.clients.send('RDS', new sdk.ModifyDBInstanceCommand({
        DBInstanceIdentifier: r.name, ApplyImmediately: true, ...wanted,
        // Storage only grows on RDS.
        AllocatedStorage: Math.max(db.AllocatedStorage ?? 0, wanted.AllocatedStorage),
        ...(bool(s, 'manageMasterUserPassword') && !db.MasterUserSecret?.SecretArn ? { ManageMasterUserPassword: true } : {}),
      }), signal);
      db = await describe(c, r.name, signal);
    }
  }
  if (!db) throw new DriverError('not-ready', `${r.id}: RDS instance ${r.name} is not visible after its create call`, { resourceId: r.id });
  // The address (and the managed secret) exist once the instance is available.
  db = await waitAvailable(r, c, step);
  return outputsOf(c, db, signal);
}

async function waitAvailable(r: DesiredResource, c: AwsContext, step: StepContext): Promise<Instance> {
  return poll(c, step, `RDS instance ${r.name}`, async () => {
    const db = await describe(c, r.name, step.signal);
    const state = db?.DBInstanceStatus ?? 'not visible yet';
    return db && state === 'available' ? { done: true, value: db } : { done: false, state };
  }, { timeoutMs: 60 * 60_000, resourceId: r.id, failed: (state) => ['failed', 'incompatible-parameters', 'incompatible-network', 'storage-full'].includes(state) });
}

/** `<name>-final-20261206t193012z`: a final snapshot's identifier, unique per destroy. */
export function finalSnapshotId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
  return `${name}-final-${stamp}`.slice(0, 255);
}

async function remove(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await rdsSdk();
  const signal = step.signal;
  const db = await describe(c, r.name, signal);
  if (db) {
    if (!marked(tagRecord(db.TagList), r, c)) throw new DriverError('conflict', `${r.id}: RDS instance ${r.name} does not carry this environment's tags; it was left in place`, { resourceId: r.id });
    if (db.DBInstanceStatus !== 'deleting') {
      if (db.DeletionProtection) {
        // Only the user's typed confirmation lifts it: any other delete stops here with the instance untouched.
        if (!step.confirmedDataLoss) {
          throw new DriverError('conflict', `${r.id}: RDS instance ${r.name} has deletion protection, which is lifted only inside a confirmed destroy (the environment's name typed); it was left in place`, { resourceId: r.id });
        }
        step.progress(`lifting the deletion protection of ${r.name} (confirmed destroy)`);
        await c.clients.send('RDS', new sdk.ModifyDBInstanceCommand({ DBInstanceIdentifier: r.name, DeletionProtection: false, ApplyImmediately: true }), signal);
      }
      const keep = r.settings.finalSnapshot !== false && step.confirmedDataLoss?.finalSnapshot !== false;
      const snapshot = finalSnapshotId(r.name);
      step.progress(keep ? `deleting ${r.name}, keeping the final snapshot ${snapshot}` : `deleting ${r.name} without a final snapshot (the confirmation declined it)`);
      try {
        await c.clients.send('RDS', new sdk.DeleteDBInstanceCommand({
          DBInstanceIdentifier: r.name, ...(keep ? { FinalDBSnapshotIdentifier: snapshot } : { SkipFinalSnapshot: true }), DeleteAutomatedBackups: false,
        }), signal);
      } catch (err) {
        if (!isCode(err, 'DBInstanceNotFound', 'DBInstanceNotFoundFault', 'InvalidDBInstanceState', 'InvalidDBInstanceStateFault')) throw err;
      }
    }
    await poll(c, step, `deleting RDS instance ${r.name}`, async () => {
      const now = await describe(c, r.name, signal);
      return now ? { done: false, state: now.DBInstanceStatus ?? 'unknown' } : { done: true, value: undefined };
    }, { timeoutMs: c.timing.deleteTimeoutMs ?? 60 * 60_000, resourceId: r.id });
  }
  try {
    await c.clients.send('RDS', new sdk.DeleteDBSubnetGroupCommand({ DBSubnetGroupName: subnetGroupName(r.name) }), signal);
  } catch (err) {
    if (!isCode(err, 'DBSubnetGroupNotFoundFault', 'DBSubnetGroupNotFound')) throw err;
  }
}

export const rdsHandler: Handler = {
  managed: [
    'engine', 'engineVersion', 'instanceClass', 'allocatedStorageGiB', 'maxAllocatedStorageGiB', 'storageType', 'storageEncrypted', 'multiAZ',
    'backupRetentionDays', 'pointInTimeRecovery', 'deletionProtection', 'publiclyAccessible', 'masterUsername', 'manageMasterUserPassword',
  ],
  read,
  create: ensure,
  update: ensure,
  delete: remove,
  async waitReady(r, c, step) {
    await waitAvailable(r, c, step);
  },
};
