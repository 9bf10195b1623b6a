/**
 * sqladmin.googleapis.com/Instance: Cloud SQL PostgreSQL per database, regional HA, automated backups with
 * point-in-time recovery, deletion protection, a private IP on the environment's network (private services access)
 * and encrypted connections only. The administrator the database Job connects as (`encore_admin`) gets a generated
 * password kept in a Secret Manager secret of the driver's own and given as a secret output, never in state.
 * Delete lifts deletion protection only inside a confirmed destroy (the engine calls delete only then) and takes a
 * final backup unless the settings decline it. Cloud SQL's operations are polled with progress.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { generatePassword } from '../../kubernetes/manifests/secrets';
import { isAlreadyExists, isNotFound } from '../connection';
import { bool, labelsFor, marked, num, out, plainLabels, poll, readyStatus, str, type GcpContext, type Handler } from './common';
import { storageNetwork } from './network';
import { accessLatest, ensureDriverSecret, deleteDriverSecret } from './secrets';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Cloud SQL's messages

export const ADMIN_USER = 'encore_admin';
const adminSecretId = (name: string) => `${name}-admin-password`.slice(0, 255);
/** How long the final backup of a destroyed instance is kept. */
const FINAL_BACKUP_DAYS = 30;

async function getInstance(c: GcpContext, name: string, signal: AbortSignal): Promise<Json | null> {
  const client = await c.clients.get('sqlInstances');
  try {
    const [instance] = (await c.call('sql', 'instances.get', () => client.get({ project: c.project, instance: name }), signal)) as Json[];
    return instance;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function waitSql(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, op: Json, what: string, resourceId: string): Promise<void> {
  const client = await c.clients.get('sqlOperations');
  await poll(c, step, what, async () => {
    const [now] = (await c.call('sql', 'operations.get', () => client.get({ project: c.project, operation: op.name }), step.signal)) as Json[];
    if (now.status !== 'DONE') return { done: false, state: String(now.status) };
    const errors = (now.error?.errors ?? []) as Json[];
    if (errors.length > 0) throw new DriverError('invalid', `${what}: ${errors.map((e) => `${String(e.code)}: ${String(e.message)}`).join('; ')}`, { resourceId });
    return { done: true, value: undefined };
  }, { timeoutMs: 60 * 60_000, resourceId });
}

/** Cloud SQL runs one operation per instance: a change asked while another runs is asked again. */
async function retryBusy<T>(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, what: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof Error && /another operation was already in progress/i.test(err.message)) || Date.now() - started > 30 * 60_000) throw err;
      step.progress(`${what}: waiting for the instance's running operation`);
      await new Promise((resolve) => setTimeout(resolve, c.timing.pollIntervalMs ?? 10_000));
      step.signal.throwIfAborted();
    }
  }
}

const value = (v: unknown) => (v !== null && typeof v === 'object' && 'value' in (v as Json) ? (v as Json).value : v);

function observed(instance: Json): JsonObject {
  const s = (instance.settings ?? {}) as Json;
  const backup = (s.backupConfiguration ?? {}) as Json;
  const ip = (s.ipConfiguration ?? {}) as Json;
  return {
    databaseVersion: String(instance.databaseVersion),
    tier: String(s.tier),
    diskSizeGb: Number(value(s.dataDiskSizeGb) ?? 0),
    diskAutoresize: value(s.storageAutoResize) === true,
    availabilityType: String(s.availabilityType),
    backupRetainedCount: Number(value(backup.backupRetentionSettings?.retainedBackups) ?? 0),
    pointInTimeRecovery: value(backup.pointInTimeRecoveryEnabled) === true,
    transactionLogRetentionDays: Number(value(backup.transactionLogRetentionDays) ?? 0),
    deletionProtection: value(s.deletionProtectionEnabled) === true,
    ipv4Enabled: value(ip.ipv4Enabled) === true,
    sslMode: String(ip.sslMode ?? ''),
  };
}

function settingsOf(r: ResolvedResource, c: GcpContext, network: string): Json {
  const s = r.resolved;
  return {
    tier: str(s, 'tier', r.id),
    edition: 'ENTERPRISE',
    availabilityType: str(s, 'availabilityType', r.id),
    dataDiskSizeGb: { value: num(s, 'diskSizeGb', r.id) },
    storageAutoResize: { value: bool(s, 'diskAutoresize') },
    deletionProtectionEnabled: { value: bool(s, 'deletionProtection') },
    userLabels: labelsFor(r, c),
    ipConfiguration: {
      ipv4Enabled: { value: bool(s, 'ipv4Enabled') },
      privateNetwork: network,
      sslMode: str(s, 'sslMode', r.id),
    },
    backupConfiguration: {
      enabled: { value: true },
      pointInTimeRecoveryEnabled: { value: bool(s, 'pointInTimeRecovery') },
      transactionLogRetentionDays: { value: num(s, 'transactionLogRetentionDays', r.id) },
      backupRetentionSettings: { retainedBackups: { value: num(s, 'backupRetainedCount', r.id) }, retentionUnit: 'COUNT' },
    },
  };
}

async function outputsOf(c: GcpContext, r: DesiredResource, instance: Json, signal: AbortSignal): Promise<Outputs> {
  const privateIp = ((instance.ipAddresses ?? []) as Json[]).find((a) => a.type === 'PRIVATE')?.ipAddress;
  const password = await accessLatest(c, adminSecretId(r.name), signal);
  return {
    name: out(r.name),
    connectionName: out(String(instance.connectionName ?? '')),
    ...(privateIp ? { privateIp: out(String(privateIp)) } : {}),
    serverCaCert: out(String(instance.serverCaCert?.cert ?? '')),
    adminUser: out(ADMIN_USER),
    ...(password ? { adminPassword: out(password, true) } : {}),
  };
}

async function read(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const instance = await getInstance(c, r.name, signal);
  if (!instance || instance.state === 'PENDING_DELETE') return null;
  return {
    externalId: String(instance.selfLink ?? `${c.project}:${r.name}`),
    observed: observed(instance),
    outputs: instance.state === 'RUNNABLE' ? await outputsOf(c, r, instance, signal) : { name: out(r.name) },
    status: readyStatus(String(instance.state), ['RUNNABLE'], ['FAILED', 'SUSPENDED', 'MAINTENANCE']),
    ours: marked(plainLabels(instance.settings?.userLabels), r, c),
  };
}

async function untilRunnable(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, r: DesiredResource): Promise<Json> {
  return poll(c, step, `Cloud SQL instance ${r.name}`, async () => {
    const instance = await getInstance(c, r.name, step.signal);
    if (!instance) return { done: false, state: 'not found yet' };
    return instance.state === 'RUNNABLE' ? { done: true, value: instance } : { done: false, state: String(instance.state) };
  }, { timeoutMs: 60 * 60_000, resourceId: r.id, failed: (s) => (s === 'FAILED' ? 'it FAILED' : null) });
}

async function ensureAdmin(c: GcpContext, step: StepContext, r: DesiredResource): Promise<void> {
  const users = await c.clients.get('sqlUsers');
  const password = (await accessLatest(c, adminSecretId(r.name), step.signal)) ?? generatePassword(32);
  await ensureDriverSecret(c, adminSecretId(r.name), r, password, step.signal);
  let exists = true;
  try {
    await c.call('sql', 'users.get', () => users.get({ project: c.project, instance: r.name, name: ADMIN_USER }), step.signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    exists = false;
  }
  const update = async () => (await retryBusy(c, step, `Cloud SQL instance ${r.name}`, () =>
    c.call('sql', 'users.update', () => users.update({ project: c.project, instance: r.name, name: ADMIN_USER, body: { name: ADMIN_USER, password } }), step.signal))) as Json[];
  let op: Json | undefined;
  if (exists) [op] = await update();
  else {
    try {
      [op] = (await retryBusy(c, step, `Cloud SQL instance ${r.name}`, () =>
        c.call('sql', 'users.insert', () => users.insert({ project: c.project, instance: r.name, body: { name: ADMIN_USER, password } }), step.signal))) as Json[];
    } catch (err) {
      // The insert of a run that was killed finished in between: the user is there, and gets the password.
      if (!isAlreadyExists(err)) throw err;
      [op] = await update();
    }
  }
  await waitSql(c, step, op!, `the administrator of ${r.name}`, r.id);
}

async function ensure(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const client = await c.clients.get('sqlInstances');
  const network = await storageNetwork(r, 'privateNetwork', c, step.signal);
  const settings = settingsOf(r, c, network);
  let instance = await getInstance(c, r.name, step.signal);
  if (!instance) {
    try {
      const [op] = (await c.call('sql', 'instances.insert', () => client.insert({
        project: c.project,
        body: { name: r.name, region: c.region, databaseVersion: str(r.resolved, 'databaseVersion', r.id), settings },
      }), step.signal)) as Json[];
      step.progress(`Cloud SQL instance ${r.name}: creating (Cloud SQL takes about 10 minutes)`);
      await waitSql(c, step, op, `Cloud SQL instance ${r.name}`, r.id);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    instance = await untilRunnable(c, step, r);
  } else {
    instance = await untilRunnable(c, step, r);
    const now = observed(instance);
    const want: JsonObject = {};
    for (const key of Object.keys(now)) if (r.resolved[key] !== undefined) want[key] = r.resolved[key]!;
    if (JSON.stringify(Object.keys(want).map((k) => now[k])) !== JSON.stringify(Object.keys(want).map((k) => want[k])) || !marked(plainLabels(instance.settings?.userLabels), r, c)) {
      const [op] = (await retryBusy(c, step, `Cloud SQL instance ${r.name}`, () =>
        c.call('sql', 'instances.patch', () => client.patch({ project: c.project, instance: r.name, body: { settings } }), step.signal))) as Json[];
      await waitSql(c, step, op, `updating Cloud SQL instance ${r.name}`, r.id);
      instance = await untilRunnable(c, step, r);
    }
  }
  await ensureAdmin(c, step, r);
  return outputsOf(c, r, instance, step.signal);
}

async function remove(r: DesiredResource, c: GcpContext, step: StepContext): Promise<void> {
  const client = await c.clients.get('sqlInstances');
  const instance = await getInstance(c, r.name, step.signal);
  if (instance && instance.state !== 'PENDING_DELETE') {
    // Only a confirmed destroy (or a confirmed removal from the app) reaches delete: that is the consent.
    if (value(instance.settings?.deletionProtectionEnabled) === true) {
      step.progress(`Cloud SQL instance ${r.name}: lifting deletion protection for the confirmed destroy`);
      const [op] = (await retryBusy(c, step, `Cloud SQL instance ${r.name}`, () =>
        c.call('sql', 'instances.patch', () => client.patch({ project: c.project, instance: r.name, body: { settings: { deletionProtectionEnabled: { value: false } } } }), step.signal))) as Json[];
      await waitSql(c, step, op, `lifting deletion protection of ${r.name}`, r.id);
    }
    const finalBackup = r.settings.finalBackup !== false;
    if (finalBackup) step.progress(`Cloud SQL instance ${r.name}: deleting with a final backup kept ${FINAL_BACKUP_DAYS} days`);
    const [op] = (await retryBusy(c, step, `Cloud SQL instance ${r.name}`, () =>
      c.call('sql', 'instances.delete', () => client.delete({ project: c.project, instance: r.name, ...(finalBackup ? { enableFinalBackup: true, finalBackupTtlDays: FINAL_BACKUP_DAYS } : {}) }), step.signal))) as Json[];
    await waitSql(c, step, op, `deleting Cloud SQL instance ${r.name}`, r.id);
  }
  await poll(c, step, `deleting Cloud SQL instance ${r.name}`, async () => {
    const now = await getInstance(c, r.name, step.signal);
    return now ? { done: false, state: String(now.state) } : { done: true, value: undefined };
  }, { timeoutMs: c.timing.deleteTimeoutMs ?? 30 * 60_000, resourceId: r.id });
  await deleteDriverSecret(c, adminSecretId(r.name), step.signal);
}

export const sqlHandler: Handler = {
  managed: ['databaseVersion', 'tier', 'diskSizeGb', 'diskAutoresize', 'availabilityType', 'backupRetainedCount', 'pointInTimeRecovery', 'transactionLogRetentionDays', 'deletionProtection', 'ipv4Enabled', 'sslMode'],
  read,
  create: ensure,
  update: ensure,
  delete: remove,
  async waitReady(r, c, step) {
    await untilRunnable(c, step, r);
  },
};
