// Test equipment: the AWS resources whose life has states a poller waits through (EKS clusters, node groups and
// add-ons, RDS instances, ElastiCache replication groups, NAT gateways), and how the shim finds one in a request and
// rewrites its state in an answer. moto creates everything in its final state and deletes at once; AWS takes minutes
// and says "creating", "deleting", "modifying" meanwhile. The shim uses this table for transitions (the first N
// describes answer a given state) and creation/deletion durations (for the benchmark).
import type { AwsRequest, WireAnswer } from './protocol';

export type ResourceKindName = 'eks-cluster' | 'eks-nodegroup' | 'eks-addon' | 'rds-instance' | 'elasticache-replication-group' | 'ec2-nat-gateway';

/** The states a transition can name symbolically; any other string is answered as it is. */
export type SymbolicState = 'creating' | 'deleting' | 'modifying';

export interface ResourceKind {
  name: ResourceKindName;
  service: string;
  /** The service's own words for the symbolic states. */
  states: Record<SymbolicState, string>;
  create: { action: string; id(req: AwsRequest, answer: WireAnswer): string | undefined };
  delete: { action: string; id(req: AwsRequest): string | undefined };
  describe: {
    action: string;
    id(req: AwsRequest): string | undefined;
    /** The describe request for one id, sent by the shim itself (to keep a body for "deleting" answers). */
    request(id: string): { method: string; path: string; body?: string; target?: string };
    /** The answer with the resource's state replaced. */
    withState(answer: WireAnswer, state: string): WireAnswer;
  };
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const enc = encodeURIComponent;

function withJsonState(member: string) {
  return (answer: WireAnswer, state: string): WireAnswer => {
    const parsed = JSON.parse(answer.body) as Record<string, Record<string, unknown>>;
    parsed[member] = { ...parsed[member], status: state };
    return { ...answer, body: JSON.stringify(parsed) };
  };
}

/** Replaces the text of the first `<tag>` after `after` (the resource's own element, not a nested one). */
function withXmlState(tag: string, after: RegExp) {
  return (answer: WireAnswer, state: string): WireAnswer => {
    const start = after.exec(answer.body);
    const from = start ? start.index + start[0].length : 0;
    const head = answer.body.slice(0, from);
    const tail = answer.body.slice(from).replace(new RegExp(`<${tag}>[^<]*</${tag}>`), `<${tag}>${state}</${tag}>`);
    return { ...answer, body: head + tail };
  };
}

const EKS_STATES = { creating: 'CREATING', deleting: 'DELETING', modifying: 'UPDATING' };
const LOWER_STATES = { creating: 'creating', deleting: 'deleting', modifying: 'modifying' };

export const RESOURCE_KINDS: ResourceKind[] = [
  {
    name: 'eks-cluster',
    service: 'eks',
    states: EKS_STATES,
    create: { action: 'CreateCluster', id: (req) => req.json.name as string | undefined },
    delete: { action: 'DeleteCluster', id: (req) => req.pathParams.name },
    describe: {
      action: 'DescribeCluster',
      id: (req) => req.pathParams.name,
      request: (id) => ({ method: 'GET', path: `/clusters/${enc(id)}` }),
      withState: withJsonState('cluster'),
    },
  },
  {
    name: 'eks-nodegroup',
    service: 'eks',
    states: EKS_STATES,
    create: { action: 'CreateNodegroup', id: (req) => `${req.pathParams.name}/${String(req.json.nodegroupName)}` },
    delete: { action: 'DeleteNodegroup', id: (req) => `${req.pathParams.name}/${req.pathParams.nodegroupName}` },
    describe: {
      action: 'DescribeNodegroup',
      id: (req) => `${req.pathParams.name}/${req.pathParams.nodegroupName}`,
      request: (id) => {
        const [cluster, nodegroup] = id.split('/');
        return { method: 'GET', path: `/clusters/${enc(cluster)}/node-groups/${enc(nodegroup)}` };
      },
      withState: withJsonState('nodegroup'),
    },
  },
  {
    name: 'eks-addon',
    service: 'eks',
    states: EKS_STATES,
    create: { action: 'CreateAddon', id: (req) => `${req.pathParams.name}/${String(req.json.addonName)}` },
    delete: { action: 'DeleteAddon', id: (req) => `${req.pathParams.name}/${req.pathParams.addonName}` },
    describe: {
      action: 'DescribeAddon',
      id: (req) => `${req.pathParams.name}/${req.pathParams.addonName}`,
      request: (id) => {
        const [cluster, addon] = id.split('/');
        return { method: 'GET', path: `/clusters/${enc(cluster)}/addons/${enc(addon)}` };
      },
      withState: withJsonState('addon'),
    },
  },
  {
    name: 'rds-instance',
    service: 'rds',
    states: LOWER_STATES,
    // RDS identifiers are case-insensitive and reported in lower case.
    create: { action: 'CreateDBInstance', id: (req) => req.params.get('DBInstanceIdentifier')?.toLowerCase() },
    delete: { action: 'DeleteDBInstance', id: (req) => req.params.get('DBInstanceIdentifier')?.toLowerCase() },
    describe: {
      action: 'DescribeDBInstances',
      id: (req) => req.params.get('DBInstanceIdentifier')?.toLowerCase(),
      request: (id) => ({ method: 'POST', path: '/', body: form({ Action: 'DescribeDBInstances', Version: '2014-10-31', DBInstanceIdentifier: id }) }),
      withState: withXmlState('DBInstanceStatus', /<DBInstance>/),
    },
  },
  {
    name: 'elasticache-replication-group',
    service: 'elasticache',
    states: LOWER_STATES,
    create: { action: 'CreateReplicationGroup', id: (req) => req.params.get('ReplicationGroupId')?.toLowerCase() },
    delete: { action: 'DeleteReplicationGroup', id: (req) => req.params.get('ReplicationGroupId')?.toLowerCase() },
    describe: {
      action: 'DescribeReplicationGroups',
      id: (req) => req.params.get('ReplicationGroupId')?.toLowerCase(),
      request: (id) => ({ method: 'POST', path: '/', body: form({ Action: 'DescribeReplicationGroups', Version: '2015-02-02', ReplicationGroupId: id }) }),
      // The group's own <Status>, not a node group's: the first one after its <ReplicationGroupId>.
      withState: withXmlState('Status', /<ReplicationGroupId>[^<]*<\/ReplicationGroupId>/),
    },
  },
  {
    name: 'ec2-nat-gateway',
    service: 'ec2',
    states: { creating: 'pending', deleting: 'deleting', modifying: 'pending' },
    create: { action: 'CreateNatGateway', id: (_req, answer) => /<natGatewayId>([^<]+)<\/natGatewayId>/.exec(answer.body)?.[1] },
    delete: { action: 'DeleteNatGateway', id: (req) => req.params.get('NatGatewayId') ?? undefined },
    describe: {
      action: 'DescribeNatGateways',
      id: (req) => req.params.get('NatGatewayId.1') ?? undefined,
      request: (id) => ({ method: 'POST', path: '/', body: form({ Action: 'DescribeNatGateways', Version: '2016-11-15', 'NatGatewayId.1': id }) }),
      withState: withXmlState('state', /<natGatewayId>[^<]*<\/natGatewayId>/),
    },
  },
];

export function kindByName(name: ResourceKindName): ResourceKind {
  const kind = RESOURCE_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`no resource kind ${name}`);
  return kind;
}

/** The kind whose create, delete or describe this request is, and which of the three. */
export function kindOf(req: AwsRequest): { kind: ResourceKind; role: 'create' | 'delete' | 'describe' } | undefined {
  for (const kind of RESOURCE_KINDS) {
    if (kind.service !== req.service) continue;
    if (kind.create.action === req.action) return { kind, role: 'create' };
    if (kind.delete.action === req.action) return { kind, role: 'delete' };
    if (kind.describe.action === req.action) return { kind, role: 'describe' };
  }
  return undefined;
}

export function stateName(kind: ResourceKind, state: string): string {
  return (kind.states as Record<string, string>)[state] ?? state;
}
