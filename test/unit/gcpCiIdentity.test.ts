// The shape of a GCP environment's CI identity for deploy on push (src/provisioning/providers/gcp/ciIdentity.ts, not
// yet planned): the Workload Identity Federation provider admits only the repository and branch, the deploy service
// account is impersonable only by that repository's principals and holds only what a deploy does, and names that
// would break out of the CEL condition are refused.
// Run: node --import tsx --test test/unit/gcpCiIdentity.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CI_RULES } from '../../src/provisioning/planner/ciIdentity';
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
