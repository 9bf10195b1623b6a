// The estimated monthly cost of a GCP environment (src/provisioning/cost/): per resource and in total over the
// planner's GCP graph of the sample app, from the GCP price table in the repository (dated, its source said, marked
// unverified); an unknown price is said and left out of the total, never guessed; the plan carries the estimate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPlan } from '../../src/cli/provision/render';
import { estimateGcpCost } from '../../src/provisioning/cost/estimate';
import { GCP_PRICES, memorystoreBand } from '../../src/provisioning/cost/gcpPrices';
import { planChanges } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { env, sample } from './plannerHelpers';

const HOURS = GCP_PRICES.hoursPerMonth;
const cents = (usd: number) => Math.round(usd * 100) / 100;

test('the sample app on GCP Production: each priced resource, the total, and what the figures count', () => {
  const graph = desiredGraph(sample, env('gcp', 'production'));
  const cost = estimateGcpCost(graph, 'europe-west1');
  const p = GCP_PRICES.regions['europe-west1']!;
  const of = (id: string) => {
    const found = cost.lines.find((l) => l.id === id);
    assert.ok(found, `a line for ${id}; lines: ${cost.lines.map((l) => l.id).join(', ')}`);
    return found;
  };
  assert.equal(of('gcp:gke').monthlyUsd, cents(p.gkeClusterHour * HOURS));
  // The regional node pool at its total minimum (2 × n2-standard-2), each with its 100 GB boot disk; the maximum said.
  const node = p.machineHour['n2-standard-2']! * HOURS + 100 * p.pdBalancedGbMonth;
  assert.equal(of('gcp:gke-nodepool').monthlyUsd, cents(2 * node));
  assert.match(of('gcp:gke-nodepool').basis, /^2 × n2-standard-2 \(the minimum; up to 13 = \$\d+/);
  // Cloud NAT for those two nodes and its address.
  assert.equal(of('gcp:network').monthlyUsd, cents((2 * p.natVmHour + p.natIpHour) * HOURS));
  // Regional (HA) Cloud SQL is twice the zonal price, instance and storage alike: db-custom-1-3840 is 1 vCPU, 3.75 GB.
  assert.equal(of('gcp:sql:orders').monthlyUsd, cents(((p.cloudSqlVcpuHour + 3.75 * p.cloudSqlMemoryGbHour) * HOURS + 20 * p.cloudSqlSsdGbMonth) * 2));
  assert.match(of('gcp:sql:orders').basis, /1 vCPU, 3\.75 GB regional \(HA\) and 20 GB SSD/);
  // Memorystore Standard, 5 GB: capacity band M2.
  assert.equal(of('gcp:memorystore:notifications').monthlyUsd, cents(p.memorystoreGbHour.STANDARD_HA.M2! * 5 * HOURS));
  assert.equal(of('gcp:secret:EmailApiKey').monthlyUsd, p.secretVersionMonth);
  for (const id of ['gcp:gcs:order-receipts', 'gcp:pubsub-topic:order-placed', 'gcp:pubsub-subscription:order-placed/notify-customer', 'gcp:artifact-registry']) {
    assert.equal(of(id).monthlyUsd, 0);
    assert.match(of(id).basis, /usage-based/);
  }
  assert.ok(!cost.lines.some((l) => l.id.startsWith('k8s:') || l.id.startsWith('gcp:service-account:') || l.id.startsWith('database:')), 'in-cluster objects and service accounts cost nothing of their own');
  assert.equal(cost.complete, true);
  assert.equal(cost.monthlyUsd, cents(cost.lines.reduce((s, l) => s + (l.monthlyUsd ?? 0), 0)));
  assert.equal(cost.pricesTakenAt, GCP_PRICES.takenAt);
  assert.match(cost.source, /not re-checked/);
});

test('GCP Development: a zonal cluster with two fixed e2 nodes, no Cloud SQL or Memorystore (they run in the cluster)', () => {
  const graph = desiredGraph(sample, env('gcp', 'development'));
  const cost = estimateGcpCost(graph, 'us-central1');
  const p = GCP_PRICES.regions['us-central1']!;
  const pool = cost.lines.find((l) => l.id === 'gcp:gke-nodepool')!;
  assert.equal(pool.monthlyUsd, cents(2 * (p.machineHour['e2-standard-2']! * HOURS + 100 * p.pdBalancedGbMonth)));
  assert.match(pool.basis, /^2 × e2-standard-2 \(each with/);
  assert.ok(!cost.lines.some((l) => l.id.startsWith('gcp:sql:') || l.id.startsWith('gcp:memorystore:')));
  assert.equal(cost.complete, true);
});

test('an unknown price is said, left out of the total, and never guessed', () => {
  const graph = desiredGraph(sample, env('gcp', 'production', { sizing: { caches: { notifications: { memoryGiB: 200, replicas: 1 } } } }));
  const big = estimateGcpCost(graph, 'europe-west1');
  const cache = big.lines.find((l) => l.id === 'gcp:memorystore:notifications')!;
  assert.equal(cache.monthlyUsd, null, 'europe-west1 has no M5 figure in the table');
  assert.match(cache.basis, /^unknown price for STANDARD_HA M5 \(200 GB\)/);
  assert.equal(big.complete, false);
  assert.equal(big.monthlyUsd, cents(big.lines.reduce((s, l) => s + (l.monthlyUsd ?? 0), 0)));

  // A machine type the table lacks, and a tier that is not a custom one.
  const odd = desiredGraph(sample, env('gcp', 'production'));
  for (const r of odd.resources) {
    if (r.id === 'gcp:gke-nodepool') r.settings = { ...r.settings, machineType: 'c3-highmem-176' };
    if (r.id === 'gcp:sql:users') r.settings = { ...r.settings, tier: 'db-f1-micro' };
  }
  const cost = estimateGcpCost(odd, 'europe-west1');
  assert.match(cost.lines.find((l) => l.id === 'gcp:gke-nodepool')!.basis, /^unknown price for c3-highmem-176$/);
  assert.equal(cost.lines.find((l) => l.id === 'gcp:sql:users')!.monthlyUsd, null);

  const elsewhere = estimateGcpCost(graph, 'asia-south2');
  assert.ok(elsewhere.lines.every((l) => l.monthlyUsd === null && /no prices for asia-south2/.test(l.basis)));
  assert.equal(elsewhere.monthlyUsd, 0);
  assert.deepEqual([1, 4, 5, 10, 11, 35, 36, 100, 101].map(memorystoreBand), ['M1', 'M1', 'M2', 'M2', 'M3', 'M3', 'M4', 'M4', 'M5']);
});

test('the plan of a GCP environment carries the estimate, and the CLI prints it as one', async () => {
  const graph = desiredGraph(sample, env('gcp', 'production'));
  const plan = await planChanges(graph, { state: null, version: null }, null);
  assert.ok(plan.cost);
  assert.deepEqual(plan.cost, estimateGcpCost(graph, 'europe-west1'));
  const text = renderPlan(plan, 'offline');
  assert.match(text, /\n {2}estimated cost: about \$\d+\.\d\d a month \(an estimate: on-demand prices of 2025-06, Google Cloud's .*; usage not included\)\n/);
  assert.match(text, /\n +\$\d+\.\d\d {2}gcp:gke: /);
});
