// The estimated monthly cost of an AWS environment (src/provisioning/cost/): per resource and in total, from the
// price table in the repository, marked as an estimate with the table's date and source; a price the table lacks
// is said to be unknown and left out of the total, never guessed; the plan carries it and the CLI prints it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AWS_PRICES } from '../../src/provisioning/cost/awsPrices';
import { estimateAwsCost, estimateCost } from '../../src/provisioning/cost/estimate';
import { planChanges } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { renderPlan } from '../../src/cli/provision/render';
import { env, sample } from './plannerHelpers';

const HOURS = AWS_PRICES.hoursPerMonth;

test('the sample app on AWS Production: each priced resource, the total, and what the figures count', () => {
  const graph = desiredGraph(sample, env('aws', 'production'));
  const cost = estimateAwsCost(graph, 'eu-west-1');
  const p = AWS_PRICES.regions['eu-west-1']!;
  const of = (id: string) => cost.lines.find((l) => l.id === id)!;
  assert.equal(of('aws:eks').monthlyUsd, Math.round(p.eksClusterHour * HOURS * 100) / 100);
  // Two NAT gateways (one per zone in Production), each with its address.
  assert.equal(of('aws:vpc').monthlyUsd, Math.round(2 * (p.natGatewayHour + p.publicIpv4Hour) * HOURS * 100) / 100);
  // The node group at its minimum, the maximum said.
  assert.equal(of('aws:eks-nodegroup').monthlyUsd, Math.round(2 * p.ec2Hour['m6i.large']! * HOURS * 100) / 100);
  assert.match(of('aws:eks-nodegroup').basis, /^2 × m6i\.large \(the minimum; up to 13 × m6i\.large = \$\d+/);
  // Multi-AZ RDS is twice the Single-AZ price, instance and storage alike.
  assert.equal(of('aws:rds:orders').monthlyUsd, Math.round((p.rdsPostgresHour['db.m5.large']! * HOURS + 20 * p.rdsGp3GbMonth) * 2 * 100) / 100);
  assert.equal(of('aws:elasticache:notifications').monthlyUsd, Math.round(2 * p.elastiCacheHour['cache.m6g.large']! * HOURS * 100) / 100);
  assert.equal(of('aws:secretsmanager:EmailApiKey').monthlyUsd, 0.4);
  assert.match(of('aws:s3:order-receipts').basis, /usage-based/);
  assert.ok(!cost.lines.some((l) => l.id.startsWith('k8s:') || l.id.startsWith('aws:iam-role:')), 'in-cluster objects and IAM roles cost nothing of their own');
  assert.equal(cost.complete, true);
  assert.equal(cost.monthlyUsd, Math.round(cost.lines.reduce((s, l) => s + (l.monthlyUsd ?? 0), 0) * 100) / 100);
  assert.equal(cost.pricesTakenAt, AWS_PRICES.takenAt);
  assert.match(cost.source, /not re-checked/);
});

test('an unknown price is said, left out of the total, and never guessed', () => {
  const big = desiredGraph(sample, env('aws', 'production', { sizing: { databases: { users: { cpu: 32, memoryGiB: 128 } } } }));
  const cost = estimateAwsCost(big, 'eu-west-1');
  const users = cost.lines.find((l) => l.id === 'aws:rds:users')!;
  assert.equal(users.monthlyUsd, null);
  assert.match(users.basis, /^unknown price for db\.m5\.8xlarge/);
  assert.equal(cost.complete, false);
  const elsewhere = estimateAwsCost(big, 'ap-southeast-4');
  assert.ok(elsewhere.lines.every((l) => l.monthlyUsd === null && /no prices for ap-southeast-4/.test(l.basis)));
  assert.equal(elsewhere.monthlyUsd, 0);
});

test('the plan of an AWS environment carries the estimate, and the CLI prints it as one', async () => {
  const graph = desiredGraph(sample, env('aws', 'production'));
  const plan = await planChanges(graph, { state: null, version: null }, null);
  assert.ok(plan.cost);
  const text = renderPlan(plan, 'offline');
  assert.match(text, /\n {2}estimated cost: about \$\d+\.\d\d a month \(an estimate: on-demand prices of 2025-06, .*; usage not included\)\n/);
  assert.match(text, /\n +\$\d+\.\d\d {2}aws:eks: EKS control plane\n/);
  const k8s = await planChanges(desiredGraph(sample, env('kubernetes', 'production')), { state: null, version: null }, null);
  assert.equal(k8s.cost, undefined, 'no price table for a cluster the user already has');
});

test('the form\'s estimate: the same as the plan\'s for AWS, none for providers without a price table', () => {
  const aws = env('aws', 'production');
  const graph = desiredGraph(sample, aws);
  const region = aws.provider.kind === 'aws' ? aws.provider.region : '';
  assert.deepEqual(estimateCost(graph, aws), estimateAwsCost(graph, region));
  const kube = env('kubernetes', 'production');
  assert.equal(estimateCost(desiredGraph(sample, kube), kube), undefined);
});
