// Deploy on push on GCP, against the GCP fakes through the real Google clients and the test kube-apiserver behind
// the GKE fake: the CI identity part of the sample app's GCP graph (the Workload Identity pool, its GitHub OIDC
// provider, the deploy service account, the namespace Role bound to its email, and what they stand on: the network,
// the cluster and its nodes, the Artifact Registry repository, the namespace) applied by the engine, then read back
// from the fakes' own records: the pool, the provider's issuer, mapping and condition (evaluated for the right push,
// a fork, another branch, a pull request and a tag), who may act as the account and what it holds on the repository,
// the project and the state bucket; a re-plan changes nothing; setup-ci writes the workflow naming the provider and
// the account from state, which passes actionlint; destroy removes them (pools and providers soft-deleted, as IAM
// does), and an apply after it undeletes the same pool and provider.
//
// Emulator gap, visible: no fake here exchanges a GitHub token at the provider (STS's token exchange with the
// condition evaluated is Google's), so the condition is evaluated by test/gcp/celEquality.ts on the condition the
// IAM fake stored, and the account's grants are checked on the policies, not by calls made as the account.
// Run: npm test -- integration test/integration/gcpCiIdentity.test.ts
import '../gcp/tls';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { runDeployCommand } from '../../src/cli/deploy/commands';
import { EXIT } from '../../src/cli/exitCodes';
import type { CliIO } from '../../src/cli/provision/commands';
import type { DesiredGraph } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { deployWorkflow, workflowPath } from '../../src/provisioning/deploy/workflow';
import { apply, destroy, planChanges } from '../../src/provisioning/engine';
import { desiredGraph, GCP_CI_IDENTITY } from '../../src/provisioning/planner';
import { CI_IDENTITY, CI_RULES } from '../../src/provisioning/planner/ciIdentity';
import { providerModule } from '../../src/provisioning/providers';
import { stateBucketName } from '../../src/provisioning/providers/gcp/stateBackend';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { runActionlint } from '../../scripts/actionlint.mjs';
import { GCP_INPUT } from '../deploy/workflowInputs';
import { evaluateEqualities, githubClaims } from '../gcp/celEquality';
import { TEST_PROJECT, TEST_PROJECT_NUMBER, TEST_REGION } from '../gcp/harness';
import { watchConnections } from '../gcp/localGoogle';
import { startGcpEnvironmentBed, type GcpEnvironmentBed } from '../gcp/sampleEnvironment';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const repo = path.join(__dirname, '..', '..');
const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'gcp', project: TEST_PROJECT, region: TEST_REGION } };
const CI_IDS: string[] = [...Object.values(GCP_CI_IDENTITY), CI_IDENTITY.roleId, CI_IDENTITY.bindingId];
const POOL = `projects/${TEST_PROJECT_NUMBER}/locations/global/workloadIdentityPools/encore-prod`;
const PROVIDER = `${POOL}/providers/github`;
const EMAIL = `encore-deploy-prod@${TEST_PROJECT}.iam.gserviceaccount.com`;
const MEMBER = `serviceAccount:${EMAIL}`;
const PRINCIPALS = `principalSet://iam.googleapis.com/${POOL}/attribute.repository/acme/shop`;

const connections = watchConnections();
let world: GcpEnvironmentBed;
let tmp: string;
let app: string;

/** The CI identity and everything it stands on (its dependencies, transitively), from the app's full graph. */
function ciGraph(full: DesiredGraph): DesiredGraph {
  const keep = new Set<string>();
  const visit = (id: string) => {
    if (keep.has(id)) return;
    keep.add(id);
    for (const d of full.resources.find((r) => r.id === id)!.dependsOn) visit(d);
  };
  CI_IDS.forEach(visit);
  return { ...full, resources: full.resources.filter((r) => keep.has(r.id)) };
}

function io(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false, ask: () => Promise.reject(new Error('no questions')), signal: new AbortController().signal, stdout: () => out, stderr: () => err };
}

before(async () => {
  world = await startGcpEnvironmentBed();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'gcp-ci-'));
  // The sample app in its own repository whose origin is on GitHub: the provider's condition names acme/shop.
  app = path.join(tmp, 'shop');
  cpSync(path.join(repo, 'examples', 'sample-app'), app, { recursive: true });
  writeFileSync(path.join(app, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
  const gitEnv = { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: app, env: gitEnv });
  execFileSync('git', ['remote', 'add', 'origin', 'https://github.com/acme/shop.git'], { cwd: app, env: gitEnv });
});

after(async () => {
  await world?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});

const membersOf = (policy: { bindings?: { role: string; members: string[]; condition?: Any }[] }, role: string) => (policy.bindings ?? []).filter((b) => b.role === role).flatMap((b) => b.members);

test('apply makes the pool, its provider limited to the repository and branch, the deploy service account and its bindings; setup-ci names them; destroy removes them and a new apply undeletes the pool', { timeout: 600_000 }, async () => {
  const graph = ciGraph(desiredGraph(new AppAnalyzer(app).analyze(), env, { appId: 'sample-app', ciRepository: 'acme/shop' }));
  assert.deepEqual(graph.resources.map((r) => r.id).sort(), [
    'gcp:artifact-registry', 'gcp:ci-pool', 'gcp:ci-provider', 'gcp:ci-service-account', 'gcp:gke', 'gcp:gke-nodepool', 'gcp:network', 'k8s:namespace', CI_IDENTITY.roleId, CI_IDENTITY.bindingId,
  ].sort());
  const repositoryName = `projects/${TEST_PROJECT}/locations/${TEST_REGION}/repositories/${graph.resources.find((r) => r.id === 'gcp:artifact-registry')!.name}`;
  const opened = await (await providerModule('gcp')).open(env, { appRoot: app, timing: { pollIntervalMs: 20, deleteTimeoutMs: 60_000 } });
  const backend = await opened.state();
  const admin = KubeClient.fromKubeConfig(world.kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'prod');
  try {
    // Before an apply there is nothing to name: setup-ci says so, and writes nothing.
    const early = io();
    assert.equal(await runDeployCommand('setup-ci', ['--env', 'prod', app], early), EXIT.applyFirst, early.stdout() + early.stderr());
    assert.match(early.stderr(), /has no Workload Identity provider and deploy service account yet: apply it first \(its plan makes the pool acme\/shop may use\)/);

    await opened.driver.preflight(new AbortController().signal);
    const applied = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));

    // --- read back from the fakes' own records ---
    const pool = world.iam.pools.items.get(POOL);
    assert.equal(pool?.state, 'ACTIVE', 'the pool');
    const provider = world.iam.pools.items.get(PROVIDER)!;
    assert.equal(provider.state, 'ACTIVE');
    assert.equal(provider.oidc.issuerUri, 'https://token.actions.githubusercontent.com');
    assert.deepEqual(provider.attributeMapping, { 'google.subject': 'assertion.sub', 'attribute.repository': 'assertion.repository', 'attribute.ref': 'assertion.ref' });
    assert.equal(provider.attributeCondition, "assertion.repository == 'acme/shop' && assertion.ref == 'refs/heads/main'");
    assert.equal(evaluateEqualities(provider.attributeCondition, githubClaims('acme/shop', 'refs/heads/main')), true, 'a push to main is admitted');
    for (const [why, claims] of [
      ["a fork's run", githubClaims('mallory/shop', 'refs/heads/main')],
      ['another branch', githubClaims('acme/shop', 'refs/heads/feature')],
      ['a pull request', githubClaims('acme/shop', 'refs/pull/1/merge', 'pull_request')],
      ['a tag', githubClaims('acme/shop', 'refs/tags/v1')],
    ] as const) assert.equal(evaluateEqualities(provider.attributeCondition, claims), false, `${why} is refused`);

    assert.ok(world.iam.accounts.get(EMAIL), 'the deploy service account');
    assert.deepEqual(world.iam.membersOf(EMAIL, 'roles/iam.workloadIdentityUser'), [PRINCIPALS], "only the repository's principals of the pool may act as it");
    assert.deepEqual(world.iam.policies.get(EMAIL).bindings.map((b) => b.role), ['roles/iam.workloadIdentityUser'], 'and nothing else on it');
    assert.deepEqual(membersOf(world.registry.policies.get(repositoryName), 'roles/artifactregistry.writer'), [MEMBER], 'writer on the app repository');
    const project = world.resourceManager.projectPolicy(TEST_PROJECT);
    assert.deepEqual(project.bindings.filter((b) => b.members.includes(MEMBER)).map((b) => b.role), ['roles/container.clusterViewer'], 'on the project: cluster viewer only');
    const bucket = world.gcsIam.policies.get(stateBucketName(TEST_PROJECT, TEST_REGION));
    const stateBindings = bucket.bindings.filter((b) => b.members.includes(MEMBER));
    assert.deepEqual(stateBindings.map((b) => [b.role, b.condition?.expression]), [
      ['roles/storage.objectUser', `resource.name.startsWith("projects/_/buckets/${stateBucketName(TEST_PROJECT, TEST_REGION)}/objects/environments/prod/")`],
    ], "objectUser on the environment's own state objects, by a condition on their prefix");
    assert.equal(bucket.version, 3, 'a conditional binding is a version 3 policy');

    const role = (await admin.find('rbac.authorization.k8s.io/v1', 'Role', 'prod', CI_IDENTITY.name)) as Any;
    assert.deepEqual(role.rules.map((r: Any) => ({ apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs })), CI_RULES);
    const binding = (await admin.find('rbac.authorization.k8s.io/v1', 'RoleBinding', 'prod', CI_IDENTITY.name)) as Any;
    assert.deepEqual(binding.subjects, [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: EMAIL }], "the Role is bound to the service account's email, as GKE names it");
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CI_IDENTITY.name });

    const again = await planChanges(graph, await backend.load(), opened.driver);
    assert.deepEqual(again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${e.action} ${JSON.stringify(e.changes)}`), [], 'a re-plan changes nothing');

    // --- setup-ci: the workflow names the provider and the account the apply made (from state), and passes actionlint ---
    const written = io();
    assert.equal(await runDeployCommand('setup-ci', ['--env', 'prod', '--encore-version', GCP_INPUT.encoreVersion, app], written), EXIT.ok, written.stderr());
    const expected = await deployWorkflow({ environment: 'prod', branch: 'main', appPath: '.', encoreVersion: GCP_INPUT.encoreVersion, cloud: { kind: 'gcp', workloadIdentityProvider: PROVIDER, serviceAccount: EMAIL } });
    assert.equal(readFileSync(path.join(app, workflowPath('prod')), 'utf8'), expected);
    assert.deepEqual(GCP_INPUT, { environment: 'prod', branch: 'main', appPath: '.', encoreVersion: GCP_INPUT.encoreVersion, cloud: { kind: 'gcp', workloadIdentityProvider: PROVIDER, serviceAccount: EMAIL } }, "the expected file's inputs are what this apply made");
    assert.equal(readFileSync(path.join(app, workflowPath('prod')), 'utf8'), readFileSync(path.join(repo, 'test', 'fixtures', 'deploy', 'encore-deploy-prod.yml'), 'utf8'), 'the expected file, byte for byte');
    assert.match(expected, new RegExp(`workload_identity_provider: ${PROVIDER.replace(/[/.]/g, '\\$&')}\\n`));
    assert.match(expected, new RegExp(`service_account: ${EMAIL.replace(/[.@]/g, '\\$&')}\\n`));
    assert.match(written.stdout(), /admits only acme\/shop's pushes to main/);
    assert.match(written.stdout(), /No secret is stored/);
    assert.deepEqual(await runActionlint([workflowPath('prod')], { cwd: app }), { code: 0, output: '' });

    // --- destroy: the account's grants and the account go, the provider and pool are soft-deleted ---
    const gone = await destroy('prod', 'gcp', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.equal(world.iam.accounts.has(EMAIL), false, 'the service account is deleted');
    assert.deepEqual(membersOf(world.registry.policies.get(repositoryName), 'roles/artifactregistry.writer'), []);
    assert.ok(!world.resourceManager.projectPolicy(TEST_PROJECT).bindings.some((b) => b.members.includes(MEMBER)), 'its project binding is removed');
    assert.ok(!world.gcsIam.policies.get(stateBucketName(TEST_PROJECT, TEST_REGION)).bindings.some((b) => b.members.includes(MEMBER)), 'its state bucket binding is removed');
    assert.equal(world.iam.pools.items.get(PROVIDER)?.state, 'DELETED', 'the provider is soft-deleted');
    assert.equal(world.iam.pools.items.get(POOL)?.state, 'DELETED', 'the pool is soft-deleted (IAM keeps it 30 days)');

    // --- the same environment applied again within the 30 days: the pool and provider are undeleted ---
    const back = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(back.result.outcome, 'succeeded', JSON.stringify(back.result.failed, null, 2));
    assert.equal(world.iam.pools.items.get(POOL)?.state, 'ACTIVE', 'the pool is back');
    assert.equal(world.iam.pools.items.get(PROVIDER)?.state, 'ACTIVE', 'the provider is back');
    const calls = world.iam.calls.map((c) => c.method);
    assert.ok(calls.includes('UndeleteWorkloadIdentityPool') && calls.includes('UndeleteWorkloadIdentityPoolProvider'), 'by undelete, not a create refused ALREADY_EXISTS');
    assert.deepEqual(world.iam.membersOf(EMAIL, 'roles/iam.workloadIdentityUser'), [PRINCIPALS]);

    // --- another branch: the plan shows the provider's condition changing, apply patches it in place ---
    const release = ciGraph(desiredGraph(new AppAnalyzer(app).analyze(), { ...env, deploy: { trigger: 'push', branch: 'release' } }, { appId: 'sample-app', ciRepository: 'acme/shop' }));
    const moved = await planChanges(release, await backend.load(), opened.driver);
    assert.deepEqual(moved.entries.filter((e) => e.action !== 'keep').map((e) => [e.id, e.action, e.changes?.map((c) => c.path)]), [
      [GCP_CI_IDENTITY.providerId, 'update', ['attributeCondition']],
    ], 'only the provider condition changes');
    const patched = await apply(release, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(patched.result.outcome, 'succeeded', JSON.stringify(patched.result.failed, null, 2));
    assert.equal(world.iam.pools.items.get(PROVIDER)!.attributeCondition, "assertion.repository == 'acme/shop' && assertion.ref == 'refs/heads/release'");
    assert.ok(world.iam.calls.some((c) => c.method === 'UpdateWorkloadIdentityPoolProvider'), 'patched, not re-made');
    const last = await destroy('prod', 'gcp', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(last.result.outcome, 'succeeded', JSON.stringify(last.result.failed, null, 2));
  } finally {
    await controllers.stop();
    await opened.dispose();
  }
});
