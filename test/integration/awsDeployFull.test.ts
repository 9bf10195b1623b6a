// A whole deploy of the sample app's AWS environment, as `encore-env` runs it: apply (moto through the real SDK
// clients and the shim, the in-cluster half on the real test kube-apiserver reached as the EKS cluster), then deploy,
// a second deploy and a rollback. The image goes to a real registry (distribution with Basic auth) that the shim puts
// behind ECR, because moto's ECR has none (test/aws/emulatorGaps.ts, GetAuthorizationToken): the push succeeds only
// with the password of the ECR authorization token, which the build gets in a temporary DOCKER_CONFIG. The history is
// the object beside the state in the S3 state bucket. No controllers run on the test kube-apiserver: the test plays
// them (kubeControllers.ts).
// Run: npm test -- integration test/integration/awsDeployFull.test.ts
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { runDeployCommand } from '../../src/cli/deploy/commands';
import { EXIT } from '../../src/cli/exitCodes';
import type { CliIO } from '../../src/cli/provision/commands';
import { runProvisionCommand } from '../../src/cli/provision/commands';
import type { ProvisionDeps } from '../../src/cli/provision/context';
import type { Environment } from '../../src/model/environment';
import { parseHistory, type DeployRecord } from '../../src/provisioning/deploy/history';
import { parseImageRef, RegistryClient } from '../../src/provisioning/deploy/registry';
import { desiredGraph } from '../../src/provisioning/planner';
import { stateBucketName } from '../../src/provisioning/providers/aws/stateBackend';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { cacheDir } from '../../scripts/go-tool.mjs';
import { startRegistry, type TestRegistry } from '../../scripts/registry.mjs';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { bindClusterAdmin, deployer, playLoadBalancers } from '../aws/sampleEnvironment';
import { standinEnv } from '../deploy/encoreStandin';
import { eksTokenValidator } from '../kube/eksTokenValidator';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenWebhook } from '../kube/tokenWebhook';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const repo = path.join(__dirname, '..', '..');
const ENV = 'dev';
const env: Environment = { name: ENV, type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } };
const GIT = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];
const git = (dir: string, ...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();

/** The password of the ECR authorization token: the registry's htpasswd entry for user AWS. */
const ECR_PASSWORD = randomBytes(24).toString('base64url');
/** The app's folder name, which names its AWS resources (its encore.app has an empty id, as in the CLI). */
const APP = 'shop';
const graph = desiredGraph(new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze(), env, { appId: APP });
const CLUSTER = graph.resources.find((r) => r.id === 'aws:eks')!.name;
const ECR_REPOSITORY = graph.resources.find((r) => r.id === 'aws:ecr')!.name;

let bed: AwsTestbed;
let kube: TestKube;
let webhook: TokenWebhook;
let registry: TestRegistry;
let tmp: string;
const secrets = new Map<string, { secretAccessKey: string }>();

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'aws-deploy-full-'));
  [bed, registry] = await Promise.all([startAwsTestbed(), startRegistry({ auth: { username: 'AWS', password: ECR_PASSWORD, scheme: 'basic' } })]);
  bed.shim.ecr.registry({ host: registry.host, password: ECR_PASSWORD });
  webhook = await startTokenWebhook([eksTokenValidator({ clusterName: CLUSTER, stsEndpoint: bed.endpoint, secretFor: (id) => secrets.get(id) })]);
  kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
});
afterEach(async () => bed.afterEach());
after(async () => {
  await kube?.stop();
  await webhook?.close();
  await Promise.all([bed?.stop(), registry?.stop()]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function io(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    interactive: false,
    ask: () => Promise.reject(new Error('no questions in this test')),
    signal: new AbortController().signal,
    stdout: () => out,
    stderr: () => err,
  };
}

test("the sample app's AWS environment: apply, deploy through ECR's token, a second deploy, rollback; history in S3", { timeout: 900_000 }, async () => {
  const me = await deployer(bed, secrets);
  await bindClusterAdmin(kube, me.arn);
  bed.shim.eks.connect(CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });

  // The sample app in a git repository of its own, with the AWS environment.
  const dir = path.join(tmp, APP);
  cpSync(path.join(repo, 'examples', 'sample-app'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
  writeFileSync(path.join(dir, '.gitignore'), '.encore/\nnode_modules/\n');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'the sample app');
  // The user's own Docker config: the deploy never reads or writes it (ECR's token is the one credential).
  const ownDockerConfig = path.join(tmp, 'own-docker-config');
  const deps: ProvisionDeps & { env: NodeJS.ProcessEnv; rolloutPollMs: number } = {
    provider: { timing: { pollIntervalMs: 30, deleteTimeoutMs: 60_000 } },
    // The AWS testbed gives the process a home of its own: the stand-in finds crane in the real cache.
    env: standinEnv({ DOCKER_CONFIG: ownDockerConfig, ENCORE_ENV_CACHE: cacheDir }),
    rolloutPollMs: 50,
  };
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, ENV, { intervalMs: 50 });
  const lbs = playLoadBalancers(admin, ENV);
  const ciRun = async (command: 'deploy' | 'rollback', args: string[]) => {
    const i = io();
    const code = await runDeployCommand(command, [...args, '--ci', dir], i, deps);
    const lines = i.stdout().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Any);
    return { code, lines, result: lines.at(-1)!, stderr: i.stderr(), stdout: i.stdout() };
  };
  const deployments = async () => (await admin.list('apps/v1', 'Deployment', ENV)).items as Any[];
  const s3 = new S3Client({ region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials, forcePathStyle: true });
  try {
    const applied = io();
    assert.equal(await runProvisionCommand('apply', ['--env', ENV, '--yes', dir], applied, deps), EXIT.ok, `${applied.stderr()}\n${applied.stdout().slice(-2000)}`);

    // The first deploy: built, pushed to the registry behind ECR with the token's password, rolled out by digest.
    const first = await ciRun('deploy', ['--env', ENV]);
    assert.equal(first.code, EXIT.ok, `${first.stderr}\n${JSON.stringify(first.lines.slice(-5), null, 2)}`);
    const r1 = first.result.record as DeployRecord;
    assert.equal(r1.result, 'succeeded');
    assert.equal(r1.revision.commit, git(dir, 'rev-parse', 'HEAD'));
    assert.equal(r1.by, me.arn, 'who deployed is the AWS identity');
    const repository = `${registry.host}/${ECR_REPOSITORY}`;
    assert.equal(r1.image.repository, repository, 'the image went to the ECR repository the plan made');
    const steps = new Set(first.lines.filter((l) => l.event === 'progress').map((l) => l.step));
    assert.deepEqual([...steps], ['preflight', 'build', 'digest', 'apply', 'rollout', 'record']);
    // The registry refuses anyone without the token's password: the digest read back with it matches.
    const ref = parseImageRef(`${repository}:${git(dir, 'rev-parse', '--short', 'HEAD')}`);
    await assert.rejects(new RegistryClient(registry.host).digestOf(ref), /401|unauthori[sz]ed|denied/i);
    const pushed = await new RegistryClient(registry.host, { credential: { username: 'AWS', password: ECR_PASSWORD } }).digestOf(ref);
    assert.equal(r1.image.digest, pushed);
    const live = await deployments();
    const services = live.filter((d) => d.metadata.annotations?.['encore.dev/deploy-id']);
    assert.ok(services.length >= 4, `the sample app's services run the app: ${live.map((d) => d.metadata.name).join(', ')}`);
    for (const d of services) assert.equal(d.spec.template.spec.containers[0].image, `${repository}@${pushed}`, d.metadata.name);
    // The token reached neither the output nor the user's Docker config.
    assert.ok(!first.stdout.includes(ECR_PASSWORD) && !first.stderr.includes(ECR_PASSWORD), 'the ECR token was printed');
    assert.ok(!existsSync(ownDockerConfig) || readdirSync(ownDockerConfig).length === 0, "the user's Docker config was written");

    // A new commit: a new image, a second record; then a rollback to the first, with no build.
    writeFileSync(path.join(dir, 'users', 'CHANGELOG.md'), 'a change\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'a change');
    const second = await ciRun('deploy', ['--env', ENV]);
    assert.equal(second.code, EXIT.ok, second.stderr);
    const r2 = second.result.record as DeployRecord;
    assert.notEqual(r2.image.digest, r1.image.digest);
    const back = await ciRun('rollback', ['--env', ENV, '--to', r1.id]);
    assert.equal(back.code, EXIT.ok, back.stderr);
    assert.ok(!back.lines.some((l) => l.step === 'build'), 'a rollback built something');
    const r3 = back.result.record as DeployRecord;
    assert.equal(r3.restores, r1.id);
    for (const d of (await deployments()).filter((x) => x.metadata.annotations?.['encore.dev/deploy-id'])) {
      assert.equal(d.spec.template.spec.containers[0].image, `${repository}@${r1.image.digest}`, d.metadata.name);
      assert.equal(d.metadata.annotations['encore.dev/deploy-id'], r3.id);
    }

    // The history, read independently: the object beside the state in the state bucket, three records, oldest first.
    const object = await s3.send(new GetObjectCommand({ Bucket: stateBucketName(MOTO_ACCOUNT, TEST_REGION), Key: `environments/${ENV}/deploys.json` }));
    const stored = parseHistory(JSON.parse(await object.Body!.transformToString()));
    assert.deepEqual(stored.problems, []);
    assert.deepEqual(stored.records.map((r) => r.id), [r1.id, r2.id, r3.id]);
  } finally {
    s3.destroy();
    await lbs.stop();
    await controllers.stop();
    admin.close();
  }
});
