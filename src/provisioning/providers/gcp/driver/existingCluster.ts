/**
 * "Use an existing cluster" on GCP. GCP::GKE::ExistingCluster is a GKE cluster the environment only reads
 * (clusters.get): never created, changed or deleted; apply refuses it plainly when it is missing, not RUNNING or
 * without Workload Identity. servicenetworking.googleapis.com/Connection is the private services access of the
 * cluster's network that Cloud SQL and Memorystore on private IPs need: the network's connection when it has one,
 * used as it is (its reserved ranges), else one the environment makes on a range of its own. Destroy deletes only
 * what the environment made: its range (taken off the connection first when others were added to it since) and the
 * connection when its range is the only one; a connection that was there before is never touched. A network of
 * another project (Shared VPC) is refused: its private services access is the host project's.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { descriptionMark, num, out, str, type GcpContext, type Handler } from './common';
import { getCluster } from './gke';
import { computeBase, computeOperation, getOrNull, peering, projectNumber, rest, SERVICE, snOperation } from './network';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- GKE's and Compute's messages

/** Where the driver keeps the existing cluster's network path once read (the connection's read needs it). */
const NETWORK = 'gcp:gke-network';

/** `projects/P/global/networks/N` of a cluster (GKE gives the full path in networkConfig, the name in `network`). */
function networkOf(c: GcpContext, cluster: Json): string {
  const full = cluster.networkConfig?.network;
  if (typeof full === 'string' && full.startsWith('projects/')) return full;
  return `projects/${c.project}/global/networks/${String(cluster.network || 'default')}`;
}

function subnetworkOf(c: GcpContext, cluster: Json): string {
  const full = cluster.networkConfig?.subnetwork;
  if (typeof full === 'string' && full.startsWith('projects/')) return full;
  const region = String(cluster.location).replace(/-[a-z]$/, '');
  return `projects/${c.project}/regions/${region}/subnetworks/${String(cluster.subnetwork || cluster.network || 'default')}`;
}

function existingOutputs(c: GcpContext, r: DesiredResource, cluster: Json): Outputs {
  const location = String(cluster.location);
  const pool = String(cluster.workloadIdentityConfig?.workloadPool ?? '');
  return {
    name: out(r.name),
    location: out(location),
    fullName: out(`projects/${c.project}/locations/${location}/clusters/${r.name}`),
    ...(cluster.endpoint ? { endpoint: out(String(cluster.endpoint)) } : {}),
    ...(cluster.masterAuth?.clusterCaCertificate ? { caCertificate: out(String(cluster.masterAuth.clusterCaCertificate)) } : {}),
    ...(pool ? { workloadIdentityPool: out(pool) } : {}),
    networkId: out(networkOf(c, cluster)),
    network: out(networkOf(c, cluster).split('/').pop()!),
    subnetwork: out(subnetworkOf(c, cluster)),
  };
}

function remember(c: GcpContext, r: DesiredResource, location: string, cluster: Json): void {
  c.names.set('gcp:gke', `${location}/${r.name}`);
  c.names.set(NETWORK, networkOf(c, cluster));
}

async function readExisting(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const location = str(r.settings, 'location', r.id);
  const cluster = await getCluster(c, location, r.name, signal);
  if (!cluster) return null;
  remember(c, r, location, cluster);
  return {
    externalId: String(cluster.selfLink ?? `projects/${c.project}/locations/${location}/clusters/${r.name}`),
    observed: {},
    outputs: existingOutputs(c, r, cluster),
    status: cluster.status === 'RUNNING' ? { state: 'ready' } : { state: 'pending', reason: `it is ${String(cluster.status ?? 'STATUS_UNSPECIFIED')}` },
    // Not made by the tool, yet the environment's to read: it is never adopted, changed or deleted.
    ours: true,
  };
}

/** Checks the cluster is there, RUNNING and has Workload Identity; changes nothing on it. */
async function ensureExisting(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const location = str(r.resolved, 'location', r.id);
  const cluster = await getCluster(c, location, r.name, step.signal);
  if (!cluster) {
    throw new DriverError('invalid', `${r.id}: there is no GKE cluster ${r.name} in project ${c.project}, location ${location}. Check provider.cluster (its name and location: gcloud container clusters list --project ${c.project}), or remove provider.cluster to create a cluster.`, { resourceId: r.id });
  }
  if (cluster.status !== 'RUNNING') {
    throw new DriverError('not-ready', `${r.id}: GKE cluster ${r.name} is ${String(cluster.status ?? 'STATUS_UNSPECIFIED')}, not RUNNING; try again once it is (gcloud container clusters describe ${r.name} --location ${location} --project ${c.project})`, { resourceId: r.id });
  }
  const pool = String(cluster.workloadIdentityConfig?.workloadPool ?? '');
  if (!pool) {
    throw new DriverError('invalid', `${r.id}: GKE cluster ${r.name} has Workload Identity off, which each service's Google service account needs. This tool never changes an existing cluster: turn it on with gcloud container clusters update ${r.name} --location ${location} --workload-pool=${c.project}.svc.id.goog (and its node pools with --workload-metadata=GKE_METADATA), then apply again.`, { resourceId: r.id });
  }
  const pools = (cluster.nodePools ?? []) as Json[];
  const autopilot = cluster.autopilot?.enabled === true;
  if (!autopilot && pools.length > 0 && !pools.some((p) => p.config?.workloadMetadataConfig?.mode === 'GKE_METADATA')) {
    throw new DriverError('invalid', `${r.id}: no node pool of GKE cluster ${r.name} runs the GKE metadata server, so pods cannot use Workload Identity. Turn it on for a pool: gcloud container node-pools update ${String(pools[0]!.name)} --cluster ${r.name} --location ${location} --workload-metadata=GKE_METADATA`, { resourceId: r.id });
  }
  if (!cluster.endpoint || !cluster.masterAuth?.clusterCaCertificate) {
    throw new DriverError('invalid', `${r.id}: clusters.get of ${r.name} gives no endpoint or CA certificate, which the Kubernetes connection needs`, { resourceId: r.id });
  }
  remember(c, r, location, cluster);
  return existingOutputs(c, r, cluster);
}

export const existingClusterHandler: Handler = {
  managed: [],
  read: readExisting,
  create: ensureExisting,
  update: ensureExisting,
  // Left as it is: the environment made nothing on the cluster itself.
  async delete() {},
  async waitReady() {},
};

// --- private services access on the cluster's network ---

/**
 * The network path the connection's settings name, or (unresolved in a read) the cluster's as read; null when the
 * cluster cannot be read, or when the network is another project's (Shared VPC), where the environment makes nothing.
 */
async function networkFor(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<{ path: string; name: string } | null> {
  const network = await clusterNetwork(r, c, signal);
  return network && network.project === c.project ? network : null;
}

async function clusterNetwork(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<{ path: string; name: string; project: string } | null> {
  let path: string | undefined = typeof r.settings.network === 'string' && r.settings.network.startsWith('projects/') ? r.settings.network : c.names.get(NETWORK);
  if (!path) {
    const [location, name] = (c.names.get('gcp:gke') ?? '').split('/');
    const cluster = location && name ? await getCluster(c, location, name, signal) : null;
    if (!cluster) return null;
    path = networkOf(c, cluster);
    c.names.set(NETWORK, path);
  }
  const match = /^projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(path);
  if (!match) throw new DriverError('invalid', `${r.id}: "${path}" is not a network (projects/P/global/networks/N)`, { resourceId: r.id });
  return { path, name: match[2]!, project: match[1]! };
}

const rangePath = (c: GcpContext, r: DesiredResource) => `${computeBase(c)}/global/addresses/${r.name}`;

async function ourRange(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<Json | null> {
  const range = await getOrNull(c, 'compute', 'globalAddresses.get', rangePath(c, r), signal);
  return range && range.description === descriptionMark(r, c) ? range : null;
}

const rangesOf = (connection: Json | null): string[] => ((connection?.reservedPeeringRanges ?? []) as unknown[]).map(String);

function connectionOutputs(network: { path: string }, connection: Json): Outputs {
  return { network: out(network.path), reservedPeeringRanges: out(rangesOf(connection)) };
}

async function readConnection(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const network = await networkFor(r, c, signal);
  if (!network) return null;
  const connection = await peering(c, network.name, signal);
  if (!connection) return null;
  return {
    externalId: `${network.path}/${String(connection.peering ?? 'servicenetworking-googleapis-com')}`,
    observed: {},
    outputs: connectionOutputs(network, connection),
    status: { state: 'ready' },
    // Ours when it peers the range the environment reserved; a connection of the network's own is used as it is.
    ours: rangesOf(connection).includes(r.name),
  };
}

async function ensureConnection(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const network = await clusterNetwork(r, c, step.signal);
  if (!network) throw new DriverError('not-ready', `${r.id}: the existing cluster has not been read yet`, { resourceId: r.id });
  if (network.project !== c.project) {
    throw new DriverError('invalid', `${r.id}: the cluster's network ${network.name} is in project ${network.project} (Shared VPC); its private services access is the host project's to set up, which this tool does not do. Use a Development environment (databases and caches in the cluster), or a cluster of its own.`, { resourceId: r.id });
  }
  const found = await peering(c, network.name, step.signal);
  if (found) {
    if (!rangesOf(found).includes(r.name)) step.progress(`private services access: network ${network.name} has a Service Networking connection already; its ranges (${rangesOf(found).join(', ')}) are used as they are`);
    return connectionOutputs(network, found);
  }
  if (!(await getOrNull(c, 'compute', 'globalAddresses.get', rangePath(c, r), step.signal))) {
    const op = await rest(c, 'compute', 'globalAddresses.insert', 'POST', `${computeBase(c)}/global/addresses`, step.signal, {
      name: r.name, purpose: 'VPC_PEERING', addressType: 'INTERNAL', prefixLength: num(r.resolved, 'prefixLength', r.id), network: `https://www.googleapis.com/compute/v1/${network.path}`, description: descriptionMark(r, c),
    });
    await computeOperation(c, step, op, `private services range ${r.name} on ${network.name}`, r.id);
  } else if (!(await ourRange(r, c, step.signal))) {
    throw new DriverError('invalid', `${r.id}: a global address ${r.name} exists in project ${c.project} that this environment did not reserve; it is left alone`, { resourceId: r.id });
  }
  const number = await projectNumber(c, step.signal);
  const op = await rest(c, 'servicenetworking', 'connections.create', 'POST', `/v1/${SERVICE}/connections`, step.signal, {
    network: `projects/${number}/global/networks/${network.name}`, reservedPeeringRanges: [r.name],
  });
  await snOperation(c, step, op, `private services access for ${network.name}`, r.id);
  const made = await peering(c, network.name, step.signal);
  if (!made) throw new DriverError('not-ready', `${r.id}: the Service Networking connection of ${network.name} is not listed yet`, { resourceId: r.id });
  return connectionOutputs(network, made);
}

async function deleteConnection(r: DesiredResource, c: GcpContext, step: StepContext): Promise<void> {
  const network = await networkFor(r, c, step.signal);
  const range = await ourRange(r, c, step.signal);
  const connection = network ? await peering(c, network.name, step.signal) : null;
  if (network && connection && rangesOf(connection).includes(r.name)) {
    const number = await projectNumber(c, step.signal);
    const consumer = `projects/${number}/global/networks/${network.name}`;
    const others = rangesOf(connection).filter((x) => x !== r.name);
    const op = others.length === 0
      ? await rest(c, 'servicenetworking', 'connections.deleteConnection', 'POST', `/v1/${SERVICE}/connections/servicenetworking-googleapis-com:deleteConnection`, step.signal, { consumerNetwork: consumer })
      // Ranges were added to the connection since: it stays for them, without the environment's range.
      : await rest(c, 'servicenetworking', 'connections.patch', 'PATCH', `/v1/${SERVICE}/connections/servicenetworking-googleapis-com?updateMask=reservedPeeringRanges&force=true`, step.signal, { network: consumer, reservedPeeringRanges: others });
    await snOperation(c, step, op, `removing the environment's private services access from ${network.name}`, r.id);
  }
  if (range) {
    const op = await rest(c, 'compute', 'globalAddresses.delete', 'DELETE', rangePath(c, r), step.signal);
    await computeOperation(c, step, op, `deleting range ${r.name}`, r.id);
  }
}

export const privateServicesHandler: Handler = {
  managed: [],
  read: readConnection,
  create: ensureConnection,
  update: ensureConnection,
  delete: deleteConnection,
  async waitReady() {},
};
