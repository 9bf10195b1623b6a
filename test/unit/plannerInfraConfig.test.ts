// Encore's infra.config.json as the planner builds it: exactly the databases, caches, topics, subscriptions,
// buckets and secrets the app uses, in the shape of notes/encore-app-model.md §4, with every credential an
// {"$env": …} reference that some Deployment provides from a Kubernetes Secret, and no secret value anywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outputRefs, type DesiredGraph, type JsonObject, type JsonValue } from '../../src/model/desiredGraph';
import { desiredGraph } from '../../src/provisioning/planner';
import { byId, COMBOS, env, everything, ofKind, sample } from './plannerHelpers';

function doc(graph: DesiredGraph): JsonObject {
  return byId(graph, 'k8s:configmap:encore-infra-config').settings.document as JsonObject;
}

const obj = (v: JsonValue | undefined) => v as JsonObject;
const arr = (v: JsonValue | undefined) => v as JsonObject[];

for (const [kind, type] of COMBOS) {
  test(`infra config on ${kind} ${type}: exactly what the everything fixture uses`, () => {
    const graph = desiredGraph(everything, env(kind, type));
    const d = doc(graph);
    const managed = type === 'production' && kind !== 'kubernetes';
    assert.deepEqual(Object.keys(d), ['$schema', 'metadata', 'auth', 'service_discovery', 'sql_servers', 'redis', 'pubsub', 'object_storage', 'secrets']);
    assert.equal(d.$schema, 'https://encore.dev/schemas/infra.schema.json');
    const meta = obj(d.metadata);
    assert.deepEqual([meta.app_id, meta.env_name, meta.env_type, meta.cloud], ['everything', env(kind, type).name, type, kind === 'kubernetes' ? 'local' : kind]);
    assert.match(meta.base_url as string, /^http:\/\//);
    assert.deepEqual(Object.keys(obj(d.service_discovery)), ['analytics', 'billing', 'catalog', 'web', 'worker']);
    assert.equal(obj(obj(d.service_discovery).billing).base_url, `http://billing.${env(kind, type).name}.svc.cluster.local:8080`);

    // Databases: billing only (analytics is declared but unused).
    const servers = arr(d.sql_servers);
    assert.deepEqual(servers.map((s) => Object.keys(obj(s.databases))), [['billing']]);
    assert.deepEqual(obj(servers[0].databases).billing, { name: 'billing', username: 'billing', password: { $env: 'ENCORE_DB_PASSWORD_billing' } });
    assert.deepEqual(servers[0].tls_config, managed ? { ca: kind === 'aws' ? '${aws:rds:billing.caCertificate}' : '${gcp:sql:billing.serverCaCert}' } : { disabled: true });
    if (!managed) assert.equal(servers[0].host, `encore-postgres-billing-0.encore-postgres-billing.${env(kind, type).name}.svc.cluster.local:5432`);

    // Redis: keyed by cache cluster name.
    assert.deepEqual(Object.keys(obj(d.redis)), ['products']);
    const redis = obj(obj(d.redis).products);
    assert.equal(redis.database_index, 0);
    assert.deepEqual(redis.auth, { type: 'auth_string', auth_string: { $env: 'ENCORE_REDIS_AUTH_products' } });

    // Pub/Sub: one provider, the one topic with its one subscription.
    const pubsub = arr(d.pubsub);
    assert.equal(pubsub.length, 1);
    assert.equal(pubsub[0].type, managed ? (kind === 'aws' ? 'aws_sns_sqs' : 'gcp_pubsub') : 'nsq');
    const topics = obj(pubsub[0].topics);
    assert.deepEqual(Object.keys(topics), ['invoices-paid']);
    assert.deepEqual(Object.keys(obj(obj(topics['invoices-paid']).subscriptions)), ['record-payment']);
    if (pubsub[0].type === 'aws_sns_sqs') {
      assert.deepEqual(topics['invoices-paid'], { arn: '${aws:sns:invoices-paid.arn}', subscriptions: { 'record-payment': { url: '${aws:sqs:invoices-paid/record-payment.url}' } } });
    } else if (pubsub[0].type === 'gcp_pubsub') {
      assert.equal(pubsub[0].project_id, 'shop-prod-1');
      assert.deepEqual(topics['invoices-paid'], { name: 'everything-prod-invoices-paid', subscriptions: { 'record-payment': { name: 'everything-prod-invoices-paid-record-payment' } } });
    } else {
      assert.equal(pubsub[0].hosts, `encore-nsqd-0.encore-nsqd.${env(kind, type).name}.svc.cluster.local:4150`);
      assert.deepEqual(topics['invoices-paid'], { name: 'invoices-paid', subscriptions: { 'record-payment': { name: 'record-payment' } } });
    }

    // Object storage: both buckets; the public one has the public base URL Encore requires.
    const storage = arr(d.object_storage);
    assert.equal(storage.length, 1);
    assert.equal(storage[0].type, kind === 'gcp' ? 'gcs' : 's3');
    const buckets = obj(storage[0].buckets);
    assert.deepEqual(Object.keys(buckets), ['avatars', 'documents']);
    assert.ok(typeof obj(buckets.avatars).public_base_url === 'string', 'public bucket has a public_base_url');
    assert.equal(obj(buckets.documents).public_base_url, undefined);
    if (kind === 'kubernetes') {
      assert.equal(storage[0].endpoint, `http://encore-minio-0.encore-minio.${env(kind, type).name}.svc.cluster.local:9000`);
      assert.deepEqual(storage[0].secret_access_key, { $env: 'ENCORE_MINIO_SECRET_KEY' });
      assert.equal(obj(buckets.avatars).public_base_url, `${storage[0].endpoint}/avatars`);
    } else if (kind === 'aws') {
      assert.equal(storage[0].region, 'eu-west-1');
    }

    // Secrets: references only.
    assert.deepEqual(d.secrets, { CatalogApiKey: { $env: 'ENCORE_SECRET_CatalogApiKey' }, SharedToken: { $env: 'ENCORE_SECRET_SharedToken' } });
    assert.deepEqual(d.auth, [{ type: 'key', id: 1, key: { $env: 'ENCORE_SERVICE_AUTH_KEY' } }]);

    // Nothing to resolve after apply inside a cluster we only deploy to; cloud outputs otherwise.
    if (kind === 'kubernetes') assert.deepEqual(outputRefs(d), []);
    else assert.ok(outputRefs(d).length > 0);
  });
}

test('the sample app: its two databases on their own servers, its cache, topic, bucket and secrets', () => {
  const d = doc(desiredGraph(sample, env('aws', 'production')));
  assert.deepEqual(arr(d.sql_servers).map((s) => [s.host, Object.keys(obj(s.databases))]), [
    ['${aws:rds:orders.address}:5432', ['orders']],
    ['${aws:rds:users.address}:5432', ['users']],
  ]);
  assert.deepEqual(Object.keys(obj(d.redis)), ['notifications']);
  assert.deepEqual(obj(obj(d.redis).notifications).tls_config, {});
  assert.deepEqual(arr(d.object_storage)[0], { type: 's3', region: 'eu-west-1', buckets: { 'order-receipts': { name: byId(desiredGraph(sample, env('aws', 'production')), 'aws:s3:order-receipts').name } } });
  assert.deepEqual(Object.keys(obj(d.secrets)), ['EmailApiKey', 'SessionSigningKey']);
});

/** Every [key, value] pair in a JSON value, depth first. */
function* entries(v: JsonValue, key = ''): Generator<[string, JsonValue]> {
  yield [key, v];
  if (Array.isArray(v)) for (const x of v) yield* entries(x, key);
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) yield* entries(x, k);
}

test('no secret values anywhere in any graph: credentials are $env references, nothing looks like a password', () => {
  const credentialKeys = new Set(['password', 'auth_string', 'secret_access_key', 'authToken', 'token', 'apiKey', 'secretValue']);
  for (const model of [sample, everything]) {
    for (const [kind, type] of COMBOS) {
      const graph = desiredGraph(model, env(kind, type));
      for (const [k, v] of entries(graph as unknown as JsonValue)) {
        if (credentialKeys.has(k)) assert.ok(typeof v !== 'string', `${k} holds a string in ${kind} ${type}: ${String(v)}`);
      }
      for (const [k, v] of entries(doc(graph))) {
        if (k === 'password' || k === 'auth_string' || k === 'secret_access_key' || (k === 'key' && typeof v !== 'string')) {
          assert.deepEqual(Object.keys(v as object), ['$env'], `${k} in the infra config is an $env reference`);
        }
      }
      // Anything password-shaped: a long unbroken run of letters and digits that mixes both.
      const suspicious = JSON.stringify(graph)
        .split(/[^A-Za-z0-9+=]+/)
        .filter((t) => t.length >= 16 && /\d/.test(t) && /[A-Za-z]/.test(t));
      assert.deepEqual(suspicious, [], `${kind} ${type}`);
      // Generated credentials are specs, never values.
      for (const s of ofKind(graph, 'secret').filter((r) => r.providerType === 'k8s/v1/Secret')) {
        for (const spec of Object.values(s.settings.keys as JsonObject)) assert.equal(typeof spec, 'object', `${s.id} key spec`);
      }
    }
  }
});

test('every $env the config uses reaches the Deployments that need it, from a Secret key that exists', () => {
  for (const [kind, type] of COMBOS) {
    const graph = desiredGraph(everything, env(kind, type));
    const secrets = new Map(ofKind(graph, 'secret').filter((r) => r.providerType === 'k8s/v1/Secret').map((r) => [r.name, r]));
    const provided = new Map<string, Set<string>>(); // env var → deployments
    for (const dep of ofKind(graph, 'deployment')) {
      for (const e of dep.settings.env as JsonObject[]) {
        const ref = e.secretKeyRef as JsonObject | undefined;
        if (!ref) continue;
        const secret = secrets.get(ref.name as string);
        assert.ok(secret, `${dep.id}: Secret ${String(ref.name)} is in the graph`);
        assert.ok(Object.keys(secret.settings.keys as object).includes(ref.key as string), `${dep.id}: ${String(ref.name)} has key ${String(ref.key)}`);
        assert.ok(dep.dependsOn.includes(secret.id), `${dep.id} waits for ${secret.id}`);
        (provided.get(e.name as string) ?? provided.set(e.name as string, new Set()).get(e.name as string)!).add(dep.name);
      }
    }
    const used = [...entries(doc(graph))].filter(([k]) => k === '$env').map(([, v]) => v as string);
    for (const v of new Set(used)) assert.ok(provided.has(v), `${kind} ${type}: some Deployment provides ${v}`);
    // Scoped per service: only the users of a resource get its credential.
    assert.deepEqual([...provided.get('ENCORE_DB_PASSWORD_billing')!].sort(), ['billing', 'catalog']);
    assert.deepEqual([...provided.get('ENCORE_SECRET_CatalogApiKey')!], ['catalog']);
    assert.deepEqual([...provided.get('ENCORE_SECRET_SharedToken')!].sort(), ['catalog', 'worker']);
    assert.deepEqual([...provided.get('ENCORE_REDIS_AUTH_products')!].sort(), ['catalog', 'worker']);
    assert.equal(provided.get('ENCORE_SERVICE_AUTH_KEY')!.size, 6, 'every service and the gateway');
    // Every Deployment mounts the config.
    for (const dep of ofKind(graph, 'deployment')) assert.ok(dep.dependsOn.includes('k8s:configmap:encore-infra-config'));
  }
});
