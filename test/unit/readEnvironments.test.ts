import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { readEnvironments } from '../../src/environments/readEnvironments';
import { describeEnvironment, type Environment } from '../../src/model/environment';

const dir = mkdtempSync(path.join(os.tmpdir(), 'read-envs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'encore.environments.json');

const staging: Environment = {
  name: 'staging',
  type: 'development',
  deploy: { trigger: 'push', branch: 'main' },
  provider: { kind: 'kubernetes', context: 'kind-dev', namespace: 'shop-staging' },
};
const prod: Environment = {
  name: 'prod',
  type: 'production',
  deploy: { trigger: 'manual' },
  provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' },
};

test('a missing file is "missing", not an error', async () => {
  assert.deepEqual(await readEnvironments(dir), { kind: 'missing', file });
});

test('a valid file gives its environments in order', async () => {
  writeFileSync(file, JSON.stringify({ environments: [staging, prod] }));
  assert.deepEqual(await readEnvironments(dir), { kind: 'ok', file, environments: [staging, prod] });
});

for (const [what, text, message] of [
  ['broken JSON', '{"environments": [', /^not valid JSON: /],
  ['an array', '[]', /^the file must hold a JSON object$/],
  ['no environments key', '{}', /^"environments" must be an array$/],
  ['a duplicate name', JSON.stringify({ environments: [staging, staging] }), /^environments\[1\]: the name "staging" is used twice$/],
  ['a bad type', JSON.stringify({ environments: [{ ...staging, type: 'preview' }] }), /^environments\[0\]\.type must be/],
  ['a bad trigger', JSON.stringify({ environments: [{ ...staging, deploy: { trigger: 'cron' } }] }), /deploy\.trigger must be/],
  ['a bad provider', JSON.stringify({ environments: [{ ...staging, provider: { kind: 'azure' } }] }), /provider\.kind must be/],
] as const) {
  test(`${what} is "invalid" with a message, and the file is not touched`, async () => {
    writeFileSync(file, text);
    const read = await readEnvironments(dir);
    assert.equal(read.kind, 'invalid');
    assert.match(read.kind === 'invalid' ? read.message : '', message);
    assert.equal(readFileSync(file, 'utf8'), text);
  });
}

test('each environment is described by type, provider and trigger', () => {
  assert.equal(describeEnvironment(staging), 'Development · Kubernetes kind-dev · push to main');
  assert.equal(describeEnvironment(prod), 'Production · AWS eu-west-1 · manual deploy');
  assert.equal(
    describeEnvironment({ ...prod, provider: { kind: 'gcp', project: 'shop-prod', region: 'europe-west1' } }),
    'Production · GCP shop-prod europe-west1 · manual deploy',
  );
});
