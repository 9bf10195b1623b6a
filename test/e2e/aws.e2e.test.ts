// An AWS Production environment from the Create Environment form to a ready tree, in real VS Code (code-server):
// the AWS profile's endpoint_url is the emulator (moto behind the shim, test/aws/harness.ts), so the extension
// host's real SDK clients reach it with the profile's own credentials, and the environment's EKS cluster is the
// test kube-apiserver, which authenticates the product's `k8s-aws-v1.` token through the EKS token webhook. The
// form shows who acts (the profile's IAM user), the sizing questions and the estimated cost; the plan document
// starts with who acts and the estimate; Apply turns the tree and the CodeLens ready; the status bar says who acts
// on the selected environment; Destroy takes the typed confirmation that declines the final snapshots.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { desiredGraph } from '../../src/provisioning/planner';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { bindClusterAdmin, deployer, playLoadBalancers } from '../aws/sampleEnvironment';
import { simulateControllers, type Controllers } from '../integration/kubeControllers';
import { eksTokenValidator } from '../kube/eksTokenValidator';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenWebhook } from '../kube/tokenWebhook';
import { ACTIVITY_TITLE, openWorkbench, sampleApp, step, type Workbench } from './harness';

const NAME = 'prod';
const env: Environment = { name: NAME, type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } };
// The sample app has no id: resources are named after its folder, which the workspace copy keeps (sample-app).
const graph = desiredGraph(new AppAnalyzer(sampleApp).analyze(), env);
const CLUSTER = graph.resources.find((r) => r.id === 'aws:eks')!.name;

describe('aws: an AWS Production environment from the form to ready, against the emulator', { timeout: 900_000 }, () => {
  let wb: Workbench;
  let bed: AwsTestbed;
  let kube: TestKube;
  let webhook: TokenWebhook;
  let controllers: Controllers | undefined;
  let lbs: { stop(): Promise<void> } | undefined;
  let me: Awaited<ReturnType<typeof deployer>>;
  const secrets = new Map<string, { secretAccessKey: string }>();
  const get = () => wb;

  before(async () => {
    bed = await startAwsTestbed();
    webhook = await startTokenWebhook([eksTokenValidator({ clusterName: CLUSTER, stsEndpoint: bed.endpoint, secretFor: (id) => secrets.get(id) })]);
    kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
    // Profile "shop": an IAM user's keys, and endpoint_url at the shim in front of moto.
    me = await deployer(bed, secrets);
    await bindClusterAdmin(kube, me.arn);
    bed.shim.eks.connect(CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
    const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
    controllers = simulateControllers(admin, NAME);
    lbs = playLoadBalancers(admin, NAME);
    const aws = { AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE!, AWS_SHARED_CREDENTIALS_FILE: process.env.AWS_SHARED_CREDENTIALS_FILE! };
    wb = await openWorkbench('aws', undefined, {
      env: (_workspace, scratch) => ({
        ...aws,
        // No kubeconfig of the machine's: the EKS connection is made from DescribeCluster alone.
        KUBECONFIG: path.join(scratch, 'no-kubeconfig'),
        NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
      }),
    });
  });
  after(async () => {
    await wb?.close();
    await lbs?.stop();
    await controllers?.stop();
    await kube?.stop();
    await webhook?.close();
    await bed?.stop();
  });

  step('the form: AWS with the profile and region pickers, who acts, the sizing questions and the estimated cost', get, async (w) => {
    await w.page.locator(`.activitybar .action-item a[aria-label="${ACTIVITY_TITLE}"]`).click();
    const pane = w.page.locator('.part.sidebar .pane', { has: w.page.locator('.pane-header', { hasText: 'Environments' }) });
    await pane.locator('.welcome-view-content a.monaco-button', { hasText: 'Create Environment' }).click();
    const f = form(w.page);
    await f.locator('h1', { hasText: 'New environment for sample-app' }).waitFor();
    await f.locator('#name input').fill(NAME);
    await f.locator('vscode-radio[value="production"]').click();
    await f.locator('vscode-radio[value="manual"]').click();
    await f.locator('vscode-radio[value="aws"]').click();
    // The pickers: the profile found in the AWS config, and a region from the list.
    await selectOption(f, 'awsProfile', 'shop');
    await f.locator('#awsRegion').click();
    await f.locator('#awsRegion li.option', { hasText: TEST_REGION }).first().click();
    await waitValue(f.locator('#awsRegion'), TEST_REGION);
    // Who acts, from STS GetCallerIdentity through the profile's endpoint: the account and the ARN, no key.
    await f.locator('#identity-principal', { hasText: me.arn }).waitFor({ timeout: 60_000 });
    await f.locator('#identity-scope', { hasText: `AWS account ${MOTO_ACCOUNT} in ${TEST_REGION}` }).waitFor();
    assert.ok(!(await f.locator('#identity').innerText()).includes(me.credentials.secretAccessKey), 'no secret in the form');
    // The sizing questions, answered for one database.
    const cpu = f.locator('[data-sizing="sizing:databases/users/cpu"] input');
    await cpu.fill('4');
    await f.locator('#preview li.res', { hasText: /^RDS PostgreSQL db\.m5\.xlarge, 7-day backups/ }).waitFor();
    // The estimate, per resource and in total, said to be one.
    await f.locator('#cost-total', { hasText: /About \$[\d,]+\.\d\d a month/ }).waitFor();
    await f.locator('#cost', { hasText: 'An estimate: on-demand prices of' }).waitFor();
    await f.locator('#cost .cost-lines tr', { hasText: 'aws:rds:users' }).waitFor();
    await f.locator('#summary', { hasText: `Production · AWS ${TEST_REGION} · manual deploy` }).waitFor();
    await f.locator('#identity').scrollIntoViewIfNeeded();
    await w.screenshot('form-aws');
    await waitEnabled(f.locator('#submit'));
    await f.locator('#submit').click();
    const toast = w.toast(`environment "${NAME}" created in encore.environments.json`);
    await toast.waitFor();
    await toast.locator('a.monaco-button', { hasText: 'Plan' }).click();
  });

  step('the plan document starts with who acts and the estimated cost, and offers Apply', get, async (w) => {
    const { page } = w;
    await page.locator('.tabs-container .tab.active', { hasText: `${NAME}.plan.diff` }).waitFor({ timeout: 120_000 });
    const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
    await editor.filter({ hasText: /@@\sCreate:\s\d+\s@@/ }).waitFor();
    const text = (await editor.innerText()).replace(/\u00a0/g, ' ');
    assert.match(text, new RegExp(`^# Acting as ${escape(me.arn)} \\(AWS account ${MOTO_ACCOUNT} in ${TEST_REGION}`, 'm'));
    assert.match(text, /^# Estimated cost: about \$[\d,]+\.\d\d a month/m);
    assert.match(text, /^# {3}\(an estimate: on-demand prices of /m);
    await w.screenshot('plan-aws');
  });

  step('Apply creates the environment in the emulator and the cluster; the tree turns ready', get, async (w) => {
    const { page } = w;
    await page.locator('.editor-actions .action-label[aria-label="Apply This Plan"]').click();
    await w.toast(`Apply of "${NAME}" finished`).waitFor({ timeout: 600_000 });
    const rds = new RDSClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials });
    const dbs = (await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
    assert.deepEqual(dbs.map((d) => [d.DBInstanceClass, d.MultiAZ, d.DeletionProtection]).sort(), [['db.m5.large', true, true], ['db.m5.xlarge', true, true]]);
    rds.destroy();
    const group = page.locator('.part.sidebar .monaco-list-row[aria-level="2"][aria-expanded]', { hasText: 'users' }).first();
    if ((await group.getAttribute('aria-expanded')) === 'false') await group.click();
    await page.locator('.part.sidebar .monaco-list-row[aria-level="3"] .label-description', { hasText: /^ready$/ }).first().waitFor({ timeout: 60_000 });
    await w.screenshot('tree-aws-ready');
  });

  step('the CodeLens says ready, and the status bar says who acts on the selected environment', get, async (w) => {
    const { page } = w;
    await w.openFile('users/db.ts');
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: `${NAME}: RDS PostgreSQL db.m5.xlarge · ready` }).waitFor({ timeout: 60_000 });
    const item = page.locator('.part.statusbar .statusbar-item[aria-label^="Encore environment: "]');
    await waitAttribute(item, 'aria-label', `Encore environment: ${NAME}, acting as ${me.arn}`, 60_000);
    await w.screenshot('codelens-status-aws');
  });

  step('Destroy with "prod without snapshot": the protection lifted, the databases gone with no final snapshot', get, async (w) => {
    const { page } = w;
    await w.startCommand('Encore: Destroy');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await page.locator('.quick-input-widget', { hasText: `type "${NAME} without snapshot" to delete without one` }).waitFor();
    await input.fill(`${NAME} without snapshot`);
    await page.keyboard.press('Enter');
    await w.toast(`Destroy of "${NAME}" finished`).waitFor({ timeout: 600_000 });
    const rds = new RDSClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials });
    assert.deepEqual((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [], []);
    assert.deepEqual((await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? [], []);
    rds.destroy();
    assert.match(w.extensionLog(), /without a final snapshot \(the confirmation declined it\)/);
    assert.ok(!w.extensionLog().includes(me.credentials.secretAccessKey), 'no secret in the log');
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function form(page: Page): FrameLocator {
  return page.locator('iframe.webview.ready').filter({ visible: true }).contentFrame().frameLocator('iframe#active-frame');
}

async function selectOption(f: FrameLocator, id: string, value: string): Promise<void> {
  if ((await f.locator(`#${id}`).evaluate((el) => (el as unknown as { value: string }).value)) === value) return;
  await f.locator(`#${id}`).click();
  await f.locator(`#${id} li.option`, { hasText: new RegExp(`^\\s*${escape(value)}\\s*$`) }).click();
  await waitValue(f.locator(`#${id}`), value);
}

async function waitValue(locator: Locator, value: string): Promise<void> {
  await waitFor(async () => (await locator.evaluate((el) => (el as unknown as { value: string }).value)) === value, `value ${value}`);
}

async function waitEnabled(locator: Locator): Promise<void> {
  await waitFor(async () => (await locator.getAttribute('disabled')) === null, 'an enabled button');
}

async function waitAttribute(locator: Locator, name: string, value: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await locator.getAttribute(name)) === value, `${name}=${value}`, timeoutMs);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
