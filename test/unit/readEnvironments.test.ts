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
  ['broken JSON', '{"environments": [', /^line 1, column 19: a closing bracket \] is expected here$/],
  ['an array', '[]', /^line 1, column 1: must be an object$/],
  ['no environments key', '{}', /^line 1, column 1: missing "environments"$/],
  ['a duplicate name', JSON.stringify({ environments: [staging, staging] }), /^line 1, column \d+: environments\[1\]\.name: the name "staging" is already used by environments\[0\]$/],
  ['a bad type', JSON.stringify({ environments: [{ ...staging, type: 'preview' }] }), /environments\[0\]\.type: must be "production" or "development"$/],
  ['a bad trigger', JSON.stringify({ environments: [{ ...staging, deploy: { trigger: 'cron' } }] }), /deploy\.trigger: must be "push" or "manual"$/],
  ['a bad provider', JSON.stringify({ environments: [{ ...staging, provider: { kind: 'azure' } }] }), /provider\.kind: must be "aws", "gcp" or "kubernetes"$/],
  ['a bad region', JSON.stringify({ environments: [{ ...prod, provider: { kind: 'aws', region: 'Ireland' } }] }), /provider\.region: must be an AWS region/],
] as const) {
  test(`${what} is "invalid" with a message and positioned errors, and the file is not touched`, async () => {
    writeFileSync(file, text);
    const read = await readEnvironments(dir);
    assert.equal(read.kind, 'invalid');
    assert.match(read.kind === 'invalid' ? read.message : '', message);
    assert.ok(read.kind === 'invalid' && read.errors.length === 1 && read.errors[0].line === 1, JSON.stringify(read));
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
