// Who acts, as the Create / Edit form and the status bar ask it (src/session/identityProbe.ts and
// src/extension/environmentFacts.ts): the provider opened for an environment's settings alone, through the real
// provider modules, against a real kube-apiserver and moto behind the shim. Only the principal and where it acts
// come back; the secret key never appears in what the front ends get.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { EnvStore } from '../../src/environments';
import { loadEnvironmentFacts } from '../../src/extension/environmentFacts';
import type { Environment } from '../../src/model/environment';
import { probeIdentity } from '../../src/session';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
let bed: AwsTestbed;
let kube: TestKube;
let app: string;
const signal = () => AbortSignal.timeout(30_000);

const awsEnv: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } };
const kubeEnv = (): Environment => ({ name: 'staging', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace: uniqueName('who') } });

before(async () => {
  [bed, kube] = await Promise.all([startAwsTestbed(), startTestKube()]);
  app = mkdtempSync(path.join(os.tmpdir(), 'encore-who-'));
  writeFileSync(path.join(app, 'encore.app'), '{"id": "shop"}\n');
});
afterEach(async () => bed.afterEach());
after(async () => {
  await Promise.all([bed?.stop(), kube?.stop()]);
});

function useShopProfile(): void {
  bed.awsHome({
    config: `[profile shop]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`,
    credentials: `[shop]\naws_access_key_id = ${KEY}\naws_secret_access_key = ${SECRET}\n`,
  }).use();
}

test('AWS: an unsaved environment\'s profile and region give the account and the ARN, from one GetCallerIdentity', async () => {
  useShopProfile();
  const who = await probeIdentity(awsEnv, { appRoot: app }, signal());
  assert.match(who.principal, new RegExp(`^arn:aws:(iam|sts)::${MOTO_ACCOUNT}:`));
  assert.equal(who.scope, `AWS account ${MOTO_ACCOUNT} in ${TEST_REGION}`);
  assert.equal(who.source, 'profile shop (access keys)');
  assert.ok(!JSON.stringify(who).includes(SECRET) && !JSON.stringify(who).includes(KEY), 'no credential in the identity');
  assert.deepEqual(bed.shim.callsTo('sts').map((c) => c.action), ['GetCallerIdentity']);
});

test('AWS: a profile this machine lacks is a clear error naming it', async () => {
  useShopProfile();
  await assert.rejects(probeIdentity({ ...awsEnv, provider: { kind: 'aws', region: TEST_REGION, profile: 'nope' } }, { appRoot: app }, signal()), /nope/);
});

test('Kubernetes: a context gives its user and the cluster it reaches', async () => {
  const who = await probeIdentity(kubeEnv(), { appRoot: app, provider: { kubeconfig: kube.kubeconfigPath } }, signal());
  assert.ok(who.principal.length > 0);
  assert.match(who.scope, /^cluster https:\/\/127\.0\.0\.1:\d+ \(context encore-test\)$/);
});

test('the status bar\'s facts: who acts and what runs, from the saved environment, on one connection', async () => {
  const staging = kubeEnv();
  const store = new EnvStore(app);
  await store.create(staging);
  await store.create(awsEnv);
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = kube.kubeconfigPath;
  try {
    const facts = await loadEnvironmentFacts(app, staging, store, signal());
    assert.match(facts.identity?.scope ?? '', /context encore-test/);
    assert.equal(facts.identityProblem, undefined);
    // Nothing deployed yet: no revision, and no problem either.
    assert.equal(facts.current, undefined);
    assert.equal(facts.revisionProblem, undefined, facts.revisionProblem);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
  useShopProfile();
  const aws = await loadEnvironmentFacts(app, awsEnv, store, signal());
  assert.equal(aws.identity?.scope, `AWS account ${MOTO_ACCOUNT} in ${TEST_REGION}`);
  // An AWS environment's history is in its S3 state bucket: nothing deployed yet, so no revision and no problem.
  assert.equal(aws.current, undefined);
  assert.equal(aws.revisionProblem, undefined, aws.revisionProblem);
  assert.ok(!JSON.stringify(aws).includes(SECRET), 'no credential in what the status bar gets');
});
