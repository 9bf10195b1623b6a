// The sample app's AWS Production environment, end to end through the AWS provider module: the engine applies the
// planner's graph with the composed driver, AWS resources go to moto through the real SDK clients and the shim
// (which gives RDS, EKS and ElastiCache their "creating" transitions and answers what moto lacks), the in-cluster
// half goes to the real test kube-apiserver, reached as an EKS cluster: DescribeCluster's endpoint and CA, and a
// `k8s-aws-v1.` token the kube-apiserver authenticates through the EKS token webhook. State is in the S3 state
// bucket the provider creates. Then independent describe calls check what exists, a second plan changes nothing,
// and destroy leaves only the RDS final snapshots (and the state bucket with the environment's record).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListOpenIDConnectProvidersCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetBucketEncryptionCommand, GetBucketVersioningCommand, GetObjectCommand, GetPublicAccessBlockCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredGraph, DesiredResource } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import type { ProgressEvent } from '../../src/model/plan';
import { secretStatuses, setSecretValue } from '../../src/provisioning/appSecrets';
import { apply, destroy, planChanges } from '../../src/provisioning/engine';
import { AUTOSCALER, CLUSTER_AUTOSCALER_IMAGE, desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { eksTokenValidator } from '../kube/eksTokenValidator';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenValidator, type TokenVerdict, type TokenWebhook } from '../kube/tokenWebhook';
import { bindClusterAdmin, deployer, playLoadBalancers } from '../aws/sampleEnvironment';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } };
const graph: DesiredGraph = desiredGraph(sample, env, { appId: 'sample-app' });
const byId = (id: string): DesiredResource => graph.resources.find((r) => r.id === id)!;
const CLUSTER = byId('aws:eks').name;
// Development deploys on push: its graph has the CI identity too (GitHub's OIDC provider, the deploy role, its access entry).
const devEnv: Environment = { ...env, name: 'dev', type: 'development', deploy: { trigger: 'push', branch: 'main' } };
const devGraph = desiredGraph(sample, devEnv, { appId: 'sample-app', ciRepository: 'acme/shop' });
const DEV_CLUSTER = devGraph.resources.find((r) => r.id === 'aws:eks')!.name;

let bed: AwsTestbed;
let kube: TestKube;
let webhook: TokenWebhook;
let dir: string;
const secrets = new Map<string, { secretAccessKey: string }>();

before(async () => {
  bed = await startAwsTestbed();
  // One server stands for both environments' clusters: a token signed for either one is good.
  const clusters = [CLUSTER, DEV_CLUSTER].map((clusterName) => eksTokenValidator({ clusterName, stsEndpoint: bed.endpoint, secretFor: (id) => secrets.get(id) }));
  const either: TokenValidator = {
    name: `eks:${CLUSTER}`,
    async validate(token) {
      let verdict: TokenVerdict;
      for (const v of clusters) if ((verdict = await v.validate(token)) && 'user' in verdict) return verdict;
      return verdict;
    },
  };
  webhook = await startTokenWebhook([either]);
  kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
  dir = mkdtempSync(path.join(os.tmpdir(), 'aws-apply-'));
});
afterEach(async () => bed.afterEach());
after(async () => {
  await kube?.stop();
  await webhook?.close();
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the sample app's AWS Production graph: apply, describe what exists, plan again with no change, destroy down to the final snapshots", { timeout: 600_000 }, async () => {
  const me = await deployer(bed, secrets);
  await bindClusterAdmin(kube, me.arn);
  bed.shim.eks.connect(CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
  const rds = byId('aws:rds:orders').name;
  const cache = byId('aws:elasticache:notifications').name;
  // Transitions AWS shows and moto does not: the pollers wait through them.
  for (const [kind, id, states] of [
    ['eks-cluster', CLUSTER, ['creating', 'creating', 'creating']],
    ['eks-nodegroup', `${CLUSTER}/${byId('aws:eks-nodegroup').name}`, ['creating', 'creating', 'creating']],
    ['rds-instance', rds, ['creating', 'creating', 'backing-up']],
    ['elasticache-replication-group', cache, ['creating', 'creating', 'creating']],
  ] as const) bed.shim.transition({ kind, id, states: [...states] });

  // IAM is eventually consistent: EKS refuses a cluster role made a moment ago, and the driver tries again.
  const propagation = bed.shim.addFault({
    service: 'eks', action: 'CreateCluster', nth: 1, fault: 'error',
    error: { status: 400, code: 'InvalidParameterException', message: `Role with arn: arn:aws:iam::${MOTO_ACCOUNT}:role/${CLUSTER}-cluster, could not be assumed because it does not exist or the trusted entity is not correct` },
  });
  const provider = await providerModule('aws');
  const opened = await provider.open(env, { appRoot: dir, timing: { pollIntervalMs: 30, deleteTimeoutMs: 60_000 } });
  const identity = await opened.identity(new AbortController().signal);
  assert.equal(identity.principal, me.arn);
  assert.equal(identity.scope, `AWS account ${MOTO_ACCOUNT} in ${TEST_REGION}`);
  const backend = await opened.state();
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'prod');
  const lbs = playLoadBalancers(admin, 'prod');
  const events: ProgressEvent[] = [];
  const config = (id: string) => ({ region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials, ...(id === 's3' ? { forcePathStyle: true } : {}) });
  try {
    await opened.driver.preflight(new AbortController().signal);
    const t0 = performance.now();
    const applied = await apply(graph, { backend, driver: opened.driver, onProgress: (e) => events.push(e), retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    assert.equal(applied.result.done.length, graph.resources.length);
    console.log(`apply of ${graph.resources.length} resources against moto + the test kube-apiserver: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const waits = events.filter((e) => e.phase === 'progress').map((e) => e.message);
    assert.equal(propagation.fired, 1);
    assert.ok(waits.includes('waiting for the new IAM role to propagate'));
    for (const what of [/EKS cluster .*: CREATING/, /RDS instance .*: creating/, /ElastiCache replication group .*: creating/, /node group .*: CREATING/]) {
      assert.ok(waits.some((m) => what.test(m)), `progress shows the wait ${what}: ${waits.join(' | ').slice(0, 400)}`);
    }

    // --- independent describe calls ---
    const rdsClient = new RDSClient(config('rds'));
    for (const name of ['orders', 'users']) {
      const db = (await rdsClient.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: byId(`aws:rds:${name}`).name }))).DBInstances![0]!;
      assert.ok((db.BackupRetentionPeriod ?? 0) >= 7, `backups ${db.BackupRetentionPeriod} days`);
      assert.equal(db.MultiAZ, true);
      assert.equal(db.DeletionProtection, true);
      assert.equal(db.StorageEncrypted, true);
      assert.equal(db.PubliclyAccessible, false);
      assert.equal(db.Engine, 'postgres');
      assert.ok(db.MasterUserSecret?.SecretArn, 'the master password is managed in Secrets Manager');
    }
    const eks = new EKSClient(config('eks'));
    const ng = (await eks.send(new DescribeNodegroupCommand({ clusterName: CLUSTER, nodegroupName: byId('aws:eks-nodegroup').name }))).nodegroup!;
    assert.deepEqual(
      { min: ng.scalingConfig?.minSize, max: ng.scalingConfig?.maxSize },
      { min: byId('aws:eks-nodegroup').settings.minSize, max: byId('aws:eks-nodegroup').settings.maxSize },
      'the node group scales between the sizing answers',
    );
    assert.equal(ng.tags?.['k8s.io/cluster-autoscaler/enabled'], 'true');
    assert.deepEqual(bed.shim.eks.accessEntries(TEST_REGION, CLUSTER).map((e) => e.principalArn), [me.arn], 'the creator has an access entry');

    const sqs = new SQSClient(config('sqs'));
    const sns = new SNSClient(config('sns'));
    const queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: byId('aws:sqs:order-placed/notify-customer').name }))).QueueUrl!;
    const dlqUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: byId('aws:sqs-dlq:order-placed/notify-customer').name }))).QueueUrl!;
    const queue = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes!;
    const dlq = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['All'] }))).Attributes!;
    assert.deepEqual(JSON.parse(queue.RedrivePolicy!), { deadLetterTargetArn: dlq.QueueArn, maxReceiveCount: 21 });
    const topicArn = `arn:aws:sns:${TEST_REGION}:${MOTO_ACCOUNT}:${byId('aws:sns:order-placed').name}`;
    const policy = JSON.parse(queue.Policy!) as Any;
    assert.deepEqual(policy.Statement.map((s: Any) => [s.Principal, s.Action, s.Resource, s.Condition]), [
      [{ Service: 'sns.amazonaws.com' }, 'sqs:SendMessage', queue.QueueArn, { ArnEquals: { 'aws:SourceArn': topicArn } }],
    ], 'only its topic may send to the queue');
    assert.equal(queue.FifoQueue, 'true');
    const subs = (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }))).Subscriptions!;
    assert.deepEqual(subs.map((s) => [s.Protocol, s.Endpoint]), [['sqs', queue.QueueArn]]);

    const s3 = new S3Client(config('s3'));
    const bucket = byId('aws:s3:order-receipts').name;
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
    assert.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    assert.equal((await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');

    const sm = new SecretsManagerClient(config('secretsmanager'));
    for (const name of ['EmailApiKey', 'SessionSigningKey']) {
      const secret = await sm.send(new DescribeSecretCommand({ SecretId: byId(`aws:secretsmanager:${name}`).name }));
      assert.equal(secret.Tags?.find((t) => t.Key === 'encore.dev/env')?.Value, 'prod');
    }

    const iam = new IAMClient(config('iam'));
    const role = (await iam.send(new GetRoleCommand({ RoleName: byId('aws:iam-role:orders').name }))).Role!;
    const trust = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)) as Any;
    const [statement] = trust.Statement;
    assert.match(statement.Principal.Federated, new RegExp(`^arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/oidc\\.eks\\.${TEST_REGION}\\.amazonaws\\.com/id/`));
    assert.deepEqual(Object.values(statement.Condition.StringEquals).sort(), ['sts.amazonaws.com', 'system:serviceaccount:prod:orders']);
    const access = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: role.RoleName, PolicyName: 'encore-access' }))).PolicyDocument!)) as Any;
    assert.deepEqual(access.Statement.map((s: Any) => [s.Action, s.Resource]), [
      [['sns:Publish'], topicArn],
      [['s3:GetObject', 's3:PutObject'], [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`]],
    ], 'the orders service may publish to its topic and read and write its bucket, nothing else');

    const ec = new ElastiCacheClient(config('elasticache'));
    const group = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: cache }))).ReplicationGroups![0]!;
    assert.equal(group.TransitEncryptionEnabled, true);
    assert.equal(group.AtRestEncryptionEnabled, true);
    assert.equal(group.AutomaticFailover, 'enabled');
    const ecr = new ECRClient(config('ecr'));
    const repoDescribed = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [byId('aws:ecr').name] }))).repositories![0]!;
    assert.equal(repoDescribed.imageScanningConfiguration?.scanOnPush, true);

    // --- the in-cluster half, on the test kube-apiserver ---
    const sa = (await admin.find('v1', 'ServiceAccount', 'prod', 'orders')) as Any;
    assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn, 'the orders ServiceAccount takes its IRSA role');
    const adminSecret = (await admin.find('v1', 'Secret', 'prod', 'encore-db-admin-orders')) as Any;
    const db = (await rdsClient.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: rds }))).DBInstances![0]!;
    const managed = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: db.MasterUserSecret!.SecretArn }))).SecretString!) as { password: string };
    assert.equal(Buffer.from(adminSecret.data.password, 'base64').toString(), managed.password, 'the database Job gets the RDS-managed master password');
    const redisSecret = (await admin.find('v1', 'Secret', 'prod', 'encore-redis-notifications')) as Any;
    const token = Buffer.from(redisSecret.data.auth, 'base64').toString();
    assert.equal(token.length, 64);
    const infra = JSON.parse(Buffer.from(((await admin.find('v1', 'Secret', 'prod', 'encore-infra-config')) as Any).data['infra.config.json'], 'base64').toString()) as Any;
    assert.equal(infra.pubsub[0].topics['order-placed'].arn, topicArn);
    assert.equal(infra.pubsub[0].topics['order-placed'].subscriptions['notify-customer'].url, queueUrl);
    assert.ok(webhook.reviews.some((r) => r.authenticated && r.username === me.arn), 'the in-cluster half authenticated with the EKS token');

    // --- the cluster autoscaler: its Deployment in kube-system, its ServiceAccount's IRSA role, that role's trust and policy ---
    const autoscaler = (await admin.find('apps/v1', 'Deployment', 'kube-system', 'cluster-autoscaler')) as Any;
    assert.ok(autoscaler, 'the cluster autoscaler runs in kube-system');
    const caPod = autoscaler.spec.template.spec;
    assert.equal(caPod.serviceAccountName, 'cluster-autoscaler');
    assert.equal(caPod.containers[0].image, CLUSTER_AUTOSCALER_IMAGE);
    const described = (await eks.send(new DescribeClusterCommand({ name: CLUSTER }))).cluster!;
    assert.match(caPod.containers[0].image, new RegExp(`^registry\\.k8s\\.io/autoscaling/cluster-autoscaler:v${described.version!.replace('.', '\\.')}\\.\\d+$`), `the release of the cluster's minor version ${described.version}`);
    for (const flag of ['--cloud-provider=aws', `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${CLUSTER}`, '--balance-similar-node-groups', '--skip-nodes-with-system-pods=false']) {
      assert.ok(caPod.containers[0].command.includes(flag), `${flag} in ${caPod.containers[0].command.join(' ')}`);
    }
    assert.deepEqual(caPod.containers[0].resources.requests, { cpu: '100m', memory: '600Mi' });
    const caRole = (await iam.send(new GetRoleCommand({ RoleName: byId(AUTOSCALER.roleId).name }))).Role!;
    const caSa = (await admin.find('v1', 'ServiceAccount', 'kube-system', 'cluster-autoscaler')) as Any;
    assert.equal(caSa.metadata.annotations['eks.amazonaws.com/role-arn'], caRole.Arn, 'the autoscaler\'s ServiceAccount takes its IRSA role');
    const issuer = described.identity!.oidc!.issuer!;
    const issuerHost = issuer.replace(/^https:\/\//, '');
    const oidcArn = ((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map((p) => p.Arn!).find((a) => a.endsWith(`:oidc-provider/${issuerHost}`));
    assert.ok(oidcArn, `the cluster's OIDC provider for ${issuer} exists`);
    const caTrust = JSON.parse(decodeURIComponent(caRole.AssumeRolePolicyDocument!)) as Any;
    assert.deepEqual(caTrust.Statement.map((st: Any) => [st.Effect, st.Action, st.Principal, st.Condition]), [
      ['Allow', 'sts:AssumeRoleWithWebIdentity', { Federated: oidcArn }, { StringEquals: { [`${issuerHost}:aud`]: 'sts.amazonaws.com', [`${issuerHost}:sub`]: 'system:serviceaccount:kube-system:cluster-autoscaler' } }],
    ], 'only the kube-system/cluster-autoscaler ServiceAccount, through this cluster\'s OIDC provider, may take the role');
    const caAccess = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: caRole.RoleName, PolicyName: 'encore-access' }))).PolicyDocument!)) as Any;
    const nodegroupArn = ng.nodegroupArn!;
    const bySid = Object.fromEntries((caAccess.Statement as Any[]).map((st) => [st.Sid, st]));
    assert.deepEqual(Object.keys(bySid).sort(), ['Discover', 'OwnNodegroup', 'ScaleOwnGroups']);
    assert.equal(bySid.Discover.Resource, '*');
    assert.ok((bySid.Discover.Action as string[]).every((a) => /^(autoscaling|ec2):(Describe|Get)/.test(a)), 'only reads on *');
    assert.equal(bySid.Discover.Condition, undefined);
    assert.deepEqual([bySid.OwnNodegroup.Action, bySid.OwnNodegroup.Resource], ['eks:DescribeNodegroup', nodegroupArn], 'its own node group only');
    assert.deepEqual(bySid.ScaleOwnGroups.Action, ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']);
    assert.equal(bySid.ScaleOwnGroups.Resource, `arn:aws:autoscaling:${TEST_REGION}:${MOTO_ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*`);
    assert.deepEqual(bySid.ScaleOwnGroups.Condition, { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${CLUSTER}`]: 'owned', 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true' } }, 'scaling only the groups tagged for this cluster');
    // The node group carries the tags the condition and the auto-discovery name.
    assert.equal(ng.tags?.[`k8s.io/cluster-autoscaler/${CLUSTER}`], 'owned');
    const caBinding = (await admin.find('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, 'cluster-autoscaler')) as Any;
    assert.deepEqual([caBinding.roleRef.name, caBinding.subjects], ['cluster-autoscaler', [{ kind: 'ServiceAccount', name: 'cluster-autoscaler', namespace: 'kube-system' }]]);
    const caClusterRole = (await admin.find('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'cluster-autoscaler')) as Any;
    assert.deepEqual([caClusterRole.metadata.labels['app.kubernetes.io/managed-by'], caClusterRole.metadata.labels['encore.dev/environment']], ['encore-environments', 'prod'], 'the ClusterRole is the environment\'s own');

    // --- state: in the S3 state bucket, without a secret value ---
    const stateBucket = `encore-state-${MOTO_ACCOUNT}-${TEST_REGION}`;
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: stateBucket }))).Status, 'Enabled');
    assert.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket: stateBucket }))).PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const stateText = await (await s3.send(new GetObjectCommand({ Bucket: stateBucket, Key: 'environments/prod/state.json' }))).Body!.transformToString();
    assert.equal(Object.keys(JSON.parse(stateText).resources).length, graph.resources.length);
    for (const value of [managed.password, token]) assert.ok(!stateText.includes(value) && !JSON.stringify(events).includes(value), 'a secret value reached state or progress');

    // --- an app secret's value: to Secrets Manager, and to its in-cluster copy the pods read ---
    await setSecretValue(graph, opened.driver, 'EmailApiKey', 'sk-test-4242', new AbortController().signal);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: byId('aws:secretsmanager:EmailApiKey').name }))).SecretString, 'sk-test-4242');
    const copy = graph.resources.find((r) => r.providerType === 'k8s/v1/Secret' && r.source?.name === 'EmailApiKey')!;
    assert.equal(Buffer.from(((await admin.find('v1', 'Secret', 'prod', copy.name)) as Any).data.value, 'base64').toString(), 'sk-test-4242');
    const statuses = await secretStatuses(graph, opened.driver, new AbortController().signal);
    assert.deepEqual(statuses.map((s) => [s.secret.name, s.status]), [['EmailApiKey', 'set'], ['SessionSigningKey', 'unset']]);

    // --- a second plan: nothing to change ---
    const again = await planChanges(graph, await backend.load(), opened.driver);
    const changing = again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${e.action} ${JSON.stringify(e.changes)}`);
    assert.deepEqual(changing, [], 'a re-plan right after apply changes nothing');

    // --- drift on the autoscaler (someone scaled it by hand): the plan shows it, apply takes it back ---
    await admin.mergePatch('apps/v1', 'Deployment', 'kube-system', 'cluster-autoscaler', { spec: { replicas: 3 } });
    const drifted = (await planChanges(graph, await backend.load(), opened.driver)).entries.filter((e) => e.action !== 'keep');
    assert.deepEqual(drifted.map((e) => [e.id, e.action, e.changes.map((c) => [c.path, c.before, c.after])]), [[AUTOSCALER.deploymentId, 'update', [['replicas', 3, 1]]]]);
    const fixed = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(fixed.result.outcome, 'succeeded', JSON.stringify(fixed.result.failed, null, 2));
    assert.equal(((await admin.find('apps/v1', 'Deployment', 'kube-system', 'cluster-autoscaler')) as Any).spec.replicas, 1);

    // --- destroy: everything but the final snapshots ---
    const gone = await destroy('prod', 'aws', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    // The automated snapshots of the backups go with the instance (moto keeps them); the final snapshots are manual.
    const snapshots = (await rdsClient.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? [];
    assert.deepEqual(snapshots.map((s) => s.DBInstanceIdentifier).sort(), [byId('aws:rds:orders').name, byId('aws:rds:users').name].sort(), 'a final snapshot of each database is kept');
    assert.ok(snapshots.every((s) => /-final-/.test(s.DBSnapshotIdentifier ?? '')));
    assert.deepEqual((await rdsClient.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [], []);
    assert.deepEqual((await eks.send(new ListClustersCommand({}))).clusters ?? [], []);
    assert.deepEqual((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [], []);
    assert.deepEqual(((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name), [stateBucket], 'only the state bucket is left');
    const ec2 = new EC2Client(config('ec2'));
    assert.deepEqual(((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:encore.dev/env', Values: ['prod'] }] }))).Vpcs ?? []).map((v) => v.VpcId), []);
    assert.deepEqual(((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName).filter((n) => n?.startsWith('sample-app-prod')), []);
    // The autoscaler's objects outside the environment's namespace go with it: cluster-scoped and in kube-system.
    for (const [apiVersion, kind, ns] of [
      ['rbac.authorization.k8s.io/v1', 'ClusterRole', undefined], ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined],
      ['rbac.authorization.k8s.io/v1', 'Role', 'kube-system'], ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'kube-system'],
      ['v1', 'ServiceAccount', 'kube-system'], ['apps/v1', 'Deployment', 'kube-system'],
    ] as const) assert.equal(await admin.find(apiVersion, kind, ns, 'cluster-autoscaler'), null, `${kind} cluster-autoscaler is gone`);
    const left = ((await sm.send(new ListSecretsCommand({}))).SecretList ?? []).filter((s) => !s.DeletedDate && s.Name?.startsWith('encore'));
    assert.deepEqual(left.map((s) => s.Name), [], 'app secrets are scheduled for deletion (with their recovery window), the driver\'s own are deleted');
    for (const c of [rdsClient, eks, sqs, sns, s3, sm, iam, ec, ecr, ec2]) c.destroy();
  } finally {
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
});

test('the sample app on AWS Development: one NAT gateway, no storage tier, a fixed node group, everything else in the cluster', { timeout: 600_000 }, async () => {
  const me = await deployer(bed, secrets);
  await bindClusterAdmin(kube, me.arn).catch(() => undefined); // bound by the first test already
  bed.shim.eks.connect(DEV_CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
  const opened = await (await providerModule('aws')).open(devEnv, { appRoot: dir, timing: { pollIntervalMs: 30, deleteTimeoutMs: 60_000 } });
  const backend = await opened.state();
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'dev');
  const lbs = playLoadBalancers(admin, 'dev');
  const config = { region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials };
  try {
    assert.ok(!devGraph.resources.some((r) => r.providerType === 'AWS::RDS::DBInstance' || r.providerType === 'AWS::ElastiCache::ReplicationGroup'));
    const applied = await apply(devGraph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    assert.equal(applied.result.done.length, devGraph.resources.length);
    assert.deepEqual(devGraph.resources.filter((r) => ['AWS::IAM::OIDCProvider', 'AWS::IAM::GitHubDeployRole', 'AWS::EKS::AccessEntry'].includes(r.providerType)).map((r) => r.id), ['aws:github-oidc', 'aws:ci-role', 'aws:ci-access-entry']);
    const iam = new IAMClient(config);
    const deployRole = (await iam.send(new GetRoleCommand({ RoleName: devGraph.resources.find((r) => r.id === 'aws:ci-role')!.name }))).Role!;
    assert.deepEqual(bed.shim.eks.accessEntries(TEST_REGION, DEV_CLUSTER).map((e) => e.principalArn).sort(), [me.arn, deployRole.Arn].sort(), "the creator's access entry and the deploy role's");
    const nodes = devGraph.resources.find((r) => r.id === 'aws:eks-nodegroup')!;
    const ng = (await new EKSClient(config).send(new DescribeNodegroupCommand({ clusterName: DEV_CLUSTER, nodegroupName: nodes.name }))).nodegroup!;
    assert.deepEqual([ng.scalingConfig?.minSize, ng.scalingConfig?.desiredSize, ng.scalingConfig?.maxSize], [nodes.settings.minSize, nodes.settings.minSize, nodes.settings.minSize], 'a fixed pool');
    assert.equal(ng.tags?.['k8s.io/cluster-autoscaler/enabled'], undefined);
    assert.equal(await admin.find('apps/v1', 'Deployment', 'kube-system', 'cluster-autoscaler'), null, 'no autoscaler for a fixed node group');
    const ec2 = new EC2Client(config);
    const vpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:encore.dev/env', Values: ['dev'] }] }))).Vpcs!;
    assert.equal(vpc.length, 1);
    assert.ok(await admin.find('apps/v1', 'StatefulSet', 'dev', 'encore-postgres-orders'), 'the database runs in the cluster');
    const again = await planChanges(devGraph, await backend.load(), opened.driver);
    assert.deepEqual(again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${JSON.stringify(e.changes)}`), []);
    const gone = await destroy('dev', 'aws', { backend, driver: opened.driver, confirm: 'dev', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.deepEqual((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:encore.dev/env', Values: ['dev'] }] }))).Vpcs, []);
    const providers = ((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map((p) => p.Arn!);
    assert.deepEqual(providers.filter((arn) => arn.endsWith('/token.actions.githubusercontent.com')), [], "GitHub's provider, made by this environment, is gone");
    ec2.destroy();
    iam.destroy();
  } finally {
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
});
