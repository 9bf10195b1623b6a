// The model of whole apps: every primitive, every default, usage through imports, nested and weak services, files
// Encore's walk skips, nested apps, and the sample app the demo opens.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { modelJson } from '../../src/analyzer/modelJson';
import { declarations } from '../../src/model/appModel';

const fixtures = path.join(__dirname, '..', 'fixtures', 'apps');
const repo = path.join(__dirname, '..', '..');

test('the "everything" fixture: every primitive, with defaults and usage through imports', () => {
  const model = new AppAnalyzer(path.join(fixtures, 'everything')).analyze();
  const json = modelJson(model);
  assert.deepEqual(json.diagnostics, []);
  assert.deepEqual(json.services, [
    { name: 'analytics', root: 'analytics' },
    { name: 'billing', root: 'billing' },
    { name: 'catalog', root: 'catalog' },
    { name: 'web', root: 'web' }, // no encore.service.ts: named after the directory of its endpoint
    { name: 'worker', root: 'worker' },
  ]);
  assert.deepEqual(json.endpoints, [
    { service: 'billing', name: 'everything', kind: 'api', methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'], path: '/invoices/!fallback', access: 'public' },
    { service: 'billing', name: 'list', kind: 'api', methods: ['GET'], path: '/invoices', access: 'public' },
    { service: 'billing', name: 'pay', kind: 'api', methods: ['POST', 'PUT'], path: '/invoices/:id/pay', access: 'auth' },
    { service: 'billing', name: 'upload', kind: 'raw', methods: ['POST'], path: '/invoices/upload', access: 'public' },
    { service: 'catalog', name: 'get', kind: 'api', methods: ['GET'], path: '/products/:id', access: 'public' },
    { service: 'catalog', name: 'stream', kind: 'streamOut', methods: ['GET'], path: '/products/stream', access: 'public' },
    { service: 'web', name: 'assets', kind: 'static', methods: ['HEAD', 'GET'], path: '/public/*path', access: 'public' },
    // Defaults: POST, /<service>.<name>, private.
    { service: 'worker', name: 'sweep', kind: 'api', methods: ['POST'], path: '/worker.sweep', access: 'private' },
  ]);
  assert.deepEqual(json.databases, [
    { name: 'analytics', migrations: ['20240101_init/migration.sql'], usedBy: [] },
    // Only .up.sql counts; README.md is ignored; catalog uses billing through SQLDatabase.named.
    { name: 'billing', migrations: ['001_init.up.sql', '002_add_b.up.sql'], usedBy: ['billing', 'catalog'] },
  ]);
  assert.deepEqual(json.topics, [{ name: 'invoices-paid', deliveryGuarantee: 'exactly-once', orderingAttribute: null, publishers: ['billing'] }]);
  assert.deepEqual(json.subscriptions, [{ topic: 'invoices-paid', name: 'record-payment', service: 'worker' }]);
  assert.deepEqual(json.cronJobs, [
    { name: 'hourly-sweep', title: 'Hourly sweep', schedule: 'every:60', endpoint: 'worker.sweep' },
    { name: 'nightly', title: 'nightly', schedule: 'schedule:0 3 * * *', endpoint: 'worker.sweep' },
  ]);
  assert.deepEqual(json.caches, [{
    name: 'products',
    evictionPolicy: 'allkeys-lfu',
    keyspaces: [{ keyPattern: 'name/:key', service: 'catalog' }, { keyPattern: 'product/:region/:id', service: 'catalog' }],
  }]);
  assert.deepEqual(model.caches[0].usedBy, ['catalog', 'worker']);
  assert.deepEqual(json.buckets, [
    { name: 'avatars', public: true, versioned: false, usage: byService({ catalog: ['public-url'] }) },
    { name: 'documents', public: false, versioned: false, usage: byService({ billing: ['write'], catalog: ['list', 'read'] }) },
  ]);
  assert.deepEqual(json.secrets, [{ name: 'CatalogApiKey', services: ['catalog'] }, { name: 'SharedToken', services: ['catalog', 'worker'] }]);
  assert.deepEqual(json.gateway, { name: 'api-gateway', service: 'analytics', authHandler: 'auth' });
  assert.deepEqual(json.authHandler, { name: 'auth', service: 'analytics' });
  assert.deepEqual(json.metrics, [
    { name: 'product_views', kind: 'counter', services: ['catalog'] },
    { name: 'stock_level', kind: 'gauge', services: ['catalog'] },
  ]);
  const subscription = model.subscriptions[0];
  assert.deepEqual(
    { ack: subscription.ackDeadlineMs, retention: subscription.messageRetentionMs, retry: subscription.retryPolicy, max: subscription.maxConcurrency },
    { ack: 30_000, retention: 604_800_000, retry: { minBackoffMs: 10_000, maxBackoffMs: 600_000, maxRetries: 100 }, max: null },
  );
  assert.equal(model.databases.find((d) => d.name === 'billing')?.migrationsDir, 'billing/migrations');
});

test('files Encore skips and nested apps contribute nothing', () => {
  const model = new AppAnalyzer(path.join(fixtures, 'everything')).analyze();
  const names = model.databases.map((d) => d.name);
  for (const skipped of ['hidden', 'from-node-modules', 'from-test']) assert.ok(!names.includes(skipped), skipped);
});

test('declarations carry exact locations for CodeLens and hovers', () => {
  const root = path.join(repo, 'examples', 'sample-app');
  const model = new AppAnalyzer(root).analyze();
  const decls = declarations(model).map((d) => `${d.kind} ${d.name} ${path.relative(root, d.file)}:${d.range.start.line + 1}:${d.range.start.character + 1}`);
  assert.deepEqual(decls, [
    'secret SessionSigningKey auth/auth.ts:7:27',
    'service auth auth/encore.service.ts:3:16',
    'cache notifications notifications/cache.ts:3:24',
    'service notifications notifications/encore.service.ts:3:16',
    'secret EmailApiKey notifications/notify.ts:10:21',
    'subscription notify-customer notifications/notify.ts:14:30',
    'cronJob daily-digest notifications/notify.ts:33:23',
    'cronJob purge-counters notifications/notify.ts:43:22',
    'database orders orders/db.ts:3:25',
    'service orders orders/encore.service.ts:3:16',
    'topic order-placed orders/events.ts:9:28',
    'bucket order-receipts orders/receipts.ts:4:25',
    'database users users/db.ts:3:19',
    'service users users/encore.service.ts:3:16',
  ]);
});

test('the sample app has every kind of infrastructure and no diagnostics', () => {
  const model = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
  assert.deepEqual(model.diagnostics, []);
  assert.deepEqual(model.services.map((s) => s.name), ['auth', 'notifications', 'orders', 'users']);
  for (const list of [model.databases, model.topics, model.subscriptions, model.cronJobs, model.caches, model.buckets, model.secrets, model.metrics]) {
    assert.ok(list.length > 0);
  }
  assert.deepEqual(model.topics[0].publishers, ['orders']);
  assert.deepEqual(model.buckets[0].usage, byService({ orders: ['signed-download-url', 'write'] }));
});

/** Bucket usage is keyed by service name, so the model holds it in a null-prototype object. */
function byService<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}
