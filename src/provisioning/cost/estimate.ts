/**
 * The estimated monthly cost of what an AWS or GCP environment runs, per resource and in total, from the price tables
 * in the repository (awsPrices.ts, gcpPrices.ts). Pure. Usage-priced parts (S3 and GCS storage, SQS, SNS and Pub/Sub requests,
 * data through NAT, ECR and Artifact Registry storage) are said to be usage-based; a price the table lacks is said to be unknown and left out of the total,
 * which then says it is incomplete.
 */

import type { DesiredGraph, DesiredResource } from '../../model/desiredGraph';
import type { CostEstimate, CostLine } from '../../model/plan';
import { AWS_PRICES, type AwsPriceTable, type RegionPrices } from './awsPrices';
import { GCP_PRICES, memorystoreBand, type GcpPriceTable, type GcpRegionPrices } from './gcpPrices';

const round = (usd: number) => Math.round(usd * 100) / 100;
const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);

function line(r: DesiredResource, monthlyUsd: number | null, basis: string): CostLine {
  return { id: r.id, summary: r.summary, monthlyUsd: monthlyUsd === null ? null : round(monthlyUsd), basis };
}

function awsLine(r: DesiredResource, p: RegionPrices, hours: number): CostLine | null {
  const s = r.settings;
  switch (r.providerType) {
    case 'AWS::EC2::VPC': {
      const nats = num(s.natGateways, 1);
      return line(r, nats * (p.natGatewayHour + p.publicIpv4Hour) * hours, `${nats} NAT gateway${nats === 1 ? '' : 's'} with ${nats === 1 ? 'its' : 'their'} public IPv4 address (data processed is usage-based)`);
    }
    case 'AWS::EKS::Cluster':
      return line(r, p.eksClusterHour * hours, 'EKS control plane');
    case 'AWS::EKS::ExistingCluster':
      return line(r, 0, 'an existing cluster: its control plane and nodes are billed already, not by this environment');
    case 'AWS::EC2::StorageSecurityGroups':
      return null; // free
    case 'AWS::EKS::Nodegroup': {
      const type = Array.isArray(s.instanceTypes) ? String(s.instanceTypes[0]) : '';
      const min = num(s.minSize, 1);
      const price = p.ec2Hour[type];
      if (price === undefined) return line(r, null, `unknown price for ${type}`);
      const max = num(s.maxSize, min);
      return line(r, price * min * hours, `${min} × ${type} (the minimum; up to ${max} × ${type} = $${round(price * max * hours)} when scaled out)`);
    }
    case 'AWS::RDS::DBInstance': {
      const cls = String(s.instanceClass);
      const price = p.rdsPostgresHour[cls];
      const az = s.multiAZ === true ? 2 : 1;
      const gb = num(s.allocatedStorageGiB, 20);
      if (price === undefined) return line(r, null, `unknown price for ${cls}`);
      return line(r, (price * hours + gb * p.rdsGp3GbMonth) * az, `${cls}${az === 2 ? ' Multi-AZ' : ''} and ${gb} GB gp3 (backups beyond the storage size are usage-based)`);
    }
    case 'AWS::ElastiCache::ReplicationGroup': {
      const type = String(s.nodeType);
      const nodes = num(s.numCacheClusters, 1);
      const price = p.elastiCacheHour[type];
      if (price === undefined) return line(r, null, `unknown price for ${type}`);
      return line(r, price * nodes * hours, `${nodes} × ${type}`);
    }
    case 'AWS::SecretsManager::Secret':
      return line(r, p.secretsManagerSecretMonth, 'one secret');
    case 'AWS::SNS::Topic':
    case 'AWS::SQS::Queue':
    case 'AWS::S3::Bucket':
    case 'AWS::ECR::Repository':
      return line(r, 0, 'usage-based (requests, storage): nothing while unused');
    case 'AWS::IAM::Role':
      return null; // free
    default:
      return null; // in-cluster objects run on the nodes already counted
  }
}

export function estimateAwsCost(graph: DesiredGraph, region: string, table: AwsPriceTable = AWS_PRICES): CostEstimate {
  const prices = table.regions[region];
  const cloud = graph.resources.filter((r) => r.providerType.startsWith('AWS::') && r.providerType !== 'AWS::IAM::Role');
  const lines: CostLine[] = prices
    ? cloud.map((r) => awsLine(r, prices, table.hoursPerMonth)).filter((l): l is CostLine => l !== null)
    : cloud.map((r) => line(r, null, `no prices for ${region} in the table`));
  return total(lines, table);
}

/** The nodes a GKE node pool runs at its minimum and maximum: totals when autoscaled, else per zone times its zones. */
function gkeNodes(pool: DesiredResource, cluster: DesiredResource | undefined): { min: number; max: number } {
  const auto = pool.settings.autoscaling as { totalMinNodeCount?: number; totalMaxNodeCount?: number } | null | undefined;
  if (auto && typeof auto.totalMinNodeCount === 'number') return { min: auto.totalMinNodeCount, max: num(auto.totalMaxNodeCount, auto.totalMinNodeCount) };
  // A regional cluster puts a node pool's nodeCount in each of its (by default three) zones; a zonal one in its one zone.
  const zonal = /-[a-z]$/.test(String(cluster?.settings.location ?? ''));
  const count = num(pool.settings.nodeCount, 1) * (zonal ? 1 : 3);
  return { min: count, max: count };
}

const GKE_BOOT_DISK_GB = 100;
const GCP_FREE = new Set(['servicenetworking.googleapis.com/Connection', 'iam.googleapis.com/ServiceAccount', 'iam.googleapis.com/WorkloadIdentityPool', 'iam.googleapis.com/WorkloadIdentityPoolProvider', 'iam.googleapis.com/DeployServiceAccount']);
const GCP_USAGE = new Set(['pubsub.googleapis.com/Topic', 'pubsub.googleapis.com/Subscription', 'storage.googleapis.com/Bucket', 'artifactregistry.googleapis.com/Repository']);

function gcpLine(r: DesiredResource, graph: DesiredGraph, p: GcpRegionPrices, hours: number): CostLine | null {
  const s = r.settings;
  const cluster = graph.resources.find((x) => x.providerType === 'container.googleapis.com/Cluster');
  const pool = graph.resources.find((x) => x.providerType === 'container.googleapis.com/NodePool');
  switch (r.providerType) {
    case 'compute.googleapis.com/Network': {
      if (s.cloudNat !== true) return line(r, 0, 'no charge of its own');
      const vms = Math.min(pool ? gkeNodes(pool, cluster).min : 1, 32);
      return line(r, (vms * p.natVmHour + p.natIpHour) * hours, `Cloud NAT for ${vms} node${vms === 1 ? '' : 's'} and its external address (data processed is usage-based)`);
    }
    case 'GCP::GKE::ExistingCluster':
      return line(r, 0, 'an existing cluster: its management fee and nodes are billed already, not by this environment');
    case 'container.googleapis.com/Cluster':
      return line(r, p.gkeClusterHour * hours, `GKE cluster management fee${s.autopilot === true ? ' (Autopilot pods are billed by their requests: not estimated)' : ''}`);
    case 'container.googleapis.com/NodePool': {
      const type = String(s.machineType);
      const price = p.machineHour[type];
      const { min, max } = gkeNodes(r, cluster);
      if (price === undefined) return line(r, null, `unknown price for ${type}`);
      const node = price * hours + GKE_BOOT_DISK_GB * p.pdBalancedGbMonth;
      const range = max > min ? `the minimum; up to ${max} = $${round(node * max)} when scaled out, ` : '';
      return line(r, node * min, `${min} × ${type} (${range}each with GKE's default ${GKE_BOOT_DISK_GB} GB balanced boot disk)`);
    }
    case 'sqladmin.googleapis.com/Instance': {
      const tier = String(s.tier);
      const custom = /^db-custom-(\d+)-(\d+)$/.exec(tier);
      if (!custom) return line(r, null, `unknown price for ${tier}`);
      const vcpu = Number(custom[1]);
      const memGb = Number(custom[2]) / 1024;
      const ha = s.availabilityType === 'REGIONAL' ? 2 : 1;
      const gb = num(s.diskSizeGb, 10);
      const instance = (vcpu * p.cloudSqlVcpuHour + memGb * p.cloudSqlMemoryGbHour) * hours;
      return line(r, (instance + gb * p.cloudSqlSsdGbMonth) * ha, `${vcpu} vCPU, ${round(memGb)} GB${ha === 2 ? ' regional (HA)' : ''} and ${gb} GB SSD (backups and growth are usage-based)`);
    }
    case 'redis.googleapis.com/Instance': {
      const tier = s.tier === 'STANDARD_HA' ? 'STANDARD_HA' : s.tier === 'BASIC' ? 'BASIC' : null;
      const gb = num(s.memorySizeGb, 1);
      const replicas = num(s.replicaCount, tier === 'STANDARD_HA' ? 1 : 0);
      if (!tier) return line(r, null, `unknown price for tier ${String(s.tier)}`);
      // The Standard price covers the primary and one replica; what more read replicas cost is not in the table.
      if (tier === 'STANDARD_HA' && replicas > 1) return line(r, null, `unknown price for ${replicas} read replicas`);
      const band = memorystoreBand(gb);
      const price = p.memorystoreGbHour[tier][band];
      if (price === undefined) return line(r, null, `unknown price for ${tier} ${band} (${gb} GB)`);
      return line(r, price * gb * hours, `${gb} GB ${tier === 'BASIC' ? 'Basic' : 'Standard (with its replica)'}, capacity band ${band}`);
    }
    case 'secretmanager.googleapis.com/Secret':
      return line(r, p.secretVersionMonth, 'one active secret version');
    default:
      if (GCP_USAGE.has(r.providerType)) return line(r, 0, 'usage-based (throughput, storage): nothing while unused');
      return null; // free, or in-cluster objects that run on the nodes already counted
  }
}

/** The GCP resources of a graph: those named by a googleapis.com type, and the existing cluster. */
const isGcp = (r: DesiredResource) => (r.providerType.includes('.googleapis.com/') || r.providerType.startsWith('GCP::')) && !GCP_FREE.has(r.providerType);

export function estimateGcpCost(graph: DesiredGraph, region: string, table: GcpPriceTable = GCP_PRICES): CostEstimate {
  const prices = table.regions[region];
  const cloud = graph.resources.filter(isGcp);
  const lines: CostLine[] = prices
    ? cloud.map((r) => gcpLine(r, graph, prices, table.hoursPerMonth)).filter((l): l is CostLine => l !== null)
    : cloud.map((r) => line(r, null, `no prices for ${region} in the table`));
  return total(lines, table);
}

function total(lines: CostLine[], table: { takenAt: string; source: string }): CostEstimate {
  const known = lines.filter((l) => l.monthlyUsd !== null);
  return {
    currency: 'USD',
    monthlyUsd: round(known.reduce((sum, l) => sum + (l.monthlyUsd ?? 0), 0)),
    complete: known.length === lines.length,
    lines,
    pricesTakenAt: table.takenAt,
    source: table.source,
  };
}

/** The estimate for an environment's graph, for the providers that have a price table (AWS, GCP); undefined otherwise. */
export function estimateCost(graph: DesiredGraph, env: { provider: { kind: string; region?: string } }): CostEstimate | undefined {
  const region = env.provider.region;
  if (!region || graph.provider !== env.provider.kind) return undefined;
  if (graph.provider === 'aws') return estimateAwsCost(graph, region);
  if (graph.provider === 'gcp') return estimateGcpCost(graph, region);
  return undefined;
}
