/**
 * "Use an existing cluster" on AWS. AWS::EKS::ExistingCluster is an EKS cluster the environment only reads
 * (DescribeCluster): never created, changed or deleted. What the environment adds next to it is its own: the IAM
 * OIDC provider of the cluster's issuer when the account has none (IRSA needs one; an account's own is used as it
 * is and never deleted), and AWS::EC2::StorageSecurityGroups, the security groups of the managed databases and
 * caches in the cluster's VPC that admit only the cluster's security group.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { asTagList, isCode, marked, out, str, strings, tagRecord, tagsFor, TAG, type AwsContext, type Handler } from './common';
import { describeCluster, IGNORED_THUMBPRINT } from './eks';

const iamSdk = () => import('@aws-sdk/client-iam');
const ec2sdk = () => import('@aws-sdk/client-ec2');

type Cluster = NonNullable<Awaited<ReturnType<typeof describeCluster>>>;

/** The account's IAM OIDC provider for the issuer, with whether this environment made it. */
async function findOidcProvider(c: AwsContext, r: Pick<DesiredResource, 'id'>, issuer: string, signal: AbortSignal): Promise<{ arn: string; ours: boolean } | null> {
  const { ListOpenIDConnectProvidersCommand, ListOpenIDConnectProviderTagsCommand } = await iamSdk();
  const host = issuer.replace(/^https:\/\//, '');
  const list = await c.clients.send('IAM', new ListOpenIDConnectProvidersCommand({}), signal);
  const arn = list.OpenIDConnectProviderList?.map((p) => p.Arn!).find((a) => a.endsWith(`:oidc-provider/${host}`));
  if (!arn) return null;
  const tags = await c.clients.send('IAM', new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: arn }), signal);
  return { arn, ours: marked(tagRecord(tags.Tags), r, c) };
}

/** The cluster's subnets that route to no internet gateway (a subnet without a table of its own uses the VPC's main table). */
async function privateSubnets(c: AwsContext, vpcId: string, subnetIds: string[], signal: AbortSignal): Promise<{ id: string; az: string }[]> {
  if (subnetIds.length === 0) return [];
  const { DescribeSubnetsCommand, DescribeRouteTablesCommand } = await ec2sdk();
  const [subnets, tables] = await Promise.all([
    c.clients.send('EC2', new DescribeSubnetsCommand({ SubnetIds: subnetIds }), signal),
    c.clients.send('EC2', new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }), signal),
  ]);
  const toInternet = (t: NonNullable<typeof tables.RouteTables>[number]) => (t.Routes ?? []).some((route) => route.GatewayId?.startsWith('igw-'));
  const main = (tables.RouteTables ?? []).find((t) => t.Associations?.some((a) => a.Main));
  return (subnets.Subnets ?? [])
    .filter((s) => {
      const table = (tables.RouteTables ?? []).find((t) => t.Associations?.some((a) => a.SubnetId === s.SubnetId)) ?? main;
      return !(table && toInternet(table)) && s.MapPublicIpOnLaunch !== true;
    })
    .map((s) => ({ id: s.SubnetId!, az: s.AvailabilityZone ?? '' }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function clusterOutputs(r: DesiredResource, c: AwsContext, cluster: Cluster, provider: string | null, signal: AbortSignal): Promise<Outputs> {
  const vpc = cluster.resourcesVpcConfig ?? {};
  const o: Outputs = { name: out(r.name), arn: out(cluster.arn ?? '') };
  if (cluster.endpoint) o.endpoint = out(cluster.endpoint);
  if (cluster.identity?.oidc?.issuer) o.oidcIssuer = out(cluster.identity.oidc.issuer);
  if (provider) o.oidcProviderArn = out(provider);
  if (vpc.vpcId) {
    o.vpcId = out(vpc.vpcId);
    o.privateSubnetIds = out((await privateSubnets(c, vpc.vpcId, vpc.subnetIds ?? [], signal)).map((s) => s.id));
  }
  if (vpc.clusterSecurityGroupId) o.clusterSecurityGroupId = out(vpc.clusterSecurityGroupId);
  return o;
}

async function readExisting(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const cluster = await describeCluster(c, r.name, signal);
  if (!cluster) return null;
  c.names.set(r.id, r.name);
  const issuer = cluster.identity?.oidc?.issuer;
  const provider = issuer ? await findOidcProvider(c, r, issuer, signal) : null;
  return {
    externalId: cluster.arn ?? r.name,
    observed: {},
    outputs: await clusterOutputs(r, c, cluster, provider?.arn ?? null, signal),
    status: cluster.status === 'ACTIVE' ? { state: 'ready' } : { state: 'pending', reason: `it is ${cluster.status ?? 'UNKNOWN'}` },
    // Not made by the tool, yet the environment's to read: it is never adopted, changed or deleted.
    ours: true,
  };
}

/** Checks the cluster is there and usable, and makes what IRSA needs of the account (never anything on the cluster). */
async function ensureExisting(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const signal = step.signal;
  const cluster = await describeCluster(c, r.name, signal);
  if (!cluster) {
    const account = await c.account(signal);
    throw new DriverError('invalid', `${r.id}: there is no EKS cluster ${r.name} in account ${account}, region ${c.region}. Check provider.cluster.name and the region (aws eks list-clusters --region ${c.region}), or remove provider.cluster to create a cluster.`, { resourceId: r.id });
  }
  if (cluster.status !== 'ACTIVE') throw new DriverError('not-ready', `${r.id}: EKS cluster ${r.name} is ${cluster.status ?? 'UNKNOWN'}, not ACTIVE; try again once it is`, { resourceId: r.id });
  c.names.set(r.id, r.name);
  const vpc = cluster.resourcesVpcConfig ?? {};
  if (!vpc.vpcId || !vpc.clusterSecurityGroupId) {
    throw new DriverError('invalid', `${r.id}: DescribeCluster of ${r.name} tells no VPC or cluster security group, which the environment needs to place its databases and caches`, { resourceId: r.id });
  }
  const issuer = cluster.identity?.oidc?.issuer;
  if (!issuer) {
    throw new DriverError('invalid', `${r.id}: EKS cluster ${r.name} has no OIDC issuer, which IRSA (an IAM role per service) needs. EKS gives every cluster one; check the cluster with aws eks describe-cluster --name ${r.name} --region ${c.region}.`, { resourceId: r.id });
  }
  let provider = await findOidcProvider(c, r, issuer, signal);
  if (!provider) {
    step.progress(`creating the IAM OIDC provider of ${r.name}'s issuer (IRSA)`);
    const { CreateOpenIDConnectProviderCommand } = await iamSdk();
    const arn = (await c.clients.send('IAM', new CreateOpenIDConnectProviderCommand({
      Url: issuer, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: [IGNORED_THUMBPRINT], Tags: asTagList(tagsFor(r, c)),
    }), signal)).OpenIDConnectProviderArn!;
    provider = { arn, ours: true };
  }
  return clusterOutputs(r, c, cluster, provider.arn, signal);
}

/** Leaves the cluster; deletes the IAM OIDC provider only when this environment made it. */
async function leaveExisting(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const cluster = await describeCluster(c, r.name, step.signal);
  const issuer = cluster?.identity?.oidc?.issuer;
  if (!issuer) return;
  const provider = await findOidcProvider(c, r, issuer, step.signal);
  if (!provider?.ours) return;
  const { DeleteOpenIDConnectProviderCommand } = await iamSdk();
  try {
    await c.clients.send('IAM', new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: provider.arn }), step.signal);
  } catch (err) {
    if (!isCode(err, 'NoSuchEntity', 'NoSuchEntityException')) throw err;
  }
}

export const existingClusterHandler: Handler = {
  managed: [],
  read: readExisting,
  create: ensureExisting,
  update: ensureExisting,
  delete: leaveExisting,
  async waitReady() {},
};

// --- the databases' and caches' security groups in the cluster's VPC ---

const PART = 'encore.dev/part';
const PORTS: Record<string, { port: number; what: string }> = {
  database: { port: 5432, what: 'the databases: PostgreSQL from the cluster only' },
  cache: { port: 6379, what: 'the caches: Redis from the cluster only' },
};

async function findGroups(r: DesiredResource, c: AwsContext, signal: AbortSignal) {
  const { DescribeSecurityGroupsCommand } = await ec2sdk();
  const found = await c.clients.send('EC2', new DescribeSecurityGroupsCommand({
    Filters: [{ Name: `tag:${TAG.environment}`, Values: [c.environment] }, { Name: `tag:${TAG.resource}`, Values: [r.id] }],
  }), signal);
  return (found.SecurityGroups ?? []).filter((g) => g.GroupId && marked(tagRecord(g.Tags), r, c));
}

function groupOutputs(groups: Awaited<ReturnType<typeof findGroups>>, subnetIds: string[] | null): Outputs {
  const o: Outputs = {};
  for (const g of groups) {
    const tier = /^sg-(database|cache)$/.exec(tagRecord(g.Tags)[PART] ?? '')?.[1];
    if (tier) o[`${tier}SecurityGroupId`] = out(g.GroupId!);
  }
  if (subnetIds) o.storageSubnetIds = out(subnetIds);
  return o;
}

async function readGroups(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const groups = await findGroups(r, c, signal);
  if (groups.length === 0) return null;
  const subnets = Array.isArray(r.settings.subnetIds) ? (r.settings.subnetIds as string[]) : null;
  return { externalId: groups.map((g) => g.GroupId!).join(','), observed: {}, outputs: groupOutputs(groups, subnets), status: { state: 'ready' }, ours: true };
}

async function ensureGroups(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const sdk = await ec2sdk();
  const s = r.resolved;
  const signal = step.signal;
  const vpcId = str(s, 'vpcId', r.id);
  const clusterGroup = str(s, 'clusterSecurityGroupId', r.id);
  const subnetIds = strings(s, 'subnetIds', r.id);
  const subnets = await privateSubnets(c, vpcId, subnetIds, signal);
  if (new Set(subnets.map((x) => x.az)).size < 2) {
    throw new DriverError('invalid', `${r.id}: the cluster has private subnets in ${new Set(subnets.map((x) => x.az)).size} availability zone(s); RDS and ElastiCache subnet groups need two. Add a private subnet in a second zone to the cluster, or use a Development environment (databases in the cluster).`, { resourceId: r.id });
  }
  const existing = await findGroups(r, c, signal);
  for (const tier of strings(s, 'tiers', r.id)) {
    const spec = PORTS[tier];
    if (!spec) throw new DriverError('invalid', `${r.id}: unknown tier ${tier}`, { resourceId: r.id });
    let id = existing.find((g) => tagRecord(g.Tags)[PART] === `sg-${tier}`)?.GroupId;
    if (!id) {
      step.progress(`creating the ${tier} security group in ${vpcId}`);
      id = (await c.clients.send('EC2', new sdk.CreateSecurityGroupCommand({
        VpcId: vpcId, GroupName: `${r.name}-${tier}`, Description: `Encore environment ${c.environment}: ${spec.what}`,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: asTagList(tagsFor(r, c, { [PART]: `sg-${tier}`, Name: `${r.name}-${tier}` })) }],
      }), signal)).GroupId!;
    }
    try {
      await c.clients.send('EC2', new sdk.AuthorizeSecurityGroupIngressCommand({
        GroupId: id, IpPermissions: [{ IpProtocol: 'tcp', FromPort: spec.port, ToPort: spec.port, UserIdGroupPairs: [{ GroupId: clusterGroup }] }],
      }), signal);
    } catch (err) {
      if (!isCode(err, 'InvalidPermission.Duplicate')) throw err;
    }
  }
  return groupOutputs(await findGroups(r, c, signal), subnets.map((x) => x.id));
}

async function deleteGroups(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await ec2sdk();
  for (const g of await findGroups(r, c, step.signal)) {
    try {
      const referencing = (g.IpPermissions ?? []).filter((p) => (p.UserIdGroupPairs ?? []).length > 0);
      if (referencing.length > 0) await c.clients.send('EC2', new sdk.RevokeSecurityGroupIngressCommand({ GroupId: g.GroupId, IpPermissions: referencing }), step.signal);
      await c.clients.send('EC2', new sdk.DeleteSecurityGroupCommand({ GroupId: g.GroupId }), step.signal);
    } catch (err) {
      // A database's network interface is released minutes after the database goes: try again.
      if (isCode(err, 'DependencyViolation')) throw new DriverError('transient', `${r.id}: security group ${g.GroupId} is still in use; it is tried again`, { resourceId: r.id, cause: err });
      if (!isCode(err, 'InvalidGroup.NotFound', 'InvalidPermission.NotFound')) throw err;
    }
  }
}

export const storageGroupsHandler: Handler = {
  managed: [],
  read: readGroups,
  create: ensureGroups,
  update: ensureGroups,
  delete: deleteGroups,
  async waitReady() {},
};
