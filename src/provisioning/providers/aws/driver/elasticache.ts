/**
 * AWS::ElastiCache::ReplicationGroup: Redis per cache cluster, a primary and its replicas across zones with
 * automatic failover, TLS in transit, encrypted at rest, AUTH with a token the driver generates. The token is kept
 * in a Secrets Manager secret of the driver's own (ElastiCache never gives it back), read again on every read as a
 * secret output, which the in-cluster Secret copies.
 */

import { randomBytes } from 'node:crypto';
import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { asTagList, bool, isCode, marked, num, out, poll, readyStatus, str, strings, tagRecord, tagsFor, type AwsContext, type Handler } from './common';

const ecSdk = () => import('@aws-sdk/client-elasticache');
const smSdk = () => import('@aws-sdk/client-secrets-manager');
const subnetGroupName = (name: string) => `${name}-subnets`.toLowerCase();
export const parameterGroupName = (name: string) => `${name}-params`.toLowerCase();
/** "7.2" → "redis7": the parameter group family of an engine version. */
const familyOf = (engine: string, version: string) => `${engine}${version.split('.')[0]}`;

/** The Redis parameters the settings ask for: the eviction policy from the code and the memory Redis keeps for itself. */
function wantedParameters(s: Record<string, unknown>): { ParameterName: string; ParameterValue: string }[] {
  const out: { ParameterName: string; ParameterValue: string }[] = [];
  if (typeof s.maxmemoryPolicy === 'string') out.push({ ParameterName: 'maxmemory-policy', ParameterValue: s.maxmemoryPolicy });
  if (typeof s.reservedMemoryPercent === 'number') out.push({ ParameterName: 'reserved-memory-percent', ParameterValue: String(s.reservedMemoryPercent) });
  return out;
}

/**
 * The group's own parameter group, made on first use and brought to the wanted values on every apply (a Modify of
 * the same values is a no-op on AWS). None when the settings ask for no parameter: the engine's default applies.
 */
async function ensureParameterGroup(r: ResolvedResource, c: AwsContext, signal: AbortSignal): Promise<{ name: string; created: boolean } | undefined> {
  const params = wantedParameters(r.resolved);
  if (params.length === 0) return undefined;
  const sdk = await ecSdk();
  const name = parameterGroupName(r.name);
  let created = true;
  try {
    await c.clients.send('ElastiCache', new sdk.CreateCacheParameterGroupCommand({
      CacheParameterGroupName: name, CacheParameterGroupFamily: familyOf(str(r.resolved, 'engine', r.id), str(r.resolved, 'engineVersion', r.id)),
      Description: `Encore environment ${c.environment}: ${r.name}`, Tags: asTagList(tagsFor(r, c)),
    }), signal);
  } catch (err) {
    if (!isCode(err, 'CacheParameterGroupAlreadyExists', 'CacheParameterGroupAlreadyExistsFault')) throw err;
    created = false;
  }
  await c.clients.send('ElastiCache', new sdk.ModifyCacheParameterGroupCommand({ CacheParameterGroupName: name, ParameterNameValues: params }), signal);
  return { name, created };
}

/** The values the group's parameter group has for the parameters the settings manage. */
async function parametersOf(c: AwsContext, r: DesiredResource, signal: AbortSignal): Promise<Record<string, string> | null> {
  const { DescribeCacheParametersCommand } = await ecSdk();
  try {
    const answer = await c.clients.send('ElastiCache', new DescribeCacheParametersCommand({ CacheParameterGroupName: parameterGroupName(r.name), Source: 'user' }), signal);
    return Object.fromEntries((answer.Parameters ?? []).map((p) => [p.ParameterName ?? '', p.ParameterValue ?? '']));
  } catch (err) {
    if (isCode(err, 'CacheParameterGroupNotFound', 'CacheParameterGroupNotFoundFault')) return null;
    throw err;
  }
}
export const authTokenSecretName = (name: string) => `encore-environments/${name}/redis-auth-token`;

async function describe(c: AwsContext, id: string, signal: AbortSignal) {
  const { DescribeReplicationGroupsCommand } = await ecSdk();
  try {
    return (await c.clients.send('ElastiCache', new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }), signal)).ReplicationGroups?.[0] ?? null;
  } catch (err) {
    if (isCode(err, 'ReplicationGroupNotFoundFault', 'ReplicationGroupNotFound')) return null;
    throw err;
  }
}

type Group = NonNullable<Awaited<ReturnType<typeof describe>>>;

/** 64 characters from ElastiCache's allowed set (printable, no @ " /); letters and digits are enough. */
function generateToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let token = '';
  while (token.length < 64) for (const b of randomBytes(96)) if (b < 248 && token.length < 64) token += alphabet[b % 62];
  return token;
}

async function storedToken(c: AwsContext, name: string, signal: AbortSignal): Promise<string | null> {
  const { GetSecretValueCommand } = await smSdk();
  try {
    return (await c.clients.send('Secrets Manager', new GetSecretValueCommand({ SecretId: authTokenSecretName(name) }), signal)).SecretString ?? null;
  } catch (err) {
    if (isCode(err, 'ResourceNotFoundException')) return null;
    throw err;
  }
}

/** The token kept for this group, made and stored first when there is none. */
async function ensureToken(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<string> {
  const existing = await storedToken(c, r.name, signal);
  if (existing) return existing;
  const { CreateSecretCommand } = await smSdk();
  const token = generateToken();
  try {
    await c.clients.send('Secrets Manager', new CreateSecretCommand({
      Name: authTokenSecretName(r.name), SecretString: token, Description: `Encore environment ${c.environment}: the Redis AUTH token of ${r.name}`,
      Tags: asTagList(tagsFor(r, c)),
    }), signal);
    return token;
  } catch (err) {
    if (!isCode(err, 'ResourceExistsException')) throw err;
    return (await storedToken(c, r.name, signal))!;
  }
}

async function outputsOf(c: AwsContext, r: DesiredResource, g: Group, signal: AbortSignal): Promise<Outputs> {
  const primary = g.NodeGroups?.[0]?.PrimaryEndpoint ?? g.ConfigurationEndpoint;
  const o: Outputs = { id: out(g.ReplicationGroupId ?? r.name), arn: out(g.ARN ?? '') };
  if (primary?.Address) o.primaryEndpoint = out(primary.Address);
  if (primary?.Port) o.port = out(primary.Port);
  const reader = g.NodeGroups?.[0]?.ReaderEndpoint?.Address;
  if (reader) o.readerEndpoint = out(reader);
  const token = await storedToken(c, r.name, signal);
  if (token) o.authToken = out(token, true);
  return o;
}

async function tagsOf(c: AwsContext, arn: string | undefined, signal: AbortSignal): Promise<Record<string, string>> {
  if (!arn) return {};
  const { ListTagsForResourceCommand } = await ecSdk();
  return tagRecord((await c.clients.send('ElastiCache', new ListTagsForResourceCommand({ ResourceName: arn }), signal)).TagList);
}

async function read(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const g = await describe(c, r.name, signal);
  if (!g) return null;
  const members = g.MemberClusters ?? [];
  const parameters = wantedParameters(r.settings).length > 0 ? await parametersOf(c, r, signal) : null;
  return {
    externalId: g.ARN ?? r.name,
    observed: {
      engine: g.Engine ?? 'redis',
      nodeType: g.CacheNodeType ?? null,
      numCacheClusters: members.length,
      automaticFailover: g.AutomaticFailover === 'enabled' || g.AutomaticFailover === 'enabling',
      multiAZ: g.MultiAZ === 'enabled',
      transitEncryption: g.TransitEncryptionEnabled ?? false,
      atRestEncryption: g.AtRestEncryptionEnabled ?? false,
      ...(parameters && {
        maxmemoryPolicy: parameters['maxmemory-policy'] ?? null,
        reservedMemoryPercent: parameters['reserved-memory-percent'] === undefined ? null : Number(parameters['reserved-memory-percent']),
      }),
    },
    outputs: await outputsOf(c, r, g, signal),
    status: readyStatus(g.Status ?? 'unknown', ['available'], ['create-failed']),
    ours: marked(await tagsOf(c, g.ARN, signal), r, c),
  };
}

async function ensure(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const sdk = await ecSdk();
  const s = r.resolved;
  const signal = step.signal;
  const tags = asTagList(tagsFor(r, c));
  const group = subnetGroupName(r.name);
  try {
    await c.clients.send('ElastiCache', new sdk.CreateCacheSubnetGroupCommand({
      CacheSubnetGroupName: group, CacheSubnetGroupDescription: `Encore environment ${c.environment}: ${r.name}`, SubnetIds: strings(s, 'subnetIds', r.id), Tags: tags,
    }), signal);
  } catch (err) {
    if (!isCode(err, 'CacheSubnetGroupAlreadyExists', 'CacheSubnetGroupAlreadyExistsFault')) throw err;
  }
  const clusters = num(s, 'numCacheClusters', r.id);
  const failover = bool(s, 'automaticFailover');
  if (failover && clusters < 2) throw new DriverError('invalid', `${r.id}: automatic failover needs a replica (numCacheClusters ≥ 2)`, { resourceId: r.id });
  const parameterGroup = await ensureParameterGroup(r, c, signal);
  let g = await describe(c, r.name, signal);
  if (!g) {
    const token = await ensureToken(r, c, signal);
    step.progress(`creating ElastiCache replication group ${r.name} (about 8 minutes on AWS)`);
    try {
      await c.clients.send('ElastiCache', new sdk.CreateReplicationGroupCommand({
        ReplicationGroupId: r.name,
        ReplicationGroupDescription: `Encore environment ${c.environment}: cache ${r.source?.name ?? r.name}`,
        Engine: str(s, 'engine', r.id),
        EngineVersion: str(s, 'engineVersion', r.id),
        CacheNodeType: str(s, 'nodeType', r.id),
        NumCacheClusters: clusters,
        AutomaticFailoverEnabled: failover,
        MultiAZEnabled: bool(s, 'multiAZ'),
        TransitEncryptionEnabled: bool(s, 'transitEncryption'),
        AtRestEncryptionEnabled: bool(s, 'atRestEncryption'),
        AuthToken: token,
        CacheSubnetGroupName: group,
        ...(parameterGroup && { CacheParameterGroupName: parameterGroup.name }),
        SecurityGroupIds: [str(s, 'securityGroupId', r.id)],
        Tags: tags,
      }), signal);
    } catch (err) {
      if (!isCode(err, 'ReplicationGroupAlreadyExists', 'ReplicationGroupAlreadyExistsFault')) throw err;
    }
  } else {
    if (g.ARN) await c.clients.send('ElastiCache', new sdk.AddTagsToResourceCommand({ ResourceName: g.ARN, Tags: tags }), signal);
    const failoverNow = g.AutomaticFailover === 'enabled' || g.AutomaticFailover === 'enabling';
    if (g.CacheNodeType !== str(s, 'nodeType', r.id) || failoverNow !== failover || (g.MultiAZ === 'enabled') !== bool(s, 'multiAZ')) {
      await waitAvailable(r, c, step);
      await c.clients.send('ElastiCache', new sdk.ModifyReplicationGroupCommand({
        ReplicationGroupId: r.name, ApplyImmediately: true, CacheNodeType: str(s, 'nodeType', r.id), AutomaticFailoverEnabled: failover, MultiAZEnabled: bool(s, 'multiAZ'),
      }), signal);
    }
    if (parameterGroup?.created) {
      // A group made before it had a parameter group of its own (an earlier version of the tool) is moved onto it.
      await waitAvailable(r, c, step);
      await c.clients.send('ElastiCache', new sdk.ModifyReplicationGroupCommand({ ReplicationGroupId: r.name, ApplyImmediately: true, CacheParameterGroupName: parameterGroup.name }), signal);
    }
    const members = g.MemberClusters?.length ?? 0;
    if (members < clusters) {
      await waitAvailable(r, c, step);
      await c.clients.send('ElastiCache', new sdk.IncreaseReplicaCountCommand({ ReplicationGroupId: r.name, NewReplicaCount: clusters - 1, ApplyImmediately: true }), signal);
    }
  }
  // The endpoints exist once the group is available.
  g = await waitAvailable(r, c, step);
  return outputsOf(c, r, g, signal);
}

async function waitAvailable(r: DesiredResource, c: AwsContext, step: StepContext): Promise<Group> {
  return poll(c, step, `ElastiCache replication group ${r.name}`, async () => {
    const g = await describe(c, r.name, step.signal);
    const state = g?.Status ?? 'not visible yet';
    return g && state === 'available' ? { done: true, value: g } : { done: false, state };
  }, { timeoutMs: 60 * 60_000, resourceId: r.id, failed: (state) => state === 'create-failed' });
}

async function remove(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await ecSdk();
  const signal = step.signal;
  const g = await describe(c, r.name, signal);
  if (g) {
    if (!marked(await tagsOf(c, g.ARN, signal), r, c)) throw new DriverError('conflict', `${r.id}: replication group ${r.name} does not carry this environment's tags; it was left in place`, { resourceId: r.id });
    if (g.Status !== 'deleting') {
      try {
        await c.clients.send('ElastiCache', new sdk.DeleteReplicationGroupCommand({ ReplicationGroupId: r.name }), signal);
      } catch (err) {
        if (!isCode(err, 'ReplicationGroupNotFoundFault', 'InvalidReplicationGroupState', 'InvalidReplicationGroupStateFault')) throw err;
      }
    }
    await poll(c, step, `deleting replication group ${r.name}`, async () => {
      const now = await describe(c, r.name, signal);
      return now ? { done: false, state: now.Status ?? 'unknown' } : { done: true, value: undefined };
    }, { timeoutMs: c.timing.deleteTimeoutMs ?? 60 * 60_000, resourceId: r.id });
  }
  try {
    await c.clients.send('ElastiCache', new sdk.DeleteCacheSubnetGroupCommand({ CacheSubnetGroupName: subnetGroupName(r.name) }), signal);
  } catch (err) {
    if (!isCode(err, 'CacheSubnetGroupNotFoundFault', 'CacheSubnetGroupNotFound')) throw err;
  }
  // After the group: a parameter group in use cannot be deleted.
  try {
    await c.clients.send('ElastiCache', new sdk.DeleteCacheParameterGroupCommand({ CacheParameterGroupName: parameterGroupName(r.name) }), signal);
  } catch (err) {
    if (!isCode(err, 'CacheParameterGroupNotFound', 'CacheParameterGroupNotFoundFault')) throw err;
  }
  const { DeleteSecretCommand } = await smSdk();
  try {
    await c.clients.send('Secrets Manager', new DeleteSecretCommand({ SecretId: authTokenSecretName(r.name), ForceDeleteWithoutRecovery: true }), signal);
  } catch (err) {
    if (!isCode(err, 'ResourceNotFoundException')) throw err;
  }
}

export const elastiCacheHandler: Handler = {
  managed: ['engine', 'nodeType', 'numCacheClusters', 'automaticFailover', 'multiAZ', 'transitEncryption', 'atRestEncryption', 'maxmemoryPolicy', 'reservedMemoryPercent'],
  read,
  create: ensure,
  update: ensure,
  delete: remove,
  async waitReady(r, c, step) {
    await waitAvailable(r, c, step);
  },
};
