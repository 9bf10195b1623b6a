// Deterministic names: valid for Kubernetes and the clouds whatever Encore name comes in, unique when two Encore
// names would otherwise meet, and unchanged when the Encore name already fits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsLabel, envVar, naming, shortHash } from '../../src/provisioning/planner/names';
import { nsqName } from '../../src/provisioning/planner/pubsub';

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

test('shortHash is FNV-1a: stable, 8 hex digits', () => {
  assert.equal(shortHash(''), '811c9dc5');
  assert.equal(shortHash('a'), 'e40c292c');
  assert.equal(shortHash('users'), shortHash('users'));
  assert.notEqual(shortHash('users'), shortHash('user'));
});

test('dnsLabel keeps names that already fit and hashes the rest', () => {
  assert.equal(dnsLabel('encore-postgres-', 'users'), 'encore-postgres-users');
  assert.equal(dnsLabel('', 'order-placed'), 'order-placed');
  assert.match(dnsLabel('encore-secret-', 'CatalogApiKey'), /^encore-secret-catalog-api-key-[0-9a-f]{6}$/);
  assert.match(dnsLabel('', 'events.v1'), /^events-v1-[0-9a-f]{6}$/);
  assert.match(dnsLabel('', '1bucket'), /^r-1bucket-[0-9a-f]{6}$/);
  assert.notEqual(dnsLabel('', 'FooBar'), dnsLabel('', 'foo-bar'));
  assert.notEqual(dnsLabel('', 'foo_bar'), dnsLabel('', 'foo-bar'));
});

test('dnsLabel always gives a valid label within the limit, for awkward names too', () => {
  const names = ['a', 'A', '_', '---', 'ünïcödé', 'x'.repeat(200), 'Some.Dotted.Name', 'camelCaseName', '9lives', 'a--b', 'trailing-', ''];
  for (const name of names) {
    for (const [prefix, max] of [['', 63], ['encore-redis-', 63], ['', 30], ['app-prod-', 40]] as const) {
      const label = dnsLabel(prefix, name, max);
      assert.match(label, DNS_LABEL, `${prefix}|${name}`);
      assert.ok(label.length <= max, `${label} ≤ ${max}`);
    }
  }
  // Long names that share a prefix stay apart, because the hash covers the whole name.
  assert.notEqual(dnsLabel('', `${'x'.repeat(70)}a`), dnsLabel('', `${'x'.repeat(70)}b`));
});

test('envVar keeps the Encore name, and hashes a name it had to change', () => {
  assert.equal(envVar('ENCORE_DB_PASSWORD_', 'users'), 'ENCORE_DB_PASSWORD_users');
  assert.equal(envVar('ENCORE_SECRET_', 'CatalogApiKey'), 'ENCORE_SECRET_CatalogApiKey');
  assert.match(envVar('ENCORE_DB_PASSWORD_', 'order-db'), /^ENCORE_DB_PASSWORD_order_db_[0-9a-f]{6}$/);
  assert.notEqual(envVar('X_', 'a-b'), envVar('X_', 'a_b'));
  for (const name of ['a.b', 'ü', 'with space', 'CamelCase']) assert.match(envVar('ENCORE_', name), /^[A-Za-z_][A-Za-z0-9_]*$/);
});

test('cloud and globally unique names fit their limits and differ per environment', () => {
  const n = naming('sample-app', 'prod', 'prod');
  assert.equal(n.cloud('users'), 'sample-app-prod-users');
  assert.match(n.global('order-receipts', 'eu-west-1'), /^sample-app-prod-order-receipts-[0-9a-f]{8}$/);
  assert.notEqual(naming('sample-app', 'staging', 'staging').global('b', 'r'), n.global('b', 'r'));
  const long = naming('a-rather-long-application-name', 'a'.repeat(63), 'ns');
  assert.ok(long.cloud('users').length <= 63 && DNS_LABEL.test(long.cloud('users')));
  assert.ok(long.global('bucket', 'eu-west-1').length <= 63 && DNS_LABEL.test(long.global('bucket', 'eu-west-1')));
  assert.notEqual(long.cloud('users-a'), long.cloud('users-b'));
  assert.equal(n.serviceHost('orders'), 'orders.prod.svc.cluster.local');
});

test('nsqName keeps valid NSQ names and makes the others valid and unique', () => {
  assert.equal(nsqName('invoices-paid'), 'invoices-paid');
  assert.equal(nsqName('orders.v1_created'), 'orders.v1_created');
  assert.match(nsqName('with space'), /^with_space_[0-9a-f]{8}$/);
  assert.ok(nsqName('x'.repeat(100)).length <= 64);
  assert.notEqual(nsqName('a b'), nsqName('a_b'));
});
