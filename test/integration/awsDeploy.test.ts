// An AWS environment's part of a deploy, against moto through the real SDK clients and the real test kube-apiserver:
// the deploy history as an object beside the state in the state bucket, written with S3's conditional writes (the
// first with If-None-Match: *, then If-Match: <ETag>; a stale writer loses, and moto's 412 is seen on the wire), the
// session's append on top of it (a record appended once, a second deploy after it), the Deployments' annotations and
// rollout through the Kubernetes half, and ECR's authorization token turned into the one short-lived credential the
// build gets in a temporary DOCKER_CONFIG (for the account's registry only, removed after).
// A whole deploy of an AWS environment (apply, deploy, rollback, with a registry the shim puts behind ECR because
// moto's has none) is in awsDeployFull.test.ts.
// Run: npm test -- integration test/integration/awsDeploy.test.ts
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import { createTemporaryDockerConfig } from '../../src/provisioning/deploy/dockerConfig';
import { appendRecord, parseHistory, type DeployRecord } from '../../src/provisioning/deploy/history';
import { dockerConfigKey } from '../../src/provisioning/deploy/registry';
import { openAwsConnection } from '../../src/provisioning/providers/aws/connection';
import { awsDeployTarget, ecrCredential } from '../../src/provisioning/providers/aws/deployTarget';
import { AwsDriver } from '../../src/provisioning/providers/aws/driver';
import { awsStateBackend } from '../../src/provisioning/providers/aws/module';
import { stateBucketName } from '../../src/provisioning/providers/aws/stateBackend';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';

let bed: AwsTestbed;
let kube: TestKube;
let client: KubeClient;
const KEYS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

before(async () => {
  [bed, kube] = await Promise.all([startAwsTestbed(), startTestKube()]);
  client = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
});
afterEach(async () => bed.afterEach());
after(async () => {
  client?.close();
  await Promise.all([kube?.stop(), bed?.stop()]);
});

async function driver(environment: string) {
  bed.awsHome({
    config: `[profile shop]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`,
    credentials: `[shop]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  }).use();
  return new AwsDriver({ environment, connection: await openAwsConnection({ profile: 'shop' }) });
}

const record = (id: string, at: string): DeployRecord => ({
  id, environment: 'prod', revision: { commit: 'a'.repeat(40), dirty: false, branch: 'main' },
  image: { repository: `${MOTO_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com/sample-app-prod-images`, digest: `sha256:${'b'.repeat(64)}` },
  infraConfigHash: `sha256:${'c'.repeat(64)}`, appModelHash: `sha256:${'d'.repeat(64)}`,
  by: `arn:aws:iam::${MOTO_ACCOUNT}:user/alice`, at, finishedAt: at, trigger: 'manual', result: 'succeeded',
});

test('the deploy history is an object beside the state, written with conditional writes; a stale writer loses', async () => {
  const aws = await driver('prod');
  const namespace = uniqueName('awsdeploy');
  const target = awsDeployTarget(() => awsStateBackend(aws, 'prod'), async () => client, namespace, 'the state bucket');
  const signal = new AbortController().signal;
  assert.deepEqual(await target.loadHistory(signal), { doc: undefined, version: null }, 'nothing stored yet, not even the bucket');

  const first = appendRecord(undefined, record('d-20261206-220000-0001', '2026-12-06T22:00:00.000Z'));
  assert.equal(await target.saveHistory(first.history, null, signal), true);
  assert.equal(await target.saveHistory(first.history, null, signal), false, 'If-None-Match: * a second time is refused');
  const loaded = await target.loadHistory(signal);
  assert.ok(loaded.version);
  assert.deepEqual(parseHistory(loaded.doc).records.map((r) => r.id), ['d-20261206-220000-0001']);

  // Two writers that read the same version: S3 lets exactly one through.
  const a = appendRecord(loaded.doc, record('d-20261206-220100-000a', '2026-12-06T22:01:00.000Z')).history;
  const b = appendRecord(loaded.doc, record('d-20261206-220100-000b', '2026-12-06T22:01:00.000Z')).history;
  const results = await Promise.all([target.saveHistory(a, loaded.version, signal), target.saveHistory(b, loaded.version, signal)]);
  assert.deepEqual(results.filter(Boolean).length, 1, JSON.stringify(results));
  const after2 = parseHistory((await target.loadHistory(signal)).doc);
  assert.deepEqual(after2.problems, []);
  assert.equal(after2.records.length, 2);
  assert.equal(after2.records[0]!.id, 'd-20261206-220000-0001');
  // The conditions went on the wire to S3 (moto answered 412), beside the state's key.
  const puts = bed.shim.callsTo('s3', 'PutObject').filter((c) => c.path.endsWith('/environments/prod/deploys.json'));
  assert.ok(puts.some((c) => c.status === 412), JSON.stringify(puts.map((c) => c.status)));
  assert.ok(puts.every((c) => c.path.includes(stateBucketName(MOTO_ACCOUNT, TEST_REGION))), 'in the state bucket');
  await aws.dispose();
});

test("the Deployments' annotations and rollout go to the environment's cluster (the Kubernetes half)", async () => {
  const aws = await driver('prod');
  const namespace = uniqueName('awsdeploy');
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const image = `${MOTO_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com/sample-app-prod-images@sha256:${'e'.repeat(64)}`;
  const d = await client.apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'orders', namespace },
    spec: { replicas: 1, selector: { matchLabels: { app: 'orders' } }, template: { metadata: { labels: { app: 'orders' } }, spec: { containers: [{ name: 'app', image }] } } },
  });
  const target = awsDeployTarget(() => awsStateBackend(aws, 'prod'), async () => client, namespace, 'the state bucket');
  const signal = new AbortController().signal;
  await target.annotate('orders', { 'encore.dev/deploy-id': 'd-20261206-220000-0001' }, signal);
  assert.deepEqual(await target.workloadAnnotations(['orders', 'gone'], signal), { orders: { 'encore.dev/deploy-id': 'd-20261206-220000-0001' } });
  // The controller's part (the test kube-apiserver runs none): the status of the generation there is now.
  const now = await client.get('apps/v1', 'Deployment', namespace, 'orders');
  assert.ok((now.metadata.generation ?? 0) >= (d.metadata.generation ?? 0));
  await client.mergePatch('apps/v1', 'Deployment', namespace, 'orders', { status: { observedGeneration: now.metadata.generation, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } }, 'status');
  const report = await target.watchRollout(['orders'], { timeoutMs: 10_000, pollMs: 50, signal, expectImages: { orders: image } });
  assert.equal(report.ok, true, report.summary);
  assert.deepEqual(report.deployments.map((x) => [x.name, x.result]), [['orders', 'done']]);
  await aws.dispose();
});

test("ECR's authorization token is the build's one credential, for the account's registry only, removed after", async () => {
  const aws = await driver('prod');
  const { registry, credential } = await ecrCredential(aws.awsContext, new AbortController().signal);
  assert.equal(registry, `${MOTO_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com`);
  assert.equal(credential.username, 'AWS');
  assert.ok(credential.password.length > 0);
  const config = createTemporaryDockerConfig(registry, credential);
  try {
    const written = JSON.parse(readFileSync(`${config.dir}/config.json`, 'utf8')) as { auths: Record<string, { auth: string }>; credsStore?: string };
    assert.deepEqual(Object.keys(written.auths), [dockerConfigKey(registry)]);
    assert.equal(Buffer.from(written.auths[dockerConfigKey(registry)]!.auth, 'base64').toString('utf8'), `AWS:${credential.password}`);
    assert.equal(written.credsStore, undefined, "never the user's keychain");
  } finally {
    config.dispose();
  }
  assert.equal(existsSync(config.dir), false);
  await aws.dispose();
});
