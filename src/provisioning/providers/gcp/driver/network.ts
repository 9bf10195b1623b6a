/**
 * compute.googleapis.com/Network: the environment's VPC (custom subnets), one regional subnet for the nodes with
 * Private Google Access, and, when Cloud SQL or Memorystore are on private IPs, private services access: a reserved
 * internal range peered to Google's service producer network (Service Networking); and, when `cloudNat` is set, a
 * Cloud Router in the region with a Cloud NAT config, the private GKE nodes' only way out (image pulls from outside
 * Google, webhooks). Compute and Service Networking are called over their REST APIs with the connection's auth
 * client; networks carry no labels, so the mark is in the description. Deleted in reverse: the router (and its NAT),
 * the peering, the range, the subnet, the network.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { isNotFound, type GcpApi } from '../connection';
import { bool, descriptionMark, out, poll, str, type GcpContext, type Handler } from './common';

type Json = Record<string, unknown>;

export const subnetName = (network: string) => `${network}-nodes`.slice(0, 63);
export const rangeName = (network: string) => `${network}-services`.slice(0, 63);
export const routerName = (network: string) => `${network}-router`.slice(0, 63);
export const natName = (network: string) => `${network}-nat`.slice(0, 63);
export const SERVICE = 'services/servicenetworking.googleapis.com';

export async function rest<T = Json>(c: GcpContext, api: GcpApi, operation: string, method: 'GET' | 'POST' | 'DELETE' | 'PATCH', path: string, signal: AbortSignal, data?: unknown): Promise<T> {
  const base = c.connection.endpoint(api).url;
  return c.call(api, operation, async () => (await c.connection.auth.request<T>({ url: `${base}${path}`, method, ...(data === undefined ? {} : { data }), responseType: 'json', signal } as object)).data, signal);
}

export async function getOrNull<T = Json>(c: GcpContext, api: GcpApi, operation: string, path: string, signal: AbortSignal): Promise<T | null> {
  try {
    return await rest<T>(c, api, operation, 'GET', path, signal);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export const computeBase = (c: GcpContext) => `/compute/v1/projects/${encodeURIComponent(c.project)}`;

/** Waits for a Compute operation (global or regional) to be DONE; its errors thrown. */
export async function computeOperation(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, op: Json, what: string, resourceId: string): Promise<void> {
  const region = typeof op.region === 'string' ? op.region.split('/').pop() : undefined;
  const path = `${computeBase(c)}/${region ? `regions/${region}` : 'global'}/operations/${String(op.name)}`;
  await poll(c, step, what, async () => {
    const now = await rest(c, 'compute', region ? 'regionOperations.get' : 'globalOperations.get', 'GET', path, step.signal);
    if (now.status !== 'DONE') return { done: false, state: String(now.status) };
    const errors = (now.error as { errors?: { message?: string }[] } | undefined)?.errors;
    if (errors?.length) throw new DriverError('invalid', `${what}: ${errors.map((e) => e.message).join('; ')}`, { resourceId });
    return { done: true, value: undefined };
  }, { timeoutMs: 10 * 60_000, resourceId });
}

/** The project's number, which Service Networking names networks by. */
export async function projectNumber(c: GcpContext, signal: AbortSignal): Promise<string> {
  const known = c.names.get('project-number');
  if (known) return known;
  const { ProjectsClient } = await import('@google-cloud/resource-manager');
  const client = new ProjectsClient(c.connection.gapicOptions('cloudresourcemanager'));
  try {
    const [project] = (await c.call('cloudresourcemanager', 'projects.get', () => client.getProject({ name: `projects/${c.project}` }), signal)) as unknown as [{ name?: string | null }];
    const number = String(project.name ?? '').split('/').pop() ?? '';
    if (!/^\d+$/.test(number)) throw new DriverError('invalid', `Resource Manager gave no project number for ${c.project}`);
    c.names.set('project-number', number);
    return number;
  } finally {
    await client.close();
  }
}

/** The network's Service Networking connection (its private services access), if it has one. */
export async function peering(c: GcpContext, network: string, signal: AbortSignal): Promise<Json | null> {
  const number = await projectNumber(c, signal);
  const list = await rest<{ connections?: Json[] }>(c, 'servicenetworking', 'connections.list', 'GET', `/v1/${SERVICE}/connections?network=${encodeURIComponent(`projects/${number}/global/networks/${network}`)}`, signal);
  return list.connections?.[0] ?? null;
}

export async function snOperation(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, op: Json, what: string, resourceId: string): Promise<void> {
  if (op.done) return;
  await poll(c, step, what, async () => {
    const now = await rest(c, 'servicenetworking', 'operations.get', 'GET', `/v1/${String(op.name)}`, step.signal);
    if (!now.done) return { done: false, state: 'in progress' };
    if (now.error) throw new DriverError('invalid', `${what}: ${String((now.error as Json).message)}`, { resourceId });
    return { done: true, value: undefined };
  }, { timeoutMs: 10 * 60_000, resourceId });
}

/** The environment's network by its mark, for handlers whose settings name `gcp:network` (Cloud SQL, Memorystore). */
export async function environmentNetwork(c: GcpContext, signal: AbortSignal): Promise<string> {
  const known = c.names.get('gcp:network');
  if (known) return known;
  const mark = descriptionMark({ id: 'gcp:network' }, c);
  const list = await rest<{ items?: Json[] }>(c, 'compute', 'networks.list', 'GET', `${computeBase(c)}/global/networks`, signal);
  const found = list.items?.find((n) => n.description === mark);
  if (!found) throw new DriverError('not-ready', `the environment's VPC network does not exist yet in project ${c.project}`);
  c.names.set('gcp:network', String(found.name));
  return String(found.name);
}

/**
 * The network a managed database or cache goes on (`projects/P/global/networks/N`): the one its settings name in
 * full (an existing cluster's), else the environment's own.
 */
export async function storageNetwork(r: ResolvedResource, key: string, c: GcpContext, signal: AbortSignal): Promise<string> {
  const named = r.resolved[key];
  if (typeof named === 'string' && named.startsWith('projects/')) return named;
  return `projects/${c.project}/global/networks/${await environmentNetwork(c, signal)}`;
}

async function read(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const network = await getOrNull(c, 'compute', 'networks.get', `${computeBase(c)}/global/networks/${r.name}`, signal);
  if (!network) return null;
  c.names.set('gcp:network', r.name);
  const region = str(r.settings, 'region', r.id);
  const subnet = await getOrNull(c, 'compute', 'subnetworks.get', `${computeBase(c)}/regions/${region}/subnetworks/${subnetName(r.name)}`, signal);
  const range = bool(r.settings, 'privateServicesAccess') ? await getOrNull(c, 'compute', 'globalAddresses.get', `${computeBase(c)}/global/addresses/${rangeName(r.name)}`, signal) : null;
  const peered = range ? await peering(c, r.name, signal) : null;
  const router = bool(r.settings, 'cloudNat') ? await getOrNull(c, 'compute', 'routers.get', `${computeBase(c)}/regions/${region}/routers/${routerName(r.name)}`, signal) : null;
  return {
    externalId: String(network.selfLink ?? network.id),
    observed: {
      autoCreateSubnetworks: network.autoCreateSubnetworks === true,
      ...(subnet ? { subnetCidr: String(subnet.ipCidrRange) } : {}),
      privateServicesAccess: Boolean(range && peered),
      cloudNat: router !== null && hasNat(router, r.name),
    },
    outputs: outputsOf(r, network, subnet),
    status: subnet ? { state: 'ready' } : { state: 'pending', reason: 'its subnet does not exist yet' },
    ours: network.description === descriptionMark(r, c),
  };
}

function hasNat(router: Json, network: string): boolean {
  return ((router.nats ?? []) as Json[]).some((n) => n.name === natName(network));
}

/** Auto-allocated external IPs for every range of every subnet: all of the environment's egress, nothing to manage. */
const natConfig = (network: string): Json => ({
  name: natName(network),
  natIpAllocateOption: 'AUTO_ONLY',
  sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
  logConfig: { enable: true, filter: 'ERRORS_ONLY' },
});

/** The Cloud Router of the network in its region, with the NAT config added when a router of ours lacks it. */
async function ensureNat(r: ResolvedResource, c: GcpContext, step: StepContext, networkLink: unknown, region: string): Promise<void> {
  const path = `${computeBase(c)}/regions/${region}/routers`;
  const router = await getOrNull(c, 'compute', 'routers.get', `${path}/${routerName(r.name)}`, step.signal);
  if (!router) {
    const op = await rest(c, 'compute', 'routers.insert', 'POST', path, step.signal, {
      name: routerName(r.name), network: networkLink, region, description: descriptionMark(r, c), nats: [natConfig(r.name)],
    });
    await computeOperation(c, step, op, `Cloud Router and NAT ${routerName(r.name)}`, r.id);
    return;
  }
  if (hasNat(router, r.name)) return;
  const op = await rest(c, 'compute', 'routers.patch', 'PATCH', `${path}/${routerName(r.name)}`, step.signal, {
    nats: [...((router.nats ?? []) as Json[]), natConfig(r.name)], fingerprint: router.fingerprint,
  });
  await computeOperation(c, step, op, `Cloud NAT ${natName(r.name)}`, r.id);
}

function outputsOf(r: DesiredResource, network: Json, subnet: Json | null): Outputs {
  return {
    name: out(r.name),
    selfLink: out(String(network.selfLink ?? '')),
    id: out(`projects/${String((network.selfLink as string | undefined)?.split('/projects/')[1]?.split('/')[0] ?? '')}/global/networks/${r.name}`),
    subnetName: out(subnetName(r.name)),
    ...(subnet ? { subnetSelfLink: out(String(subnet.selfLink ?? '')) } : {}),
  };
}

async function ensure(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const { signal } = step;
  const base = computeBase(c);
  const region = str(r.resolved, 'region', r.id);
  const network = await getOrNull(c, 'compute', 'networks.get', `${base}/global/networks/${r.name}`, signal);
  if (!network) {
    const op = await rest(c, 'compute', 'networks.insert', 'POST', `${base}/global/networks`, signal, {
      name: r.name, autoCreateSubnetworks: false, description: descriptionMark(r, c), routingConfig: { routingMode: 'REGIONAL' },
    });
    await computeOperation(c, step, op, `VPC network ${r.name}`, r.id);
  }
  const created: Json = network ?? (await rest(c, 'compute', 'networks.get', 'GET', `${base}/global/networks/${r.name}`, signal));
  c.names.set('gcp:network', r.name);
  const cidr = str(r.resolved, 'subnetCidr', r.id);
  let subnet = await getOrNull(c, 'compute', 'subnetworks.get', `${base}/regions/${region}/subnetworks/${subnetName(r.name)}`, signal);
  if (subnet && subnet.ipCidrRange !== cidr) {
    throw new DriverError('invalid', `${r.id}: subnet ${subnetName(r.name)} has the range ${String(subnet.ipCidrRange)}, not ${cidr}; a subnet's primary range cannot shrink or move in place`, { resourceId: r.id });
  }
  if (!subnet) {
    const op = await rest(c, 'compute', 'subnetworks.insert', 'POST', `${base}/regions/${region}/subnetworks`, signal, {
      name: subnetName(r.name), network: created.selfLink, ipCidrRange: cidr, privateIpGoogleAccess: true, description: descriptionMark(r, c),
    });
    await computeOperation(c, step, op, `subnet ${subnetName(r.name)}`, r.id);
    subnet = await rest(c, 'compute', 'subnetworks.get', 'GET', `${base}/regions/${region}/subnetworks/${subnetName(r.name)}`, signal);
  }
  if (r.resolved.privateServicesAccess === true) {
    const range = await getOrNull(c, 'compute', 'globalAddresses.get', `${base}/global/addresses/${rangeName(r.name)}`, signal);
    if (!range) {
      const op = await rest(c, 'compute', 'globalAddresses.insert', 'POST', `${base}/global/addresses`, signal, {
        name: rangeName(r.name), purpose: 'VPC_PEERING', addressType: 'INTERNAL', prefixLength: 16, network: created.selfLink, description: descriptionMark(r, c),
      });
      await computeOperation(c, step, op, `private services range ${rangeName(r.name)}`, r.id);
    }
    if (!(await peering(c, r.name, signal))) {
      const number = await projectNumber(c, signal);
      const op = await rest(c, 'servicenetworking', 'connections.create', 'POST', `/v1/${SERVICE}/connections`, signal, {
        network: `projects/${number}/global/networks/${r.name}`, reservedPeeringRanges: [rangeName(r.name)],
      });
      await snOperation(c, step, op, `private services access for ${r.name}`, r.id);
    }
  }
  if (r.resolved.cloudNat === true) await ensureNat(r, c, step, created.selfLink, region);
  return outputsOf(r, created, subnet);
}

async function remove(r: DesiredResource, c: GcpContext, step: StepContext): Promise<void> {
  const { signal } = step;
  const base = computeBase(c);
  const region = str(r.settings, 'region', r.id);
  if (await getOrNull(c, 'compute', 'globalAddresses.get', `${base}/global/addresses/${rangeName(r.name)}`, signal)) {
    if (await getOrNull(c, 'compute', 'networks.get', `${base}/global/networks/${r.name}`, signal) && (await peering(c, r.name, signal))) {
      const number = await projectNumber(c, signal);
      const op = await rest(c, 'servicenetworking', 'connections.deleteConnection', 'POST', `/v1/${SERVICE}/connections/servicenetworking-googleapis-com:deleteConnection`, signal, {
        consumerNetwork: `projects/${number}/global/networks/${r.name}`,
      });
      await snOperation(c, step, op, `removing private services access of ${r.name}`, r.id);
    }
    const op = await rest(c, 'compute', 'globalAddresses.delete', 'DELETE', `${base}/global/addresses/${rangeName(r.name)}`, signal);
    await computeOperation(c, step, op, `deleting range ${rangeName(r.name)}`, r.id);
  }
  for (const [what, path, operation] of [
    [`Cloud Router ${routerName(r.name)}`, `${base}/regions/${region}/routers/${routerName(r.name)}`, 'routers'],
    [`subnet ${subnetName(r.name)}`, `${base}/regions/${region}/subnetworks/${subnetName(r.name)}`, 'subnetworks'],
    [`VPC network ${r.name}`, `${base}/global/networks/${r.name}`, 'networks'],
  ] as const) {
    try {
      const op = await rest(c, 'compute', `${operation}.delete`, 'DELETE', path, signal);
      await computeOperation(c, step, op, `deleting ${what}`, r.id);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  c.names.delete('gcp:network');
}

export const networkHandler: Handler = {
  managed: ['autoCreateSubnetworks', 'subnetCidr', 'privateServicesAccess', 'cloudNat'],
  read,
  create: ensure,
  update: ensure,
  delete: remove,
  async waitReady() {
    // Usable once its subnet exists, which create waits for.
  },
};
