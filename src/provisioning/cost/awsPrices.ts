/**
 * On-demand AWS prices for what an environment runs, per region, in US dollars. Kept in the repository so a plan
 * can show a cost with no network call; an estimate only: usage (data through NAT, requests, storage written) is
 * not in it, and a price missing here is said to be unknown, never guessed.
 *
 * Source and date: AWS's public on-demand price pages (aws.amazon.com/eks/pricing, /ec2/pricing/on-demand,
 * /vpc/pricing, /rds/postgresql/pricing, /elasticache/pricing, /secrets-manager/pricing), Linux, on demand, as the
 * author knew them in 2025-06. They were NOT fetched or re-checked on the machine this table was written on (it
 * has no access to AWS's price list): check them before relying on a figure, and update `takenAt` when you do.
 */

export interface AwsPriceTable {
  takenAt: string;
  source: string;
  /** Hours per month the estimate counts (AWS's own convention). */
  hoursPerMonth: number;
  regions: Record<string, RegionPrices>;
}

export interface RegionPrices {
  /** Per cluster-hour. */
  eksClusterHour: number;
  /** EC2 instance type → per hour. */
  ec2Hour: Record<string, number>;
  /** Per NAT gateway-hour (data processed is usage, not counted). */
  natGatewayHour: number;
  /** Per public IPv4 address-hour. */
  publicIpv4Hour: number;
  /** RDS for PostgreSQL instance class → per hour, Single-AZ (Multi-AZ is twice). */
  rdsPostgresHour: Record<string, number>;
  /** RDS gp3 storage per GB-month, Single-AZ (Multi-AZ is twice). */
  rdsGp3GbMonth: number;
  /** ElastiCache node type → per node-hour. */
  elastiCacheHour: Record<string, number>;
  /** Per secret-month. */
  secretsManagerSecretMonth: number;
}

export const AWS_PRICES: AwsPriceTable = {
  takenAt: '2025-06',
  source: "AWS's public on-demand price pages, as known to the author in 2025-06; not re-checked here",
  hoursPerMonth: 730,
  regions: {
    'us-east-1': {
      eksClusterHour: 0.1,
      ec2Hour: { 't3.medium': 0.0416, 'm6i.large': 0.096 },
      natGatewayHour: 0.045,
      publicIpv4Hour: 0.005,
      rdsPostgresHour: {
        'db.m5.large': 0.178, 'db.m5.xlarge': 0.356, 'db.m5.2xlarge': 0.712, 'db.m5.4xlarge': 1.424,
        'db.r5.large': 0.25, 'db.r5.xlarge': 0.5, 'db.r5.2xlarge': 1.0, 'db.r5.4xlarge': 2.0,
      },
      rdsGp3GbMonth: 0.115,
      elastiCacheHour: { 'cache.m6g.large': 0.149, 'cache.r6g.large': 0.206, 'cache.r6g.xlarge': 0.411 },
      secretsManagerSecretMonth: 0.4,
    },
    'eu-west-1': {
      eksClusterHour: 0.1,
      ec2Hour: { 't3.medium': 0.0456, 'm6i.large': 0.107 },
      natGatewayHour: 0.048,
      publicIpv4Hour: 0.005,
      rdsPostgresHour: { 'db.m5.large': 0.191, 'db.m5.xlarge': 0.382, 'db.m5.2xlarge': 0.764, 'db.r5.large': 0.27, 'db.r5.xlarge': 0.54 },
      rdsGp3GbMonth: 0.127,
      elastiCacheHour: { 'cache.m6g.large': 0.164, 'cache.r6g.large': 0.227 },
      secretsManagerSecretMonth: 0.4,
    },
  },
};
