/**
 * AWS::EKS::Cluster and AWS::EKS::Nodegroup. The cluster gets its IAM role, the OIDC provider IRSA needs, an access
 * entry for the identity that runs the tool (cluster admin through the access-entry API, so no aws-auth ConfigMap),
 * and its add-ons. The node group gets its node role and scales between the sizing answers' minimum and maximum.
 * Secrets are envelope-encrypted by EKS itself (every cluster on a supported version, with an AWS owned key).
 *
 * `clusterConnection` makes the Kubernetes connection of a cluster from DescribeCluster (endpoint, CA) and a
 * `k8s-aws-v1.` token (eksToken.ts): no aws CLI, no kubeconfig.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import type { KubeEndpoint } from '../../kubernetes/client';
import { tokenEndpoint } from '../../kubernetes/client';
import { eksToken, type EksToken } from '../eksToken';
import { principalArn } from '../identity';
import { afterRolePropagation, bool, isCode, marked, num, out, poll, readyStatus, str, strings, tagsFor, type AwsContext, type Handler } from './common';
import { deleteRole, ensureRole, findRole } from './iam';
import { CLUSTER_POLICIES, NODE_POLICIES, serviceTrust } from './policies';

const eksSdk = () => import('@aws-sdk/client-eks');
const iamSdk = () => import('@aws-sdk/client-iam');
const CLUSTER_ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const clusterRoleName = (cluster: string) => `${cluster}-cluster`.slice(0, 64);
const nodeRoleName = (nodegroup: string) => `${nodegroup}-node`.slice(0, 64);
/** The thumbprint field is required by the API; IAM ignores it for EKS's OIDC issuers (it trusts their CA itself). */
export const IGNORED_THUMBPRINT = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';

export async function describeCluster(c: AwsContext, name: string, signal: AbortSignal) {
  const { DescribeClusterCommand } = await eksSdk();
  try {
    return (await c.clients.send('EKS', new DescribeClusterCommand({ name }), signal)).cluster ?? null;
  } catch (err) {
    if (isCode(err, 'ResourceNotFoundException')) return null;
    throw err;
  }
}

async function oidcProviderArn(c: AwsContext, issuer: string, signal: AbortSignal): Promise<string | null> {
  const { ListOpenIDConnectProvidersCommand } = await iamSdk();
  const host = issuer.replace(/^https:\/\//, '');
  const list = await c.clients.send('IAM', new ListOpenIDConnectProvidersCommand({}), signal);
  return list.OpenIDConnectProviderList?.map((p) => p.Arn!).find((arn) => arn.endsWith(`:oidc-provider/${host}`)) ?? null;
}

async function readCluster(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const cluster = await describeCluster(c, r.name, signal);
  if (!cluster) return null;
  c.names.set(r.id, r.name);
  const { ListAddonsCommand } = await eksSdk();
  const status = cluster.status ?? 'UNKNOWN';
  const addons = status === 'ACTIVE' ? ((await c.clients.send('EKS', new ListAddonsCommand({ clusterName: r.name }), signal)).addons ?? []) : [];
  const issuer = cluster.identity?.oidc?.issuer;
  const provider = issuer ? await oidcProviderArn(c, issuer, signal) : null;
  const wanted = Array.isArray(r.settings.addons) ? (r.settings.addons as string[]) : [];
  const outputs: Outputs = { name: out(r.name), arn: out(cluster.arn ?? '') };
  if (cluster.endpoint) outputs.endpoint = out(cluster.endpoint);
  if (issuer) outputs.oidcIssuer = out(issuer);
  if (provider) outputs.oidcProviderArn = out(provider);
  if (cluster.roleArn) outputs.clusterRoleArn = out(cluster.roleArn);
  return {
    externalId: cluster.arn ?? r.name,
    observed: {
      version: cluster.version ?? null,
      endpointPublicAccess: cluster.resourcesVpcConfig?.endpointPublicAccess ?? null,
      endpointPrivateAccess: cluster.resourcesVpcConfig?.endpointPrivateAccess ?? null,
      oidcProvider: provider !== null,
      // In the planner's order; the ones the cluster lacks are left out.
      addons: wanted.filter((a) => addons.includes(a)),
      secretsEncryption: true,
    },
    outputs,
    status: readyStatus(status, ['ACTIVE'], ['FAILED']),
    ours: marked(cluster.tags, r, c),
  };
}

async function ensureCluster(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const sdk = await eksSdk();
  const s = r.resolved;
  const signal = step.signal;
  const tags = tagsFor(r, c);
  c.names.set(r.id, r.name);
  const roleArn = await ensureRole(c, {
    name: clusterRoleName(r.name), trust: serviceTrust('eks.amazonaws.com'), managedPolicies: CLUSTER_POLICIES, tags,
    description: `Encore environment ${c.environment}: the EKS cluster ${r.name}`,
  }, signal);
  let cluster = await describeCluster(c, r.name, signal);
  if (!cluster) {
    step.progress(`creating EKS cluster ${r.name} (about 15 minutes on AWS)`);
    try {
      await afterRolePropagation(step, () => c.clients.send('EKS', new sdk.CreateClusterCommand({
        name: r.name,
        version: str(s, 'version', r.id),
        roleArn,
        resourcesVpcConfig: {
          subnetIds: strings(s, 'subnetIds', r.id),
          securityGroupIds: [str(s, 'securityGroupId', r.id)],
          endpointPublicAccess: bool(s, 'endpointPublicAccess'),
          endpointPrivateAccess: bool(s, 'endpointPrivateAccess'),
        },
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: true },
        tags,
        clientRequestToken: `${c.environment}-${r.name}`.slice(0, 64),
      }), signal));
    } catch (err) {
      if (!isCode(err, 'ResourceInUseException')) throw err;
    }
  } else {
    const { TagResourceCommand } = sdk;
    if (cluster.arn) await c.clients.send('EKS', new TagResourceCommand({ resourceArn: cluster.arn, tags }), signal);
  }
  cluster = await waitActive(c, r, step);
  // Settings EKS changes in place: one update at a time, each waited for.
  const vpc = cluster.resourcesVpcConfig;
  if (vpc && (vpc.endpointPublicAccess !== bool(s, 'endpointPublicAccess') || vpc.endpointPrivateAccess !== bool(s, 'endpointPrivateAccess'))) {
    await c.clients.send('EKS', new sdk.UpdateClusterConfigCommand({
      name: r.name, resourcesVpcConfig: { endpointPublicAccess: bool(s, 'endpointPublicAccess'), endpointPrivateAccess: bool(s, 'endpointPrivateAccess') },
    }), signal);
    cluster = await waitActive(c, r, step);
  }
  if (cluster.version && cluster.version !== str(s, 'version', r.id)) {
    step.progress(`upgrading Kubernetes ${cluster.version} → ${str(s, 'version', r.id)}`);
    await c.clients.send('EKS', new sdk.UpdateClusterVersionCommand({ name: r.name, version: str(s, 'version', r.id) }), signal);
    cluster = await waitActive(c, r, step);
  }

  // IRSA: the cluster's OIDC issuer as an IAM identity provider.
  const issuer = cluster.identity?.oidc?.issuer;
  let provider: string | null = null;
  if (bool(s, 'oidcProvider')) {
    if (!issuer) throw new DriverError('not-ready', `${r.id}: EKS cluster ${r.name} has no OIDC issuer, which IRSA needs`, { resourceId: r.id });
    provider = await oidcProviderArn(c, issuer, signal);
    if (!provider) {
      const { CreateOpenIDConnectProviderCommand } = await iamSdk();
      provider = (await c.clients.send('IAM', new CreateOpenIDConnectProviderCommand({
        Url: issuer, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: [IGNORED_THUMBPRINT],
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }), signal)).OpenIDConnectProviderArn!;
    }
  }

  // The identity running the tool administers the cluster through an access entry (the in-cluster half needs it).
  const me = principalArn(await c.callerArn(signal));
  try {
    await c.clients.send('EKS', new sdk.DescribeAccessEntryCommand({ clusterName: r.name, principalArn: me }), signal);
  } catch (err) {
    if (!isCode(err, 'ResourceNotFoundException')) throw err;
    await c.clients.send('EKS', new sdk.CreateAccessEntryCommand({ clusterName: r.name, principalArn: me, tags }), signal);
  }
  await c.clients.send('EKS', new sdk.AssociateAccessPolicyCommand({ clusterName: r.name, principalArn: me, policyArn: CLUSTER_ADMIN_POLICY, accessScope: { type: 'cluster' } }), signal);

  // Add-ons the cluster lacks.
  const wanted = strings(s, 'addons', r.id);
  const present = (await c.clients.send('EKS', new sdk.ListAddonsCommand({ clusterName: r.name }), signal)).addons ?? [];
  for (const addon of wanted.filter((a) => !present.includes(a))) {
    step.progress(`adding ${addon}`);
    try {
      await c.clients.send('EKS', new sdk.CreateAddonCommand({ clusterName: r.name, addonName: addon, resolveConflicts: 'OVERWRITE', tags }), signal);
    } catch (err) {
      if (!isCode(err, 'ResourceInUseException')) throw err;
    }
  }
  const o: Outputs = { name: out(r.name), arn: out(cluster.arn ?? ''), clusterRoleArn: out(roleArn) };
  if (cluster.endpoint) o.endpoint = out(cluster.endpoint);
  if (issuer) o.oidcIssuer = out(issuer);
  if (provider) o.oidcProviderArn = out(provider);
  return o;
}

async function waitActive(c: AwsContext, r: DesiredResource, step: StepContext) {
  return poll(c, step, `EKS cluster ${r.name}`, async () => {
    const cluster = await describeCluster(c, r.name, step.signal);
    if (!cluster) return { done: false, state: 'not visible yet' };
    return cluster.status === 'ACTIVE' ? { done: true, value: cluster } : { done: false, state: cluster.status ?? 'UNKNOWN' };
  }, { timeoutMs: 30 * 60_000, resourceId: r.id, failed: (state) => state === 'FAILED' });
}

async function waitAddons(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await eksSdk();
  await waitActive(c, r, step);
  for (const addon of strings(r.resolved, 'addons', r.id)) {
    await poll(c, step, `add-on ${addon}`, async () => {
      const a = (await c.clients.send('EKS', new sdk.DescribeAddonCommand({ clusterName: r.name, addonName: addon }), step.signal)).addon;
      return a?.status === 'ACTIVE' ? { done: true, value: undefined } : { done: false, state: a?.status ?? 'UNKNOWN' };
    }, { timeoutMs: 20 * 60_000, resourceId: r.id, failed: (state) => state === 'CREATE_FAILED' || state === 'DEGRADED' });
  }
}

async function deleteCluster(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await eksSdk();
  const cluster = await describeCluster(c, r.name, step.signal);
  if (cluster) {
    if (!marked(cluster.tags, r, c)) throw new DriverError('conflict', `${r.id}: EKS cluster ${r.name} does not carry this environment's tags; it was left in place`, { resourceId: r.id });
    if (cluster.status !== 'DELETING') {
      try {
        await c.clients.send('EKS', new sdk.DeleteClusterCommand({ name: r.name }), step.signal);
      } catch (err) {
        if (!isCode(err, 'ResourceNotFoundException')) throw err;
      }
    }
    await poll(c, step, `deleting EKS cluster ${r.name}`, async () => {
      const now = await describeCluster(c, r.name, step.signal);
      return now ? { done: false, state: now.status ?? 'UNKNOWN' } : { done: true, value: undefined };
    }, { timeoutMs: c.timing.deleteTimeoutMs ?? 30 * 60_000, resourceId: r.id });
    const issuer = cluster.identity?.oidc?.issuer;
    const provider = issuer ? await oidcProviderArn(c, issuer, step.signal) : null;
    if (provider) {
      const { DeleteOpenIDConnectProviderCommand } = await iamSdk();
      try {
        await c.clients.send('IAM', new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: provider }), step.signal);
      } catch (err) {
        if (!isCode(err, 'NoSuchEntity', 'NoSuchEntityException')) throw err;
      }
    }
  }
  await deleteRole(c, clusterRoleName(r.name), step.signal);
}

export const clusterHandler: Handler = {
  managed: ['version', 'endpointPublicAccess', 'endpointPrivateAccess', 'oidcProvider', 'addons'],
  read: readCluster,
  create: ensureCluster,
  update: ensureCluster,
  delete: deleteCluster,
  waitReady: waitAddons,
};

// --- the node group ---

async function describeNodegroup(c: AwsContext, cluster: string, name: string, signal: AbortSignal) {
  const { DescribeNodegroupCommand } = await eksSdk();
  try {
    return (await c.clients.send('EKS', new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: name }), signal)).nodegroup ?? null;
  } catch (err) {
    if (isCode(err, 'ResourceNotFoundException')) return null;
    throw err;
  }
}

/**
 * The node group's cluster: the resolved reference, or, when a plan reads the graph before references resolve, the
 * cluster of the referenced resource, found by its tags (and remembered).
 */
export async function clusterOf(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<string | null> {
  const v = r.settings.cluster;
  if (typeof v !== 'string') return null;
  const ref = /^\$\{([^{}]+)\.name\}$/.exec(v);
  if (!ref) return v;
  const id = ref[1]!;
  const known = c.names.get(id);
  if (known) return known;
  const { ListClustersCommand } = await eksSdk();
  let nextToken: string | undefined;
  do {
    const page = await c.clients.send('EKS', new ListClustersCommand({ nextToken }), signal);
    for (const name of page.clusters ?? []) {
      const cluster = await describeCluster(c, name, signal);
      if (cluster && marked(cluster.tags, { id }, c)) {
        c.names.set(id, name);
        return name;
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return null;
}

async function readNodegroup(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const cluster = await clusterOf(r, c, signal);
  if (!cluster) return null;
  const ng = await describeNodegroup(c, cluster, r.name, signal);
  if (!ng) return null;
  const scaling = ng.scalingConfig ?? {};
  const autoscaled = r.settings.autoscaler !== null && r.settings.autoscaler !== undefined;
  return {
    externalId: ng.nodegroupArn ?? `${cluster}/${r.name}`,
    observed: {
      instanceTypes: ng.instanceTypes ?? [],
      minSize: scaling.minSize ?? null,
      maxSize: scaling.maxSize ?? null,
      // The autoscaler owns the desired size of an autoscaled group: only its range is ours.
      ...(autoscaled ? {} : { desiredSize: scaling.desiredSize ?? null }),
    },
    outputs: { name: out(r.name), arn: out(ng.nodegroupArn ?? ''), ...(ng.nodeRole ? { nodeRoleArn: out(ng.nodeRole) } : {}) },
    status: readyStatus(ng.status ?? 'UNKNOWN', ['ACTIVE'], ['CREATE_FAILED', 'DEGRADED', 'DELETE_FAILED']),
    ours: marked(ng.tags, r, c),
  };
}

async function ensureNodegroup(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const sdk = await eksSdk();
  const s = r.resolved;
  const signal = step.signal;
  const cluster = str(s, 'cluster', r.id);
  const min = num(s, 'minSize', r.id);
  const max = num(s, 'maxSize', r.id);
  if (min > max) throw new DriverError('invalid', `${r.id}: the node group's minimum (${min}) is above its maximum (${max})`, { resourceId: r.id });
  const autoscaled = s.autoscaler !== null && s.autoscaler !== undefined;
  const tags = tagsFor(r, c, autoscaled ? { 'k8s.io/cluster-autoscaler/enabled': 'true', [`k8s.io/cluster-autoscaler/${cluster}`]: 'owned' } : {});
  const nodeRole = await ensureRole(c, {
    name: nodeRoleName(r.name), trust: serviceTrust('ec2.amazonaws.com'), managedPolicies: NODE_POLICIES, tags: tagsFor(r, c),
    description: `Encore environment ${c.environment}: the nodes of ${cluster}`,
  }, signal);
  let ng = await describeNodegroup(c, cluster, r.name, signal);
  if (!ng) {
    step.progress(`creating node group ${r.name}`);
    try {
      await afterRolePropagation(step, () => c.clients.send('EKS', new sdk.CreateNodegroupCommand({
        clusterName: cluster, nodegroupName: r.name, nodeRole, subnets: strings(s, 'subnetIds', r.id),
        instanceTypes: strings(s, 'instanceTypes', r.id), amiType: 'AL2023_x86_64_STANDARD', capacityType: 'ON_DEMAND',
        scalingConfig: { minSize: min, maxSize: max, desiredSize: num(s, 'desiredSize', r.id) },
        tags, clientRequestToken: `${c.environment}-${r.name}`.slice(0, 64),
      }), signal));
    } catch (err) {
      if (!isCode(err, 'ResourceInUseException')) throw err;
    }
    ng = await describeNodegroup(c, cluster, r.name, signal);
  } else {
    if (ng.nodegroupArn) await c.clients.send('EKS', new sdk.TagResourceCommand({ resourceArn: ng.nodegroupArn, tags }), signal);
    const live = ng.scalingConfig ?? {};
    // An autoscaled group keeps the size its autoscaler chose, moved into the new range.
    const desired = autoscaled ? Math.min(max, Math.max(min, live.desiredSize ?? min)) : num(s, 'desiredSize', r.id);
    if (live.minSize !== min || live.maxSize !== max || live.desiredSize !== desired) {
      await waitNodegroup(r, c, step);
      await c.clients.send('EKS', new sdk.UpdateNodegroupConfigCommand({ clusterName: cluster, nodegroupName: r.name, scalingConfig: { minSize: min, maxSize: max, desiredSize: desired } }), signal);
    }
  }
  return { name: out(r.name), arn: out(ng?.nodegroupArn ?? ''), nodeRoleArn: out(nodeRole) };
}

async function waitNodegroup(r: ResolvedResource | DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const cluster = await clusterOf('resolved' in r ? { ...r, settings: r.resolved } : r, c, step.signal);
  if (!cluster) throw new DriverError('invalid', `${r.id}: no cluster name`, { resourceId: r.id });
  await poll(c, step, `node group ${r.name}`, async () => {
    const ng = await describeNodegroup(c, cluster, r.name, step.signal);
    return ng?.status === 'ACTIVE' ? { done: true, value: undefined } : { done: false, state: ng?.status ?? 'not visible yet' };
  }, { timeoutMs: 30 * 60_000, resourceId: r.id, failed: (state) => state === 'CREATE_FAILED' || state === 'DEGRADED' });
}

async function deleteNodegroup(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await eksSdk();
  const cluster = await clusterOf(r, c, step.signal);
  if (cluster) {
    const ng = await describeNodegroup(c, cluster, r.name, step.signal);
    if (ng) {
      if (!marked(ng.tags, r, c)) throw new DriverError('conflict', `${r.id}: node group ${r.name} does not carry this environment's tags; it was left in place`, { resourceId: r.id });
      if (ng.status !== 'DELETING') {
        try {
          await c.clients.send('EKS', new sdk.DeleteNodegroupCommand({ clusterName: cluster, nodegroupName: r.name }), step.signal);
        } catch (err) {
          if (!isCode(err, 'ResourceNotFoundException')) throw err;
        }
      }
      await poll(c, step, `deleting node group ${r.name}`, async () => {
        const now = await describeNodegroup(c, cluster, r.name, step.signal);
        return now ? { done: false, state: now.status ?? 'UNKNOWN' } : { done: true, value: undefined };
      }, { timeoutMs: c.timing.deleteTimeoutMs ?? 30 * 60_000, resourceId: r.id });
    }
  }
  if (await findRole(c, nodeRoleName(r.name), step.signal)) await deleteRole(c, nodeRoleName(r.name), step.signal);
}

export const nodegroupHandler: Handler = {
  managed: ['instanceTypes', 'minSize', 'maxSize'],
  diff(desired, live) {
    // The desired size is ours only for a group without an autoscaler (the autoscaler owns it otherwise).
    const autoscaled = desired.resolved.autoscaler !== null && desired.resolved.autoscaler !== undefined;
    const want = desired.resolved.desiredSize;
    if (autoscaled || typeof want !== 'number' || live.observed.desiredSize === want) return [];
    return [{ path: 'desiredSize', before: live.observed.desiredSize ?? null, after: want }];
  },
  read: readNodegroup,
  create: ensureNodegroup,
  update: ensureNodegroup,
  delete: deleteNodegroup,
  waitReady: waitNodegroup,
};

// --- the Kubernetes connection ---

/** The cluster's API endpoint with a token made from the connection's credentials, renewed before it expires. */
export async function clusterConnection(c: AwsContext, name: string, signal: AbortSignal): Promise<KubeEndpoint | null> {
  const cluster = await describeCluster(c, name, signal);
  if (!cluster || cluster.status !== 'ACTIVE' || !cluster.endpoint || !cluster.certificateAuthority?.data) return null;
  let current: EksToken | null = null;
  return tokenEndpoint({
    server: cluster.endpoint,
    caPem: Buffer.from(cluster.certificateAuthority.data, 'base64').toString('utf8'),
    label: `EKS cluster ${name} (${c.region})`,
    refreshHint: `Check that the AWS credentials of the environment are valid and have an access entry on EKS cluster ${name}.`,
    token: async () => {
      if (!current || current.expiresAt.getTime() - Date.now() < 60_000) {
        current = await eksToken({ clusterName: name, region: c.region, credentials: c.connection.credentials, stsEndpoint: c.connection.endpoint('STS')?.url });
      }
      return current.token;
    },
  });
}
