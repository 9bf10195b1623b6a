/**
 * The estimated monthly cost of what an AWS environment runs, per resource and in total, from the price table in
 * the repository (awsPrices.ts). Pure. Usage-priced parts (S3 storage, SQS and SNS requests, data through NAT, ECR
 * storage) are said to be usage-based; a price the table lacks is said to be unknown and left out of the total,
 * which then says it is incomplete.
 */

import type { DesiredGraph, DesiredResource } from '../../model/desiredGraph';
import type { CostEstimate, CostLine } from '../../model/plan';
import { AWS_PRICES, type AwsPriceTable, type RegionPrices } from './awsPrices';

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

/** The estimate for an environment's graph, for the providers that have a price table (AWS); undefined otherwise. */
export function estimateCost(graph: DesiredGraph, env: { provider: { kind: string; region?: string } }): CostEstimate | undefined {
  return graph.provider === 'aws' && env.provider.kind === 'aws' && env.provider.region ? estimateAwsCost(graph, env.provider.region) : undefined;
}
