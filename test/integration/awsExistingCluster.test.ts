// "Use an existing cluster" on AWS, end to end: an EKS cluster is made beforehand in moto by the test (its VPC, a
// public and two private subnets, the cluster security group EKS would make), then the sample app's Production
// environment is applied onto it through the AWS provider module: no VPC, cluster or node group of its own, the RDS
// instances and the ElastiCache group on the cluster's private subnets behind security groups that admit only the
// cluster's group, IRSA through an OIDC provider of the cluster's issuer, the in-cluster half on the real test
// kube-apiserver reached as that EKS cluster. Destroy leaves the cluster and everything of it in place.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient, ListClustersCommand, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { DescribeCacheSubnetGroupsCommand, DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  AttachInternetGatewayCommand, AssociateRouteTableCommand, CreateInternetGatewayCommand, CreateRouteCommand, CreateRouteTableCommand, CreateSecurityGroupCommand,
  CreateSubnetCommand, CreateVpcCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateOpenIDConnectProviderCommand, GetRoleCommand, IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredGraph, DesiredResource } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { apply, destroy, planChanges } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { eksTokenValidator } from '../kube/eksTokenValidator';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenWebhook } from '../kube/tokenWebhook';
import { bindClusterAdmin, deployer, playLoadBalancers } from '../aws/sampleEnvironment';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const CLUSTER = 'shared-platform';
const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop', cluster: { name: CLUSTER } } };
const graph: DesiredGraph = desiredGraph(sample, env, { appId: 'sample-app' });
const byId = (id: string): DesiredResource => graph.resources.find((r) => r.id === id)!;

let bed: AwsTestbed;
let kube: TestKube;
let webhook: TokenWebhook;
let dir: string;
const secrets = new Map<string, { secretAccessKey: string }>();

before(async () => {
  bed = await startAwsTestbed();
  webhook = await startTokenWebhook([eksTokenValidator({ clusterName: CLUSTER, stsEndpoint: bed.endpoint, secretFor: (id) => secrets.get(id) })]);
  kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
  dir = mkdtempSync(path.join(os.tmpdir(), 'aws-existing-'));
});
afterEach(async () => bed.afterEach());
after(async () => {
  await kube?.stop();
  await webhook?.close();
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The platform team's cluster, as EKS leaves it: a VPC with a public and two private subnets, the cluster security group. */
async function existingCluster(config: object) {
  const ec2 = new EC2Client(config);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!.VpcId!;
  const subnet = async (cidr: string, az: string) => (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: az }))).Subnet!.SubnetId!;
  const publicSubnet = await subnet('10.77.0.0/20', `${TEST_REGION}a`);
  const privateSubnets = [await subnet('10.77.16.0/20', `${TEST_REGION}a`), await subnet('10.77.32.0/20', `${TEST_REGION}b`)].sort();
  const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
  const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
  await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: publicSubnet }));
  const clusterGroup = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `eks-cluster-sg-${CLUSTER}`, Description: 'EKS created security group' }))).GroupId!;
  const eks = new EKSClient(config);
  await eks.send(new CreateClusterCommand({
    name: CLUSTER, version: '1.33', roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/platform-eks`,
    resourcesVpcConfig: { subnetIds: [publicSubnet, ...privateSubnets], endpointPublicAccess: true },
  }));
  ec2.destroy();
  eks.destroy();
  return { vpcId, publicSubnet, privateSubnets, clusterGroup };
}

test('the sample app\'s AWS Production onto an existing EKS cluster: nothing of its own for the cluster, storage in its VPC, destroy leaves it', { timeout: 600_000 }, async () => {
  const me = await deployer(bed, secrets);
  await bindClusterAdmin(kube, me.arn);
  const config = { region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials };
  const platform = await existingCluster(config);
  bed.shim.eks.connect(CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
  bed.shim.eks.vpcConfig(CLUSTER, { vpcId: platform.vpcId, clusterSecurityGroupId: platform.clusterGroup });

  const opened = await (await providerModule('aws')).open(env, { appRoot: dir, timing: { pollIntervalMs: 30, deleteTimeoutMs: 60_000 } });
  const backend = await opened.state();
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'prod');
  const lbs = playLoadBalancers(admin, 'prod');
  const ec2 = new EC2Client(config);
  const eks = new EKSClient(config);
  const iam = new IAMClient(config);
  const rds = new RDSClient(config);
  const ec = new ElastiCacheClient(config);
  try {
    const plan = await planChanges(graph, await backend.load(), opened.driver);
    const clusterEntry = plan.entries.find((e) => e.id === 'aws:eks')!;
    assert.equal(clusterEntry.foreign, false, 'an existing cluster asks for no adoption');
    assert.match(clusterEntry.reason, /existing cluster: apply reads it and changes nothing/);

    const applied = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    assert.equal(applied.result.done.length, graph.resources.length);

    // --- nothing of the cluster is the environment's: no VPC, no other cluster, no node group ---
    assert.deepEqual(((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:encore.dev/env', Values: ['prod'] }] }))).Vpcs ?? []).map((v) => v.VpcId), []);
    assert.deepEqual((await eks.send(new ListClustersCommand({}))).clusters, [CLUSTER]);
    assert.deepEqual((await eks.send(new ListNodegroupsCommand({ clusterName: CLUSTER }))).nodegroups ?? [], []);

    // --- the databases and the cache on the cluster's private subnets, behind groups open to the cluster's group only ---
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:encore.dev/env', Values: ['prod'] }] }))).SecurityGroups ?? [];
    assert.equal(groups.length, 2);
    const groupOf = (tier: string) => groups.find((g) => g.Tags?.some((t) => t.Key === 'encore.dev/part' && t.Value === `sg-${tier}`))!;
    for (const [tier, port] of [['database', 5432], ['cache', 6379]] as const) {
      const g = groupOf(tier);
      assert.equal(g.VpcId, platform.vpcId, `the ${tier} group is in the cluster's VPC`);
      assert.deepEqual(g.IpPermissions?.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.UserIdGroupPairs?.map((u) => u.GroupId), p.IpRanges ?? []]), [
        ['tcp', port, port, [platform.clusterGroup], []],
      ], `the ${tier} group admits the cluster's security group on ${port}, nothing else`);
    }
    for (const name of ['orders', 'users']) {
      const db = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: byId(`aws:rds:${name}`).name }))).DBInstances![0]!;
      assert.equal(db.DBSubnetGroup?.VpcId, platform.vpcId);
      assert.deepEqual(db.DBSubnetGroup?.Subnets?.map((s) => s.SubnetIdentifier).sort(), platform.privateSubnets, 'the private subnets only, not the public one');
      assert.deepEqual(db.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId), [groupOf('database').GroupId]);
    }
    const cacheName = byId('aws:elasticache:notifications').name;
    assert.equal((await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: cacheName }))).ReplicationGroups?.length, 1);
    // moto's replication groups list member clusters it cannot describe: the subnet group is read by the name the driver gives it.
    const cacheSubnets = (await ec.send(new DescribeCacheSubnetGroupsCommand({ CacheSubnetGroupName: `${cacheName}-subnets` }))).CacheSubnetGroups![0]!;
    assert.equal(cacheSubnets.VpcId, platform.vpcId);
    assert.deepEqual(cacheSubnets.Subnets?.map((s) => s.SubnetIdentifier).sort(), platform.privateSubnets);

    // --- IRSA through an OIDC provider of the cluster's issuer, made by the environment (the account had none) ---
    const issuer = (await eks.send(new DescribeClusterCommand({ name: CLUSTER }))).cluster!.identity!.oidc!.issuer!;
    const host = issuer.replace(/^https:\/\//, '');
    const providerArn = `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/${host}`;
    assert.ok(((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).some((p) => p.Arn === providerArn));
    const role = (await iam.send(new GetRoleCommand({ RoleName: byId('aws:iam-role:orders').name }))).Role!;
    assert.equal((JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)) as Any).Statement[0].Principal.Federated, providerArn);
    const sa = (await admin.find('v1', 'ServiceAccount', 'prod', 'orders')) as Any;
    assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn);
    assert.ok(webhook.reviews.some((r) => r.authenticated && r.username === me.arn), 'the in-cluster half authenticated with the EKS token');
    assert.equal(await admin.find('apps/v1', 'Deployment', 'kube-system', 'cluster-autoscaler'), null, 'no autoscaler on a cluster whose nodes are not the environment\'s');

    // --- a second plan changes nothing ---
    const again = await planChanges(graph, await backend.load(), opened.driver);
    assert.deepEqual(again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${e.action} ${JSON.stringify(e.changes)}`), []);

    // --- destroy: the cluster, its VPC, subnets and group stay; what the environment made goes ---
    const destroyPlan = await planChanges({ ...graph, resources: [] }, await backend.load(), opened.driver);
    assert.match(destroyPlan.entries.find((e) => e.id === 'aws:eks')!.reason, /existing cluster, left in place/);
    const gone = await destroy('prod', 'aws', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 3, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    const still = (await eks.send(new DescribeClusterCommand({ name: CLUSTER }))).cluster!;
    assert.equal(still.status, 'ACTIVE', 'the existing cluster is left in place');
    assert.deepEqual((await ec2.send(new DescribeVpcsCommand({ VpcIds: [platform.vpcId] }))).Vpcs?.map((v) => v.VpcId), [platform.vpcId]);
    const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [platform.vpcId] }] }))).Subnets ?? [];
    assert.equal(subnets.length, 3, 'its subnets are left');
    assert.ok((await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [platform.clusterGroup] }))).SecurityGroups?.length === 1, 'its security group is left');
    assert.deepEqual(((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:encore.dev/env', Values: ['prod'] }] }))).SecurityGroups ?? []).map((g) => g.GroupId), [], 'the storage groups are gone');
    assert.ok(!((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).some((p) => p.Arn === providerArn), 'the OIDC provider the environment made is gone');
    assert.deepEqual((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [], []);
  } finally {
    for (const c of [ec2, eks, iam, rds, ec]) c.destroy();
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
});

test("the account's own OIDC provider for the cluster's issuer is used as it is, and destroy leaves it", { timeout: 300_000 }, async () => {
  const me = await deployer(bed, secrets);
  await bindClusterAdmin(kube, me.arn).catch(() => undefined); // bound by the first test already
  const config = { region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials };
  const platform = await existingCluster(config);
  bed.shim.eks.connect(CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
  bed.shim.eks.vpcConfig(CLUSTER, { vpcId: platform.vpcId, clusterSecurityGroupId: platform.clusterGroup });
  const eks = new EKSClient(config);
  const iam = new IAMClient(config);
  const issuer = (await eks.send(new DescribeClusterCommand({ name: CLUSTER }))).cluster!.identity!.oidc!.issuer!;
  // The platform team's, as eksctl utils associate-iam-oidc-provider makes it: no tags of the environment.
  const theirs = (await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'] }))).OpenIDConnectProviderArn!;
  const dev: Environment = { ...env, name: 'dev', type: 'development' };
  const devGraph = desiredGraph(sample, dev, { appId: 'sample-app' });
  assert.ok(!devGraph.resources.some((r) => r.id === 'aws:storage-access'), 'Development keeps its databases in the cluster');
  const opened = await (await providerModule('aws')).open(dev, { appRoot: dir, timing: { pollIntervalMs: 30, deleteTimeoutMs: 60_000 } });
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'dev');
  const lbs = playLoadBalancers(admin, 'dev');
  try {
    const backend = await opened.state();
    const applied = await apply(devGraph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    const providers = ((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map((p) => p.Arn);
    assert.deepEqual(providers, [theirs], 'no second provider for the same issuer');
    const role = (await iam.send(new GetRoleCommand({ RoleName: devGraph.resources.find((r) => r.id === 'aws:iam-role:orders')!.name }))).Role!;
    assert.equal((JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)) as Any).Statement[0].Principal.Federated, theirs);
    const gone = await destroy('dev', 'aws', { backend, driver: opened.driver, confirm: 'dev', retry: { attempts: 3, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.deepEqual(((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map((p) => p.Arn), [theirs], "the account's own provider is left");
    assert.equal((await eks.send(new DescribeClusterCommand({ name: CLUSTER }))).cluster!.status, 'ACTIVE');
  } finally {
    eks.destroy();
    iam.destroy();
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
});

test('an existing cluster that is not there: apply refuses, naming the account, the region and how to check', { timeout: 120_000 }, async () => {
  const me = await deployer(bed, secrets);
  void me;
  const missing: Environment = { ...env, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop', cluster: { name: 'no-such-cluster' } } };
  const g = desiredGraph(sample, { ...missing, type: 'development' }, { appId: 'sample-app' });
  const opened = await (await providerModule('aws')).open(missing, { appRoot: dir, timing: { pollIntervalMs: 30 } });
  try {
    const applied = await apply(g, { backend: await opened.state(), driver: opened.driver, retry: { attempts: 1, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'failed');
    const why = JSON.stringify(applied.result.failed);
    assert.match(why, new RegExp(`no EKS cluster no-such-cluster in account ${MOTO_ACCOUNT}, region ${TEST_REGION}`));
    assert.match(why, /aws eks list-clusters --region/);
  } finally {
    await opened.dispose();
  }
});
