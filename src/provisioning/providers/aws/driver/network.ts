/**
 * AWS::EC2::VPC: the environment's network as Encore lays it out (notes §1.2): a VPC over two availability zones,
 * a public, a compute and (when managed databases or caches need it) a storage subnet per zone, an internet gateway
 * for the public tier, NAT gateways for the private tiers' egress, and a security group per tier that lets in only
 * what needs it: the cluster's nodes talk to each other; the databases take 5432 and the caches 6379 from the
 * cluster alone. Every part is found again by its tags, so a re-run after a crash continues where it stopped.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { asTagList, isCode, marked, num, out, poll, str, strings, tagRecord, tagsFor, TAG, type AwsContext, type Handler } from './common';

type Ec2 = typeof import('@aws-sdk/client-ec2');
const ec2sdk = (): Promise<Ec2> => import('@aws-sdk/client-ec2');

const PART = 'encore.dev/part';
type Tier = 'public' | 'compute' | 'storage';
const TIERS: Tier[] = ['public', 'compute', 'storage'];

interface Found {
  vpcId: string;
  ours: boolean;
  cidr: string;
  subnets: { id: string; tier: Tier; az: string; index: number }[];
  natGateways: { id: string; state: string; index: number }[];
  groups: Map<string, string>;
}

/** A /20 per tier and zone inside the /16: tier t, zone a → the (2t + a)-th /20. */
export function subnetCidr(vpcCidr: string, tier: number, zone: number): string {
  const [a, b] = vpcCidr.split('/')[0]!.split('.');
  return `${a}.${b}.${(tier * 2 + zone) * 16}.0/20`;
}

const filterTag = (key: string, value: string) => ({ Name: `tag:${key}`, Values: [value] });

async function findVpc(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<Found | null> {
  const { DescribeVpcsCommand, DescribeSubnetsCommand, DescribeNatGatewaysCommand, DescribeSecurityGroupsCommand } = await ec2sdk();
  const byTag = await c.clients.send('EC2', new DescribeVpcsCommand({ Filters: [filterTag(TAG.environment, c.environment), filterTag(TAG.resource, r.id)] }), signal);
  let vpc = byTag.Vpcs?.[0];
  if (!vpc) {
    // One made outside the tool under the resource's name is found (and reads as foreign).
    const byName = await c.clients.send('EC2', new DescribeVpcsCommand({ Filters: [filterTag('Name', r.name)] }), signal);
    vpc = byName.Vpcs?.[0];
  }
  if (!vpc?.VpcId) return null;
  const vpcId = vpc.VpcId;
  const inVpc = [{ Name: 'vpc-id', Values: [vpcId] }];
  const [subnets, nats, groups] = await Promise.all([
    c.clients.send('EC2', new DescribeSubnetsCommand({ Filters: inVpc }), signal),
    c.clients.send('EC2', new DescribeNatGatewaysCommand({ Filter: inVpc }), signal),
    c.clients.send('EC2', new DescribeSecurityGroupsCommand({ Filters: inVpc }), signal),
  ]);
  const found: Found = { vpcId, ours: marked(tagRecord(vpc.Tags), r, c), cidr: vpc.CidrBlock ?? '', subnets: [], natGateways: [], groups: new Map() };
  for (const s of subnets.Subnets ?? []) {
    const part = /^subnet-(public|compute|storage)-(\d)$/.exec(tagRecord(s.Tags)[PART] ?? '');
    if (part && s.SubnetId) found.subnets.push({ id: s.SubnetId, tier: part[1] as Tier, az: s.AvailabilityZone ?? '', index: Number(part[2]) });
  }
  found.subnets.sort((x, y) => TIERS.indexOf(x.tier) - TIERS.indexOf(y.tier) || x.index - y.index);
  for (const n of nats.NatGateways ?? []) {
    const part = /^nat-(\d)$/.exec(tagRecord(n.Tags)[PART] ?? '');
    if (part && n.NatGatewayId && n.State !== 'deleted') found.natGateways.push({ id: n.NatGatewayId, state: n.State ?? 'unknown', index: Number(part[1]) });
  }
  found.natGateways.sort((x, y) => x.index - y.index);
  for (const g of groups.SecurityGroups ?? []) {
    const part = tagRecord(g.Tags)[PART];
    if (part?.startsWith('sg-') && g.GroupId) found.groups.set(part.slice(3), g.GroupId);
  }
  return found;
}

function outputsOf(f: Found): Outputs {
  const ids = (tier: Tier) => f.subnets.filter((s) => s.tier === tier).map((s) => s.id);
  const o: Outputs = {
    vpcId: out(f.vpcId),
    publicSubnetIds: out(ids('public')),
    computeSubnetIds: out(ids('compute')),
    storageSubnetIds: out(ids('storage')),
    natGatewayIds: out(f.natGateways.map((n) => n.id)),
  };
  for (const [tier, id] of f.groups) o[`${tier}SecurityGroupId`] = out(id);
  return o;
}

async function read(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const f = await findVpc(r, c, signal);
  if (!f) return null;
  const tiers = TIERS.filter((t) => f.subnets.some((s) => s.tier === t));
  const pending = f.natGateways.filter((n) => n.state !== 'available');
  return {
    externalId: f.vpcId,
    observed: {
      region: c.region,
      cidr: f.cidr,
      availabilityZones: new Set(f.subnets.map((s) => s.az)).size,
      subnetTiers: tiers,
      natGateways: f.natGateways.filter((n) => n.state === 'available' || n.state === 'pending').length,
    },
    outputs: outputsOf(f),
    status: pending.length > 0 ? { state: pending.some((n) => n.state === 'failed') ? 'failed' : 'pending', reason: `NAT gateway ${pending[0]!.id} is ${pending[0]!.state}` } : { state: 'ready' },
    ours: f.ours,
  };
}

/** The tag specification of one part. */
const tagged = (type: string, r: DesiredResource, c: AwsContext, part: string, name: string) => [
  { ResourceType: type as 'vpc', Tags: asTagList(tagsFor(r, c, { [PART]: part, Name: name })) },
];

async function ensure(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const sdk = await ec2sdk();
  const s = r.resolved;
  const signal = step.signal;
  const send = <O extends object>(cmd: Parameters<typeof c.clients.send<'EC2', O>>[1]) => c.clients.send<'EC2', O>('EC2', cmd, signal);
  const cidr = str(s, 'cidr', r.id);
  const tiers = strings(s, 'subnetTiers', r.id) as Tier[];
  const zones = num(s, 'availabilityZones', r.id);
  const natCount = num(s, 'natGateways', r.id);

  let f = await findVpc(r, c, signal);
  if (!f) {
    step.progress(`creating VPC ${cidr}`);
    await send(new sdk.CreateVpcCommand({ CidrBlock: cidr, TagSpecifications: tagged('vpc', r, c, 'vpc', r.name) }));
    f = (await findVpc(r, c, signal))!;
  } else if (!f.ours) {
    await send(new sdk.CreateTagsCommand({ Resources: [f.vpcId], Tags: asTagList(tagsFor(r, c, { Name: r.name })) }));
  }
  const vpcId = f.vpcId;
  await send(new sdk.ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } }));
  await send(new sdk.ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));

  const azs = await send(new sdk.DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }, { Name: 'zone-type', Values: ['availability-zone'] }] }));
  const names = (azs.AvailabilityZones ?? []).map((z) => z.ZoneName!).filter(Boolean).sort().slice(0, zones);
  if (names.length < zones) throw new DriverError('invalid', `${c.region} has ${names.length} availability zones available, the network needs ${zones}`, { resourceId: r.id });

  // Subnets.
  for (const tier of tiers) {
    for (let i = 0; i < zones; i++) {
      if (f.subnets.some((x) => x.tier === tier && x.index === i)) continue;
      step.progress(`creating the ${tier} subnet in ${names[i]}`);
      const roleTag: Record<string, string> = tier === 'public' ? { 'kubernetes.io/role/elb': '1' } : tier === 'compute' ? { 'kubernetes.io/role/internal-elb': '1' } : {};
      const created = await send(new sdk.CreateSubnetCommand({
        VpcId: vpcId, CidrBlock: subnetCidr(cidr, TIERS.indexOf(tier), i), AvailabilityZone: names[i],
        TagSpecifications: [{ ResourceType: 'subnet', Tags: asTagList(tagsFor(r, c, { [PART]: `subnet-${tier}-${i}`, Name: `${r.name}-${tier}-${i}`, ...roleTag })) }],
      }));
      if (tier === 'public') await send(new sdk.ModifySubnetAttributeCommand({ SubnetId: created.Subnet!.SubnetId!, MapPublicIpOnLaunch: { Value: true } }));
    }
  }
  f = (await findVpc(r, c, signal))!;
  const subnet = (tier: Tier, i: number) => f!.subnets.find((x) => x.tier === tier && x.index === i)!.id;

  // The internet gateway and the public route table.
  const igws = await send(new sdk.DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }));
  let igwId = igws.InternetGateways?.[0]?.InternetGatewayId;
  if (!igwId) {
    const mine = await send(new sdk.DescribeInternetGatewaysCommand({ Filters: [filterTag(TAG.environment, c.environment), filterTag(PART, 'igw'), filterTag(TAG.resource, r.id)] }));
    igwId = mine.InternetGateways?.[0]?.InternetGatewayId;
    if (!igwId) igwId = (await send(new sdk.CreateInternetGatewayCommand({ TagSpecifications: tagged('internet-gateway', r, c, 'igw', `${r.name}-igw`) }))).InternetGateway!.InternetGatewayId!;
    await send(new sdk.AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
  }
  const publicTable = await routeTable(sdk, c, r, vpcId, 'rt-public', signal);
  await route(sdk, c, publicTable, { GatewayId: igwId }, signal);
  for (let i = 0; i < zones; i++) await associate(sdk, c, publicTable, subnet('public', i), signal);

  // NAT gateways (one per zone in Production, one in Development), each with its Elastic IP.
  for (let i = 0; i < natCount; i++) {
    if (f.natGateways.some((n) => n.index === i)) continue;
    step.progress(`creating NAT gateway ${i + 1} of ${natCount}`);
    const eips = await send(new sdk.DescribeAddressesCommand({ Filters: [filterTag(TAG.environment, c.environment), filterTag(PART, `eip-${i}`), filterTag(TAG.resource, r.id)] }));
    const allocation = eips.Addresses?.[0]?.AllocationId
      ?? (await send(new sdk.AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagged('elastic-ip', r, c, `eip-${i}`, `${r.name}-nat-${i}`) }))).AllocationId!;
    await send(new sdk.CreateNatGatewayCommand({
      SubnetId: subnet('public', i % zones), AllocationId: allocation, ClientToken: `${c.environment}-${r.name}-nat-${i}`.slice(0, 64),
      TagSpecifications: tagged('natgateway', r, c, `nat-${i}`, `${r.name}-nat-${i}`),
    }));
  }
  const nats = await waitNat(c, r, step);
  // A private route table per zone, its egress through that zone's NAT gateway (or the one there is).
  for (let i = 0; i < zones; i++) {
    const table = await routeTable(sdk, c, r, vpcId, `rt-private-${i}`, signal);
    const nat = nats[Math.min(i, nats.length - 1)];
    if (nat) await route(sdk, c, table, { NatGatewayId: nat.id }, signal);
    for (const tier of tiers.filter((t) => t !== 'public')) await associate(sdk, c, table, subnet(tier, i), signal);
  }

  // Security groups per tier.
  const cluster = await group(sdk, c, r, vpcId, 'cluster', 'the EKS cluster and its nodes', signal);
  await allow(sdk, c, cluster, { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: cluster }] }, signal);
  if (tiers.includes('storage')) {
    const db = await group(sdk, c, r, vpcId, 'database', 'the databases: PostgreSQL from the cluster only', signal);
    await allow(sdk, c, db, { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: cluster }] }, signal);
    const cache = await group(sdk, c, r, vpcId, 'cache', 'the caches: Redis from the cluster only', signal);
    await allow(sdk, c, cache, { IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379, UserIdGroupPairs: [{ GroupId: cluster }] }, signal);
  }
  return outputsOf((await findVpc(r, c, signal))!);
}

async function waitNat(c: AwsContext, r: DesiredResource, step: StepContext): Promise<{ id: string }[]> {
  return poll(c, step, 'NAT gateways', async () => {
    const f = (await findVpc(r, c, step.signal))!;
    const waiting = f.natGateways.find((n) => n.state !== 'available');
    return waiting ? { done: false, state: `${waiting.id} ${waiting.state}` } : { done: true, value: f.natGateways };
  }, { timeoutMs: 600_000, resourceId: r.id, failed: (s) => / failed$/.test(s) });
}

async function routeTable(sdk: Ec2, c: AwsContext, r: DesiredResource, vpcId: string, part: string, signal: AbortSignal): Promise<string> {
  const found = await c.clients.send('EC2', new sdk.DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, filterTag(PART, part)] }), signal);
  const id = found.RouteTables?.[0]?.RouteTableId;
  if (id) return id;
  return (await c.clients.send('EC2', new sdk.CreateRouteTableCommand({ VpcId: vpcId, TagSpecifications: tagged('route-table', r, c, part, `${r.name}-${part}`) }), signal)).RouteTable!.RouteTableId!;
}

async function route(sdk: Ec2, c: AwsContext, table: string, target: { GatewayId?: string; NatGatewayId?: string }, signal: AbortSignal): Promise<void> {
  try {
    await c.clients.send('EC2', new sdk.CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', ...target }), signal);
  } catch (err) {
    if (!isCode(err, 'RouteAlreadyExists')) throw err;
    await c.clients.send('EC2', new sdk.ReplaceRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', ...target }), signal);
  }
}

async function associate(sdk: Ec2, c: AwsContext, table: string, subnetId: string, signal: AbortSignal): Promise<void> {
  const found = await c.clients.send('EC2', new sdk.DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }), signal);
  const current = found.RouteTables?.[0];
  if (current?.RouteTableId === table) return;
  const old = current?.Associations?.find((a) => a.SubnetId === subnetId)?.RouteTableAssociationId;
  if (old) await c.clients.send('EC2', new sdk.ReplaceRouteTableAssociationCommand({ AssociationId: old, RouteTableId: table }), signal);
  else await c.clients.send('EC2', new sdk.AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnetId }), signal);
}

async function group(sdk: Ec2, c: AwsContext, r: DesiredResource, vpcId: string, tier: string, what: string, signal: AbortSignal): Promise<string> {
  const found = await c.clients.send('EC2', new sdk.DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, filterTag(PART, `sg-${tier}`)] }), signal);
  const id = found.SecurityGroups?.[0]?.GroupId;
  if (id) return id;
  const created = await c.clients.send('EC2', new sdk.CreateSecurityGroupCommand({
    VpcId: vpcId, GroupName: `${r.name}-${tier}`, Description: `Encore environment ${c.environment}: ${what}`,
    TagSpecifications: tagged('security-group', r, c, `sg-${tier}`, `${r.name}-${tier}`),
  }), signal);
  return created.GroupId!;
}

async function allow(sdk: Ec2, c: AwsContext, groupId: string, permission: import('@aws-sdk/client-ec2').IpPermission, signal: AbortSignal): Promise<void> {
  try {
    await c.clients.send('EC2', new sdk.AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [permission] }), signal);
  } catch (err) {
    if (!isCode(err, 'InvalidPermission.Duplicate')) throw err;
  }
}

/** Everything the network holds, dependents first; each part already gone is skipped. */
async function remove(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await ec2sdk();
  const signal = step.signal;
  const f = await findVpc(r, c, signal);
  if (!f) return;
  if (!f.ours) throw new DriverError('conflict', `${r.id}: VPC ${f.vpcId} does not carry this environment's tags; it was left in place`, { resourceId: r.id });
  const ignoreGone = async (run: () => Promise<unknown>, ...codes: string[]) => {
    try {
      await run();
    } catch (err) {
      // Network interfaces of the cluster or its load balancers are released minutes after they go: try again.
      if (isCode(err, 'DependencyViolation')) {
        throw new DriverError('transient', `${r.id}: a part of VPC ${f.vpcId} is still in use (${(err as Error).message}); it is tried again`, { resourceId: r.id, cause: err });
      }
      if (!isCode(err, ...codes)) throw err;
    }
  };
  for (const n of f.natGateways) {
    if (n.state !== 'deleting') await ignoreGone(() => c.clients.send('EC2', new sdk.DeleteNatGatewayCommand({ NatGatewayId: n.id }), signal), 'NatGatewayNotFound', 'InvalidNatGatewayID.NotFound');
  }
  if (f.natGateways.length > 0) {
    await poll(c, step, 'deleting the NAT gateways', async () => {
      const now = (await findVpc(r, c, signal))?.natGateways ?? [];
      const left = now.filter((n) => n.state !== 'deleted');
      return left.length === 0 ? { done: true, value: undefined } : { done: false, state: `${left[0]!.id} ${left[0]!.state}` };
    }, { timeoutMs: c.timing.deleteTimeoutMs ?? 600_000, resourceId: r.id });
  }
  const eips = await c.clients.send('EC2', new sdk.DescribeAddressesCommand({ Filters: [filterTag(TAG.environment, c.environment), filterTag(TAG.resource, r.id)] }), signal);
  for (const a of eips.Addresses ?? []) {
    if (a.AssociationId) await ignoreGone(() => c.clients.send('EC2', new sdk.DisassociateAddressCommand({ AssociationId: a.AssociationId }), signal), 'InvalidAssociationID.NotFound');
    await ignoreGone(() => c.clients.send('EC2', new sdk.ReleaseAddressCommand({ AllocationId: a.AllocationId }), signal), 'InvalidAllocationID.NotFound');
  }
  const tables = await c.clients.send('EC2', new sdk.DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [f.vpcId] }] }), signal);
  for (const t of tables.RouteTables ?? []) {
    if (t.Associations?.some((a) => a.Main)) continue;
    for (const a of t.Associations ?? []) {
      if (a.RouteTableAssociationId) await ignoreGone(() => c.clients.send('EC2', new sdk.DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId }), signal), 'InvalidAssociationID.NotFound');
    }
    await ignoreGone(() => c.clients.send('EC2', new sdk.DeleteRouteTableCommand({ RouteTableId: t.RouteTableId }), signal), 'InvalidRouteTableID.NotFound');
  }
  const igws = await c.clients.send('EC2', new sdk.DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [f.vpcId] }] }), signal);
  for (const g of igws.InternetGateways ?? []) {
    await ignoreGone(() => c.clients.send('EC2', new sdk.DetachInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId, VpcId: f.vpcId }), signal), 'Gateway.NotAttached');
    await ignoreGone(() => c.clients.send('EC2', new sdk.DeleteInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId }), signal), 'InvalidInternetGatewayID.NotFound');
  }
  for (const s of f.subnets) await ignoreGone(() => c.clients.send('EC2', new sdk.DeleteSubnetCommand({ SubnetId: s.id }), signal), 'InvalidSubnetID.NotFound');
  // Rules that name another group first, so no group is still referenced when it goes.
  const groups = await c.clients.send('EC2', new sdk.DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [f.vpcId] }] }), signal);
  const ours = (groups.SecurityGroups ?? []).filter((g) => g.GroupName !== 'default');
  for (const g of ours) {
    const referencing = (g.IpPermissions ?? []).filter((p) => (p.UserIdGroupPairs ?? []).length > 0);
    if (referencing.length > 0) await ignoreGone(() => c.clients.send('EC2', new sdk.RevokeSecurityGroupIngressCommand({ GroupId: g.GroupId, IpPermissions: referencing }), signal), 'InvalidPermission.NotFound', 'InvalidGroup.NotFound');
  }
  for (const g of ours) await ignoreGone(() => c.clients.send('EC2', new sdk.DeleteSecurityGroupCommand({ GroupId: g.GroupId }), signal), 'InvalidGroup.NotFound');
  await ignoreGone(() => c.clients.send('EC2', new sdk.DeleteVpcCommand({ VpcId: f.vpcId }), signal), 'InvalidVpcID.NotFound');
}

export const vpcHandler: Handler = {
  managed: ['cidr', 'availabilityZones', 'subnetTiers', 'natGateways'],
  read,
  create: ensure,
  update: ensure,
  delete: remove,
  async waitReady(r, c, step) {
    await waitNat(c, r, step);
  },
};
