// The deploy issue's rollouts on the real local cluster (scripts/local-cluster.mjs, context encore-local): the sample
// app's Development environment applied through the session, then deployed through the session's deploy path
// (src/session/deploy.ts) with the stand-in `encore` (test/deploy/encore-standin/) on its PATH, which builds a real
// image and pushes it to the cluster's own registry on 127.0.0.1:15000. The cluster's containerd pulls it by digest,
// the kubelet runs it, its readiness probe passes, and a request to each Service from another pod gets the app's
// answer: the environment's name, the commit it was built from, and the SHA-256 of the very infra config the pod has
// mounted. A second commit's deploy replaces it; a rollback brings the first image back, with no build.
// Needs Linux and root; elsewhere the cluster refuses to start and the test fails saying why.
// Run: npm test -- integration test/integration/localClusterDeploy.test.ts
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { PLACEHOLDER_IMAGE } from '../../src/provisioning/planner/constants';
import { EnvironmentSession, type DeployOutcome } from '../../src/session';
import { MIRROR_PREFIX } from '../../scripts/cluster-images.mjs';
import { buildLocalCluster, kubectlBin, startLocalCluster, type LocalCluster } from '../../scripts/local-cluster.mjs';
import { ensureRegistryTools } from '../../scripts/registry.mjs';
import { standinEnv } from '../deploy/encoreStandin';

const NAMESPACE = 'encore-deploy-dev';
const TOOLS = 'encore-deploy-tools';
let cluster: LocalCluster | undefined;
let appRoot = '';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

function kubectl(args: string[], allowFail = false): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(kubectlBin(), ['--kubeconfig', cluster!.kubeconfigPath, '--context', 'encore-local', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (!allowFail && r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
const getJson = (args: string[]): Any => JSON.parse(kubectl([...args, '-o', 'json']).stdout) as Any;
const describe = () => `\n${kubectl(['get', 'pods', '-n', NAMESPACE, '-o', 'wide'], true).stdout}\n${kubectl(['get', 'events', '-n', NAMESPACE, '--sort-by=.lastTimestamp'], true).stdout.split('\n').slice(-20).join('\n')}`;

const GIT = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];
const git = (...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd: appRoot, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();

before(async () => {
  await Promise.all([buildLocalCluster({ log: (m) => console.log(`[build] ${m}`) }), ensureRegistryTools()]);
  cluster = await startLocalCluster({ log: (m) => console.log(`[cluster] ${m}`) });
  appRoot = path.join(mkdtempSync(path.join(os.tmpdir(), 'local-deploy-')), 'sample-app');
  cpSync(path.join(__dirname, '..', '..', 'examples', 'sample-app'), appRoot, { recursive: true });
  // The images the product runs come through the override; the app's own image goes to the cluster's registry.
  const dev: Environment = {
    name: 'dev',
    type: 'development',
    deploy: { trigger: 'manual' },
    provider: { kind: 'kubernetes', context: 'encore-local', namespace: NAMESPACE, registry: `${cluster.registry}/sample-app` },
    images: { mirror: `${cluster.registry}/${MIRROR_PREFIX}`, replace: { [PLACEHOLDER_IMAGE]: `${cluster.registry}/encore/placeholder:1` } },
  };
  writeFileSync(path.join(appRoot, 'encore.environments.json'), `${JSON.stringify({ environments: [dev] }, null, 2)}\n`);
  writeFileSync(path.join(appRoot, '.gitignore'), '.encore/\nnode_modules/\n');
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'the sample app');
});

after(async () => {
  kubectl(['delete', 'namespace', TOOLS, '--ignore-not-found', '--wait=false'], true);
  const left = await cluster?.stop();
  if (left?.length) console.error(`the local cluster left: ${left.join('; ')}`);
  if (appRoot) rmSync(path.dirname(appRoot), { recursive: true, force: true });
});

/** A curl pod in a namespace of its own, to call the Services as another workload would. */
function curl(url: string): { status: number; body: string } {
  if (kubectl(['get', 'pod', 'toolbox', '-n', TOOLS], true).status !== 0) {
    kubectl(['create', 'namespace', TOOLS], true);
    kubectl(['run', 'toolbox', '-n', TOOLS, `--image=${cluster!.images['curlimages/curl:8.14.1']}`, '--restart=Never', '--command', '--', 'sleep', '3600']);
  }
  kubectl(['wait', '-n', TOOLS, '--for=condition=Ready', 'pod/toolbox', '--timeout=120s']);
  const r = kubectl(['exec', '-n', TOOLS, 'toolbox', '--', 'curl', '-sS', '--max-time', '10', '-w', '\n%{http_code}', url], true);
  const lines = r.stdout.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

/** Every Deployment runs the deploy's image by digest, pulled from the local registry, its pods Ready; each Service answers. */
function checkServing(outcome: DeployOutcome, commit: string): void {
  const { record } = outcome;
  assert.equal(record.result, 'succeeded', `${record.message ?? ''}${describe()}`);
  assert.deepEqual(outcome.rollout.filter((r) => r.result !== 'done'), [], describe());
  assert.equal(record.revision.commit, commit);
  const image = `${record.image.repository}@${record.image.digest}`;
  assert.ok(image.startsWith(`${cluster!.registry}/sample-app@sha256:`), image);
  const infraSecret = getJson(['get', 'secret', 'encore-infra-config', '-n', NAMESPACE]);
  const deployments = getJson(['get', 'deployments', '-n', NAMESPACE]).items as Any[];
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['auth', 'encore-gateway', 'notifications', 'orders', 'users']);
  for (const d of deployments) {
    const name = d.metadata.name as string;
    assert.equal(d.spec.template.spec.containers[0].image, image, name);
    const selector = Object.entries(d.spec.selector.matchLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
    const pods = (getJson(['get', 'pods', '-n', NAMESPACE, '-l', selector]).items as Any[]).filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(pods.length, 1, `${name}: ${pods.map((p) => p.metadata.name).join(', ')}${describe()}`);
    const status = pods[0].status.containerStatuses[0];
    // Pulled for real: the runtime reports the image by the digest the deploy pushed.
    assert.ok(String(status.imageID).endsWith(record.image.digest), `${name} runs ${status.imageID}`);
    assert.equal(status.ready, true, `${name} is Ready${describe()}`);
    // The request: the Service's in-cluster address, through cluster DNS, from another namespace.
    const answer = curl(`http://${name}.${NAMESPACE}.svc.cluster.local:8080/cgi-bin/config`);
    assert.equal(answer.status, 200, `${name}: ${answer.body}`);
    const body = JSON.parse(answer.body) as Any;
    const volume = (d.spec.template.spec.volumes as Any[]).find((v) => v.secret?.secretName === 'encore-infra-config');
    assert.ok(volume, `${name} mounts the infra config`);
    const infraText = Buffer.from(infraSecret.data[volume.secret.items[0].key], 'base64');
    assert.equal(body.env_name, 'dev', answer.body);
    assert.equal(body.infra_config_sha256, createHash('sha256').update(infraText).digest('hex'), `${name} read the mounted infra config: ${answer.body}`);
    // The image's tag is the commit's short sha: the build was of this very commit.
    assert.ok(String(body.revision).length >= 7 && commit.startsWith(body.revision), `${name} was built from ${commit}, it says ${answer.body}`);
  }
}

test('a deploy on the real cluster: the pushed image is pulled, runs and answers; a second deploy replaces it; rollback brings it back', { timeout: 1_500_000 }, async () => {
  assert.ok(cluster, 'the cluster started');
  const session = await EnvironmentSession.open({
    appRoot,
    environment: 'dev',
    model: () => new AppAnalyzer(appRoot).analyze(),
    provider: { kubeconfig: cluster.kubeconfigPath, timing: { pollIntervalMs: 250 } },
  });
  const signal = new AbortController().signal;
  const deployOptions = {
    env: standinEnv({ DOCKER_CONFIG: path.join(appRoot, '..', 'no-docker-config') }),
    rolloutPollMs: 250,
    rolloutTimeoutMs: 300_000,
    onEvent: (e: { step: string; message: string }) => console.log(`[deploy] ${e.step}: ${e.message}`),
  };
  try {
    // As a newcomer applies: the workloads that read a secret wait for its value, then Apply converges.
    const first = await session.apply();
    assert.equal(first.result.outcome, 'failed', `the first apply stops at the secret waiters${describe()}`);
    for (const s of await session.secrets()) await session.setSecretValue(s.name, `deploy-${s.name}-${Math.random().toString(36).slice(2)}`, signal);
    const applied = await session.apply();
    assert.equal(applied.result.outcome, 'succeeded', `${JSON.stringify(applied.result.failed)}${describe()}`);

    const started = Date.now();
    const one = await session.deploy(deployOptions);
    console.log(`deploy 1: ${one.record.image.digest} rolled out in ${Date.now() - started} ms`);
    checkServing(one, git('rev-parse', 'HEAD'));

    // A second commit (not of the app's code, so no apply is due) builds a new image.
    writeFileSync(path.join(appRoot, 'NOTES.md'), 'a change that is not code\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'notes');
    const two = await session.deploy(deployOptions);
    assert.notEqual(two.record.image.digest, one.record.image.digest);
    checkServing(two, git('rev-parse', 'HEAD'));

    // Rollback: the first image again, already in the registry, no build.
    const back = await session.rollback(one.record.id, deployOptions);
    assert.equal(back.record.image.digest, one.record.image.digest);
    checkServing(back, one.record.revision.commit);
    const { records } = await session.deploys(signal);
    assert.deepEqual(records.map((r) => r.result), ['succeeded', 'succeeded', 'succeeded']);

    const destroyed = await session.destroy({ confirm: 'dev' });
    assert.equal(destroyed.result.outcome, 'succeeded', JSON.stringify(destroyed.result.failed));
  } finally {
    await session.dispose();
  }
});
