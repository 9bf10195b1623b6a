// Compute Engine networking (compute.googleapis.com v1) and Service Networking (servicenetworking.googleapis.com v1)
// over REST, with routes written from Google's REST reference (no Node client here covers them): VPC networks,
// regional subnetworks, global internal address ranges and regional Cloud Routers with their Cloud NAT configs,
// each change a Compute Operation (PENDING → RUNNING →
// DONE after N polls); private services access connections (a peering of the consumer network, named by project
// number, to reserved ranges, which connections.patch replaces), each a google.longrunning-style Operation. A network with subnets, ranges or a
// peering or a router refuses deletion, a router patch must carry its current fingerprint, and a peering needs its reserved range, as Google's APIs do. Everything else is 501.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { alreadyExists, FakeError, invalidArgument, notFound } from '../googleErrors';
import type { Message } from '../grpcFake';
import { RestFake } from '../restFake';
import { checkId } from './names';

const COMPUTE = 'compute.v1';
const SN = 'servicenetworking.v1';

interface Pending {
  op: Message;
  polls: number;
  seen: number;
  started: number;
  deadlineMs?: number;
  finish: () => FakeError | undefined;
}

export class ComputeFake extends RestFake {
  readonly networks = new Map<string, Message>();
  readonly subnetworks = new Map<string, Message>();
  readonly addresses = new Map<string, Message>();
  /** Cloud Routers by region/name; their `nats` are the Cloud NAT configs. */
  readonly routers = new Map<string, Message>();
  /** Private services access peerings by consumer network (projects/NUMBER/global/networks/NAME). */
  readonly connections = new Map<string, Message>();
  private readonly operations = new Map<string, Pending>();
  private count = 0;

  constructor(private readonly project: { id: string; number: string }) {
    const c = (method: string, verb: string, template: string, body?: string) => ({ service: COMPUTE, method, verb, template, body });
    const s = (method: string, verb: string, template: string, body?: string) => ({ service: SN, method, verb, template, body });
    const base = '/compute/v1/projects/{project}';
    super({
      name: 'Compute and Service Networking fake',
      api: { service: 'compute.googleapis.com', title: 'Compute Engine API', projectNumber: project.number },
      manualRoutes: [
        c('NetworksInsert', 'POST', `${base}/global/networks`, '*'),
        c('NetworksList', 'GET', `${base}/global/networks`),
        c('NetworksGet', 'GET', `${base}/global/networks/{network}`),
        c('NetworksDelete', 'DELETE', `${base}/global/networks/{network}`),
        c('NetworksPatch', 'PATCH', `${base}/global/networks/{network}`, '*'),
        c('SubnetworksInsert', 'POST', `${base}/regions/{region}/subnetworks`, '*'),
        c('SubnetworksGet', 'GET', `${base}/regions/{region}/subnetworks/{subnetwork}`),
        c('SubnetworksDelete', 'DELETE', `${base}/regions/{region}/subnetworks/{subnetwork}`),
        c('GlobalAddressesInsert', 'POST', `${base}/global/addresses`, '*'),
        c('GlobalAddressesGet', 'GET', `${base}/global/addresses/{address}`),
        c('GlobalAddressesDelete', 'DELETE', `${base}/global/addresses/{address}`),
        c('RoutersInsert', 'POST', `${base}/regions/{region}/routers`, '*'),
        c('RoutersGet', 'GET', `${base}/regions/{region}/routers/{router}`),
        c('RoutersPatch', 'PATCH', `${base}/regions/{region}/routers/{router}`, '*'),
        c('RoutersDelete', 'DELETE', `${base}/regions/{region}/routers/{router}`),
        c('GlobalOperationsGet', 'GET', `${base}/global/operations/{operation}`),
        c('RegionOperationsGet', 'GET', `${base}/regions/{region}/operations/{operation}`),
        s('ConnectionsCreate', 'POST', '/v1/services/{service}/connections', '*'),
        s('ConnectionsList', 'GET', '/v1/services/{service}/connections'),
        s('ConnectionsDeleteConnection', 'POST', '/v1/services/{service}/connections/{connection}:deleteConnection', '*'),
        s('ConnectionsPatch', 'PATCH', '/v1/services/{service}/connections/{connection}', '*'),
        s('OperationsGet', 'GET', '/v1/operations/{operation}'),
      ],
      handlers: {
        NetworksInsert: (req) => this.insertNetwork(req),
        NetworksList: (req) => ({ kind: 'compute#networkList', items: [...this.networks.values()].filter((n) => n.project === this.check(req.project)).map(strip) }),
        NetworksGet: (req) => strip(this.network(req.project, req.network)),
        NetworksDelete: (req) => this.deleteNetwork(req),
        SubnetworksInsert: (req) => this.insertSubnetwork(req),
        SubnetworksGet: (req) => strip(this.subnetwork(req.project, req.region, req.subnetwork)),
        SubnetworksDelete: (req) => this.deleteSubnetwork(req),
        GlobalAddressesInsert: (req) => this.insertAddress(req),
        GlobalAddressesGet: (req) => strip(this.address(req.project, req.address)),
        GlobalAddressesDelete: (req) => this.deleteAddress(req),
        RoutersInsert: (req) => this.insertRouter(req),
        RoutersGet: (req) => strip(this.router(req.project, req.region, req.router)),
        RoutersPatch: (req) => this.patchRouter(req),
        RoutersDelete: (req) => this.deleteRouter(req),
        GlobalOperationsGet: (req) => this.getOperation(`global/${String(req.operation)}`),
        RegionOperationsGet: (req) => this.getOperation(`${String(req.region)}/${String(req.operation)}`),
        ConnectionsCreate: (req) => this.createConnection(req),
        ConnectionsList: (req) => ({ connections: [...this.connections.entries()].filter(([n]) => n === String(req.network)).map(([, v]) => v) }),
        ConnectionsDeleteConnection: (req) => this.deleteConnection(req),
        ConnectionsPatch: (req) => this.patchConnection(req),
        OperationsGet: (req) => this.getOperation(`sn/${String(req.operation)}`),
      },
    });
  }

  private check(project: unknown): string {
    if (String(project) !== this.project.id) throw notFound(`The resource 'projects/${String(project)}' was not found`);
    return String(project);
  }

  private link(path: string): string {
    return `https://www.googleapis.com/compute/v1/projects/${this.project.id}/${path}`;
  }

  private network(project: unknown, name: unknown): Message {
    this.check(project);
    const n = this.networks.get(String(name));
    if (!n) throw notFound(`The resource 'projects/${this.project.id}/global/networks/${String(name)}' was not found`);
    return n;
  }

  private subnetwork(project: unknown, region: unknown, name: unknown): Message {
    this.check(project);
    const s = this.subnetworks.get(`${String(region)}/${String(name)}`);
    if (!s) throw notFound(`The resource 'projects/${this.project.id}/regions/${String(region)}/subnetworks/${String(name)}' was not found`);
    return s;
  }

  private address(project: unknown, name: unknown): Message {
    this.check(project);
    const a = this.addresses.get(String(name));
    if (!a) throw notFound(`The resource 'projects/${this.project.id}/global/addresses/${String(name)}' was not found`);
    return a;
  }

  private router(project: unknown, region: unknown, name: unknown): Message {
    this.check(project);
    const r = this.routers.get(`${String(region)}/${String(name)}`);
    if (!r) throw notFound(`The resource 'projects/${this.project.id}/regions/${String(region)}/routers/${String(name)}' was not found`);
    return r;
  }

  /** Cloud NAT configs as Compute checks them: named, with an allocation option and a source-ranges choice. */
  private checkNats(nats: unknown): Message[] {
    if (nats === undefined) return [];
    if (!Array.isArray(nats)) throw invalidArgument(`Invalid value for field 'resource.nats': '${String(nats)}'.`);
    const seen = new Set<string>();
    return nats.map((n: Message, i) => {
      const name = checkId('RouterNat', n.name, 63);
      if (seen.has(name)) throw invalidArgument(`Invalid value for field 'resource.nats[${i}].name': '${name}'. Duplicate NAT name.`);
      seen.add(name);
      if (!['AUTO_ONLY', 'MANUAL_ONLY'].includes(String(n.natIpAllocateOption))) throw invalidArgument(`Invalid value for field 'resource.nats[${i}].natIpAllocateOption': '${String(n.natIpAllocateOption)}'.`);
      if (n.natIpAllocateOption === 'MANUAL_ONLY' && !(Array.isArray(n.natIps) && n.natIps.length > 0)) throw invalidArgument(`Invalid value for field 'resource.nats[${i}].natIps': a MANUAL_ONLY NAT needs at least one IP.`);
      if (!['ALL_SUBNETWORKS_ALL_IP_RANGES', 'ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES', 'LIST_OF_SUBNETWORKS'].includes(String(n.sourceSubnetworkIpRangesToNat))) {
        throw invalidArgument(`Invalid value for field 'resource.nats[${i}].sourceSubnetworkIpRangesToNat': '${String(n.sourceSubnetworkIpRangesToNat)}'.`);
      }
      return structuredClone(n);
    });
  }

  private insertRouter(req: Message): Message {
    this.check(req.project);
    const name = checkId('Router', req.name, 63);
    const region = String(req.region);
    if (this.routers.has(`${region}/${name}`)) throw alreadyExists(`The resource 'projects/${this.project.id}/regions/${region}/routers/${name}' already exists`);
    const network = [...this.networks.values()].find((n) => n.selfLink === req.network);
    if (!network) throw invalidArgument(`Invalid value for field 'resource.network': '${String(req.network)}'. The referenced network resource cannot be found.`);
    const router: Message = {
      kind: 'compute#router', id: String(Date.now()), name, region: this.link(`regions/${region}`), network: network.selfLink, description: req.description ?? '',
      nats: this.checkNats(req.nats), fingerprint: fingerprint(), selfLink: this.link(`regions/${region}/routers/${name}`), creationTimestamp: new Date().toISOString(),
    };
    return this.computeOperation(region, 'insert', `regions/${region}/routers/${name}`, 'RoutersInsert', () => {
      this.routers.set(`${region}/${name}`, router);
      return undefined;
    });
  }

  /** PATCH replaces the fields it names; the fingerprint guards against a lost update, as Compute's does. */
  private patchRouter(req: Message): Message {
    const router = this.router(req.project, req.region, req.router);
    if (req.fingerprint !== router.fingerprint) throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `Supplied fingerprint does not match current metadata fingerprint.`);
    const nats = req.nats === undefined ? undefined : this.checkNats(req.nats);
    return this.computeOperation(String(req.region), 'patch', `regions/${String(req.region)}/routers/${String(router.name)}`, 'RoutersPatch', () => {
      if (nats) router.nats = nats;
      router.fingerprint = fingerprint();
      return undefined;
    });
  }

  private deleteRouter(req: Message): Message {
    const router = this.router(req.project, req.region, req.router);
    return this.computeOperation(String(req.region), 'delete', `regions/${String(req.region)}/routers/${String(router.name)}`, 'RoutersDelete', () => {
      this.routers.delete(`${String(req.region)}/${String(router.name)}`);
      return undefined;
    });
  }

  /** A Compute Operation on `scope` (global or a region) that is DONE after the polls the faults say. */
  private computeOperation(scope: string, type: string, target: string, method: string, finish: () => FakeError | undefined): Message {
    this.count += 1;
    const name = `operation-${Date.now()}-${this.count}`;
    const op: Message = {
      kind: 'compute#operation', id: String(this.count), name, operationType: type, targetLink: this.link(target), status: 'PENDING', progress: 0,
      insertTime: new Date().toISOString(), selfLink: this.link(`${scope === 'global' ? 'global' : `regions/${scope}`}/operations/${name}`),
      ...(scope === 'global' ? {} : { region: this.link(`regions/${scope}`) }),
    };
    const pending: Pending = { op, polls: this.faults.pollsFor('v1', method), seen: 0, started: Date.now(), deadlineMs: this.faults.deadlineFor('v1', method), finish };
    this.operations.set(`${scope}/${name}`, pending);
    this.advance(pending);
    return structuredClone(op);
  }

  private snOperation(method: string, finish: () => FakeError | undefined): Message {
    this.count += 1;
    const id = `pssn.p24-${this.project.number}-${this.count}`;
    const op: Message = { name: `operations/${id}`, done: false };
    const pending: Pending = { op, polls: this.faults.pollsFor('v1', method), seen: 0, started: Date.now(), deadlineMs: this.faults.deadlineFor('v1', method), finish };
    this.operations.set(`sn/${id}`, pending);
    this.advance(pending);
    return structuredClone(op);
  }

  private advance(p: Pending): void {
    if (p.op.status === 'DONE' || p.op.done === true) return;
    if (p.seen > 0 && 'status' in p.op) p.op.status = 'RUNNING';
    if (p.seen < p.polls) return;
    const failure = p.finish();
    if ('status' in p.op) {
      p.op.status = 'DONE';
      p.op.progress = 100;
      if (failure) p.op.error = { errors: [{ code: GrpcStatus[failure.code], message: failure.message }] };
    } else {
      p.op.done = true;
      if (failure) p.op.error = { code: failure.code, message: failure.message };
      else p.op.response = { '@type': 'type.googleapis.com/google.cloud.servicenetworking.v1.Connection' };
    }
  }

  protected override settle(): void {
    for (const p of this.operations.values()) if (!(p.op.status === 'DONE' || p.op.done === true) && this.faults.overdue(p.started, p.deadlineMs)) {
      p.seen = p.polls;
      this.advance(p);
    }
  }

  private getOperation(key: string): Message {
    const p = this.operations.get(key);
    if (!p) throw notFound(`The resource '${key}' was not found`);
    p.seen += 1;
    this.advance(p);
    return structuredClone(p.op);
  }

  private insertNetwork(req: Message): Message {
    this.check(req.project);
    const name = checkId('Network', req.name, 63);
    if (this.networks.has(name)) throw alreadyExists(`The resource 'projects/${this.project.id}/global/networks/${name}' already exists`);
    if (req.autoCreateSubnetworks !== false) throw invalidArgument('the fake makes custom-mode networks only (autoCreateSubnetworks: false)');
    const network: Message = {
      kind: 'compute#network', id: String(Date.now()), name, project: this.project.id, description: req.description ?? '', autoCreateSubnetworks: false,
      routingConfig: req.routingConfig ?? { routingMode: 'REGIONAL' }, selfLink: this.link(`global/networks/${name}`), subnetworks: [], creationTimestamp: new Date().toISOString(),
    };
    return this.computeOperation('global', 'insert', `global/networks/${name}`, 'NetworksInsert', () => {
      this.networks.set(name, network);
      return undefined;
    });
  }

  private deleteNetwork(req: Message): Message {
    const network = this.network(req.project, req.network);
    const users = [
      ...[...this.subnetworks.values()].filter((s) => s.network === network.selfLink).map((s) => s.selfLink),
      ...[...this.addresses.values()].filter((a) => a.network === network.selfLink).map((a) => a.selfLink),
      ...[...this.routers.values()].filter((r) => r.network === network.selfLink).map((r) => r.selfLink),
      ...[...this.connections.keys()].filter((k) => k.endsWith(`/global/networks/${String(network.name)}`)).map(() => 'servicenetworking-googleapis-com (peering)'),
    ];
    if (users.length > 0) throw new FakeError(GrpcStatus.INVALID_ARGUMENT, `The network resource '${String(network.selfLink)}' is already being used by '${String(users[0])}'`);
    return this.computeOperation('global', 'delete', `global/networks/${String(network.name)}`, 'NetworksDelete', () => {
      this.networks.delete(String(network.name));
      return undefined;
    });
  }

  private insertSubnetwork(req: Message): Message {
    this.check(req.project);
    const name = checkId('Subnetwork', req.name, 63);
    const region = String(req.region);
    if (this.subnetworks.has(`${region}/${name}`)) throw alreadyExists(`The resource 'projects/${this.project.id}/regions/${region}/subnetworks/${name}' already exists`);
    const network = [...this.networks.values()].find((n) => n.selfLink === req.network || n.name === String(req.network ?? '').split('/').pop());
    if (!network) throw invalidArgument(`Invalid value for field 'resource.network': '${String(req.network)}'. The referenced network resource cannot be found.`);
    if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(String(req.ipCidrRange ?? ''))) throw invalidArgument(`Invalid value for field 'resource.ipCidrRange': '${String(req.ipCidrRange)}'.`);
    const subnet: Message = {
      kind: 'compute#subnetwork', id: String(Date.now()), name, region: this.link(`regions/${region}`), network: network.selfLink, ipCidrRange: req.ipCidrRange,
      privateIpGoogleAccess: req.privateIpGoogleAccess === true, description: req.description ?? '', selfLink: this.link(`regions/${region}/subnetworks/${name}`),
    };
    return this.computeOperation(region, 'insert', `regions/${region}/subnetworks/${name}`, 'SubnetworksInsert', () => {
      this.subnetworks.set(`${region}/${name}`, subnet);
      return undefined;
    });
  }

  private deleteSubnetwork(req: Message): Message {
    const subnet = this.subnetwork(req.project, req.region, req.subnetwork);
    return this.computeOperation(String(req.region), 'delete', `regions/${String(req.region)}/subnetworks/${String(subnet.name)}`, 'SubnetworksDelete', () => {
      this.subnetworks.delete(`${String(req.region)}/${String(subnet.name)}`);
      return undefined;
    });
  }

  private insertAddress(req: Message): Message {
    this.check(req.project);
    const name = checkId('Address', req.name, 63);
    if (this.addresses.has(name)) throw alreadyExists(`The resource 'projects/${this.project.id}/global/addresses/${name}' already exists`);
    if (req.purpose !== 'VPC_PEERING' || req.addressType !== 'INTERNAL') throw invalidArgument('the fake reserves VPC_PEERING INTERNAL ranges only');
    const prefix = Number(req.prefixLength);
    if (!(prefix >= 8 && prefix <= 29)) throw invalidArgument(`Invalid value for field 'resource.prefixLength': '${String(req.prefixLength)}'.`);
    const address: Message = {
      kind: 'compute#address', id: String(Date.now()), name, address: '10.100.0.0', prefixLength: prefix, purpose: 'VPC_PEERING', addressType: 'INTERNAL',
      network: req.network, description: req.description ?? '', status: 'RESERVED', selfLink: this.link(`global/addresses/${name}`),
    };
    return this.computeOperation('global', 'insert', `global/addresses/${name}`, 'GlobalAddressesInsert', () => {
      this.addresses.set(name, address);
      return undefined;
    });
  }

  private deleteAddress(req: Message): Message {
    const address = this.address(req.project, req.address);
    if ([...this.connections.values()].some((c) => (c.reservedPeeringRanges as string[]).includes(String(address.name)))) {
      throw new FakeError(GrpcStatus.INVALID_ARGUMENT, `The address resource '${String(address.selfLink)}' is in use by a private services access connection`);
    }
    return this.computeOperation('global', 'delete', `global/addresses/${String(address.name)}`, 'GlobalAddressesDelete', () => {
      this.addresses.delete(String(address.name));
      return undefined;
    });
  }

  private consumer(network: unknown): string {
    const match = /^projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(String(network ?? ''));
    if (!match) throw invalidArgument(`network "${String(network)}" is not projects/{project}/global/networks/{network}`);
    if (match[1] !== this.project.number) throw invalidArgument(`network "${String(network)}" must name the project by its number (${this.project.number}), as Service Networking requires`);
    this.network(this.project.id, match[2]);
    return String(network);
  }

  private createConnection(req: Message): Message {
    if (req.service !== 'servicenetworking.googleapis.com') throw notFound(`Service ${String(req.service)} not found`);
    const network = this.consumer(req.network);
    const ranges = ((req.reservedPeeringRanges ?? []) as unknown[]).map(String);
    if (ranges.length === 0) throw invalidArgument('reservedPeeringRanges must name at least one allocated range');
    for (const r of ranges) if (!this.addresses.has(r)) throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `Allocated IP range '${r}' not found in network.`);
    if (this.connections.has(network)) throw alreadyExists(`Cannot modify allocated ranges in CreateConnection. Please use UpdateConnection.`);
    return this.snOperation('ConnectionsCreate', () => {
      this.connections.set(network, { network, reservedPeeringRanges: ranges, peering: 'servicenetworking-googleapis-com', service: 'services/servicenetworking.googleapis.com' });
      return undefined;
    });
  }

  /** connections.patch: the reserved ranges replaced; taking a range off needs `force`, as Service Networking asks. */
  private patchConnection(req: Message): Message {
    if (req.service !== 'servicenetworking.googleapis.com') throw notFound(`Service ${String(req.service)} not found`);
    if (req.connection !== 'servicenetworking-googleapis-com') throw notFound(`Connection ${String(req.connection)} not found`);
    if (String(req.updateMask ?? '') !== 'reservedPeeringRanges') throw invalidArgument(`updateMask must be reservedPeeringRanges (the fake updates nothing else), not "${String(req.updateMask)}"`);
    const network = this.consumer(req.network);
    const current = this.connections.get(network);
    if (!current) throw notFound(`Connection for network ${network} not found`);
    const ranges = ((req.reservedPeeringRanges ?? []) as unknown[]).map(String);
    if (ranges.length === 0) throw invalidArgument('reservedPeeringRanges must name at least one allocated range');
    for (const r of ranges) if (!this.addresses.has(r)) throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `Allocated IP range '${r}' not found in network.`);
    const removed = (current.reservedPeeringRanges as string[]).filter((r) => !ranges.includes(r));
    if (removed.length > 0 && String(req.force) !== 'true') throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `Removing allocated ranges (${removed.join(', ')}) needs force=true.`);
    return this.snOperation('ConnectionsPatch', () => {
      current.reservedPeeringRanges = ranges;
      return undefined;
    });
  }

  private deleteConnection(req: Message): Message {
    const network = this.consumer(req.consumerNetwork);
    if (!this.connections.has(network)) throw notFound(`Connection for network ${network} not found`);
    return this.snOperation('ConnectionsDeleteConnection', () => {
      this.connections.delete(network);
      return undefined;
    });
  }
}

let fingerprints = 0;
const fingerprint = () => Buffer.from(`fp-${(fingerprints += 1)}-${Date.now()}`).toString('base64');

/** The stored object without the fake's own bookkeeping. */
function strip(m: Message): Message {
  const copy = structuredClone(m);
  delete copy.project;
  return copy;
}
