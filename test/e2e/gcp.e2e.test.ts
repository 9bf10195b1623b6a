// A GCP Production environment from the Create Environment form to a ready tree, in real VS Code (code-server):
// the extension host gets Application Default Credentials (an external account whose STS exchange and service
// account impersonation go to the test token server) and the active gcloud configuration's project, region and
// `[api_endpoint_overrides]`, which point every Google API the provider calls at the fakes of test/gcp/ (gRPC over
// TLS, trusted through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH; REST, pstest and fake-gcs-server over HTTP). The GKE fake's
// cluster is the test kube-apiserver, which takes the ADC access token through its token webhook, as GKE does. The
// form shows the project, region and who acts (the impersonated service account), the sizing questions and the
// estimated cost; the plan starts with who acts and the estimate; Apply turns the tree and the CodeLens ready; the
// status bar says who acts on the selected environment.
import '../gcp/tls';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { ClusterManagerClient } from '@google-cloud/container';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { desiredGraph } from '../../src/provisioning/planner';
import { openGcpConnection } from '../../src/provisioning/providers/gcp/connection';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { playLoadBalancers } from '../aws/sampleEnvironment';
import { TEST_PROJECT, TEST_PROJECT_NUMBER, TEST_REGION } from '../gcp/harness';
import { startGcpEnvironmentBed, type GcpEnvironmentBed } from '../gcp/sampleEnvironment';
import { testTls } from '../gcp/tls';
import { simulateControllers, type Controllers } from '../integration/kubeControllers';
import { ACTIVITY_TITLE, contextMenu, openWorkbench, sampleApp, step, treeRow, type Workbench } from './harness';

const NAME = 'prod';
/** The service account the developer's ADC impersonates: who the form, the plan and the status bar name. */
const DEPLOYER = `deployer@${TEST_PROJECT}.iam.gserviceaccount.com`;
const env: Environment = { name: NAME, type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: TEST_PROJECT, region: TEST_REGION } };
// The sample app has no id: resources are named after its folder, which the workspace copy keeps (sample-app).
const graph = desiredGraph(new AppAnalyzer(sampleApp).analyze(), env);
const byId = (id: string) => graph.resources.find((r) => r.id === id)!;
/** A cluster the project already has (made before the form opens), without Workload Identity: the picker lists it. */
const EXISTING = { name: 'legacy-shared', location: `${TEST_REGION}-b` };

describe('gcp: a GCP Production environment from the form to ready, against the fakes', { timeout: 900_000 }, () => {
  let wb: Workbench;
  let bed: GcpEnvironmentBed;
  let controllers: Controllers | undefined;
  let lbs: { stop(): Promise<void> } | undefined;
  const get = () => wb;

  before(async () => {
    bed = await startGcpEnvironmentBed();
    // The developer's ADC: the bed's federated identity (a subject token in a file, exchanged at the token server's
    // STS), impersonating the deployer's service account at the token server's iamcredentials.
    const tokens = bed.bed.tokens;
    const audience = `//iam.googleapis.com/projects/${TEST_PROJECT_NUMBER}/locations/global/workloadIdentityPools/dev/providers/laptop`;
    const subjectToken = `subject-${Math.random().toString(36).slice(2)}`;
    tokens.addSubjectToken(subjectToken, 'dev@example.com', audience);
    const subjectFile = path.join(bed.bed.config, 'developer-subject-token');
    writeFileSync(subjectFile, subjectToken, { mode: 0o600 });
    const adcFile = path.join(bed.bed.config, 'developer-adc.json');
    writeFileSync(adcFile, JSON.stringify({
      type: 'external_account', audience, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: `${tokens.url}/v1/token`, credential_source: { file: subjectFile },
      service_account_impersonation_url: `${tokens.url}/v1/projects/-/serviceAccounts/${DEPLOYER}:generateAccessToken`,
    }), { mode: 0o600 });
    // What GKE's IAM integration gives a project owner: cluster-admin for the deployer's Google identity.
    await bed.kube.kubeConfig().makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: 'gke-project-owner-deployer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: DEPLOYER }],
      },
    });
    await createExistingCluster();
    const admin = KubeClient.fromKubeConfig(bed.kube.kubeConfig(), 'encore-test');
    controllers = simulateControllers(admin, NAME);
    lbs = playLoadBalancers(admin, NAME);
    wb = await openWorkbench('gcp', undefined, {
      env: (_workspace, scratch) => ({
        CLOUDSDK_CONFIG: bed.bed.config,
        GOOGLE_APPLICATION_CREDENTIALS: adcFile,
        // The gRPC fakes' certificate, trusted by grpc-js in the extension host.
        GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: testTls.caFile,
        // Off Google Cloud: no probe of the metadata server.
        METADATA_SERVER_DETECTION: 'none',
        // No kubeconfig of the machine's: the GKE connection is made from the cluster's endpoint and CA alone.
        KUBECONFIG: path.join(scratch, 'no-kubeconfig'),
        NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
      }),
    });
  });
  after(async () => {
    await wb?.close();
    await lbs?.stop();
    await controllers?.stop();
    await bed?.stop();
  });

  step('the form: GCP with the project and region from gcloud, who acts from ADC, the sizing questions and the estimated cost', get, async (w) => {
    await w.page.locator(`.activitybar .action-item a[aria-label="${ACTIVITY_TITLE}"]`).click();
    const pane = w.page.locator('.part.sidebar .pane', { has: w.page.locator('.pane-header', { hasText: 'Environments' }) });
    await pane.locator('.welcome-view-content a.monaco-button', { hasText: 'Create Environment' }).click();
    const f = form(w.page);
    await f.locator('h1', { hasText: 'New environment for sample-app' }).waitFor();
    await f.locator('#name input').fill(NAME);
    await f.locator('vscode-radio[value="production"]').click();
    await f.locator('vscode-radio[value="manual"]').click();
    await f.locator('vscode-radio[value="gcp"]').click();
    // The pickers, filled in from the active gcloud configuration: its project, listed, and its [compute] region.
    await waitValue(f.locator('#gcpProject'), TEST_PROJECT);
    await f.locator('#gcpProject vscode-option', { hasText: TEST_PROJECT }).first().waitFor({ state: 'attached' });
    await waitValue(f.locator('#gcpRegion'), TEST_REGION);
    // Who acts, from ADC through the token server: the impersonated service account, in the project and region.
    await f.locator('#identity-principal', { hasText: DEPLOYER }).waitFor({ timeout: 60_000 }).catch(async (err: unknown) => {
      throw new Error(`the form does not say who acts: ${await f.locator('#identity').innerText().catch(() => '(no #identity)')}`, { cause: err });
    });
    await f.locator('#identity-scope', { hasText: `GCP project ${TEST_PROJECT} in ${TEST_REGION}` }).waitFor();
    // The cluster picker: "create a new cluster" first, then the project's clusters from the GKE API (ADC, the fake);
    // the existing one has no Workload Identity, so it is marked, and choosing it shows the command that turns it on.
    const existing = `${EXISTING.location}/${EXISTING.name}`;
    await waitValue(f.locator('#gcpCluster'), '');
    const option = f.locator(`#gcpCluster vscode-option[value="${existing}"]`);
    await option.waitFor({ state: 'attached', timeout: 60_000 }).catch(async (err: unknown) => {
      throw new Error(`the picker does not list ${existing}: ${await f.locator('#gcpCluster').locator('xpath=..').innerText().catch(() => '(no #gcpCluster)')}`, { cause: err });
    });
    assert.match((await option.getAttribute('description')) ?? '', /^Standard · running · Workload Identity off/);
    assert.equal(await f.locator('#gcpCluster vscode-option').first().getAttribute('description'), 'create a new cluster');
    await selectOption(f, 'gcpCluster', existing);
    await f.locator('#gcpCluster-workload-identity code', { hasText: `gcloud container clusters update ${EXISTING.name} --location ${EXISTING.location} --workload-pool=${TEST_PROJECT}.svc.id.goog` }).waitFor();
    // Autopilot is a choice for a new cluster only.
    await waitFor(async () => (await f.locator('#gcpAutopilot').count()) === 0, 'no GKE mode for an existing cluster');
    await w.screenshot('form-gcp-existing-cluster');
    await f.locator('#gcpCluster').click();
    await f.locator('#gcpCluster li.option', { hasText: '(create a new cluster)' }).click();
    await waitValue(f.locator('#gcpCluster'), '');
    await f.locator('#gcpAutopilot').waitFor();
    const shown = await f.locator('#identity').innerText();
    for (const token of bed.bed.tokens.issued()) assert.ok(!shown.includes(token), 'no access token in the form');
    // The sizing questions, answered for one database.
    await f.locator('[data-sizing="sizing:databases/users/cpu"] input').fill('4');
    await f.locator('#preview li.res', { hasText: /^Cloud SQL PostgreSQL db-custom-4-\d+, 7-day backups/ }).waitFor();
    // The estimate, per resource and in total, said to be one.
    await f.locator('#cost-total', { hasText: /About \$[\d,]+\.\d\d a month/ }).waitFor();
    await f.locator('#cost', { hasText: 'An estimate' }).waitFor();
    await f.locator('#cost .cost-lines tr', { hasText: 'gcp:sql:users' }).waitFor();
    await f.locator('#summary', { hasText: `Production · GCP ${TEST_PROJECT} ${TEST_REGION} · manual deploy` }).waitFor();
    await f.locator('#identity').scrollIntoViewIfNeeded();
    await w.screenshot('form-gcp');
    await waitEnabled(f.locator('#submit'));
    await f.locator('#submit').click();
    await w.toast(`environment "${NAME}" created in encore.environments.json`).waitFor();
  });

  step('Plan from the tree: the plan document starts with who acts and the estimated cost', get, async (w) => {
    const { page } = w;
    await w.showEnvironmentsView();
    await contextMenu(page, treeRow(page, NAME), 'Plan');
    await page.locator('.tabs-container .tab.active', { hasText: `${NAME}.plan.diff` }).waitFor({ timeout: 120_000 });
    const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
    await editor.filter({ hasText: /@@\sCreate:\s\d+\s@@/ }).waitFor();
    const text = (await editor.innerText()).replace(/\u00a0/g, ' ');
    assert.match(text, new RegExp(`^# Acting as ${escape(DEPLOYER)} \\(GCP project ${TEST_PROJECT} in ${TEST_REGION}`, 'm'));
    assert.match(text, /^# Estimated cost: about \$[\d,]+\.\d\d a month/m);
    await w.screenshot('plan-gcp');
  });

  step('Apply creates the environment in the fakes and the cluster; every resource in the tree turns ready', get, async (w) => {
    const { page } = w;
    await page.locator('.editor-actions .action-label[aria-label="Apply This Plan"]').click();
    // The toast says how it ended: a failure fails the step at once, with the reason.
    const ended = w.toast(new RegExp(`Apply of "${NAME}" (finished|failed)`));
    await ended.waitFor({ timeout: 600_000 });
    const outcome = await ended.innerText();
    assert.match(outcome, new RegExp(`Apply of "${NAME}" finished`), outcome);
    // Independent reads, from the fakes' own records: the sizing answer reached Cloud SQL, with HA and protection.
    const users = bed.sql.instances.get(`${TEST_PROJECT}/${byId('gcp:sql:users').name}`)?.instance;
    assert.ok(users, 'the users database exists in the Cloud SQL fake');
    assert.match(String(users.settings.tier), /^db-custom-4-\d+$/);
    assert.equal(users.settings.availabilityType, 'REGIONAL');
    assert.equal(users.settings.deletionProtectionEnabled, true);
    assert.ok(bed.gke.clusters.get(`projects/${TEST_PROJECT}/locations/${TEST_REGION}/clusters/${byId('gcp:gke').name}`), 'the GKE cluster');
    assert.ok(bed.webhook.reviews.some((r) => r.authenticated && r.username === DEPLOYER), 'the in-cluster half authenticated as the deployer');

    // The environment's tooltip counts its resources by status: all of them ready.
    const summary = await environmentSummary(page);
    const m = /(\d+) resources, (.*)$/m.exec(summary);
    assert.ok(m, summary);
    assert.equal(m[2]!.trim(), `${m[1]} ready`, summary);
    // Each group's rows, one group open at a time (the tree renders only the rows in view).
    const groups = page.locator('.part.sidebar .monaco-list-row[aria-level="2"][aria-expanded]');
    const labels = (await groups.locator('.label-name').allInnerTexts()).map((l) => l.trim()).filter((l) => l !== 'Deployments');
    assert.ok(labels.includes('users'), labels.join(', '));
    for (const label of labels) {
      const group = treeRow(page, label).and(groups).first();
      await group.scrollIntoViewIfNeeded();
      if ((await group.getAttribute('aria-expanded')) === 'false') await group.click();
      await page.locator('.part.sidebar .monaco-list-row[aria-level="3"]').first().waitFor();
      const statuses = await page.locator('.part.sidebar .monaco-list-row[aria-level="3"] .label-description').allInnerTexts();
      assert.ok(statuses.length > 0 && statuses.every((s) => s.trim() === 'ready'), `${label}: ${statuses.join(', ')}`);
      if (label === 'users') await w.screenshot('tree-gcp-ready');
      await group.click();
    }
  });

  step('the CodeLens says ready, and the status bar says who acts on the selected environment', get, async (w) => {
    const { page } = w;
    await w.openFile('users/db.ts');
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: new RegExp(`${NAME}: Cloud SQL PostgreSQL db-custom-4-\\d+ · ready`) }).waitFor({ timeout: 60_000 });
    const item = page.locator('.part.statusbar .statusbar-item[aria-label^="Encore environment: "]');
    await waitAttribute(item, 'aria-label', `Encore environment: ${NAME}, acting as ${DEPLOYER}`, 60_000);
    await w.screenshot('codelens-status-gcp');
    const log = w.extensionLog();
    for (const token of bed.bed.tokens.issued()) assert.ok(!log.includes(token), 'no access token in the log');
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Makes the project's existing cluster in the GKE fake, as someone did before (no Workload Identity), and waits for it. */
async function createExistingCluster(): Promise<void> {
  const connection = await openGcpConnection({ project: TEST_PROJECT, region: TEST_REGION });
  const client = new ClusterManagerClient(connection.gapicOptions('container'));
  try {
    const [op] = await client.createCluster({ parent: `projects/${TEST_PROJECT}/locations/${EXISTING.location}`, cluster: { name: EXISTING.name, initialNodeCount: 1 } });
    const name = `projects/${TEST_PROJECT}/locations/${EXISTING.location}/operations/${String(op.name)}`;
    await waitFor(async () => String((await client.getOperation({ name }))[0].status) === 'DONE', `the cluster ${EXISTING.name}`);
  } finally {
    await client.close();
  }
}

async function selectOption(f: FrameLocator, id: string, value: string): Promise<void> {
  await f.locator(`#${id}`).click();
  await f.locator(`#${id} li.option`, { hasText: new RegExp(`^\\s*${escape(value)}\\s*$`) }).click();
  await waitValue(f.locator(`#${id}`), value);
}

function form(page: Page): FrameLocator {
  return page.locator('iframe.webview.ready').filter({ visible: true }).contentFrame().frameLocator('iframe#active-frame');
}

async function environmentSummary(page: Page): Promise<string> {
  const row = treeRow(page, NAME);
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.locator('.part.statusbar').hover({ position: { x: 2, y: 2 } });
    await row.hover();
    const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: /resources, / }).first();
    if (await hover.waitFor({ timeout: 5_000 }).then(() => true, () => false)) return hover.innerText();
  }
  throw new Error(`no tooltip on the "${NAME}" row`);
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
