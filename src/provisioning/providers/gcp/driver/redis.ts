/**
 * redis.googleapis.com/Instance: Memorystore for Redis per cache cluster, on the environment's network through
 * private services access, AUTH on, TLS in transit (server authentication). Its AUTH string and server CA are read
 * on every read as outputs (the AUTH string as a secret output), which the in-cluster Secret copies. Every change
 * is a long-running operation, polled with progress.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { isAlreadyExists, isNotFound } from '../connection';
import { bool, labelsFor, marked, num, out, plainLabels, poll, readyStatus, str, waitOperation, type GcpContext, type Handler } from './common';
import { storageNetwork } from './network';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Memorystore's messages

const instancePath = (c: GcpContext, name: string) => `projects/${c.project}/locations/${c.region}/instances/${name}`;
/** What an update may change in place; the rest needs a new instance. */
const UPDATABLE = ['memorySizeGb', 'replicaCount', 'redisConfigs', 'labels'] as const;

async function getInstance(c: GcpContext, name: string, signal: AbortSignal): Promise<Json | null> {
  const client = await c.clients.get('redis');
  try {
    const [instance] = (await c.call('redis', 'instances.get', () => client.getInstance({ name: instancePath(c, name) }), signal)) as Json[];
    return instance;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

function observed(i: Json): JsonObject {
  return {
    tier: String(i.tier),
    memorySizeGb: Number(i.memorySizeGb),
    replicaCount: Number(i.replicaCount ?? 0),
    readReplicasMode: String(i.readReplicasMode ?? 'READ_REPLICAS_DISABLED'),
    redisVersion: String(i.redisVersion),
    authEnabled: i.authEnabled === true,
    transitEncryptionMode: String(i.transitEncryptionMode),
    connectMode: String(i.connectMode),
    redisConfigs: (i.redisConfigs ?? {}) as JsonObject,
  };
}

async function outputsOf(c: GcpContext, r: DesiredResource, i: Json, signal: AbortSignal): Promise<Outputs> {
  const outputs: Outputs = { name: out(String(i.name)), host: out(String(i.host ?? '')), port: out(Number(i.port ?? 6379)) };
  const ca = ((i.serverCaCerts ?? []) as Json[])[0]?.cert;
  outputs.serverCaCert = out(String(ca ?? ''));
  if (i.authEnabled && i.state === 'READY') {
    const client = await c.clients.get('redis');
    const [auth] = (await c.call('redis', 'instances.getAuthString', () => client.getInstanceAuthString({ name: instancePath(c, r.name) }), signal)) as Json[];
    outputs.authString = out(String(auth.authString ?? ''), true);
  }
  return outputs;
}

async function read(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const i = await getInstance(c, r.name, signal);
  if (!i || i.state === 'DELETING') return null;
  return {
    externalId: String(i.name),
    observed: observed(i),
    outputs: await outputsOf(c, r, i, signal),
    status: readyStatus(String(i.state), ['READY'], ['FAILED']),
    ours: marked(plainLabels(i.labels), r, c),
  };
}

async function untilReady(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, r: DesiredResource): Promise<Json> {
  return poll(c, step, `Memorystore instance ${r.name}`, async () => {
    const i = await getInstance(c, r.name, step.signal);
    if (!i) return { done: false, state: 'not found yet' };
    return i.state === 'READY' ? { done: true, value: i } : { done: false, state: String(i.state) };
  }, { timeoutMs: 30 * 60_000, resourceId: r.id, failed: (s) => (s === 'FAILED' ? 'it FAILED' : null) });
}

async function ensure(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const client = await c.clients.get('redis');
  const s = r.resolved;
  let i = await getInstance(c, r.name, step.signal);
  if (!i) {
    const network = await storageNetwork(r, 'authorizedNetwork', c, step.signal);
    const spec: Json = {
      tier: str(s, 'tier', r.id),
      memorySizeGb: num(s, 'memorySizeGb', r.id),
      replicaCount: typeof s.replicaCount === 'number' ? s.replicaCount : 0,
      readReplicasMode: typeof s.readReplicasMode === 'string' ? s.readReplicasMode : 'READ_REPLICAS_DISABLED',
      redisVersion: str(s, 'redisVersion', r.id),
      authEnabled: bool(s, 'authEnabled'),
      transitEncryptionMode: str(s, 'transitEncryptionMode', r.id),
      connectMode: str(s, 'connectMode', r.id),
      authorizedNetwork: network,
      redisConfigs: (s.redisConfigs ?? {}) as Json,
      labels: labelsFor(r, c),
    };
    try {
      const [op] = (await c.call('redis', 'instances.create', () => client.createInstance({ parent: `projects/${c.project}/locations/${c.region}`, instanceId: r.name, instance: spec }), step.signal)) as Json[];
      step.progress(`Memorystore instance ${r.name}: creating (Memorystore takes about 5 minutes)`);
      await waitOperation(c, step, 'redis', client, String(op.name), `Memorystore instance ${r.name}`, r.id, 30 * 60_000);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    i = await untilReady(c, step, r);
  } else {
    i = await untilReady(c, step, r);
    const now = observed(i);
    const fixed = ['tier', 'redisVersion', 'authEnabled', 'transitEncryptionMode', 'connectMode', 'readReplicasMode'].filter((k) => s[k] !== undefined && JSON.stringify(s[k]) !== JSON.stringify(now[k]));
    if (fixed.length > 0) throw new DriverError('invalid', `${r.id}: ${fixed.join(', ')} of Memorystore instance ${r.name} cannot change in place`, { resourceId: r.id });
    const want: Json = { memorySizeGb: s.memorySizeGb, replicaCount: s.replicaCount ?? 0, redisConfigs: s.redisConfigs ?? {}, labels: { ...plainLabels(i.labels), ...labelsFor(r, c) } };
    const paths = UPDATABLE.filter((k) => JSON.stringify(want[k]) !== JSON.stringify(k === 'labels' ? plainLabels(i!.labels) : now[k]));
    if (paths.length > 0) {
      const [op] = (await c.call('redis', 'instances.update', () => client.updateInstance({ updateMask: { paths: paths.map((p) => p.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)) }, instance: { name: instancePath(c, r.name), ...Object.fromEntries(paths.map((p) => [p, want[p]])) } }), step.signal)) as Json[];
      await waitOperation(c, step, 'redis', client, String(op.name), `updating Memorystore instance ${r.name}`, r.id, 30 * 60_000);
      i = await untilReady(c, step, r);
    }
  }
  return outputsOf(c, r, i, step.signal);
}

export const redisHandler: Handler = {
  managed: ['tier', 'memorySizeGb', 'replicaCount', 'readReplicasMode', 'redisVersion', 'authEnabled', 'transitEncryptionMode', 'connectMode', 'redisConfigs'],
  read,
  create: ensure,
  update: ensure,
  async delete(r, c, step) {
    const client = await c.clients.get('redis');
    const i = await getInstance(c, r.name, step.signal);
    if (i && i.state !== 'DELETING') {
      const [op] = (await c.call('redis', 'instances.delete', () => client.deleteInstance({ name: instancePath(c, r.name) }), step.signal)) as Json[];
      await waitOperation(c, step, 'redis', client, String(op.name), `deleting Memorystore instance ${r.name}`, r.id, c.timing.deleteTimeoutMs ?? 30 * 60_000);
    }
  },
  async waitReady(r, c, step) {
    await untilReady(c, step, r);
  },
};
