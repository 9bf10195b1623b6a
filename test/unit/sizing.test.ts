// Sizing questions (Production only, only for needed resources without an answer), defaults per cloud, merging
// answers over defaults, and the tables that turn vCPU and GiB into each cloud's instance classes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment, ProviderSettings } from '../../src/model/environment';
import { checkSizingAnswer, effectiveSizing, productionDefaults, sizingQuestions, withSizingAnswers } from '../../src/provisioning/planner/sizing';
import { cloudSqlTier, elastiCacheNodeType, memorystoreShape, rdsInstanceClass } from '../../src/provisioning/planner/instanceClasses';

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
const everything = new AppAnalyzer(path.join(repo, 'test', 'fixtures', 'apps', 'everything')).analyze();

const providers: Record<ProviderSettings['kind'], ProviderSettings> = {
  aws: { kind: 'aws', region: 'eu-west-1' },
  gcp: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1' },
  kubernetes: { kind: 'kubernetes', context: 'kind-dev' },
};

function env(type: Environment['type'], kind: ProviderSettings['kind'] = 'aws', sizing?: Environment['sizing']): Environment {
  return { name: 'prod', type, deploy: { trigger: 'manual' }, provider: providers[kind], ...(sizing ? { sizing } : {}) };
}

const keys = (qs: ReturnType<typeof sizingQuestions>) => qs.map((q) => `${q.group}.${q.resource.name}.${q.field}`);

test('Development environments are never asked anything, on any provider', () => {
  for (const kind of ['aws', 'gcp', 'kubernetes'] as const) {
    assert.deepEqual(sizingQuestions(sample, env('development', kind)), []);
    assert.deepEqual(sizingQuestions(everything, env('development', kind)), []);
  }
});

test('Production asks CPU, memory and disk per database, memory and replicas per cache, min and max per service', () => {
  assert.deepEqual(keys(sizingQuestions(sample, env('production'))), [
    'databases.orders.cpu',
    'databases.orders.memoryGiB',
    'databases.orders.diskGiB',
    'databases.users.cpu',
    'databases.users.memoryGiB',
    'databases.users.diskGiB',
    'caches.notifications.memoryGiB',
    'caches.notifications.replicas',
    'services.auth.minInstances',
    'services.auth.maxInstances',
    'services.notifications.minInstances',
    'services.notifications.maxInstances',
    'services.orders.minInstances',
    'services.orders.maxInstances',
    'services.users.minInstances',
    'services.users.maxInstances',
  ]);
});

test('only needed resources are asked about: the unused analytics database of the fixture is not', () => {
  const asked = keys(sizingQuestions(everything, env('production', 'gcp')));
  assert.ok(!asked.some((k) => k.startsWith('databases.analytics.')), asked.join(', '));
  assert.deepEqual(asked.filter((k) => k.startsWith('databases.')), ['databases.billing.cpu', 'databases.billing.memoryGiB', 'databases.billing.diskGiB']);
  assert.deepEqual(asked.filter((k) => k.startsWith('caches.')), ['caches.products.memoryGiB', 'caches.products.replicas']);
});

test('a resource with any answer is not asked again, even a partial one; others still are', () => {
  const e = env('production', 'aws', { databases: { users: { cpu: 4 } }, services: { orders: { minInstances: 3, maxInstances: 6 } } });
  const asked = keys(sizingQuestions(sample, e));
  assert.ok(!asked.some((k) => k.startsWith('databases.users.')));
  assert.ok(!asked.some((k) => k.startsWith('services.orders.')));
  assert.ok(asked.includes('databases.orders.cpu'));
  assert.ok(asked.includes('services.users.minInstances'));
  assert.equal(asked.length, 16 - 3 - 2);
});

test('a question carries its label, default, range and unit', () => {
  const [cpu, memory, disk] = sizingQuestions(sample, env('production', 'aws'));
  assert.deepEqual(cpu, { resource: { kind: 'database', name: 'orders' }, group: 'databases', field: 'cpu', label: 'orders database: vCPUs', default: 2, min: 1, max: 64, integer: true, unit: 'vCPU' });
  assert.deepEqual(memory, { resource: { kind: 'database', name: 'orders' }, group: 'databases', field: 'memoryGiB', label: 'orders database: memory', default: 8, min: 1, max: 512, integer: false, unit: 'GiB' });
  assert.deepEqual(disk, { resource: { kind: 'database', name: 'orders' }, group: 'databases', field: 'diskGiB', label: 'orders database: initial disk', default: 20, min: 10, max: 16384, integer: true, unit: 'GiB' });
  const cache = sizingQuestions(sample, env('production', 'gcp')).filter((q) => q.group === 'caches');
  assert.deepEqual(cache.map((q) => [q.label, q.default, q.min, q.max, q.unit]), [
    ['notifications cache: memory', 5, 1, 300, 'GiB'],
    ['notifications cache: read replicas', 1, 0, 5, 'replicas'],
  ]);
  const svc = sizingQuestions(sample, env('production', 'kubernetes')).filter((q) => q.resource.name === 'orders' && q.group === 'services');
  assert.deepEqual(svc.map((q) => [q.label, q.default, q.min, q.max, q.unit]), [
    ['orders service: minimum instances', 2, 1, 100, 'instances'],
    ['orders service: maximum instances', 10, 1, 100, 'instances'],
  ]);
});

test('database defaults follow each cloud: db.m5.large on AWS, 1 vCPU / 3.75 GiB on Cloud SQL', () => {
  assert.deepEqual(productionDefaults('aws').database, { cpu: 2, memoryGiB: 8, diskGiB: 20 });
  assert.deepEqual(productionDefaults('gcp').database, { cpu: 1, memoryGiB: 3.75, diskGiB: 20 });
  assert.deepEqual(productionDefaults('kubernetes').database, { cpu: 1, memoryGiB: 4, diskGiB: 20 });
  for (const kind of ['aws', 'gcp', 'kubernetes'] as const) {
    assert.deepEqual(productionDefaults(kind).cache, { memoryGiB: 5, replicas: 1 });
    assert.deepEqual(productionDefaults(kind).service, { minInstances: 2, maxInstances: 10 });
  }
  const d = productionDefaults('aws').database;
  assert.equal(rdsInstanceClass(d.cpu, d.memoryGiB), 'db.m5.large');
  const g = productionDefaults('gcp').database;
  assert.equal(cloudSqlTier(g.cpu, g.memoryGiB), 'db-custom-1-3840');
  assert.equal(elastiCacheNodeType(productionDefaults('aws').cache.memoryGiB), 'cache.m6g.large');
});

test('checkSizingAnswer explains what is wrong', () => {
  const cpu = { min: 1, max: 64, integer: true, unit: 'vCPU' as const };
  assert.equal(checkSizingAnswer(cpu, 4), null);
  assert.equal(checkSizingAnswer(cpu, 2.5), 'Enter a whole number.');
  assert.equal(checkSizingAnswer(cpu, 0), 'Enter a value from 1 to 64 vCPU.');
  assert.equal(checkSizingAnswer(cpu, 65), 'Enter a value from 1 to 64 vCPU.');
  assert.equal(checkSizingAnswer(cpu, Number.NaN), 'Enter a number.');
  assert.equal(checkSizingAnswer({ min: 1, max: 300, integer: false, unit: 'GiB' }, 2.5), null);
});

test('effectiveSizing merges answers over defaults, for every needed resource and nothing else', () => {
  const e = env('production', 'aws', { databases: { users: { cpu: 4, memoryGiB: 16 } }, caches: { notifications: { replicas: 2 } }, services: { orders: { maxInstances: 20 } } });
  const s = effectiveSizing(sample, e);
  // Keyed by the app's names, so records with no prototype: compared by their entries.
  assert.equal(Object.getPrototypeOf(s.databases), null);
  assert.deepEqual({ ...s.databases }, { orders: { cpu: 2, memoryGiB: 8, diskGiB: 20 }, users: { cpu: 4, memoryGiB: 16, diskGiB: 20 } });
  assert.deepEqual({ ...s.caches }, { notifications: { memoryGiB: 5, replicas: 2 } });
  assert.deepEqual(s.services.orders, { minInstances: 2, maxInstances: 20 });
  assert.deepEqual(s.services.users, { minInstances: 2, maxInstances: 10 });
  assert.deepEqual(s.adjustments, []);
  assert.deepEqual(Object.keys(effectiveSizing(everything, env('production')).databases), ['billing']);
});

test('effectiveSizing ignores answers in Development and uses the small fixed sizes', () => {
  const s = effectiveSizing(sample, env('development', 'aws', { databases: { users: { cpu: 16 } } }));
  assert.deepEqual(s.databases.users, { cpu: 0.25, memoryGiB: 1, diskGiB: 10 });
  assert.deepEqual(s.caches.notifications, { memoryGiB: 0.5, replicas: 0 });
  assert.deepEqual(s.services.orders, { minInstances: 1, maxInstances: 1 });
});

test('hand-edited answers out of range are clamped and reported; max below min is raised to min', () => {
  const e = env('production', 'aws', { databases: { users: { cpu: 200, diskGiB: 5 } }, caches: { notifications: { replicas: 1.5 } }, services: { orders: { minInstances: 5, maxInstances: 3 } } });
  const s = effectiveSizing(sample, e);
  assert.deepEqual(s.databases.users, { cpu: 64, memoryGiB: 8, diskGiB: 10 });
  assert.equal(s.caches.notifications.replicas, 2);
  assert.deepEqual(s.services.orders, { minInstances: 5, maxInstances: 5 });
  assert.deepEqual(s.adjustments, [
    'databases.users.cpu = 200 is not allowed (1–64 vCPU, whole numbers); using 64.',
    'databases.users.diskGiB = 5 is not allowed (10–16384 GiB, whole numbers); using 10.',
    'caches.notifications.replicas = 1.5 is not allowed (0–5 replicas, whole numbers); using 2.',
    'services.orders: maxInstances 3 is below minInstances 5; using 5 for both.',
  ]);
});

test('RDS: the cheapest m5 or r5 class with at least the vCPUs and memory asked for', () => {
  const table: [number, number, string][] = [
    [1, 1, 'db.m5.large'],
    [2, 8, 'db.m5.large'],
    [2, 12, 'db.r5.large'],
    [4, 16, 'db.m5.xlarge'],
    [3, 20, 'db.r5.xlarge'],
    [8, 32, 'db.m5.2xlarge'],
    [16, 100, 'db.r5.4xlarge'],
    [48, 192, 'db.m5.12xlarge'],
    [64, 512, 'db.r5.16xlarge'],
  ];
  for (const [cpu, mem, cls] of table) assert.equal(rdsInstanceClass(cpu, mem), cls, `${cpu} vCPU / ${mem} GiB`);
  assert.throws(() => rdsInstanceClass(96, 8), /no instance class has 96 vCPU/);
});

test('Cloud SQL: db-custom-<vCPU>-<MiB> within the shape rules', () => {
  const table: [number, number, string][] = [
    [1, 3.75, 'db-custom-1-3840'],
    [1, 1, 'db-custom-1-3840'], // at least 3.75 GiB
    [2, 8, 'db-custom-2-8192'],
    [3, 8, 'db-custom-4-8192'], // vCPUs: 1 or even
    [1, 8, 'db-custom-2-8192'], // more than 6.5 GiB per vCPU raises the vCPUs
    [4, 5, 'db-custom-4-5120'],
    [2, 10.1, 'db-custom-2-10496'], // memory in 256 MiB steps, rounded up
    [16, 1, 'db-custom-16-14848'], // at least 0.9 GiB per vCPU
  ];
  for (const [cpu, mem, tier] of table) assert.equal(cloudSqlTier(cpu, mem), tier, `${cpu} vCPU / ${mem} GiB`);
});

test('ElastiCache: the cheapest node type with at least the memory asked for', () => {
  const table: [number, string][] = [
    [1, 'cache.m6g.large'],
    [5, 'cache.m6g.large'],
    [6.38, 'cache.m6g.large'],
    [7, 'cache.r6g.large'],
    [13, 'cache.r6g.large'],
    [20, 'cache.r6g.xlarge'],
    [100, 'cache.r6g.4xlarge'],
    [300, 'cache.r6g.12xlarge'],
  ];
  for (const [mem, type] of table) assert.equal(elastiCacheNodeType(mem), type, `${mem} GiB`);
});

test('Memorystore: Basic without replicas, Standard HA with read replicas, at least 5 GB when replicated', () => {
  assert.deepEqual(memorystoreShape(5, 1), { tier: 'STANDARD_HA', memorySizeGb: 5, replicaCount: 1, readReplicasMode: 'READ_REPLICAS_ENABLED' });
  assert.deepEqual(memorystoreShape(2.5, 0), { tier: 'BASIC', memorySizeGb: 3, replicaCount: 0, readReplicasMode: 'READ_REPLICAS_DISABLED' });
  assert.deepEqual(memorystoreShape(2, 3), { tier: 'STANDARD_HA', memorySizeGb: 5, replicaCount: 3, readReplicasMode: 'READ_REPLICAS_ENABLED' });
  assert.deepEqual(memorystoreShape(0.5, 0), { tier: 'BASIC', memorySizeGb: 1, replicaCount: 0, readReplicasMode: 'READ_REPLICAS_DISABLED' });
});

test('answers are recorded where the questions point, the other answers kept, and then nothing is asked again', () => {
  const e = env('production', 'kubernetes', { services: { orders: { minInstances: 3, maxInstances: 6 } } });
  const questions = sizingQuestions(sample, e);
  assert.ok(questions.length > 0 && !questions.some((q) => q.resource.name === 'orders' && q.group === 'services'));
  const answered = withSizingAnswers(e, questions.map((question) => ({ question, value: question.field === 'diskGiB' ? 50 : question.default })));
  assert.deepEqual(sizingQuestions(sample, answered), []);
  assert.deepEqual(answered.sizing?.services?.orders, { minInstances: 3, maxInstances: 6 });
  const db = questions.find((q) => q.group === 'databases')!;
  assert.equal(answered.sizing?.databases?.[db.resource.name]?.diskGiB, 50);
  assert.equal(e.sizing?.databases, undefined, 'the environment given is not changed');
});
