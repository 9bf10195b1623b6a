// "Use an existing cluster" (issues 10 and 12): the cluster is planned as a read-only resource, with no network,
// NAT or node pool of the environment's own, and the managed databases and caches placed from its outputs (on GCP
// through the private services access of the cluster's network).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredGraph } from '../../src/model/desiredGraph';
import { desiredGraph } from '../../src/provisioning/planner';
import { estimateCost } from '../../src/provisioning/cost/estimate';
import { schemaErrorsOfEnvironment } from '../../src/environments/schema';
import { canonicalEnvironment } from '../../src/environments/serialize';
import { byId, env, everything, sample } from './plannerHelpers';

const awsExisting = (type: 'production' | 'development') =>
  env('aws', type, { provider: { kind: 'aws', region: 'eu-west-1', cluster: { name: 'shared-prod' } } });

function assertClosed(g: DesiredGraph): void {
  for (const r of g.resources) for (const d of r.dependsOn) assert.ok(g.resources.some((x) => x.id === d), `${r.id} waits for ${d}, which is not planned`);
}

test('AWS on an existing EKS cluster: no VPC, cluster or node group of its own; the cluster read only', () => {
  for (const type of ['production', 'development'] as const) {
    const g = desiredGraph(everything, awsExisting(type));
    const types = new Set(g.resources.map((r) => r.providerType));
    for (const gone of ['AWS::EC2::VPC', 'AWS::EKS::Cluster', 'AWS::EKS::Nodegroup']) assert.ok(!types.has(gone), `${type}: ${gone} is planned`);
    const cluster = byId(g, 'aws:eks');
    assert.equal(cluster.providerType, 'AWS::EKS::ExistingCluster');
    assert.equal(cluster.name, 'shared-prod', 'the cluster keeps its own name');
    assert.equal(cluster.settings.existing, true);
    assert.deepEqual(cluster.dependsOn, []);
    assert.match(cluster.summary, /existing EKS cluster shared-prod in eu-west-1 \(read only/);
    // No cluster autoscaler: the cluster's nodes are not the environment's.
    assert.ok(!g.resources.some((r) => r.kind === 'clusterAddon'), `${type}: an add-on is planned on a cluster that is not ours`);
    const deployment = g.resources.find((r) => r.providerType === 'k8s/apps/v1/Deployment')!;
    assert.ok(deployment.dependsOn.includes('aws:eks') && !deployment.dependsOn.includes('aws:eks-nodegroup'), deployment.dependsOn.join(', '));
    // IRSA through the existing cluster's OIDC provider.
    const role = g.resources.find((r) => r.providerType === 'AWS::IAM::Role')!;
    assert.match(JSON.stringify(role.settings), /\$\{aws:eks\.oidcProviderArn\}/);
    assert.ok(byId(g, 'aws:ecr'), 'the app still gets its ECR repository');
    assertClosed(g);
  }
});

test('AWS Production on an existing cluster: databases and caches in its VPC, behind groups open to its security group only', () => {
  const g = desiredGraph(everything, awsExisting('production'));
  const access = byId(g, 'aws:storage-access');
  assert.equal(access.providerType, 'AWS::EC2::StorageSecurityGroups');
  assert.deepEqual(access.settings, {
    vpcId: '${aws:eks.vpcId}',
    subnetIds: '${aws:eks.privateSubnetIds}',
    clusterSecurityGroupId: '${aws:eks.clusterSecurityGroupId}',
    tiers: ['database', 'cache'],
  });
  assert.deepEqual(access.dependsOn, ['aws:eks']);
  const rds = g.resources.filter((r) => r.providerType === 'AWS::RDS::DBInstance');
  const caches = g.resources.filter((r) => r.providerType === 'AWS::ElastiCache::ReplicationGroup');
  assert.ok(rds.length > 0 && caches.length > 0);
  for (const r of rds) {
    assert.equal(r.settings.subnetIds, '${aws:storage-access.storageSubnetIds}');
    assert.equal(r.settings.securityGroupId, '${aws:storage-access.databaseSecurityGroupId}');
    assert.ok(r.dependsOn.includes('aws:storage-access') && !r.dependsOn.includes('aws:vpc'), r.dependsOn.join(', '));
  }
  for (const r of caches) {
    assert.equal(r.settings.subnetIds, '${aws:storage-access.storageSubnetIds}');
    assert.equal(r.settings.securityGroupId, '${aws:storage-access.cacheSecurityGroupId}');
  }
  // Development keeps its databases in the cluster: no storage groups.
  assert.ok(!desiredGraph(everything, awsExisting('development')).resources.some((r) => r.id === 'aws:storage-access'));
});

test('AWS with a cluster of its own is unchanged: VPC, EKS, node group, databases on the VPC', () => {
  const g = desiredGraph(everything, env('aws', 'production'));
  assert.equal(byId(g, 'aws:eks').providerType, 'AWS::EKS::Cluster');
  assert.ok(byId(g, 'aws:eks-nodegroup') && byId(g, 'aws:vpc'));
  const rds = g.resources.find((r) => r.providerType === 'AWS::RDS::DBInstance')!;
  assert.equal(rds.settings.subnetIds, '${aws:vpc.storageSubnetIds}');
  assert.ok(!g.resources.some((r) => r.id === 'aws:storage-access'));
});

test('the cost estimate of an existing cluster counts nothing for the cluster or its nodes', () => {
  const est = estimateCost(desiredGraph(sample, awsExisting('production')), { provider: { kind: 'aws', region: 'eu-west-1' } })!;
  const ids = est.lines.map((l) => l.id);
  assert.ok(!ids.includes('aws:eks-nodegroup') && !ids.includes('aws:vpc'));
  const cluster = est.lines.find((l) => l.id === 'aws:eks');
  assert.ok(!cluster || cluster.monthlyUsd === 0, JSON.stringify(cluster));
});

test('the schema takes an existing cluster for AWS and GCP, and refuses a malformed one', () => {
  const base = { name: 'prod', type: 'production', deploy: { trigger: 'manual' } };
  assert.deepEqual(schemaErrorsOfEnvironment({ ...base, provider: { kind: 'aws', region: 'eu-west-1', cluster: { name: 'shared-prod' } } }), []);
  assert.deepEqual(schemaErrorsOfEnvironment({ ...base, provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', cluster: { name: 'shared', location: 'europe-west1-b' } } }), []);
  assert.ok(schemaErrorsOfEnvironment({ ...base, provider: { kind: 'aws', region: 'eu-west-1', cluster: {} } }).length > 0, 'a cluster without a name');
  assert.ok(schemaErrorsOfEnvironment({ ...base, provider: { kind: 'aws', region: 'eu-west-1', cluster: { name: 'x', context: 'y' } } }).length > 0, 'an unknown key');
  assert.ok(schemaErrorsOfEnvironment({ ...base, provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', cluster: { name: 'shared' } } }).length > 0, 'a GKE cluster without a location');
  assert.ok(schemaErrorsOfEnvironment({ ...base, provider: { kind: 'aws', region: 'eu-west-1', cluster: { name: 'bad name!' } } }).length > 0, 'a name EKS refuses');
});

test('writing the environment keeps the existing cluster and Autopilot', () => {
  const aws = canonicalEnvironment(awsExisting('production'));
  assert.deepEqual(aws.provider, { kind: 'aws', region: 'eu-west-1', cluster: { name: 'shared-prod' } });
  const gcp = canonicalEnvironment(env('gcp', 'production', { provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', autopilot: true, cluster: { name: 'shared', location: 'europe-west1' } } }));
  assert.deepEqual(gcp.provider, { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', autopilot: true, cluster: { name: 'shared', location: 'europe-west1' } });
});

const gkeExisting = (type: 'production' | 'development') =>
  env('gcp', type, { provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', cluster: { name: 'shared', location: 'europe-west1-b' } } });

test('GCP on an existing GKE cluster: no network, cluster, node pool or Cloud NAT of its own; the cluster read only', () => {
  for (const type of ['production', 'development'] as const) {
    const g = desiredGraph(everything, gkeExisting(type));
    const types = new Set(g.resources.map((r) => r.providerType));
    for (const gone of ['compute.googleapis.com/Network', 'container.googleapis.com/Cluster', 'container.googleapis.com/NodePool']) assert.ok(!types.has(gone), `${type}: ${gone} is planned`);
    const cluster = byId(g, 'gcp:gke');
    assert.equal(cluster.providerType, 'GCP::GKE::ExistingCluster');
    assert.equal(cluster.name, 'shared', 'the cluster keeps its own name');
    assert.deepEqual(cluster.settings, { existing: true, project: 'shop-prod-1', location: 'europe-west1-b' });
    assert.deepEqual(cluster.dependsOn, []);
    assert.match(cluster.summary, /existing GKE cluster shared in europe-west1-b \(read only: never created, changed or deleted\)/);
    const deployment = g.resources.find((r) => r.providerType === 'k8s/apps/v1/Deployment')!;
    assert.ok(deployment.dependsOn.includes('gcp:gke') && !deployment.dependsOn.includes('gcp:gke-nodepool'), deployment.dependsOn.join(', '));
    // Workload Identity through the cluster's own pool, as clusters.get reports it.
    const accounts = g.resources.filter((r) => r.providerType === 'iam.googleapis.com/ServiceAccount');
    assert.ok(accounts.length > 0);
    for (const a of accounts) {
      assert.match(String(a.settings.workloadIdentityUser), /^\$\{gcp:gke\.workloadIdentityPool\}\[[a-z0-9-]+\/[a-z0-9-]+\]$/);
      assert.ok(a.dependsOn.includes('gcp:gke'));
    }
    assert.ok(byId(g, 'gcp:artifact-registry'), 'the app still gets its Artifact Registry repository');
    assertClosed(g);
  }
  // Development keeps its databases and caches in the cluster: no private services access.
  assert.ok(!desiredGraph(everything, gkeExisting('development')).resources.some((r) => r.id === 'gcp:private-services'));
});

test("GCP Production on an existing cluster: Cloud SQL and Memorystore on the cluster's network through its private services access", () => {
  const g = desiredGraph(everything, gkeExisting('production'));
  const access = byId(g, 'gcp:private-services');
  assert.equal(access.providerType, 'servicenetworking.googleapis.com/Connection');
  assert.deepEqual(access.settings, { shared: true, project: 'shop-prod-1', network: '${gcp:gke.networkId}', prefixLength: 20 });
  assert.deepEqual(access.dependsOn, ['gcp:gke']);
  const sql = g.resources.filter((r) => r.providerType === 'sqladmin.googleapis.com/Instance');
  const redis = g.resources.filter((r) => r.providerType === 'redis.googleapis.com/Instance');
  assert.ok(sql.length > 0 && redis.length > 0);
  for (const r of sql) {
    assert.equal(r.settings.privateNetwork, '${gcp:private-services.network}');
    assert.ok(r.dependsOn.includes('gcp:private-services') && !r.dependsOn.includes('gcp:network'), r.dependsOn.join(', '));
  }
  for (const r of redis) {
    assert.equal(r.settings.authorizedNetwork, '${gcp:private-services.network}');
    assert.ok(r.dependsOn.includes('gcp:private-services'), r.dependsOn.join(', '));
  }
});

test('GCP with a cluster of its own is unchanged: network, GKE, node pool, databases on the network, the project pool', () => {
  const g = desiredGraph(everything, env('gcp', 'production'));
  assert.equal(byId(g, 'gcp:gke').providerType, 'container.googleapis.com/Cluster');
  assert.ok(byId(g, 'gcp:gke-nodepool') && byId(g, 'gcp:network'));
  const sql = g.resources.find((r) => r.providerType === 'sqladmin.googleapis.com/Instance')!;
  assert.equal(sql.settings.privateNetwork, 'gcp:network');
  assert.deepEqual(sql.dependsOn.filter((d) => d.startsWith('gcp:network') || d === 'gcp:private-services'), ['gcp:network']);
  const account = g.resources.find((r) => r.providerType === 'iam.googleapis.com/ServiceAccount')!;
  assert.match(String(account.settings.workloadIdentityUser), /^shop-prod-1\.svc\.id\.goog\[/);
  assert.ok(!g.resources.some((r) => r.id === 'gcp:private-services'));
});

test('the GCP cost estimate of an existing cluster counts nothing for the cluster, its nodes or a network', () => {
  const est = estimateCost(desiredGraph(sample, gkeExisting('production')), { provider: { kind: 'gcp', region: 'europe-west1' } })!;
  const ids = est.lines.map((l) => l.id);
  assert.ok(!ids.includes('gcp:gke-nodepool') && !ids.includes('gcp:network') && !ids.includes('gcp:private-services'), ids.join(', '));
  const cluster = est.lines.find((l) => l.id === 'gcp:gke')!;
  assert.equal(cluster.monthlyUsd, 0);
  assert.match(cluster.basis, /existing cluster/);
  assert.ok(est.lines.some((l) => l.id.startsWith('gcp:sql:') && (l.monthlyUsd ?? 0) > 0), 'Cloud SQL is still counted');
});

test('an existing GKE cluster is taken by the store; a malformed one is still refused', async () => {
  const { validateEnvironment } = await import('../../src/environments/validate');
  assert.deepEqual(validateEnvironment(gkeExisting('production')), []);
  const bad = env('gcp', 'production', { provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', cluster: { name: 'Bad_Name', location: 'europe-west1-b' } } });
  assert.ok(validateEnvironment(bad).some((p) => p.path.startsWith('/provider/cluster')), JSON.stringify(validateEnvironment(bad)));
  const noLocation = env('gcp', 'production', { provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', cluster: { name: 'shared' } as never } });
  assert.ok(validateEnvironment(noLocation).length > 0);
  assert.deepEqual(validateEnvironment(awsExisting('production')), []);
});

test("the kubeconfig's managed clusters: an EKS ARN, update-kubeconfig's exec arguments, gcloud's GKE name; nothing else", async () => {
  const { managedClusterOf } = await import('../../src/model/managedClusters');
  assert.deepEqual(managedClusterOf('arn:aws:eks:eu-west-1:123456789012:cluster/shared-platform'), { kind: 'eks', region: 'eu-west-1', account: '123456789012', name: 'shared-platform' });
  assert.deepEqual(managedClusterOf('platform', ['--region', 'us-east-2', 'eks', 'get-token', '--cluster-name', 'ops', '--output', 'json']), { kind: 'eks', region: 'us-east-2', name: 'ops' });
  assert.deepEqual(managedClusterOf('gke_shop-prod-123_europe-west1-b_shared'), { kind: 'gke', project: 'shop-prod-123', location: 'europe-west1-b', name: 'shared' });
  assert.equal(managedClusterOf('kind-dev'), null);
  assert.equal(managedClusterOf('x', ['eks', 'get-token', '--cluster-name', 'ops']), null, 'no region: the form cannot place it');
  assert.equal(managedClusterOf('arn:aws:eks:eu-west-1:123:cluster/x'), null, 'not an account id');
});
