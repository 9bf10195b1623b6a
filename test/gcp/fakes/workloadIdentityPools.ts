// Workload Identity Federation pools and their providers (iam.googleapis.com v1), routes from Google's REST reference:
// create, get, patch, delete and undelete, each a long-running operation done after N polls (faults), and the
// operations' get. As IAM does: a deleted pool or provider stays 30 days in state DELETED with its id taken (a create
// with that id is ALREADY_EXISTS; undelete brings it back), pool ids are 4–32 characters and never gcp-…, an OIDC
// provider needs an issuer and a google.subject mapping, and its attribute condition may only read assertion.*.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { alreadyExists, FakeError, invalidArgument, notFound } from '../googleErrors';
import type { Message } from '../grpcFake';
import type { Faults } from '../faults';

const SERVICE = 'google.iam.v1.WorkloadIdentityPools';
const BASE = '/v1/projects/{project}/locations/global/workloadIdentityPools';
const ID = /^[a-z0-9-]{4,32}$/;

interface Pending {
  op: Message;
  polls: number;
  seen: number;
  started: number;
  deadlineMs?: number;
  finish(): Message;
}

export const WORKLOAD_IDENTITY_ROUTES = [
  { service: SERVICE, method: 'CreateWorkloadIdentityPool', verb: 'POST', template: BASE, body: 'workloadIdentityPool' },
  { service: SERVICE, method: 'GetWorkloadIdentityPool', verb: 'GET', template: `${BASE}/{pool}` },
  { service: SERVICE, method: 'UpdateWorkloadIdentityPool', verb: 'PATCH', template: `${BASE}/{pool}`, body: 'workloadIdentityPool' },
  { service: SERVICE, method: 'DeleteWorkloadIdentityPool', verb: 'DELETE', template: `${BASE}/{pool}` },
  { service: SERVICE, method: 'UndeleteWorkloadIdentityPool', verb: 'POST', template: `${BASE}/{pool}:undelete`, body: '*' },
  { service: SERVICE, method: 'GetPoolOperation', verb: 'GET', template: `${BASE}/{pool}/operations/{operation}` },
  { service: SERVICE, method: 'CreateWorkloadIdentityPoolProvider', verb: 'POST', template: `${BASE}/{pool}/providers`, body: 'workloadIdentityPoolProvider' },
  { service: SERVICE, method: 'GetWorkloadIdentityPoolProvider', verb: 'GET', template: `${BASE}/{pool}/providers/{provider}` },
  { service: SERVICE, method: 'UpdateWorkloadIdentityPoolProvider', verb: 'PATCH', template: `${BASE}/{pool}/providers/{provider}`, body: 'workloadIdentityPoolProvider' },
  { service: SERVICE, method: 'DeleteWorkloadIdentityPoolProvider', verb: 'DELETE', template: `${BASE}/{pool}/providers/{provider}` },
  { service: SERVICE, method: 'UndeleteWorkloadIdentityPoolProvider', verb: 'POST', template: `${BASE}/{pool}/providers/{provider}:undelete`, body: '*' },
  { service: SERVICE, method: 'GetProviderOperation', verb: 'GET', template: `${BASE}/{pool}/providers/{provider}/operations/{operation}` },
];

export class WorkloadIdentityPools {
  /** Pools and providers by their resource name (projects/NUMBER/locations/global/workloadIdentityPools/ID[/providers/ID]). */
  readonly items = new Map<string, Message>();
  private readonly operations = new Map<string, Pending>();
  private counter = 0;

  constructor(
    private readonly faults: Faults,
    private readonly numberOf: (project: string) => string,
  ) {}

  private poolName(req: Message): string {
    return `projects/${this.numberOf(String(req.project))}/locations/global/workloadIdentityPools/${String(req.pool)}`;
  }

  private providerName(req: Message): string {
    return `${this.poolName(req)}/providers/${String(req.provider)}`;
  }

  private found(name: string, what: string): Message {
    const item = this.items.get(name);
    if (!item) throw notFound(`Requested entity was not found. (${what} ${name})`);
    return item;
  }

  private start(name: string, method: string, finish: () => Message): Message {
    const op: Message = { name: `${name}/operations/op-${++this.counter}`, done: false, metadata: { '@type': 'type.googleapis.com/google.iam.v1.WorkloadIdentityPoolOperationMetadata' } };
    const pending: Pending = { op, polls: this.faults.pollsFor(SERVICE.split('.').pop()!, method), seen: 0, started: Date.now(), deadlineMs: this.faults.deadlineFor(SERVICE.split('.').pop()!, method), finish };
    this.operations.set(String(op.name), pending);
    this.advance(pending);
    return structuredClone(op);
  }

  private advance(p: Pending): void {
    if (p.op.done || p.seen < p.polls) return;
    p.op.done = true;
    p.op.response = p.finish();
  }

  settle(): void {
    for (const p of this.operations.values()) if (!p.op.done && this.faults.overdue(p.started, p.deadlineMs)) {
      p.seen = p.polls;
      this.advance(p);
    }
  }

  operation(req: Message): Message {
    const name = `${req.provider ? this.providerName(req) : this.poolName(req)}/operations/${String(req.operation)}`;
    const p = this.operations.get(name);
    if (!p) throw notFound(`The operation ${name} does not exist`);
    p.seen += 1;
    this.advance(p);
    return structuredClone(p.op);
  }

  private create(name: string, id: string, what: string, method: string, spec: Message, check: (spec: Message) => void): Message {
    if (!ID.test(id) || id.startsWith('gcp-')) throw invalidArgument(`Invalid ${what} id "${id}": 4 to 32 lowercase letters, digits or hyphens, not starting with gcp-.`);
    if (this.items.has(name)) {
      // A deleted one keeps its id for 30 days.
      throw alreadyExists(`Requested entity already exists${this.items.get(name)!.state === 'DELETED' ? ' (it was deleted and can be undeleted within 30 days)' : ''}.`);
    }
    check(spec);
    const item: Message = { ...structuredClone(spec), name, state: 'ACTIVE' };
    // The id is taken at once, as a second create while the first runs is refused.
    this.items.set(name, item);
    return this.start(name, method, () => structuredClone(item));
  }

  private update(name: string, method: string, req: Message, body: Message, check: (spec: Message) => void): Message {
    const item = this.found(name, 'entity');
    if (item.state === 'DELETED') throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `${name} is deleted: undelete it first.`);
    const mask = String(req.updateMask ?? '').split(',').filter(Boolean);
    if (mask.length === 0) throw invalidArgument('update_mask is required');
    const next = { ...item };
    for (const path of mask) {
      const key = path.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase()).split('.')[0]!;
      if (!['displayName', 'description', 'disabled', 'attributeMapping', 'attributeCondition', 'oidc'].includes(key)) throw invalidArgument(`Field ${path} cannot be updated`);
      next[key] = structuredClone(body[key]);
    }
    check(next);
    return this.start(name, method, () => {
      this.items.set(name, next);
      return structuredClone(next);
    });
  }

  private remove(name: string, method: string): Message {
    const item = this.found(name, 'entity');
    if (item.state === 'DELETED') throw notFound(`Requested entity was not found. (${name} is deleted)`);
    return this.start(name, method, () => {
      item.state = 'DELETED';
      item.expireTime = new Date(Date.now() + 30 * 86_400_000).toISOString();
      return structuredClone(item);
    });
  }

  private undelete(name: string, method: string): Message {
    const item = this.found(name, 'entity');
    if (item.state !== 'DELETED') throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `${name} is not deleted.`);
    return this.start(name, method, () => {
      item.state = 'ACTIVE';
      delete item.expireTime;
      return structuredClone(item);
    });
  }

  private activePool(req: Message): void {
    const pool = this.found(this.poolName(req), 'workload identity pool');
    if (pool.state === 'DELETED') throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `The pool ${this.poolName(req)} is deleted.`);
  }

  handlers(): Record<string, (req: Message) => Message> {
    return {
      CreateWorkloadIdentityPool: (req) => this.create(`${this.poolName({ ...req, pool: req.workloadIdentityPoolId })}`, String(req.workloadIdentityPoolId ?? ''), 'pool', 'CreateWorkloadIdentityPool', (req.workloadIdentityPool ?? {}) as Message, () => undefined),
      GetWorkloadIdentityPool: (req) => structuredClone(this.found(this.poolName(req), 'workload identity pool')),
      UpdateWorkloadIdentityPool: (req) => this.update(this.poolName(req), 'UpdateWorkloadIdentityPool', req, (req.workloadIdentityPool ?? {}) as Message, () => undefined),
      DeleteWorkloadIdentityPool: (req) => this.remove(this.poolName(req), 'DeleteWorkloadIdentityPool'),
      UndeleteWorkloadIdentityPool: (req) => this.undelete(this.poolName(req), 'UndeleteWorkloadIdentityPool'),
      GetPoolOperation: (req) => this.operation(req),
      CreateWorkloadIdentityPoolProvider: (req) => {
        this.activePool(req);
        const id = String(req.workloadIdentityPoolProviderId ?? '');
        return this.create(this.providerName({ ...req, provider: id }), id, 'provider', 'CreateWorkloadIdentityPoolProvider', (req.workloadIdentityPoolProvider ?? {}) as Message, checkProvider);
      },
      GetWorkloadIdentityPoolProvider: (req) => structuredClone(this.found(this.providerName(req), 'workload identity pool provider')),
      UpdateWorkloadIdentityPoolProvider: (req) => this.update(this.providerName(req), 'UpdateWorkloadIdentityPoolProvider', req, (req.workloadIdentityPoolProvider ?? {}) as Message, checkProvider),
      DeleteWorkloadIdentityPoolProvider: (req) => this.remove(this.providerName(req), 'DeleteWorkloadIdentityPoolProvider'),
      UndeleteWorkloadIdentityPoolProvider: (req) => {
        this.activePool(req);
        return this.undelete(this.providerName(req), 'UndeleteWorkloadIdentityPoolProvider');
      },
      GetProviderOperation: (req) => this.operation(req),
    };
  }
}

function checkProvider(spec: Message): void {
  const oidc = spec.oidc as Message | undefined;
  if (!oidc?.issuerUri || !/^https:\/\//.test(String(oidc.issuerUri))) throw invalidArgument('An OIDC provider needs an https issuer_uri.');
  const mapping = (spec.attributeMapping ?? {}) as Record<string, string>;
  if (!mapping['google.subject']) throw invalidArgument('attribute_mapping must map google.subject.');
  for (const key of Object.keys(mapping)) if (key !== 'google.subject' && key !== 'google.groups' && !/^attribute\.[a-z_][a-z0-9_]{0,99}$/.test(key)) throw invalidArgument(`Invalid attribute mapping key ${key}`);
  const condition = String(spec.attributeCondition ?? '');
  if (condition && /\b(?!assertion\.|attribute\.|google\.)[a-z_]+\.[a-z_]+/.test(condition.replace(/'[^']*'/g, "''"))) throw invalidArgument(`The attribute condition may only read assertion, attribute and google: ${condition}`);
}
