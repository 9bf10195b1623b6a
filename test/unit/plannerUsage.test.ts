// An environment gets what the services use, not what the code declares (Encore's infra_config.go rules): a
// database no service queries, a cache cluster without a keyspace in a service, a topic nobody publishes to or
// subscribes to, and a bucket nobody touches are left out on every provider and type. Also: what the planner says
// when it cannot map something.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { primaryResource } from '../../src/model/desiredGraph';
import { environmentNeeds, desiredGraph } from '../../src/provisioning/planner';
import { testApp } from './analyzerApp';
import { COMBOS, env, everything } from './plannerHelpers';

const app = testApp({
  'svc/api.ts': `
import { api } from "encore.dev/api";
import { SQLDatabase } from "encore.dev/storage/sqldb";
import { CacheCluster, StringKeyspace } from "encore.dev/storage/cache";
import { Topic } from "encore.dev/pubsub";
import { Bucket } from "encore.dev/storage/objects";
import { secret } from "encore.dev/config";
import { CronJob } from "encore.dev/cron";

const used = new SQLDatabase("used", {});
const unusedDb = new SQLDatabase("unused-db", {});
const hot = new CacheCluster("hot", {});
const cold = new CacheCluster("cold", {});
const hits = new StringKeyspace<string>(hot, { keyPattern: "hits/:key" });
export const events = new Topic<{ id: string }>("events", { deliveryGuarantee: "at-least-once" });
export const quiet = new Topic<{ id: string }>("quiet", { deliveryGuarantee: "at-least-once" });
export const inbound = new Topic<{ id: string }>("inbound", { deliveryGuarantee: "at-least-once" });
const files = new Bucket("files", {});
const dusty = new Bucket("dusty", {});
const key = secret("Key");

export const run = api({}, async () => {
  await used.exec\`SELECT 1\`;
  await hits.set("a", "b");
  await events.publish({ id: "1" });
  await files.upload("k", Buffer.from(key()));
});

export const every90 = new CronJob("every-90", { every: "90m", endpoint: run });
export const every7 = new CronJob("every-7", { every: "7m", endpoint: run });
export const hourly = new CronJob("hourly", { every: "1h", endpoint: run });
`,
  'listener/encore.service.ts': 'import { Service } from "encore.dev/service";\nexport default new Service("listener");\n',
  'listener/sub.ts': `
import { Subscription } from "encore.dev/pubsub";
import { inbound } from "../svc/api";
export const s = new Subscription(inbound, "take-in", { handler: async () => {} });
`,
});
after(() => app.cleanup());
const model = app.analyzer.analyze();

test('the test app declares everything it should and analyses without errors', () => {
  assert.deepEqual(model.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(model.databases.map((d) => d.name).sort(), ['unused-db', 'used']);
  assert.deepEqual(model.caches.map((c) => c.name).sort(), ['cold', 'hot']);
  assert.deepEqual(model.topics.map((t) => t.name).sort(), ['events', 'inbound', 'quiet']);
  assert.deepEqual(model.buckets.map((b) => b.name).sort(), ['dusty', 'files']);
});

test('environmentNeeds keeps what services use, and a topic that only has a subscription', () => {
  const needs = environmentNeeds(model);
  assert.deepEqual(needs.databases.map((d) => d.name), ['used']);
  assert.deepEqual(needs.caches.map((c) => c.name), ['hot']);
  assert.deepEqual(needs.topics.map((t) => t.name).sort(), ['events', 'inbound']);
  assert.deepEqual(needs.subscriptions.map((s) => `${s.topic}/${s.name}`), ['inbound/take-in']);
  assert.deepEqual(needs.buckets.map((b) => b.name), ['files']);
  assert.deepEqual(needs.secrets.map((s) => s.name), ['Key']);
});

for (const [kind, type] of COMBOS) {
  test(`declared but unused resources are left out on ${kind} ${type}`, () => {
    const graph = desiredGraph(model, env(kind, type));
    const text = JSON.stringify(graph);
    for (const [k, name] of [['database', 'unused-db'], ['cache', 'cold'], ['topic', 'quiet'], ['bucket', 'dusty']] as const) {
      assert.equal(primaryResource(graph, { kind: k, name }), null, `${k} ${name} is not provisioned`);
      assert.ok(!graph.resources.some((r) => r.source?.kind === k && r.source.name === name), `nothing for ${k} ${name}`);
    }
    assert.ok(!/unused-db|"cold"|quiet|dusty/.test(text), 'not even in the infra config');
    for (const [k, name] of [['database', 'used'], ['cache', 'hot'], ['topic', 'events'], ['topic', 'inbound'], ['bucket', 'files'], ['secret', 'Key']] as const) {
      assert.ok(primaryResource(graph, { kind: k, name }), `${k} ${name} is provisioned`);
    }
  });
}

test('the everything fixture: its analytics database has no user and is left out everywhere', () => {
  for (const [kind, type] of COMBOS) {
    const graph = desiredGraph(everything, env(kind, type));
    assert.equal(primaryResource(graph, { kind: 'database', name: 'analytics' }), null);
    assert.ok(primaryResource(graph, { kind: 'database', name: 'billing' }));
  }
});

test('a 90-minute interval is scheduled with a guard; one that does not divide a day is left out with a warning', () => {
  const graph = desiredGraph(model, env('kubernetes', 'development'));
  const every90 = graph.resources.find((r) => r.id === 'k8s:cronjob:every-90');
  assert.deepEqual([every90?.settings.schedule, every90?.settings.runOnlyAtMinuteOfDayMultipleOf], ['*/30 * * * *', 90]);
  assert.equal(every90?.summary, 'every-90 cron → CronJob "*/30 * * * *" (every 90 minutes from midnight UTC) calling svc.run');
  assert.equal(graph.resources.find((r) => r.id === 'k8s:cronjob:hourly')?.settings.schedule, '0 * * * *');
  assert.ok(!graph.resources.some((r) => r.id === 'k8s:cronjob:every-7'));
  assert.deepEqual(graph.warnings, ['Cron job every-7 has the schedule "every:7", which Encore does not accept ("every" must divide 24 hours), so it is not scheduled.']);
});

test('an exactly-once topic on NSQ is a warning, not a silent downgrade; managed Pub/Sub keeps exactly-once', () => {
  const warning = 'Topic invoices-paid is exactly-once, but NSQ delivers at least once: in dev its subscribers may see a message twice.';
  assert.deepEqual(desiredGraph(everything, env('aws', 'development')).warnings, [warning]);
  assert.deepEqual(desiredGraph(everything, env('kubernetes', 'development')).warnings, [warning]);
  assert.deepEqual(desiredGraph(everything, env('gcp', 'production')).warnings, []);
  assert.deepEqual(desiredGraph(everything, env('aws', 'production')).warnings, []);
});

test('hand-edited sizing out of range shows up as a warning of the plan', () => {
  const graph = desiredGraph(model, env('aws', 'production', { sizing: { databases: { used: { cpu: 500 } } } }));
  assert.equal(graph.warnings[0], 'databases.used.cpu = 500 is not allowed (1–64 vCPU, whole numbers); using 64.');
  assert.equal(graph.warnings.length, 2); // and the cron interval
  assert.equal(graph.resources.find((r) => r.id === 'aws:rds:used')?.settings.instanceClass, 'db.m5.16xlarge');
});

test('an app without services gets only its namespace, base and infra config', () => {
  const empty = { ...model, services: [], endpoints: [], cronJobs: [] };
  const graph = desiredGraph(empty, env('kubernetes', 'development'));
  assert.deepEqual(graph.resources.map((r) => r.id), ['k8s:namespace', 'k8s:configmap:encore-infra-config']);
});
