// The CodeLens line's environment statuses, from the real planner on the sample app.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { lensStatuses } from '../../src/extension/tree/lensStatus';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import type { AppModel } from '../../src/model/appModel';
import type { Environment } from '../../src/model/environment';

const model = new AppAnalyzer(path.join(__dirname, '..', '..', 'examples', 'sample-app')).analyze();
const graphFor = cachedGraphs(() => undefined);
const staging: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'kind-dev' } };
const prod: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1' } };
const eu: Environment = { name: 'eu', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1' } };

const at = (kind: 'database' | 'cache' | 'topic' | 'subscription' | 'bucket' | 'secret' | 'service' | 'cronJob', name: string, m: AppModel = model) => {
  const d = [...m.databases.map((x) => ({ k: 'database', n: x.name, l: x.declaration })), ...m.subscriptions.map((x) => ({ k: 'subscription', n: x.name, l: x.declaration }))].find((x) => x.k === kind && x.n === name);
  return { kind, name, file: d?.l.file ?? '', line: d?.l.range.start.line ?? 0 };
};
const titles = (kind: Parameters<typeof at>[0], name: string, envs = [staging, prod, eu]) => lensStatuses(model, envs, at(kind, name), graphFor).map((s) => s.title);

test('one status per environment, naming what the declaration becomes there', () => {
  assert.deepEqual(titles('database', 'users'), ['staging: StatefulSet postgres:16', 'prod: RDS PostgreSQL db.m5.large', 'eu: Cloud SQL PostgreSQL db-custom-1-3840']);
  assert.deepEqual(titles('cache', 'notifications'), ['staging: StatefulSet redis:7.2', 'prod: ElastiCache Redis cache.m6g.large', 'eu: Memorystore Redis 5 GB']);
  assert.deepEqual(titles('topic', 'order-placed'), ['staging: NSQ topic on nsqd', 'prod: SNS FIFO topic', 'eu: Pub/Sub topic']);
  assert.deepEqual(titles('subscription', 'notify-customer', [prod]), ['prod: SQS FIFO queue on order-placed']);
  assert.deepEqual(titles('bucket', 'order-receipts', [prod]), ['prod: S3 bucket']);
  assert.deepEqual(titles('service', 'orders', [staging]), ['staging: Deployment']);
  assert.deepEqual(titles('secret', 'EmailApiKey', [prod]), ['prod: Secrets Manager secret']);
  const [s] = lensStatuses(model, [prod], at('database', 'users'), graphFor);
  assert.equal(s.env, 'prod');
  assert.match(s.tooltip, /^prod: users DB → RDS PostgreSQL db\.m5\.large, 7-day backups \(\d+ resources\), not provisioned/);
  assert.deepEqual(lensStatuses(model, [], at('database', 'users'), graphFor), []);
});

test('a declaration no service uses is not deployed, as Encore leaves it out', () => {
  const unused: AppModel = { ...model, databases: model.databases.map((d) => (d.name === 'users' ? { ...d, usedBy: [] } : d)) };
  const [s] = lensStatuses(unused, [prod], at('database', 'users', unused), graphFor);
  assert.equal(s.title, 'prod: not deployed');
});
