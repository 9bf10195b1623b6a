// Crash safety on AWS: an apply of the sample app's AWS Production environment, in its own process, SIGKILLed at a
// spread of step boundaries one after the other (each next run finds the dead holder's lock, breaks it without
// force since its process is gone, and continues from state), then run to the end. Afterwards moto holds exactly
// one of everything, a further apply changes nothing, and destroy leaves no orphan.
// ENCORE_CRASH_ALL=1 kills it at every boundary in turn, which takes minutes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { DescribeAddressesCommand, DescribeNatGatewaysCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isStateError } from '../../src/model/state';
import { apply, destroy, unlock } from '../../src/provisioning/engine';
import { providerModule } from '../../src/provisioning/providers';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { bindClusterAdmin, deployer, playLoadBalancers } from '../aws/sampleEnvironment';
import { eksTokenValidator } from '../kube/eksTokenValidator';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenWebhook } from '../kube/tokenWebhook';
import { crashEnvironment, crashGraph, type AwsCrashChildConfig } from './awsCrashChild';
import { simulateControllers } from './kubeControllers';

const repo = path.join(__dirname, '..', '..');
const graph = crashGraph(TEST_REGION);
const env = crashEnvironment(TEST_REGION);
const CLUSTER = graph.resources.find((r) => r.id === 'aws:eks')!.name;

let bed: AwsTestbed;
let kube: TestKube;
let webhook: TokenWebhook;
let dir: string;
const secrets = new Map<string, { secretAccessKey: string }>();

before(async () => {
  bed = await startAwsTestbed();
  webhook = await startTokenWebhook([eksTokenValidator({ clusterName: CLUSTER, stsEndpoint: bed.endpoint, secretFor: (id) => secrets.get(id) })]);
  kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
  dir = mkdtempSync(path.join(os.tmpdir(), 'aws-crash-'));
});
afterEach(async () => bed.afterEach());
after(async () => {
  await kube?.stop();
  await webhook?.close();
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runChild(config: AwsCrashChildConfig): Promise<{ exit: NodeJS.Signals | number | null; pid: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'awsCrashChild.ts')], {
    cwd: repo,
    env: { ...process.env, AWS_CRASH_CHILD: JSON.stringify(config), AWS_CRASH_REGION: TEST_REGION },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ exit: signal ?? code, pid: child.pid!, output })));
}

test('an AWS apply SIGKILLed at step boundaries, one run after another, converges with no duplicate and no orphan', { timeout: 1_800_000 }, async (t) => {
  const steps = graph.resources.length;
  const kills = process.env.ENCORE_CRASH_ALL === '1' ? Array.from({ length: steps - 1 }, (_, i) => i + 1) : [1, 4, 9, 16, 25, 36];
  const me = await deployer(bed, secrets);
  await bindClusterAdmin(kube, me.arn);
  bed.shim.eks.connect(CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'prod');
  const lbs = playLoadBalancers(admin, 'prod');
  const provider = await providerModule('aws');
  const opened = await provider.open(env, { appRoot: dir, timing: { pollIntervalMs: 30 } });
  const config = { region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials };
  const reports: string[] = [];
  try {
    const backend = await opened.state();
    let before = 0;
    for (const n of kills) {
      // Each run continues from where the last one stopped and counts its own "done" steps: killed after the steps
      // between this boundary and the last, the kills land at the boundaries of the whole apply.
      const child = await runChild({ appRoot: dir, killAt: Math.max(1, n - before) });
      before = n;
      if (child.exit !== 'SIGKILL') {
        assert.match(child.output, /result \{"outcome":"succeeded"/, `run before kill ${n}: ${child.output.slice(-800)}`);
        reports.push(`kill ${n}: the run finished first`);
        break;
      }
      const refused = await apply(graph, { backend, driver: opened.driver }).then(() => null, (err: unknown) => err);
      assert.ok(isStateError(refused) && refused.code === 'locked', `after kill ${n}: expected the dead child's lock, got ${String(refused)}`);
      const { broken } = await unlock(backend);
      assert.equal(broken?.pid, child.pid, 'the dead holder\'s lock is broken without force');
      const { state } = await backend.load();
      reports.push(`kill ${n}: ${Object.values(state?.resources ?? {}).filter((r) => r.status === 'ready').length} ready`);
    }
    const last = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(last.result.outcome, 'succeeded', `${reports.join('; ')}\n${JSON.stringify(last.result.failed, null, 2)}`);
    const again = await apply(graph, { backend, driver: opened.driver });
    assert.deepEqual(again.plan.counts, { create: 0, update: 0, delete: 0, keep: steps }, 'a further apply changes nothing');

    const ec2 = new EC2Client(config);
    const mine = [{ Name: 'tag:encore.dev/env', Values: ['prod'] }];
    assert.equal((await ec2.send(new DescribeVpcsCommand({ Filters: mine }))).Vpcs?.length, 1, 'one VPC');
    assert.equal((await ec2.send(new DescribeSubnetsCommand({ Filters: mine }))).Subnets?.length, 6);
    assert.equal((await ec2.send(new DescribeNatGatewaysCommand({ Filter: mine }))).NatGateways?.filter((g) => g.State !== 'deleted').length, 2);
    assert.equal((await ec2.send(new DescribeAddressesCommand({ Filters: mine }))).Addresses?.length, 2);
    assert.equal((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: mine }))).SecurityGroups?.length, 3);
    assert.equal((await new SQSClient(config).send(new ListQueuesCommand({}))).QueueUrls?.length, 2);
    assert.equal((await new RDSClient(config).send(new DescribeDBInstancesCommand({}))).DBInstances?.length, 2);
    const iam = new IAMClient(config);
    // The cluster and node roles, a role per service, and the cluster autoscaler's.
    assert.equal(((await iam.send(new ListRolesCommand({}))).Roles ?? []).filter((r) => r.RoleName?.startsWith('sample-app-prod')).length, 5);
    assert.deepEqual((await admin.list('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, { labelSelector: 'encore.dev/environment=prod' })).items.map((o) => o.metadata.name), ['cluster-autoscaler']);
    assert.deepEqual((await admin.list('apps/v1', 'Deployment', 'kube-system', { labelSelector: 'encore.dev/environment=prod' })).items.map((o) => o.metadata.name), ['cluster-autoscaler']);

    const gone = await destroy('prod', 'aws', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.deepEqual((await ec2.send(new DescribeVpcsCommand({ Filters: mine }))).Vpcs, []);
    assert.deepEqual(((await iam.send(new ListRolesCommand({}))).Roles ?? []).filter((r) => r.RoleName?.startsWith('sample-app-prod')), []);
    assert.deepEqual((await admin.list('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, { labelSelector: 'encore.dev/environment=prod' })).items, [], 'no orphan outside the namespace');
    t.diagnostic(`crash safety on AWS: ${reports.length} killed applies of ${steps} steps, then converged (${reports.join('; ')})`);
  } finally {
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
});
