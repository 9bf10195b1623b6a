// The shape of a GCP environment's CI identity for deploy on push (src/provisioning/providers/gcp/ciIdentity.ts) and
// its place in the plan (planner/ciIdentity.ts): the Workload Identity Federation provider admits only the repository
// and branch (its condition evaluated for a fork, another branch, a pull request and a tag by a small evaluator of
// the CEL equality form, test/gcp/celEquality.ts), the deploy service account is impersonable only by that
// repository's principals and holds only what a deploy does, and names that would break out of the CEL condition
// are refused. The plan has the identity for a push-triggered environment with a GitHub remote only.
// Run: node --import tsx --test test/unit/gcpCiIdentity.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { outputRef } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { desiredGraph, GCP_CI_IDENTITY } from '../../src/provisioning/planner';
import { CI_IDENTITY, CI_RULES } from '../../src/provisioning/planner/ciIdentity';
import { evaluateEqualities, githubClaims } from '../gcp/celEquality';
import { gcpCiIdentity, GcpCiInputError, GITHUB_OIDC_ISSUER, type GcpCiInput } from '../../src/provisioning/providers/gcp/ciIdentity';

const INPUT: GcpCiInput = {
  project: 'shop-prod-1', projectNumber: '123456789012', environment: 'prod', repository: 'acme/shop', branch: 'main', namespace: 'prod',
  artifactRepository: 'projects/shop-prod-1/locations/europe-west1/repositories/sample-app-prod-images', stateBucket: 'encore-state-shop-prod-1-europe-west1',
};

test('the provider admits GitHub OIDC tokens of the repository and branch only', () => {
  const id = gcpCiIdentity(INPUT);
  assert.equal(id.provider.issuerUri, GITHUB_OIDC_ISSUER);
  assert.equal(id.provider.attributeCondition, "assertion.repository == 'acme/shop' && assertion.ref == 'refs/heads/main'");
  assert.deepEqual(id.provider.attributeMapping, { 'google.subject': 'assertion.sub', 'attribute.repository': 'assertion.repository', 'attribute.ref': 'assertion.ref' });
  assert.match(id.pool.id, /^[a-z0-9-]{4,32}$/);
  assert.ok(!id.pool.id.startsWith('gcp-'), 'IAM reserves gcp- pool ids');
});

test('only the repository\'s principals of the pool may act as the deploy service account', () => {
  const id = gcpCiIdentity(INPUT);
  assert.equal(id.serviceAccount.email, 'encore-deploy-prod@shop-prod-1.iam.gserviceaccount.com');
  assert.deepEqual(id.impersonation, {
    resource: 'projects/shop-prod-1/serviceAccounts/encore-deploy-prod@shop-prod-1.iam.gserviceaccount.com',
    role: 'roles/iam.workloadIdentityUser',
    member: 'principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/encore-prod/attribute.repository/acme/shop',
  });
});

test('the service account holds only what a deploy does: push to the repository, the cluster endpoint, its state objects, its namespace', () => {
  const id = gcpCiIdentity(INPUT);
  const member = 'serviceAccount:encore-deploy-prod@shop-prod-1.iam.gserviceaccount.com';
  assert.deepEqual(id.grants.map((g) => [g.resource, g.role]), [
    [INPUT.artifactRepository, 'roles/artifactregistry.writer'],
    ['projects/shop-prod-1', 'roles/container.clusterViewer'],
    ['projects/_/buckets/encore-state-shop-prod-1-europe-west1', 'roles/storage.objectUser'],
  ]);
  assert.ok(id.grants.every((g) => g.member === member));
  assert.ok(!id.grants.some((g) => /admin|owner|editor/i.test(g.role)), 'no broad role');
  assert.deepEqual(id.grants[2]!.condition?.expression, 'resource.name.startsWith("projects/_/buckets/encore-state-shop-prod-1-europe-west1/objects/environments/prod/")', 'its own environment\'s objects only');
  assert.deepEqual(id.kubernetes, { namespace: 'prod', user: id.serviceAccount.email, rules: CI_RULES });
});

test('ids fit IAM\'s lengths for a long environment name', () => {
  const id = gcpCiIdentity({ ...INPUT, environment: 'a-very-long-environment-name-for-testing' });
  assert.ok(id.pool.id.length <= 32 && id.pool.id.length >= 4, id.pool.id);
  assert.ok(id.serviceAccount.accountId.length <= 30 && id.serviceAccount.accountId.length >= 6, id.serviceAccount.accountId);
  assert.match(id.serviceAccount.accountId, /^[a-z][a-z0-9-]*[a-z0-9]$/);
  const other = gcpCiIdentity({ ...INPUT, environment: 'a-very-long-environment-name-for-testing-2' });
  assert.notEqual(other.pool.id, id.pool.id, 'two long names stay apart');
  assert.notEqual(other.serviceAccount.accountId, id.serviceAccount.accountId);
});

test('a repository or branch that would break out of the condition is refused, saying which', () => {
  const bad: [Partial<GcpCiInput>, RegExp][] = [
    [{ repository: "acme/shop' || true || '" }, /is not a GitHub repository/],
    [{ repository: 'acme' }, /is not a GitHub repository/],
    [{ repository: 'acme/shop/extra' }, /is not a GitHub repository/],
    [{ branch: "main' || assertion.ref != '" }, /is not a branch name/],
    [{ branch: 'ma\\in' }, /is not a branch name/],
    [{ branch: 'a..b' }, /is not a branch name/],
    [{ branch: '' }, /is not a branch name/],
    [{ environment: 'Prod' }, /is not an environment name/],
    [{ projectNumber: 'shop' }, /is not a project number/],
  ];
  for (const [change, why] of bad) {
    assert.throws(() => gcpCiIdentity({ ...INPUT, ...change }), (err: Error) => err instanceof GcpCiInputError && why.test(err.message), JSON.stringify(change));
  }
  assert.equal(gcpCiIdentity({ ...INPUT, branch: 'release/v2+next' }).provider.attributeCondition, "assertion.repository == 'acme/shop' && assertion.ref == 'refs/heads/release/v2+next'");
});

test('the condition admits a push to the branch of the repository, and refuses a fork, another branch, a pull request and a tag', () => {
  const condition = gcpCiIdentity(INPUT).provider.attributeCondition;
  assert.equal(evaluateEqualities(condition, githubClaims('acme/shop', 'refs/heads/main')), true, 'a push to main of acme/shop');
  for (const [why, claims] of [
    ["a fork's run", githubClaims('mallory/shop', 'refs/heads/main')],
    ['another repository of the owner', githubClaims('acme/shop-tools', 'refs/heads/main')],
    ['another branch', githubClaims('acme/shop', 'refs/heads/feature')],
    ['a branch whose name starts with main', githubClaims('acme/shop', 'refs/heads/main-old')],
    ['a pull request', githubClaims('acme/shop', 'refs/pull/7/merge', 'pull_request')],
    ['a tag', githubClaims('acme/shop', 'refs/tags/main')],
  ] as const) {
    assert.equal(evaluateEqualities(condition, claims), false, why);
  }
  assert.throws(() => evaluateEqualities("assertion.repository == 'a/b' || true", githubClaims('a/b', 'refs/heads/main')), /not an equality condition/, 'the evaluator knows only the equality form');
});

const sample = new AppAnalyzer(path.join(__dirname, '..', '..', 'examples', 'sample-app')).analyze();
const gcpEnv: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1' } };

test('a GCP environment that deploys on push plans the pool, its provider, the deploy service account and the namespace Role bound to it', () => {
  const g = desiredGraph(sample, gcpEnv, { appId: 'sample-app', ciRepository: 'acme/shop' });
  const byId = (id: string) => g.resources.find((r) => r.id === id)!;
  const pool = byId(GCP_CI_IDENTITY.poolId);
  const provider = byId(GCP_CI_IDENTITY.providerId);
  const account = byId(GCP_CI_IDENTITY.serviceAccountId);
  assert.equal(pool.providerType, 'iam.googleapis.com/WorkloadIdentityPool');
  assert.equal(pool.name, gcpCiIdentity(INPUT).pool.id);
  assert.equal(provider.settings.attributeCondition, "assertion.repository == 'acme/shop' && assertion.ref == 'refs/heads/main'");
  assert.equal(provider.settings.issuerUri, GITHUB_OIDC_ISSUER);
  assert.deepEqual(provider.dependsOn, [GCP_CI_IDENTITY.poolId]);
  assert.match(provider.summary, /acme\/shop on main only/, 'the condition is in the plan for review');
  assert.equal(account.name, 'encore-deploy-prod');
  assert.equal(account.settings.artifactRepository, `projects/shop-prod-1/locations/europe-west1/repositories/${byId('gcp:artifact-registry').name}`);
  assert.ok(account.dependsOn.includes('gcp:artifact-registry') && account.dependsOn.includes(GCP_CI_IDENTITY.poolId));
  assert.deepEqual(byId(CI_IDENTITY.roleId).settings.rules, CI_RULES);
  const binding = byId(CI_IDENTITY.bindingId);
  assert.equal(binding.settings.user, outputRef(GCP_CI_IDENTITY.serviceAccountId, 'email'), "bound to the deploy service account's email once it is made");
  assert.ok(!g.resources.some((r) => r.id === CI_IDENTITY.serviceAccountId), 'no Kubernetes ServiceAccount: the Google one is the identity');
});

test('no CI identity for a manual trigger, and none (with a warning saying why) without a GitHub remote', () => {
  const ids = Object.values(GCP_CI_IDENTITY);
  const manual = desiredGraph(sample, { ...gcpEnv, deploy: { trigger: 'manual' } }, { appId: 'sample-app', ciRepository: 'acme/shop' });
  assert.ok(!manual.resources.some((r) => ids.includes(r.id as never) || r.id === CI_IDENTITY.bindingId));
  const noRemote = desiredGraph(sample, gcpEnv, { appId: 'sample-app' });
  assert.ok(!noRemote.resources.some((r) => ids.includes(r.id as never)));
  assert.ok(noRemote.warnings.some((w) => /names no GitHub repository.*Workload Identity pool/.test(w)), noRemote.warnings.join('\n'));
});
