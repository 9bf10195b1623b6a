// Interrupted applies of the sample app's AWS Production environment converge: each run is cancelled once a number
// of steps are done (the steps in flight then are aborted mid-call, leaving half-made networks, clusters being
// created, roles without their policies), the next run continues from state, and the last one finishes. Afterwards
// moto holds exactly one of everything (no duplicate VPC, subnet, NAT gateway, Elastic IP, security group, queue,
// role), and destroy leaves no orphan. This is cancellation, not SIGKILL: the process-kill variant of the
// Kubernetes provider (kubeCrash.test.ts) is not done for AWS.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { DescribeAddressesCommand, DescribeNatGatewaysCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListClustersCommand, EKSClient } from '@aws-sdk/client-eks';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { apply, destroy } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { bindClusterAdmin, deployer, playLoadBalancers } from '../aws/sampleEnvironment';
import { eksTokenValidator } from '../kube/eksTokenValidator';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenWebhook } from '../kube/tokenWebhook';
import { simulateControllers } from './kubeControllers';

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } };
const graph = desiredGraph(sample, env, { appId: 'sample-app' });
const CLUSTER = graph.resources.find((r) => r.id === 'aws:eks')!.name;
/** After how many more finished steps each interrupted run is cancelled. */
const CUTS = [1, 3, 6, 10, 15];

let bed: AwsTestbed;
let kube: TestKube;
let webhook: TokenWebhook;
let dir: string;
const secrets = new Map<string, { secretAccessKey: string }>();

before(async () => {
  bed = await startAwsTestbed();
  webhook = await startTokenWebhook([eksTokenValidator({ clusterName: CLUSTER, stsEndpoint: bed.endpoint, secretFor: (id) => secrets.get(id) })]);
  kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
  dir = mkdtempSync(path.join(os.tmpdir(), 'aws-resume-'));
});
afterEach(async () => bed.afterEach());
after(async () => {
  await kube?.stop();
  await webhook?.close();
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`applies cancelled after ${CUTS.join(', ')} more steps, then run to the end: one of everything, and destroy leaves no orphan`, { timeout: 600_000 }, async () => {
  const me = await deployer(bed, secrets);
  await bindClusterAdmin(kube, me.arn);
  bed.shim.eks.connect(CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
  // Slow creates, so a cancellation lands while they are in flight.
  bed.shim.latencyMs = 5;
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'prod');
  const lbs = playLoadBalancers(admin, 'prod');
  const config = { region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials };
  const provider = await providerModule('aws');
  const outcomes: string[] = [];
  try {
    for (const cut of CUTS) {
      const opened = await provider.open(env, { appRoot: dir, timing: { pollIntervalMs: 30 } });
      const backend = await opened.state();
      const stop = new AbortController();
      let done = 0;
      const run = await apply(graph, {
        backend, driver: opened.driver, signal: stop.signal, retry: { attempts: 2, baseDelayMs: 10 },
        onProgress: (e) => {
          if (e.phase === 'done' && ++done === cut) stop.abort(new Error(`cancelled by the test after ${cut} steps`));
        },
      }).catch((err: Error) => ({ result: { outcome: `threw: ${err.message}` } }));
      outcomes.push(`${cut}: ${run.result.outcome}`);
      await opened.dispose();
    }
    const opened = await provider.open(env, { appRoot: dir, timing: { pollIntervalMs: 30 } });
    const backend = await opened.state();
    const last = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(last.result.outcome, 'succeeded', `${outcomes.join('; ')}\n${JSON.stringify(last.result.failed, null, 2)}`);
    assert.ok(outcomes.filter((o) => /cancelled/.test(o)).length >= 3, `the runs were cut: ${outcomes.join('; ')}`);
    console.log(`interrupted runs: ${outcomes.join('; ')}; the last run had ${last.plan.counts.create} to create, ${last.plan.counts.update} to update`);

    const ec2 = new EC2Client(config);
    const mine = [{ Name: 'tag:encore.dev/env', Values: ['prod'] }];
    assert.equal((await ec2.send(new DescribeVpcsCommand({ Filters: mine }))).Vpcs?.length, 1, 'one VPC');
    assert.equal((await ec2.send(new DescribeSubnetsCommand({ Filters: mine }))).Subnets?.length, 6, 'three tiers × two zones');
    assert.equal((await ec2.send(new DescribeNatGatewaysCommand({ Filter: mine }))).NatGateways?.filter((n) => n.State !== 'deleted').length, 2, 'a NAT gateway per zone');
    assert.equal((await ec2.send(new DescribeAddressesCommand({ Filters: mine }))).Addresses?.length, 2, 'an Elastic IP per NAT gateway');
    assert.equal((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: mine }))).SecurityGroups?.length, 3, 'cluster, database and cache groups');
    const sqs = new SQSClient(config);
    assert.equal((await sqs.send(new ListQueuesCommand({}))).QueueUrls?.length, 2);
    const iam = new IAMClient(config);
    const roles = ((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName!).filter((n) => n.startsWith('sample-app-prod')).sort();
    assert.deepEqual(roles, ['sample-app-prod-cluster-autoscaler', 'sample-app-prod-cluster-cluster', 'sample-app-prod-nodes-node', 'sample-app-prod-svc-notifications', 'sample-app-prod-svc-orders']);
    // The cluster autoscaler's objects outside the environment's namespace: one of each.
    const autoscalerBindings = (await admin.list('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, { labelSelector: 'encore.dev/environment=prod' })).items.map((o) => o.metadata.name);
    assert.deepEqual(autoscalerBindings, ['cluster-autoscaler']);
    assert.deepEqual((await admin.list('apps/v1', 'Deployment', 'kube-system', { labelSelector: 'encore.dev/environment=prod' })).items.map((o) => o.metadata.name), ['cluster-autoscaler']);
    const rds = new RDSClient(config);
    assert.equal((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances?.length, 2);

    const gone = await destroy('prod', 'aws', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.deepEqual((await ec2.send(new DescribeVpcsCommand({ Filters: mine }))).Vpcs, []);
    assert.deepEqual((await ec2.send(new DescribeAddressesCommand({ Filters: mine }))).Addresses, []);
    assert.deepEqual((await new EKSClient(config).send(new ListClustersCommand({}))).clusters, []);
    assert.deepEqual((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [], []);
    assert.deepEqual(((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName).filter((n) => n?.startsWith('sample-app-prod')), []);
    for (const [kind, ns] of [['ClusterRole', undefined], ['ClusterRoleBinding', undefined], ['Role', 'kube-system'], ['RoleBinding', 'kube-system']] as const) {
      assert.deepEqual((await admin.list('rbac.authorization.k8s.io/v1', kind, ns, { labelSelector: 'encore.dev/environment=prod' })).items.map((o) => o.metadata.name), [], `no ${kind} of the environment is left`);
    }
    assert.deepEqual((await admin.list('apps/v1', 'Deployment', 'kube-system', { labelSelector: 'encore.dev/environment=prod' })).items, []);
    await opened.dispose();
  } finally {
    await lbs.stop();
    await controllers.stop();
  }
});
