// The shim in front of moto (test/aws/shim.ts), tested through the real SDK clients against real moto: forwarding,
// the call log, transitions, durations, latency, faults, the HTML-page rule, and every answer of the gap table.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import { CreateDBInstanceCommand, DeleteDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { EC2Client, CreateNatGatewayCommand, CreateSubnetCommand, CreateVpcCommand, DeleteNatGatewayCommand, DescribeNatGatewaysCommand, DescribeVpcsCommand, AllocateAddressCommand } from '@aws-sdk/client-ec2';
import {
  AssociateAccessPolicyCommand, CreateAccessEntryCommand, CreateAddonCommand, CreateClusterCommand, DeleteAccessEntryCommand, DeleteAddonCommand,
  DeleteClusterCommand, DescribeAccessEntryCommand, DescribeAddonCommand, DescribeAddonVersionsCommand, DescribeClusterCommand, EKSClient,
  ListAccessEntriesCommand, ListAddonsCommand, ListAssociatedAccessPoliciesCommand, waitUntilClusterActive,
} from '@aws-sdk/client-eks';
import {
  CreateCacheSubnetGroupCommand, CreateReplicationGroupCommand, DeleteCacheSubnetGroupCommand, DeleteReplicationGroupCommand,
  DescribeCacheSubnetGroupsCommand, DescribeReplicationGroupsCommand, ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';

let bed: AwsTestbed;
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const config = () => ({ region: TEST_REGION, endpoint: bed.endpoint, credentials, ignoreConfiguredEndpointUrls: true });

before(async () => {
  bed = await startAwsTestbed();
});
afterEach(async () => bed.afterEach());
after(async () => bed?.stop());

async function subnet(ec2: EC2Client): Promise<string> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }));
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: '10.1.1.0/24', AvailabilityZone: `${TEST_REGION}a` }));
  return subnet.Subnet!.SubnetId!;
}

async function cluster(eks: EKSClient, ec2: EC2Client, name: string, authenticationMode?: string) {
  return eks.send(new CreateClusterCommand({
    name,
    roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks-cluster`,
    resourcesVpcConfig: { subnetIds: [await subnet(ec2)] },
    ...(authenticationMode ? { accessConfig: { authenticationMode: authenticationMode as 'API' } } : {}),
  }));
}

test('forwards calls untouched and logs service, action and who answered', async () => {
  const sts = new STSClient(config());
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(identity.Account, MOTO_ACCOUNT);
  const [call] = bed.shim.callsTo('sts', 'GetCallerIdentity');
  assert.equal(call.answeredBy, 'moto');
  assert.equal(call.status, 200);
  assert.equal(call.region, TEST_REGION);
});

test('S3 objects pass through byte for byte, and HEAD keeps the object length', async () => {
  const s3 = new S3Client({ ...config(), forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'shim-bytes', CreateBucketConfiguration: { LocationConstraint: TEST_REGION } }));
  const bytes = Buffer.from([0, 0xff, 0xfe, 0x80, 0x7f, 0xc3, 0x28, 10, 13]);
  await s3.send(new PutObjectCommand({ Bucket: 'shim-bytes', Key: 'a/b.bin', Body: bytes }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'shim-bytes', Key: 'a/b.bin' }));
  assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), bytes);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'shim-bytes', Key: 'a/b.bin' }));
  assert.equal(head.ContentLength, bytes.length);
  assert.deepEqual(bed.shim.callsTo('s3').map((c) => `${c.action} ${c.resource}`), ['CreateBucket shim-bytes', 'PutObject shim-bytes', 'GetObject shim-bytes', 'HeadObject shim-bytes']);
});

test('an HTML page from moto is the error "not supported by the emulator", and fails the test in afterEach', async () => {
  const eks = new EKSClient(config());
  await assert.rejects(eks.send(new DescribeAddonVersionsCommand({ addonName: 'vpc-cni' })), (err: Error) => {
    assert.equal(err.name, 'NotSupportedByEmulator');
    assert.match(err.message, /^not supported by the emulator: eks DescribeAddonVersions \(moto answered 404 with an HTML page\)/);
    return true;
  });
  assert.throws(() => bed.shim.assertAllSupported(), /not supported by the emulator: eks DescribeAddonVersions/);
  // This test expects the gap; clear it so afterEach passes.
  bed.shim.unsupported.length = 0;
});

test('transitions: the next describes answer the given states, then the real one', async () => {
  const rds = new RDSClient(config());
  await rds.send(new CreateDBInstanceCommand({
    DBInstanceIdentifier: 'Orders', Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', AllocatedStorage: 20, MasterUsername: 'encore', MasterUserPassword: 'a-long-enough-password',
  }));
  const rule = bed.shim.transition({ kind: 'rds-instance', id: 'orders', states: ['creating', 'backing-up'] });
  const status = async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' }))).DBInstances![0].DBInstanceStatus;
  assert.deepEqual([await status(), await status(), await status()], ['creating', 'backing-up', 'available']);
  assert.equal(rule.fired, 2);
  assert.deepEqual(bed.shim.callsTo('rds', 'DescribeDBInstances').map((c) => c.state), ['creating', 'backing-up', undefined]);

  // After a delete moto forgets the instance at once; "deleting" is answered from the last describe.
  await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'orders', SkipFinalSnapshot: true }));
  bed.shim.transition({ kind: 'rds-instance', id: 'orders', states: ['deleting'] });
  assert.equal(await status(), 'deleting');
  await assert.rejects(status(), { name: 'DBInstanceNotFoundFault' });
});

test('an EKS waiter polls through CREATING to ACTIVE, and DeleteCluster answers DELETING as AWS does', async () => {
  const eks = new EKSClient(config());
  const ec2 = new EC2Client(config());
  const created = await cluster(eks, ec2, 'waited');
  assert.equal(created.cluster!.status, 'CREATING');
  bed.shim.transition({ kind: 'eks-cluster', id: 'waited', states: ['creating', 'creating'] });
  const result = await waitUntilClusterActive({ client: eks, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.1 }, { name: 'waited' });
  assert.equal(result.state, 'SUCCESS');
  assert.deepEqual(bed.shim.callsTo('eks', 'DescribeCluster').map((c) => c.state ?? 'real'), ['CREATING', 'CREATING', 'real']);
  const deleted = await eks.send(new DeleteClusterCommand({ name: 'waited' }));
  assert.equal(deleted.cluster!.status, 'DELETING');
  await assert.rejects(eks.send(new DescribeClusterCommand({ name: 'waited' })), { name: 'ResourceNotFoundException' });
});

test('durations: a resource reads creating until its scaled creation time has passed, then deleting likewise', async () => {
  const ec2 = new EC2Client(config());
  const subnetId = await subnet(ec2);
  const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  bed.shim.setDurations({ scale: 0.001, create: { 'ec2-nat-gateway': 600_000 } });
  const started = Date.now();
  const nat = await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: eip.AllocationId }));
  const id = nat.NatGateway!.NatGatewayId!;
  const state = async () => (await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [id] }))).NatGateways![0].State;
  assert.equal(await state(), 'pending');
  while ((await state()) === 'pending') await new Promise((r) => setTimeout(r, 50));
  const took = Date.now() - started;
  assert.ok(took >= 600 && took < 5000, `ready after ${took} ms, expected about 600`);

  bed.shim.setDurations({ scale: 0.001, delete: { 'ec2-nat-gateway': 400_000 } });
  const deleteStarted = Date.now();
  await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: id }));
  assert.equal(await state(), 'deleting');
  while ((await state()) === 'deleting') await new Promise((r) => setTimeout(r, 50));
  const deleteTook = Date.now() - deleteStarted;
  assert.ok(deleteTook >= 400 && deleteTook < 5000, `gone after ${deleteTook} ms, expected about 400`);
  assert.equal(await state(), 'deleted');
});

test('latency is added to every call', async () => {
  const ec2 = new EC2Client(config());
  bed.shim.latencyMs = 250;
  const started = Date.now();
  await ec2.send(new DescribeVpcsCommand({}));
  assert.ok(Date.now() - started >= 250);
});

test('throttling in each protocol is retried by the SDK; the log shows the injected fault', async () => {
  const sqs = new SQSClient(config());
  const sts = new STSClient(config());
  const ec2 = new EC2Client(config());
  const eks = new EKSClient(config());
  bed.shim.addFault({ service: 'sqs', action: 'CreateQueue', nth: 1, fault: 'throttle' });
  bed.shim.addFault({ service: 'sts', nth: 1, fault: 'throttle' });
  bed.shim.addFault({ service: 'ec2', action: 'DescribeVpcs', nth: 1, fault: 'throttle' });
  bed.shim.addFault({ service: 'eks', action: 'ListClusters', nth: 1, fault: 'throttle' });
  await sqs.send(new CreateQueueCommand({ QueueName: 'throttled' }));
  await sts.send(new GetCallerIdentityCommand({}));
  await ec2.send(new DescribeVpcsCommand({}));
  await eks.send(new (await import('@aws-sdk/client-eks')).ListClustersCommand({}));
  const codes = (service: string) => bed.shim.callsTo(service).map((c) => c.errorCode ?? c.status);
  assert.deepEqual(codes('sqs'), ['ThrottlingException', 200]);
  assert.deepEqual(codes('sts'), ['Throttling', 200]);
  assert.deepEqual(codes('ec2'), ['RequestLimitExceeded', 200]);
  assert.deepEqual(codes('eks'), ['ThrottlingException', 200]);
});

test('500s and dropped connections are retried; a held call ends in the client timeout', async () => {
  const sts = new STSClient(config());
  bed.shim.addFault({ service: 'sts', nth: 1, fault: 'error500' });
  bed.shim.addFault({ service: 'sts', nth: 2, fault: 'drop' });
  await sts.send(new GetCallerIdentityCommand({}));
  assert.deepEqual(bed.shim.callsTo('sts').map((c) => c.fault ?? c.status), ['error500', 'drop', 200]);

  const hanging = new STSClient({ ...config(), maxAttempts: 1, requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } });
  const rule = bed.shim.addFault({ service: 'sts', fault: 'hang' });
  await assert.rejects(hanging.send(new GetCallerIdentityCommand({})), (err: Error) => /timeout/i.test(`${err.name} ${err.message}`));
  rule.remove();
  hanging.destroy();
});

test('an injected AWS error reaches the SDK as that exception, with its message', async () => {
  const ec2 = new EC2Client(config());
  const message = 'You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ec2:CreateVpc on resource: arn:aws:ec2:eu-west-1:123456789012:vpc/* because no identity-based policy allows the ec2:CreateVpc action.';
  bed.shim.addFault({ service: 'ec2', action: 'CreateVpc', fault: 'error', error: { status: 403, code: 'UnauthorizedOperation', message } });
  await assert.rejects(ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' })), (err: Error) => err.name === 'UnauthorizedOperation' && err.message === message);
});

test('gap table, EKS: DescribeCluster answers a real PEM CA and a well-formed endpoint, or the ones a test gave', async () => {
  const eks = new EKSClient(config());
  const ec2 = new EC2Client(config());
  await cluster(eks, ec2, 'pem');
  const described = (await eks.send(new DescribeClusterCommand({ name: 'pem' }))).cluster!;
  assert.match(described.endpoint!, /^https:\/\/[0-9A-F]{32}\.gr7\.eu-west-1\.eks\.amazonaws\.com$/);
  const ca = new X509Certificate(Buffer.from(described.certificateAuthority!.data!, 'base64'));
  assert.match(ca.subject, /CN=kubernetes/);
  assert.deepEqual(described.accessConfig, { authenticationMode: 'CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: true });

  const caPem = Buffer.from(described.certificateAuthority!.data!, 'base64').toString('utf8');
  bed.shim.eks.connect('pem', { endpoint: 'https://127.0.0.1:6443', caPem });
  const connected = (await eks.send(new DescribeClusterCommand({ name: 'pem' }))).cluster!;
  assert.equal(connected.endpoint, 'https://127.0.0.1:6443');
  assert.equal(Buffer.from(connected.certificateAuthority!.data!, 'base64').toString('utf8'), caPem);
});

test('gap table, EKS: access entries and access policies, with the creator bootstrapped in API mode', async () => {
  const eks = new EKSClient(config());
  const ec2 = new EC2Client(config());
  await cluster(eks, ec2, 'configmap');
  await assert.rejects(
    eks.send(new CreateAccessEntryCommand({ clusterName: 'configmap', principalArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/x` })),
    { name: 'InvalidRequestException' },
  );

  await cluster(eks, ec2, 'api', 'API');
  const creator = (await new STSClient(config()).send(new GetCallerIdentityCommand({}))).Arn!;
  assert.deepEqual((await eks.send(new ListAccessEntriesCommand({ clusterName: 'api' }))).accessEntries, [creator]);
  const role = `arn:aws:iam::${MOTO_ACCOUNT}:role/deployer`;
  const created = await eks.send(new CreateAccessEntryCommand({ clusterName: 'api', principalArn: role, kubernetesGroups: ['deployers'] }));
  assert.equal(created.accessEntry!.username, `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/deployer/{{SessionName}}`);
  assert.equal(created.accessEntry!.type, 'STANDARD');
  assert.ok(created.accessEntry!.createdAt instanceof Date);
  await assert.rejects(eks.send(new CreateAccessEntryCommand({ clusterName: 'api', principalArn: role })), { name: 'ResourceInUseException' });
  const policyArn = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';
  const associated = await eks.send(new AssociateAccessPolicyCommand({ clusterName: 'api', principalArn: role, policyArn, accessScope: { type: 'namespace', namespaces: ['prod'] } }));
  assert.deepEqual(associated.associatedAccessPolicy!.accessScope, { type: 'namespace', namespaces: ['prod'] });
  const listed = await eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName: 'api', principalArn: role }));
  assert.deepEqual(listed.associatedAccessPolicies!.map((p) => p.policyArn), [policyArn]);
  assert.deepEqual((await eks.send(new DescribeAccessEntryCommand({ clusterName: 'api', principalArn: role }))).accessEntry!.kubernetesGroups, ['deployers']);
  await eks.send(new DeleteAccessEntryCommand({ clusterName: 'api', principalArn: role }));
  await assert.rejects(eks.send(new DescribeAccessEntryCommand({ clusterName: 'api', principalArn: role })), { name: 'ResourceNotFoundException' });
  await assert.rejects(eks.send(new ListAccessEntriesCommand({ clusterName: 'nope' })), { name: 'ResourceNotFoundException' });
  assert.ok(bed.shim.callsTo('eks', 'CreateAccessEntry').every((c) => c.answeredBy === 'shim'));
});

test('gap table, EKS: add-ons are created CREATING, read ACTIVE, and deleted DELETING', async () => {
  const eks = new EKSClient(config());
  const ec2 = new EC2Client(config());
  await cluster(eks, ec2, 'addons');
  const created = await eks.send(new CreateAddonCommand({ clusterName: 'addons', addonName: 'vpc-cni', serviceAccountRoleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/cni` }));
  assert.equal(created.addon!.status, 'CREATING');
  bed.shim.transition({ kind: 'eks-addon', id: 'addons/vpc-cni', states: ['creating'] });
  const status = async () => (await eks.send(new DescribeAddonCommand({ clusterName: 'addons', addonName: 'vpc-cni' }))).addon!.status;
  assert.deepEqual([await status(), await status()], ['CREATING', 'ACTIVE']);
  assert.deepEqual((await eks.send(new ListAddonsCommand({ clusterName: 'addons' }))).addons, ['vpc-cni']);
  await assert.rejects(eks.send(new CreateAddonCommand({ clusterName: 'addons', addonName: 'vpc-cni' })), { name: 'ResourceInUseException' });
  assert.equal((await eks.send(new DeleteAddonCommand({ clusterName: 'addons', addonName: 'vpc-cni' }))).addon!.status, 'DELETING');
  await assert.rejects(status(), { name: 'ResourceNotFoundException' });
});

test('gap table, ElastiCache: deletes finish, and re-creating a deleted id is reported, not faked', async () => {
  const ec2 = new EC2Client(config());
  const cache = new ElastiCacheClient(config());
  await cache.send(new CreateCacheSubnetGroupCommand({ CacheSubnetGroupName: 'cache-net', CacheSubnetGroupDescription: 'test', SubnetIds: [await subnet(ec2)] }));
  await cache.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'sessions', ReplicationGroupDescription: 'test', Engine: 'redis', CacheNodeType: 'cache.t4g.micro', NumCacheClusters: 2, CacheSubnetGroupName: 'cache-net',
  }));
  // NumCacheClusters: 2 is a primary and a replica (moto alone made one member).
  assert.equal((await cache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'sessions' }))).ReplicationGroups![0].MemberClusters?.length, 2);
  bed.shim.transition({ kind: 'elasticache-replication-group', id: 'sessions', states: ['modifying'] });
  const status = async () => (await cache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'sessions' }))).ReplicationGroups![0].Status;
  assert.deepEqual([await status(), await status()], ['modifying', 'available']);

  const deleting = await cache.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: 'sessions' }));
  assert.equal(deleting.ReplicationGroup!.Status, 'deleting');
  await assert.rejects(status(), { name: 'ReplicationGroupNotFoundFault' });
  assert.deepEqual((await cache.send(new DescribeReplicationGroupsCommand({}))).ReplicationGroups, []);

  await cache.send(new DeleteCacheSubnetGroupCommand({ CacheSubnetGroupName: 'cache-net' }));
  await assert.rejects(cache.send(new DescribeCacheSubnetGroupsCommand({ CacheSubnetGroupName: 'cache-net' })), { name: 'CacheSubnetGroupNotFoundFault' });
  await assert.rejects(cache.send(new DeleteCacheSubnetGroupCommand({ CacheSubnetGroupName: 'cache-net' })), { name: 'CacheSubnetGroupNotFoundFault' });

  await assert.rejects(
    cache.send(new CreateReplicationGroupCommand({ ReplicationGroupId: 'sessions', ReplicationGroupDescription: 'again', Engine: 'redis', CacheNodeType: 'cache.t4g.micro' })),
    /not supported by the emulator: elasticache CreateReplicationGroup \(re-creating replication group sessions/,
  );
  assert.equal(bed.shim.unsupported.length, 1);
  bed.shim.unsupported.length = 0;
});

test('moto itself: start time and memory are reported', () => {
  assert.ok(bed.motoReadyMs > 0);
  const rss = bed.motoRssMb();
  assert.ok(rss > 20, `moto's RSS ${rss} MB`);
  console.log(`moto: ready in ${bed.motoReadyMs} ms, RSS ${rss} MB after this file's tests`);
});
