/**
 * The environment's base: on AWS and GCP a network, a managed Kubernetes cluster with its nodes and an image
 * registry (Encore provisions one cluster per environment in your cloud, notes §1.2 and §1.5); on the kubernetes
 * provider the cluster is given. Every provider gets the namespace the app runs in.
 */

import { outputRef } from '../../model/desiredGraph';
import { GATEWAY } from './workloads';
import type { PlanContext } from './context';
import { shortHash } from './names';

/** The Kubernetes version new clusters get: a release both EKS and GKE support in standard support. */
export const KUBERNETES_VERSION = '1.33';

/**
 * Production node counts follow the services' maximum instances: each workload pod requests 250m CPU and 512 MiB
 * (see workloads.ts), and a 2 vCPU / 8 GiB node keeps room for four of them next to the system pods and daemons.
 * At least two nodes so one can fail, at least three as the ceiling so a rolling update has room.
 */
const PODS_PER_NODE = 4;

/**
 * Development nodes are a fixed pool sized to hold what runs on them: the workloads (256 MiB each), and the
 * in-cluster Postgres (1 GiB each), Redis and nsqd, against the memory a node has left for pods (about 3 GiB of a
 * t3.medium, 6 GiB of an e2-standard-2). Never fewer than two, so a node can be replaced without an outage.
 */
function developmentNodes(ctx: PlanContext, podMemoryGiB: number): number {
  const n = ctx.needs;
  const workloads = n.services.length > 0 ? n.services.length + 1 : 0;
  const memory = workloads * 0.25 + n.databases.length * 1 + n.caches.length * 0.5 + (n.topics.length > 0 ? 0.25 : 0);
  return Math.max(2, Math.ceil(memory / podMemoryGiB));
}

export function nodeRange(ctx: PlanContext, podMemoryGiB: number): { min: number; max: number } {
  if (!ctx.production) {
    const nodes = developmentNodes(ctx, podMemoryGiB);
    return { min: nodes, max: nodes };
  }
  const pods = Object.values(ctx.sizing.services).reduce((n, s) => n + s.maxInstances, 0) + (ctx.needs.services.length > 0 ? GATEWAY.scale(ctx).maxInstances : 0);
  return { min: 2, max: Math.max(3, Math.ceil(pods / PODS_PER_NODE)) };
}

/** A private /16 derived from the app and environment, so environments that are peered later rarely overlap. */
export function networkCidr(ctx: PlanContext): string {
  return `10.${parseInt(shortHash(`${ctx.names.app}/${ctx.env.name}`).slice(0, 2), 16)}.0.0/16`;
}

/** Whether managed databases or caches need private connectivity (storage subnets, private services access). */
function managedStorage(ctx: PlanContext): boolean {
  return ctx.production && (ctx.needs.databases.length > 0 || ctx.needs.caches.length > 0);
}

export function planBase(ctx: PlanContext): void {
  if (ctx.provider === 'aws') planAws(ctx);
  else if (ctx.provider === 'gcp') planGcp(ctx);
  const cluster = ctx.clusterId;
  ctx.add({
    id: ctx.namespaceId,
    kind: 'namespace',
    providerType: 'k8s/v1/Namespace',
    name: ctx.names.namespace,
    settings: { labels: { 'app.kubernetes.io/part-of': ctx.names.app, 'encore.dev/env': ctx.env.name } },
    dependsOn: cluster ? [cluster] : [],
    summary: ctx.env.provider.kind === 'kubernetes' ? `namespace ${ctx.names.namespace} in context ${ctx.env.provider.context}` : `namespace ${ctx.names.namespace}`,
  });
}

function planAws(ctx: PlanContext): void {
  if (ctx.env.provider.kind !== 'aws') return;
  if (ctx.env.provider.cluster) planExistingEks(ctx, ctx.env.provider.region, ctx.env.provider.cluster.name);
  else planNewEks(ctx, ctx.env.provider.region);
  planEcr(ctx);
}

/**
 * An existing EKS cluster: read, never created, changed or deleted. Its outputs (endpoint, VPC, private subnets,
 * cluster security group, OIDC issuer) come from DescribeCluster; IRSA goes through the IAM OIDC provider of its
 * issuer (the account's own when it has one, else one the environment makes and deletes again). Managed databases
 * and caches go into its VPC behind security groups of the environment's that admit only the cluster's group.
 */
function planExistingEks(ctx: PlanContext, region: string, name: string): void {
  ctx.add({
    id: 'aws:eks',
    kind: 'cluster',
    providerType: 'AWS::EKS::ExistingCluster',
    name,
    settings: { existing: true, region, oidcProvider: true },
    summary: `cluster → existing EKS cluster ${name} in ${region} (read only: never created, changed or deleted)`,
  });
  if (!managedStorage(ctx)) return;
  ctx.add({
    id: 'aws:storage-access',
    kind: 'network',
    providerType: 'AWS::EC2::StorageSecurityGroups',
    name: ctx.names.cloud('storage'),
    settings: {
      vpcId: outputRef('aws:eks', 'vpcId'),
      subnetIds: outputRef('aws:eks', 'privateSubnetIds'),
      clusterSecurityGroupId: outputRef('aws:eks', 'clusterSecurityGroupId'),
      tiers: [...(ctx.needs.databases.length > 0 ? ['database'] : []), ...(ctx.needs.caches.length > 0 ? ['cache'] : [])],
    },
    summary: `databases and caches → security groups in the cluster's VPC, open to the cluster's security group only, on its private subnets`,
  });
}

function planNewEks(ctx: PlanContext, region: string): void {
  const cidr = networkCidr(ctx);
  const storage = managedStorage(ctx);
  ctx.add({
    id: 'aws:vpc',
    kind: 'network',
    providerType: 'AWS::EC2::VPC',
    name: ctx.names.cloud('vpc'),
    settings: {
      region,
      cidr,
      availabilityZones: 2,
      // Encore's layout (notes §1.2): public (load balancer, NAT), compute (nodes), storage (only when needed).
      subnetTiers: storage ? ['public', 'compute', 'storage'] : ['public', 'compute'],
      // One NAT gateway per zone in Production so losing a zone keeps egress; one in Development to save cost.
      natGateways: ctx.production ? 2 : 1,
    },
    summary: `network → VPC ${cidr} in ${region}, 2 zones, ${storage ? 'public, compute and storage' : 'public and compute'} subnets`,
  });
  ctx.add({
    id: 'aws:eks',
    kind: 'cluster',
    providerType: 'AWS::EKS::Cluster',
    name: ctx.names.cloud('cluster'),
    settings: {
      version: KUBERNETES_VERSION,
      subnetTier: 'compute',
      subnetIds: outputRef('aws:vpc', 'computeSubnetIds'),
      securityGroupId: outputRef('aws:vpc', 'clusterSecurityGroupId'),
      endpointPublicAccess: true,
      endpointPrivateAccess: true,
      // IRSA gives each service its own IAM role; the EBS CSI driver backs the PVCs; metrics-server feeds the HPAs.
      oidcProvider: true,
      addons: ['vpc-cni', 'coredns', 'kube-proxy', 'aws-ebs-csi-driver', ...(ctx.production ? ['metrics-server'] : [])],
      secretsEncryption: true,
    },
    dependsOn: ['aws:vpc'],
    summary: `cluster → EKS ${KUBERNETES_VERSION}`,
  });
  const instanceType = ctx.production ? 'm6i.large' : 't3.medium';
  const nodes = nodeRange(ctx, 3);
  ctx.add({
    id: 'aws:eks-nodegroup',
    kind: 'nodePool',
    providerType: 'AWS::EKS::Nodegroup',
    name: ctx.names.cloud('nodes'),
    settings: {
      cluster: outputRef('aws:eks', 'name'),
      subnetIds: outputRef('aws:vpc', 'computeSubnetIds'),
      instanceTypes: [instanceType],
      minSize: nodes.min,
      maxSize: nodes.max,
      desiredSize: nodes.min,
      subnetTier: 'compute',
      // EKS node groups scale only with an autoscaler in the cluster; the driver installs it for Production.
      autoscaler: ctx.production ? 'cluster-autoscaler' : null,
    },
    dependsOn: ['aws:eks', 'aws:vpc'],
    summary: ctx.production ? `nodes → ${instanceType}, autoscaling ${nodes.min}–${nodes.max}` : `nodes → ${nodes.min} × ${instanceType}, fixed`,
  });
}

function planEcr(ctx: PlanContext): void {
  ctx.add({
    id: 'aws:ecr',
    kind: 'registry',
    providerType: 'AWS::ECR::Repository',
    name: ctx.names.cloud('images'),
    settings: { imageScanOnPush: true, imageTagMutability: 'IMMUTABLE' },
    summary: 'images → ECR repository, scan on push',
  });
}

function planGcp(ctx: PlanContext): void {
  if (ctx.env.provider.kind !== 'gcp') return;
  const { project, region } = ctx.env.provider;
  if (ctx.env.provider.cluster) planExistingGke(ctx, project, ctx.env.provider.cluster);
  else planNewGke(ctx, project, region);
  ctx.add({
    id: 'gcp:artifact-registry',
    kind: 'registry',
    providerType: 'artifactregistry.googleapis.com/Repository',
    name: ctx.names.cloud('images'),
    settings: { project, location: region, format: 'DOCKER' },
    summary: `images → Artifact Registry repository in ${region}`,
  });
}

/** The id of the private services access of an existing cluster's network (Cloud SQL and Memorystore on private IPs). */
export const GCP_PRIVATE_SERVICES = 'gcp:private-services'; // PlanContext.gcpStorage names it too

/**
 * An existing GKE cluster: read (clusters.get), never created, changed or deleted. Its outputs (endpoint, CA,
 * network and subnetwork, Workload Identity pool, location) place the rest: each service's Google service account is
 * bound to the cluster's pool, and managed databases and caches go on the cluster's network through private
 * services access there: the network's Service Networking connection when it has one (its reserved ranges used as
 * they are), else one the environment makes with a range of its own and deletes again.
 */
function planExistingGke(ctx: PlanContext, project: string, cluster: { name: string; location: string }): void {
  ctx.add({
    id: 'gcp:gke',
    kind: 'cluster',
    providerType: 'GCP::GKE::ExistingCluster',
    name: cluster.name,
    settings: { existing: true, project, location: cluster.location },
    summary: `cluster → existing GKE cluster ${cluster.name} in ${cluster.location} (read only: never created, changed or deleted)`,
  });
  if (!managedStorage(ctx)) return;
  ctx.add({
    id: GCP_PRIVATE_SERVICES,
    kind: 'network',
    providerType: 'servicenetworking.googleapis.com/Connection',
    // The name of the range the environment reserves when the network has no connection yet.
    name: ctx.names.cloud('services'),
    // shared: a connection the network has already is used as it is (engine/plan.ts words it so).
    settings: { shared: true, project, network: outputRef('gcp:gke', 'networkId'), prefixLength: 20 },
    summary: `databases and caches → private services access on the cluster's network (its existing Service Networking connection used as it is, or one made with a range of the environment's own)`,
  });
}

function planNewGke(ctx: PlanContext, project: string, region: string): void {
  const cidr = networkCidr(ctx);
  const storage = managedStorage(ctx);
  ctx.add({
    id: 'gcp:network',
    kind: 'network',
    providerType: 'compute.googleapis.com/Network',
    name: ctx.names.cloud('network'),
    settings: {
      project,
      region,
      autoCreateSubnetworks: false,
      subnetCidr: cidr,
      cloudNat: true,
      // Cloud SQL and Memorystore on private IPs need private services access (notes §1.2).
      privateServicesAccess: storage,
    },
    summary: `network → VPC ${cidr} in ${region}${storage ? ', private services access' : ''}`,
  });
  // Production: a regional cluster (control plane and nodes in three zones). Development: one zone, cheaper.
  // Autopilot clusters are always regional.
  const autopilot = ctx.autopilot;
  const regional = ctx.production || autopilot;
  const location = regional ? region : `${region}-b`;
  ctx.add({
    id: 'gcp:gke',
    kind: 'cluster',
    providerType: 'container.googleapis.com/Cluster',
    name: ctx.names.cloud('cluster'),
    settings: { project, location, version: KUBERNETES_VERSION, releaseChannel: 'REGULAR', privateNodes: true, workloadIdentityPool: `${project}.svc.id.goog`, ...(autopilot && { autopilot: true }) },
    dependsOn: ['gcp:network'],
    summary: `cluster → GKE ${autopilot ? 'Autopilot ' : ''}${KUBERNETES_VERSION}, ${regional ? `regional (${region})` : `zonal (${location})`}${autopilot ? ', nodes run by GKE' : ''}`,
  });
  if (!autopilot) planGkeNodePool(ctx);
}

/** GKE Standard's node pool: autoscaling between the sizing answers in Production, fixed in Development. */
function planGkeNodePool(ctx: PlanContext): void {
  const machineType = ctx.production ? 'n2-standard-2' : 'e2-standard-2';
  const nodes = nodeRange(ctx, 6);
  ctx.add({
    id: 'gcp:gke-nodepool',
    kind: 'nodePool',
    providerType: 'container.googleapis.com/NodePool',
    name: ctx.names.cloud('nodes', 40),
    settings: ctx.production
      ? { machineType, autoscaling: { totalMinNodeCount: nodes.min, totalMaxNodeCount: nodes.max, locationPolicy: 'BALANCED' }, workloadMetadata: 'GKE_METADATA' }
      : { machineType, nodeCount: nodes.min, autoscaling: null, workloadMetadata: 'GKE_METADATA' },
    dependsOn: ['gcp:gke'],
    summary: ctx.production ? `nodes → ${machineType}, autoscaling ${nodes.min}–${nodes.max}` : `nodes → ${nodes.min} × ${machineType}, fixed`,
  });
}
