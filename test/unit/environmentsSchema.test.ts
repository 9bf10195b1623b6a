import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { looksLikeCredentialKey } from '../../src/environments/credentials';
import { PATTERN_MESSAGES } from '../../src/environments/schemaMessages';

const schema = JSON.parse(readFileSync(path.join(__dirname, '../../schemas/encore.environments.schema.json'), 'utf8'));
// `discriminator` is an ajv keyword that VS Code's JSON service ignores; the store compiles the schema the same way.
const validate = new Ajv({ strict: true, allErrors: true, discriminator: true }).compile(schema);

const env = {
  name: 'staging',
  type: 'development',
  deploy: { trigger: 'push', branch: 'main' },
  provider: { kind: 'kubernetes', context: 'kind-dev' },
};

function errors(value: unknown): string[] {
  validate(value);
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

test('the published schema compiles in strict mode and accepts every provider and trigger', () => {
  const file = {
    $schema: './schemas/encore.environments.schema.json',
    environments: [
      env,
      { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' },
        sizing: { databases: { users: { cpu: 2, memoryGiB: 8, diskGiB: 50 } }, caches: { notifications: { memoryGiB: 5, replicas: 1 } },
          services: { orders: { minInstances: 2, maxInstances: 10 } } } },
      { name: 'eu', type: 'production', deploy: { trigger: 'push', branch: 'release' }, provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1' } },
    ],
  };
  assert.deepEqual(errors(file), []);
});

test('names must be DNS labels', () => {
  for (const name of ['a', 'dev-1', 'x'.repeat(63)]) assert.deepEqual(errors({ environments: [{ ...env, name }] }), [], name);
  for (const name of ['', 'Prod', '1dev', 'dev-', 'my_env', 'x'.repeat(64)]) {
    assert.ok(errors({ environments: [{ ...env, name }] }).some((e) => e.startsWith('/environments/0/name')), name);
  }
});

test('unknown keys are rejected at every level', () => {
  assert.ok(errors({ environments: [], extra: 1 }).some((e) => e.includes('must NOT have additional properties')));
  assert.ok(errors({ environments: [{ ...env, color: 'red' }] }).some((e) => e.startsWith('/environments/0 must NOT have additional')));
  assert.ok(errors({ environments: [{ ...env, provider: { kind: 'kubernetes', context: 'c', token: 'secret' } }] }).length > 0);
});

test('a push trigger needs a branch; a provider needs its settings', () => {
  assert.ok(errors({ environments: [{ ...env, deploy: { trigger: 'push' } }] }).length > 0);
  assert.ok(errors({ environments: [{ ...env, provider: { kind: 'aws' } }] }).length > 0);
  assert.ok(errors({ environments: [{ ...env, provider: { kind: 'gcp', region: 'europe-west1' } }] }).length > 0);
  assert.ok(errors({ environments: [{ ...env, type: 'staging' }] }).length > 0);
});

/** Every value of `key` anywhere in the schema, with the property names seen on the way. */
function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      visit(k, v);
      walk(v, visit);
    }
  }
}

test('every pattern in the schema has a plain-words message in the store', () => {
  const patterns: string[] = [];
  walk(schema, (k, v) => k === 'pattern' && patterns.push(v as string));
  assert.ok(patterns.length >= 5);
  for (const p of patterns) assert.ok(PATTERN_MESSAGES[p], `no message for ${p}`);
});

test('no key the schema allows looks like a credential, so the credential check never rejects a valid file', () => {
  const keys: string[] = [];
  walk(schema, (k, v) => k === 'properties' && keys.push(...Object.keys(v as object)));
  assert.ok(keys.includes('profile') && keys.includes('context'));
  for (const k of keys) assert.equal(looksLikeCredentialKey(k), false, k);
  for (const k of ['password', 'token', 'secretAccessKey', 'aws_secret_access_key', 'apiKey', 'private_key', 'clientSecret']) {
    assert.equal(looksLikeCredentialKey(k), true, k);
  }
});

test('a provider or trigger of a known kind reports only that kind\'s problems (discriminator)', () => {
  assert.deepEqual(errors({ environments: [{ ...env, provider: { kind: 'gcp', project: 'shop-prod-123' } }] }), [
    "/environments/0/provider must have required property 'region'",
  ]);
  assert.deepEqual(errors({ environments: [{ ...env, deploy: { trigger: 'manual', branch: 'main' } }] }), [
    '/environments/0/deploy must NOT have additional properties',
  ]);
});
