// A GCP environment's part of a deploy, and a whole deploy of the sample app's GCP Production environment.
// - The deploy history as an object beside the state in the GCS state bucket, against fake-gcs-server through the real
//   Storage client and a recording proxy: written with generation preconditions (ifGenerationMatch: 0 first, then the
//   generation read), a stale writer refused (the fake's 412 seen on the wire), two concurrent appends that both land
//   (the loser reads again and retries), and only the last 100 records kept.
// - The deploy through the CLI and the session against the GCP fakes and the test kube-apiserver behind the GKE fake:
//   apply, then `encore-env deploy`: the image pushed to the repository Artifact Registry reports with the ADC access
//   token as the one registry credential (in a temporary DOCKER_CONFIG removed after), the Deployments rolled to
//   REPO@sha256:…, the record in GCS.
// Emulator gap, reported by the test: the Artifact Registry fake serves the repositories' API, not Docker, so a local
// registry behind a proxy that takes `oauth2accesstoken` + an issued access token stands in (artifactRegistryDocker.ts).
// Run: npm test -- integration test/integration/gcpDeploy.test.ts
import '../gcp/tls';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { runDeployCommand } from '../../src/cli/deploy/commands';
import { EXIT } from '../../src/cli/exitCodes';
import { runProvisionCommand, type CliIO } from '../../src/cli/provision/commands';
import type { ProvisionDeps } from '../../src/cli/provision/context';
import type { Environment } from '../../src/model/environment';
import { appendRecord, HISTORY_LIMIT, parseHistory, type DeployRecord } from '../../src/provisioning/deploy/history';
import { parseImageRef, RegistryClient } from '../../src/provisioning/deploy/registry';
import { ACCESS_TOKEN_USER, artifactRegistryCredential, gcpDeployTarget } from '../../src/provisioning/providers/gcp/deployTarget';
import { gcpStateBackend, stateBucketName } from '../../src/provisioning/providers/gcp/stateBackend';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { appendToHistory } from '../../src/session/deploy';
import { startGcsFake, type GcsFake } from '../../scripts/gcp-fakes.mjs';
import { playLoadBalancers } from '../aws/sampleEnvironment';
import { standinEnv } from '../deploy/encoreStandin';
import { startArtifactRegistryDocker, type ArtifactRegistryDocker } from '../gcp/artifactRegistryDocker';
import { startGcsProxy, type GcsProxy } from '../gcp/gcsProxy';
import { TEST_PROJECT, TEST_REGION } from '../gcp/harness';
import { watchConnections } from '../gcp/localGoogle';
import { startGcpEnvironmentBed, type GcpEnvironmentBed } from '../gcp/sampleEnvironment';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const repo = path.join(__dirname, '..', '..');
const PROJECT = 'shop-prod-1';
const REGION = 'europe-west1';
const connections = watchConnections();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gcp-deploy-'));
let gcs: GcsFake;
let proxy: GcsProxy;

before(async () => {
  gcs = await startGcsFake();
  proxy = await startGcsProxy(gcs.apiEndpoint);
});
after(async () => {
  await proxy?.close();
  await gcs?.stop();
  rmSync(tmp, { recursive: true, force: true });
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});

const record = (id: string, at: string): DeployRecord => ({
  id, environment: 'prod', revision: { commit: 'a'.repeat(40), dirty: false, branch: 'main' },
  image: { repository: `${REGION}-docker.pkg.dev/${PROJECT}/sample-app-prod-images`, digest: `sha256:${'b'.repeat(64)}` },
  infraConfigHash: `sha256:${'c'.repeat(64)}`, appModelHash: `sha256:${'d'.repeat(64)}`,
  by: 'dev@shop.example', at, finishedAt: at, trigger: 'manual', result: 'succeeded',
});
const idAt = (n: number) => `d-20261206-${String(220000 + n).padStart(6, '0')}-${n.toString(16).padStart(4, '0')}`;

function historyTarget(environment: string) {
  const storage = new Storage({ projectId: PROJECT, apiEndpoint: proxy.apiEndpoint, authClient: new PassThroughClient() });
  const backend = gcpStateBackend({ storage, projectId: PROJECT, region: REGION, environment, account: 'dev@shop.example' });
  const noCluster = () => Promise.reject(new Error('no cluster in this test'));
  return gcpDeployTarget(() => backend, noCluster, environment, 'the state bucket');
}
const uploads = (environment: string) =>
  proxy.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/upload/storage/v1/b/') && c.query.get('name') === `environments/${environment}/deploys.json`);

test('the deploy history is an object beside the state, written with generation preconditions; a stale writer loses', async () => {
  const target = historyTarget('prod');
  const signal = new AbortController().signal;
  assert.deepEqual(await target.loadHistory(signal), { doc: undefined, version: null }, 'nothing stored yet, not even the bucket');

  const first = appendRecord(undefined, record(idAt(0), '2026-12-06T22:00:00.000Z'));
  assert.equal(await target.saveHistory(first.history, null, signal), true);
  assert.equal(await target.saveHistory(first.history, null, signal), false, 'ifGenerationMatch: 0 a second time is refused');
  const loaded = await target.loadHistory(signal);
  assert.match(String(loaded.version), /^\d+$/, 'the version is the object generation');
  assert.deepEqual(parseHistory(loaded.doc).records.map((r) => r.id), [idAt(0)]);

  // Two writers that read the same generation: GCS lets exactly one through.
  const a = appendRecord(loaded.doc, record(idAt(1), '2026-12-06T22:01:00.000Z')).history;
  const b = appendRecord(loaded.doc, record(idAt(2), '2026-12-06T22:01:00.000Z')).history;
  const results = await Promise.all([target.saveHistory(a, loaded.version, signal), target.saveHistory(b, loaded.version, signal)]);
  assert.equal(results.filter(Boolean).length, 1, JSON.stringify(results));
  const after2 = parseHistory((await target.loadHistory(signal)).doc);
  assert.deepEqual(after2.problems, []);
  assert.equal(after2.records.length, 2);
  assert.equal(after2.records[0]!.id, idAt(0));

  // The preconditions went on the wire, beside the state's object, and the fake answered the stale ones 412.
  const puts = uploads('prod');
  assert.equal(puts[0]!.query.get('ifGenerationMatch'), '0');
  assert.ok(puts.slice(2).every((c) => c.query.get('ifGenerationMatch') === loaded.version), JSON.stringify(puts.map((c) => c.query.get('ifGenerationMatch'))));
  assert.equal(puts.filter((c) => c.status === 412).length, 2, JSON.stringify(puts.map((c) => c.status)));
  assert.ok(puts.every((c) => c.path === `/upload/storage/v1/b/${stateBucketName(PROJECT, REGION)}/o`), 'in the state bucket');
});

test('two deploys recorded at once both land: the one that loses the precondition reads again and retries', async () => {
  const target = historyTarget('staging');
  await appendToHistory(target, { ...record(idAt(10), '2026-12-06T22:10:00.000Z'), environment: 'staging' });
  // Both writers read the same generation before either writes (a barrier on their first read), so one must lose.
  let waiting: (() => void)[] = [];
  let first = 2;
  const racing = {
    ...target,
    async loadHistory(signal: AbortSignal) {
      const loaded = await target.loadHistory(signal);
      if (first > 0) {
        first--;
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length === 2) for (const w of waiting) w();
        });
      }
      return loaded;
    },
  };
  const before412 = uploads('staging').filter((c) => c.status === 412).length;
  const x = { ...record(idAt(11), '2026-12-06T22:11:00.000Z'), environment: 'staging' };
  const y = { ...record(idAt(12), '2026-12-06T22:11:00.000Z'), environment: 'staging' };
  await Promise.all([appendToHistory(racing, x), appendToHistory(racing, y)]);
  waiting = [];
  assert.equal(uploads('staging').filter((c) => c.status === 412).length - before412, 1, 'exactly one writer lost the precondition and retried');
  const stored = parseHistory((await target.loadHistory(new AbortController().signal)).doc);
  assert.deepEqual(stored.problems, []);
  assert.deepEqual(stored.records.map((r) => r.id).sort(), [idAt(10), idAt(11), idAt(12)], 'both records landed');
  assert.equal(stored.records[0]!.id, idAt(10), 'append-only: the oldest stays first');
  // A record already stored is not added twice (a re-run after a crash).
  await appendToHistory(target, x);
  assert.equal(parseHistory((await target.loadHistory(new AbortController().signal)).doc).records.length, 3);
});

test(`only the last ${HISTORY_LIMIT} deploys are kept: the oldest is dropped by the append that goes past them`, async () => {
  const target = historyTarget('busy');
  let doc: unknown;
  for (let n = 0; n < HISTORY_LIMIT; n++) doc = appendRecord(doc, { ...record(idAt(n), '2026-12-06T22:00:00.000Z'), environment: 'busy' }).history;
  assert.equal(await target.saveHistory(doc, null, new AbortController().signal), true);
  await appendToHistory(target, { ...record(idAt(HISTORY_LIMIT), '2026-12-06T23:00:00.000Z'), environment: 'busy' });
  const ids = parseHistory((await target.loadHistory(new AbortController().signal)).doc).records.map((r) => r.id);
  assert.equal(ids.length, HISTORY_LIMIT);
  assert.equal(ids[0], idAt(1), 'the oldest went');
  assert.equal(ids.at(-1), idAt(HISTORY_LIMIT), 'the newest is last');
});

test('the ADC access token goes only to the Docker location Artifact Registry reports for the recorded repository', async () => {
  const connection = { project: PROJECT, region: REGION, accessToken: async () => 'ya29.test-token' };
  const signal = new AbortController().signal;
  const uri = `${REGION}-docker.pkg.dev/${PROJECT}/images`;
  const got = await artifactRegistryCredential(connection, uri, async () => uri, signal);
  assert.deepEqual(got, { registry: `${REGION}-docker.pkg.dev`, credential: { username: ACCESS_TOKEN_USER, password: 'ya29.test-token' } });
  await assert.rejects(artifactRegistryCredential(connection, `evil.example/${PROJECT}/images`, async () => uri, signal), (err: Error) =>
    /recorded in state \(evil\.example\/shop-prod-1\/images\) is not where Artifact Registry says it is/.test(err.message) && !err.message.includes('ya29'));
  await assert.rejects(artifactRegistryCredential(connection, `${REGION}-docker.pkg.dev/other-project/images`, async () => uri, signal), /in project other-project, and the credentials are for project shop-prod-1/);
  await assert.rejects(artifactRegistryCredential(connection, uri, async () => null, signal), /Artifact Registry has no repository images in project shop-prod-1, europe-west1: apply/);
  await assert.rejects(artifactRegistryCredential(connection, 'not-a-repository', async () => uri, signal), /is not HOST\/PROJECT\/REPOSITORY/);
});

// --- a whole deploy ---------------------------------------------------------------------------------------------

const GIT = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];
const git = (dir: string, ...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();

function io(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    interactive: false,
    ask: () => Promise.reject(new Error('no questions in these tests')),
    signal: new AbortController().signal,
    stdout: () => out,
    stderr: () => err,
  };
}

test("a deploy of the sample app's GCP Production environment: pushed to Artifact Registry with the ADC token, rolled out by digest, recorded in GCS", { timeout: 600_000 }, async (t) => {
  let bed: GcpEnvironmentBed | undefined;
  let docker: ArtifactRegistryDocker | undefined;
  const stops: { stop(): Promise<void> }[] = [];
  try {
    bed = await startGcpEnvironmentBed();
    docker = await startArtifactRegistryDocker(bed.bed.accepted);
    const dockerHost = docker.host;
    bed.registry.dockerHost = () => dockerHost;
    t.diagnostic(`Artifact Registry fake gap: it has no Docker endpoint; the repositories' registryUri names ${dockerHost}, a local registry (crane) behind a proxy that takes ${ACCESS_TOKEN_USER} + an access token the test bed issued, standing in for ${TEST_REGION}-docker.pkg.dev`);

    const dir = mkdtempSync(path.join(tmp, 'app-'));
    cpSync(path.join(repo, 'examples', 'sample-app'), dir, { recursive: true });
    const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: TEST_PROJECT, region: TEST_REGION } };
    writeFileSync(path.join(dir, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
    writeFileSync(path.join(dir, '.gitignore'), '.encore/\nnode_modules/\n');
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'the sample app');
    // The user's own Docker config: never read, never written by the deploy.
    const userDockerConfig = path.join(tmp, 'user-docker-config');
    // The temporary Docker config is made in os.tmpdir(): a folder of the test's own for the deploy, to see it go.
    const tempParent = mkdtempSync(path.join(tmp, 'deploy-temp-'));
    const deps: ProvisionDeps & { env: NodeJS.ProcessEnv; rolloutPollMs: number } = {
      provider: { timing: { pollIntervalMs: 20, deleteTimeoutMs: 60_000 } },
      env: standinEnv({ DOCKER_CONFIG: userDockerConfig }),
      rolloutPollMs: 50,
    };

    const admin = KubeClient.fromKubeConfig(bed.kube.kubeConfig(), 'encore-test');
    stops.push(simulateControllers(admin, 'prod', { intervalMs: 50 }), playLoadBalancers(admin, 'prod'), { stop: async () => admin.close() });

    const applied = io();
    assert.equal(await runProvisionCommand('apply', ['--env', 'prod', '--yes', dir], applied, deps), EXIT.ok, applied.stderr());

    const run = io();
    const tmpdir = process.env.TMPDIR;
    process.env.TMPDIR = tempParent;
    let code: number;
    try {
      code = await runDeployCommand('deploy', ['--env', 'prod', '--ci', dir], run, deps);
    } finally {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
    const lines = run.stdout().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Any);
    assert.equal(code, EXIT.ok, `${run.stderr()}\n${JSON.stringify(lines.slice(-5), null, 2)}`);
    const r = lines.at(-1)!.record as DeployRecord;
    assert.equal(r.result, 'succeeded');
    assert.equal(r.revision.commit, git(dir, 'rev-parse', 'HEAD'));
    const repository = `${dockerHost}/${TEST_PROJECT}/${bed.registry.repositories.values().next().value!.name.split('/').at(-1)}`;
    assert.equal(r.image.repository, repository, 'the repository Artifact Registry reported');
    assert.ok(lines.some((l) => l.step === 'preflight' && /pushing to .* with a short-lived token/.test(l.message ?? '')));
    const historyObject = `gs://${stateBucketName(TEST_PROJECT, TEST_REGION)}/environments/prod/deploys.json (project ${TEST_PROJECT})`;
    assert.ok(lines.some((l) => l.step === 'record' && String(l.message).endsWith(`in ${historyObject}`)), JSON.stringify(lines.filter((l) => l.step === 'record')));
    const issued = bed.bed.tokens.issued();
    assert.ok(issued.length > 0);
    for (const token of issued) assert.ok(!run.stdout().includes(token) && !run.stderr().includes(token), 'an access token in the output');

    // The push and the digest read carried the ADC token (as oauth2accesstoken) and nothing else got through.
    const authed = docker.calls.filter((c) => c.caller === 'oauth2accesstoken');
    assert.ok(authed.some((c) => c.method === 'PUT' && /\/manifests\//.test(c.path)), 'the manifest was pushed with the token');
    assert.ok(authed.some((c) => c.method === 'HEAD' && /\/manifests\//.test(c.path)), 'the digest was read with the token');
    assert.equal(docker.calls.filter((c) => c.caller === 'rejected').length, 0, 'no other credential was offered');
    // The digest is the registry's for the tag pushed; every Deployment runs it by digest.
    const short = git(dir, 'rev-parse', '--short', 'HEAD');
    const { credential } = await artifactRegistryCredential({ project: TEST_PROJECT, region: TEST_REGION, accessToken: async () => issued.at(-1)! }, repository, async () => repository, new AbortController().signal);
    const pushed = await new RegistryClient(dockerHost, { credential }).digestOf(parseImageRef(`${repository}:${short}`));
    assert.equal(r.image.digest, pushed);
    const live = (await admin.list('apps/v1', 'Deployment', 'prod')).items as Any[];
    assert.ok(live.length >= 2, 'the sample app has several services');
    for (const d of live) {
      assert.equal(d.spec.template.spec.containers[0].image, `${repository}@${pushed}`, d.metadata.name);
      assert.equal(d.metadata.annotations['encore.dev/deploy-id'], r.id);
    }
    // The temporary DOCKER_CONFIG is gone and the user's was never made.
    assert.ok(docker.calls.length > 0);
    assert.deepEqual(readdirSync(tempParent).filter((f) => f.startsWith('encore-docker-config-')), [], 'the temporary Docker config was removed');
    assert.throws(() => readdirSync(userDockerConfig), /ENOENT/);

    // The record is in the GCS state bucket beside the state, and `deploys` reads it back.
    const storage = new Storage({ projectId: TEST_PROJECT, apiEndpoint: `http://${bed.gcsIam.hostPort}`, authClient: new PassThroughClient() });
    const [body] = await storage.bucket(stateBucketName(TEST_PROJECT, TEST_REGION)).file('environments/prod/deploys.json').download();
    const stored = parseHistory(JSON.parse(body.toString('utf8')));
    assert.deepEqual(stored.problems, []);
    assert.deepEqual(stored.records.map((x) => x.id), [r.id]);
    const list = io();
    assert.equal(await runDeployCommand('deploys', ['--env', 'prod', '--json', dir], list, deps), EXIT.ok, list.stderr());
    assert.equal((JSON.parse(list.stdout()) as { current: string }).current, r.id);

    // A second deploy of a new commit, then a rollback to the first: its digest found in the registry with the token, no build.
    writeFileSync(path.join(dir, 'users', 'CHANGELOG.md'), 'a change\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'a change');
    const ci = async (command: 'deploy' | 'rollback', args: string[]) => {
      const i = io();
      const exit = await runDeployCommand(command, [...args, '--ci', dir], i, deps);
      const out = i.stdout().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Any);
      assert.equal(exit, EXIT.ok, `${i.stderr()}\n${JSON.stringify(out.slice(-3), null, 2)}`);
      return out;
    };
    const r2 = (await ci('deploy', ['--env', 'prod'])).at(-1)!.record as DeployRecord;
    assert.notEqual(r2.image.digest, r.image.digest);
    const back = await ci('rollback', ['--env', 'prod', '--to', r.id]);
    assert.ok(!back.some((l) => l.step === 'build'), 'a rollback built something');
    const r3 = back.at(-1)!.record as DeployRecord;
    assert.equal(r3.restores, r.id);
    for (const d of (await admin.list('apps/v1', 'Deployment', 'prod')).items as Any[]) assert.equal(d.spec.template.spec.containers[0].image, `${repository}@${r.image.digest}`);
    const [again] = await storage.bucket(stateBucketName(TEST_PROJECT, TEST_REGION)).file('environments/prod/deploys.json').download();
    assert.deepEqual(parseHistory(JSON.parse(again.toString('utf8'))).records.map((x) => x.id), [r.id, r2.id, r3.id], 'append-only in GCS');
  } finally {
    for (const s of stops) await s.stop().catch(() => undefined);
    await docker?.close();
    await bed?.stop();
  }
});
