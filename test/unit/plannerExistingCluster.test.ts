// "Use an existing cluster" (issues 10 and 12): the cluster is planned as a read-only resource, with no network,
// NAT or node pool of the environment's own, and the managed databases and caches placed from its outputs.
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

test('an existing GKE cluster is refused plainly until it is built: by the store, and by the planner', async () => {
  const { validateEnvironment, EXISTING_GKE_NOT_BUILT } = await import('../../src/environments/validate');
  const gke = env('gcp', 'production', { provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', cluster: { name: 'shared', location: 'europe-west1' } } });
  assert.deepEqual(validateEnvironment(gke), [{ path: '/provider/cluster', message: EXISTING_GKE_NOT_BUILT }]);
  assert.throws(() => desiredGraph(sample, gke), /an existing GKE cluster is not supported yet/);
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
