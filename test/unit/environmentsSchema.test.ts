import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';

const schema = JSON.parse(readFileSync(path.join(__dirname, '../../schemas/encore.environments.schema.json'), 'utf8'));
const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);

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
