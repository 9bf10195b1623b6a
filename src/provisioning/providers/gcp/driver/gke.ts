/**
 * container.googleapis.com/Cluster and NodePool: a GKE Standard cluster (regional in Production, zonal in
 * Development) on the environment's subnet, with private nodes, a release channel and Workload Identity on the
 * project's pool; or Autopilot when the settings ask for it (GKE then manages the nodes, so the node pool is GKE's).
 * The cluster is created without a node pool of its own: GKE's default pool, if it makes one, is removed, and the
 * graph's node pool autoscales between the sizing answers (or stays fixed in Development). GKE's operations are
 * polled with progress. The Kubernetes connection is the cluster's endpoint and CA with an ADC access token.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { tokenEndpoint, type KubeEndpoint } from '../../kubernetes/client';
import { isNotFound } from '../connection';
import { bool, labelsFor, marked, out, plainLabels, poll, readyStatus, str, type GcpContext, type Handler } from './common';
import { environmentNetwork, subnetName } from './network';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- GKE's messages

const clusterPath = (c: GcpContext, location: string, name: string) => `projects/${c.project}/locations/${location}/clusters/${name}`;

async function container(c: GcpContext) {
  return c.clients.get('container');
}

export async function getCluster(c: GcpContext, location: string, name: string, signal: AbortSignal): Promise<Json | null> {
  const client = await container(c);
  try {
    const [cluster] = (await c.call('container', 'clusters.get', () => client.getCluster({ name: clusterPath(c, location, name) }), signal)) as Json[];
    return cluster;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Waits for a GKE operation (its own Operation type, not google.longrunning). */
async function waitGke(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, location: string, op: Json, what: string, resourceId: string): Promise<void> {
  const client = await container(c);
  const name = `projects/${c.project}/locations/${location}/operations/${String(op.name)}`;
  await poll(c, step, what, async () => {
    const [now] = (await c.call('container', 'operations.get', () => client.getOperation({ name }), step.signal)) as Json[];
    if (now.status !== 'DONE') return { done: false, state: String(now.status) };
    if (now.error?.message) throw new DriverError('not-ready', `${what}: ${String(now.error.message)}`, { resourceId });
    return { done: true, value: undefined };
  }, { timeoutMs: 45 * 60_000, resourceId });
}

/** GKE runs one operation per cluster: a change asked while another runs waits for it and is asked again. */
async function whenIdle<T>(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, what: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await run();
    } catch (err) {
      const busy = err instanceof Error && /running (incompatible )?operation/i.test(err.message);
      if (!busy || Date.now() - started > 30 * 60_000) throw err;
      step.progress(`${what}: waiting for the cluster's running operation`);
      await new Promise((resolve) => setTimeout(resolve, c.timing.pollIntervalMs ?? 10_000));
      step.signal.throwIfAborted();
    }
  }
}

function minor(version: unknown): string | undefined {
  return typeof version === 'string' ? /^(\d+\.\d+)/.exec(version)?.[1] : undefined;
}

function clusterObserved(cluster: Json): JsonObject {
  return {
    location: String(cluster.location),
    ...(minor(cluster.currentMasterVersion) ? { version: minor(cluster.currentMasterVersion)! } : {}),
    releaseChannel: String(cluster.releaseChannel?.channel ?? 'UNSPECIFIED'),
    privateNodes: Boolean(cluster.privateClusterConfig?.enablePrivateNodes),
    workloadIdentityPool: String(cluster.workloadIdentityConfig?.workloadPool ?? ''),
    autopilot: Boolean(cluster.autopilot?.enabled),
  };
}

function clusterOutputs(c: GcpContext, r: DesiredResource, cluster: Json): Outputs {
  return {
    name: out(r.name),
    location: out(String(cluster.location)),
    fullName: out(clusterPath(c, String(cluster.location), r.name)),
    ...(cluster.endpoint ? { endpoint: out(String(cluster.endpoint)) } : {}),
    ...(cluster.masterAuth?.clusterCaCertificate ? { caCertificate: out(String(cluster.masterAuth.clusterCaCertificate)) } : {}),
    workloadIdentityPool: out(String(cluster.workloadIdentityConfig?.workloadPool ?? '')),
  };
}

async function readCluster(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const location = str(r.settings, 'location', r.id);
  const cluster = await getCluster(c, location, r.name, signal);
  if (!cluster || cluster.status === 'STOPPING') return null;
  c.names.set('gcp:gke', `${location}/${r.name}`);
  return {
    externalId: String(cluster.selfLink ?? clusterPath(c, location, r.name)),
    observed: clusterObserved(cluster),
    outputs: clusterOutputs(c, r, cluster),
    status: readyStatus(String(cluster.status), ['RUNNING'], ['ERROR', 'DEGRADED']),
    ours: marked(plainLabels(cluster.resourceLabels), r, c),
  };
}

async function untilRunning(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, r: DesiredResource, location: string): Promise<Json> {
  return poll(c, step, `GKE cluster ${r.name}`, async () => {
    const cluster = await getCluster(c, location, r.name, step.signal);
    if (!cluster) return { done: false, state: 'not found yet' };
    return cluster.status === 'RUNNING' ? { done: true, value: cluster } : { done: false, state: String(cluster.status) };
  }, { timeoutMs: 45 * 60_000, resourceId: r.id, failed: (s) => (s === 'ERROR' ? 'it is in ERROR' : null) });
}

async function ensureCluster(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const client = await container(c);
  const location = str(r.resolved, 'location', r.id);
  const autopilot = bool(r.resolved, 'autopilot');
  const pool = str(r.resolved, 'workloadIdentityPool', r.id);
  let cluster = await getCluster(c, location, r.name, step.signal);
  if (cluster?.status === 'STOPPING') throw new DriverError('transient', `${r.id}: GKE cluster ${r.name} is being deleted; apply again once it is gone`, { resourceId: r.id });
  if (!cluster) {
    const network = await environmentNetwork(c, step.signal);
    const spec: Json = {
      name: r.name,
      description: `Encore environment ${c.environment}`,
      network,
      subnetwork: subnetName(network),
      initialClusterVersion: str(r.resolved, 'version', r.id),
      releaseChannel: { channel: str(r.resolved, 'releaseChannel', r.id) },
      workloadIdentityConfig: { workloadPool: pool },
      ipAllocationPolicy: { useIpAliases: true },
      resourceLabels: labelsFor(r, c),
      ...(bool(r.resolved, 'privateNodes') ? { privateClusterConfig: { enablePrivateNodes: true, masterIpv4CidrBlock: '172.16.0.0/28' } } : {}),
      // Standard: the cluster's own default pool is removed once it runs; the graph's node pool replaces it.
      ...(autopilot ? { autopilot: { enabled: true } } : { initialNodeCount: 1 }),
    };
    try {
      const [op] = (await c.call('container', 'clusters.create', () => client.createCluster({ parent: `projects/${c.project}/locations/${location}`, cluster: spec }), step.signal)) as Json[];
      step.progress(`GKE cluster ${r.name}: creating (GKE takes about 8 minutes)`);
      await waitGke(c, step, location, op, `GKE cluster ${r.name}`, r.id);
    } catch (err) {
      if (!(err instanceof Error && /already exists/i.test(err.message))) throw err;
    }
  }
  cluster = await untilRunning(c, step, r, location);
  // Adopted or ours: Workload Identity on the project's pool is what every service's identity needs.
  if (cluster.workloadIdentityConfig?.workloadPool !== pool) {
    const [op] = (await whenIdle(c, step, `GKE cluster ${r.name}`, () =>
      c.call('container', 'clusters.update', () => client.updateCluster({ name: clusterPath(c, location, r.name), update: { desiredWorkloadIdentityConfig: { workloadPool: pool } } }), step.signal))) as Json[];
    await waitGke(c, step, location, op, `enabling Workload Identity on ${r.name}`, r.id);
    cluster = await untilRunning(c, step, r, location);
  }
  if (!autopilot) {
    for (const p of (cluster.nodePools ?? []) as Json[]) {
      if (p.name !== 'default-pool') continue;
      const [op] = (await whenIdle(c, step, `GKE cluster ${r.name}`, () =>
        c.call('container', 'nodePools.delete', () => client.deleteNodePool({ name: `${clusterPath(c, location, r.name)}/nodePools/default-pool` }), step.signal))) as Json[];
      await waitGke(c, step, location, op, `removing the default node pool of ${r.name}`, r.id);
    }
    cluster = await untilRunning(c, step, r, location);
  }
  c.names.set('gcp:gke', `${location}/${r.name}`);
  return clusterOutputs(c, r, cluster);
}

async function deleteCluster(r: DesiredResource, c: GcpContext, step: StepContext): Promise<void> {
  const client = await container(c);
  const location = str(r.settings, 'location', r.id);
  const cluster = await getCluster(c, location, r.name, step.signal);
  if (cluster && cluster.status !== 'STOPPING') {
    const [op] = (await whenIdle(c, step, `GKE cluster ${r.name}`, () =>
      c.call('container', 'clusters.delete', () => client.deleteCluster({ name: clusterPath(c, location, r.name) }), step.signal))) as Json[];
    await waitGke(c, step, location, op, `deleting GKE cluster ${r.name}`, r.id);
  }
  await poll(c, step, `deleting GKE cluster ${r.name}`, async () => {
    const now = await getCluster(c, location, r.name, step.signal);
    return now ? { done: false, state: String(now.status) } : { done: true, value: undefined };
  }, { timeoutMs: c.timing.deleteTimeoutMs ?? 30 * 60_000, resourceId: r.id });
  c.names.delete('gcp:gke');
}

export const clusterHandler: Handler = {
  managed: ['location', 'version', 'releaseChannel', 'privateNodes', 'workloadIdentityPool', 'autopilot'],
  read: readCluster,
  create: ensureCluster,
  update: ensureCluster,
  delete: deleteCluster,
  async waitReady(r, c, step) {
    await untilRunning(c, step, r, str(r.resolved, 'location', r.id));
  },
};

/** The cluster a node pool belongs to: learnt from the cluster's read or create, else found by its labels. */
async function clusterOf(c: GcpContext, signal: AbortSignal): Promise<{ location: string; name: string } | null> {
  const known = c.names.get('gcp:gke');
  if (known) {
    const [location, name] = known.split('/');
    return { location: location!, name: name! };
  }
  const client = await container(c);
  const [list] = (await c.call('container', 'clusters.list', () => client.listClusters({ parent: `projects/${c.project}/locations/-` }), signal)) as Json[];
  const found = ((list?.clusters ?? []) as Json[]).find((cl) => marked(plainLabels(cl.resourceLabels), { id: 'gcp:gke' }, c));
  if (!found) return null;
  c.names.set('gcp:gke', `${String(found.location)}/${String(found.name)}`);
  return { location: String(found.location), name: String(found.name) };
}

function poolObserved(pool: Json): JsonObject {
  const scaling = pool.autoscaling?.enabled
    ? {
        autoscaling: {
          totalMinNodeCount: Number(pool.autoscaling.totalMinNodeCount ?? pool.autoscaling.minNodeCount ?? 0),
          totalMaxNodeCount: Number(pool.autoscaling.totalMaxNodeCount ?? pool.autoscaling.maxNodeCount ?? 0),
          locationPolicy: String(pool.autoscaling.locationPolicy ?? 'BALANCED'),
        },
      }
    : { autoscaling: null, nodeCount: Number(pool.initialNodeCount ?? 0) };
  return {
    ...scaling,
    machineType: String(pool.config?.machineType ?? ''),
    workloadMetadata: String(pool.config?.workloadMetadataConfig?.mode ?? ''),
  } as JsonObject;
}

async function getPool(c: GcpContext, cluster: { location: string; name: string }, name: string, signal: AbortSignal): Promise<Json | null> {
  const client = await container(c);
  try {
    const [pool] = (await c.call('container', 'nodePools.get', () => client.getNodePool({ name: `${clusterPath(c, cluster.location, cluster.name)}/nodePools/${name}` }), signal)) as Json[];
    return pool;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function readPool(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const cluster = await clusterOf(c, signal);
  if (!cluster) return null;
  const pool = await getPool(c, cluster, r.name, signal);
  if (!pool || pool.status === 'STOPPING') return null;
  return {
    externalId: String(pool.selfLink ?? `${cluster.name}/${r.name}`),
    observed: poolObserved(pool),
    outputs: { name: out(r.name) },
    status: readyStatus(String(pool.status), ['RUNNING'], ['ERROR']),
    ours: marked(plainLabels(pool.config?.resourceLabels), r, c),
  };
}

function autoscalingOf(r: ResolvedResource): Json | null {
  const a = r.resolved.autoscaling;
  if (a === null || typeof a !== 'object' || Array.isArray(a)) return null;
  return { enabled: true, totalMinNodeCount: Number(a.totalMinNodeCount), totalMaxNodeCount: Number(a.totalMaxNodeCount), locationPolicy: String(a.locationPolicy ?? 'BALANCED') };
}

async function untilPoolRunning(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, r: DesiredResource, cluster: { location: string; name: string }): Promise<Json> {
  return poll(c, step, `node pool ${r.name}`, async () => {
    const pool = await getPool(c, cluster, r.name, step.signal);
    if (!pool) return { done: false, state: 'not found yet' };
    return pool.status === 'RUNNING' ? { done: true, value: pool } : { done: false, state: String(pool.status) };
  }, { timeoutMs: 30 * 60_000, resourceId: r.id, failed: (s) => (s === 'ERROR' ? 'it is in ERROR' : null) });
}

async function ensurePool(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const client = await container(c);
  const cluster = await clusterOf(c, step.signal);
  if (!cluster) throw new DriverError('not-ready', `${r.id}: the environment's GKE cluster does not exist yet`, { resourceId: r.id });
  const autoscaling = autoscalingOf(r);
  let pool = await getPool(c, cluster, r.name, step.signal);
  if (!pool) {
    const spec: Json = {
      name: r.name,
      config: {
        machineType: str(r.resolved, 'machineType', r.id),
        workloadMetadataConfig: { mode: str(r.resolved, 'workloadMetadata', r.id) },
        oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
        resourceLabels: labelsFor(r, c),
      },
      management: { autoUpgrade: true, autoRepair: true },
      ...(autoscaling ? { autoscaling, initialNodeCount: 1 } : { initialNodeCount: Number(r.resolved.nodeCount ?? 1) }),
    };
    const [op] = (await whenIdle(c, step, `node pool ${r.name}`, () =>
      c.call('container', 'nodePools.create', () => client.createNodePool({ parent: clusterPath(c, cluster.location, cluster.name), nodePool: spec }), step.signal))) as Json[];
    await waitGke(c, step, cluster.location, op, `node pool ${r.name}`, r.id);
    pool = await untilPoolRunning(c, step, r, cluster);
  }
  const now = poolObserved(pool);
  const want = autoscaling ? { autoscaling: { totalMinNodeCount: autoscaling.totalMinNodeCount, totalMaxNodeCount: autoscaling.totalMaxNodeCount, locationPolicy: autoscaling.locationPolicy } } : { autoscaling: null };
  if (JSON.stringify(now.autoscaling) !== JSON.stringify(want.autoscaling)) {
    const [op] = (await whenIdle(c, step, `node pool ${r.name}`, () =>
      c.call('container', 'nodePools.setAutoscaling', () => client.setNodePoolAutoscaling({
        name: `${clusterPath(c, cluster.location, cluster.name)}/nodePools/${r.name}`,
        autoscaling: autoscaling ?? { enabled: false },
      }), step.signal))) as Json[];
    await waitGke(c, step, cluster.location, op, `node pool ${r.name} autoscaling`, r.id);
    await untilPoolRunning(c, step, r, cluster);
  }
  return { name: out(r.name) };
}

async function deletePool(r: DesiredResource, c: GcpContext, step: StepContext): Promise<void> {
  const client = await container(c);
  const cluster = await clusterOf(c, step.signal);
  if (!cluster) return;
  const pool = await getPool(c, cluster, r.name, step.signal);
  if (!pool) return;
  if (pool.status !== 'STOPPING') {
    const [op] = (await whenIdle(c, step, `node pool ${r.name}`, () =>
      c.call('container', 'nodePools.delete', () => client.deleteNodePool({ name: `${clusterPath(c, cluster.location, cluster.name)}/nodePools/${r.name}` }), step.signal))) as Json[];
    await waitGke(c, step, cluster.location, op, `deleting node pool ${r.name}`, r.id);
  }
}

export const nodePoolHandler: Handler = {
  managed: ['machineType', 'workloadMetadata', 'autoscaling', 'nodeCount'],
  read: readPool,
  create: ensurePool,
  update: ensurePool,
  delete: deletePool,
  async waitReady(r, c, step) {
    const cluster = await clusterOf(c, step.signal);
    if (!cluster) throw new DriverError('not-ready', `${r.id}: the environment's GKE cluster does not exist`, { resourceId: r.id });
    await untilPoolRunning(c, step, r, cluster);
  },
};

/** The Kubernetes connection to a RUNNING cluster: its endpoint and CA, and an ADC access token as GKE takes it. */
export async function clusterConnection(c: GcpContext, signal: AbortSignal): Promise<KubeEndpoint | null> {
  const at = await clusterOf(c, signal);
  if (!at) return null;
  const cluster = await getCluster(c, at.location, at.name, signal);
  if (!cluster || cluster.status !== 'RUNNING' || !cluster.endpoint || !cluster.masterAuth?.clusterCaCertificate) return null;
  const endpoint = String(cluster.endpoint);
  return tokenEndpoint({
    server: endpoint.startsWith('https://') ? endpoint : `https://${endpoint}`,
    caPem: Buffer.from(String(cluster.masterAuth.clusterCaCertificate), 'base64').toString('utf8'),
    label: `GKE cluster ${at.name} (${at.location})`,
    refreshHint: `Check that the Application Default Credentials are valid (gcloud auth application-default login) and that their account may use GKE cluster ${at.name} (roles/container.developer or more).`,
    // google-auth-library caches the token and renews it before it expires.
    token: () => c.connection.accessToken(),
  });
}

