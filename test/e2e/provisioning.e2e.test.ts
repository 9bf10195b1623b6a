// Plan, Apply and Destroy from the Environments view in real VS Code (code-server), against a real kube-apiserver
// (test/kube/harness.ts) that the extension host reaches through KUBECONFIG only. A bare API server runs no
// controllers, so nothing would ever become ready by itself; the provider's controller stand-in
// (test/integration/kubeControllers.ts) runs alongside and writes /status and finalizers as a cluster's controllers
// do, so the run shows what a developer sees on a real cluster: readiness arrives and Apply finishes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Environment } from '../../src/model/environment';
import type { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { kubernetesStateBackend, type KubernetesDriver } from '../../src/provisioning/providers/kubernetes/driver';
import { simulateControllers, type Controllers } from '../integration/kubeControllers';
import { kubeDriver, startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { contextMenu, openWorkbench, quickPick, repoRoot, step, treeRow, type Workbench } from './harness';

const ENV = 'e2e';
const PROD = 'live';

describe('provisioning: Plan, Apply and Destroy from the tree against a real API server', { timeout: 300_000 }, () => {
  let wb: Workbench;
  let kube: TestKube;
  let controllers: Controllers | undefined;
  let client: KubeClient | undefined;
  let driver: KubernetesDriver | undefined;
  const namespace = uniqueName('e2e');
  const env: Environment = { name: ENV, type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };
  // Production with no sizing answered yet, as after its resources entered the app.
  const prod: Environment = { name: PROD, type: 'production', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace: uniqueName('live') } };
  const get = () => wb;

  before(async () => {
    kube = await startTestKube();
    // The test's own connection, for the controller stand-in only; the extension makes its own from KUBECONFIG.
    driver = await kubeDriver(env, { appRoot: repoRoot, kubeconfig: kube.kubeconfigPath });
    client = await driver.client();
    controllers = simulateControllers(client, namespace);
    wb = await openWorkbench('provisioning', undefined, {
      prepare: (workspace) => writeFileSync(path.join(workspace, 'encore.environments.json'), `${JSON.stringify({ environments: [env, prod] }, null, 2)}\n`),
      env: () => ({ KUBECONFIG: kube.kubeconfigPath, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' }),
    });
  });
  after(async () => {
    await wb?.close();
    await controllers?.stop();
    await kube?.stop();
  });

  step('Plan from the tree node shows the diff with the creates and offers Apply', get, async (w) => {
    const { page } = w;
    await w.showEnvironmentsView();
    const row = treeRow(page, ENV);
    await row.waitFor();
    // The resources appear once the language server has analysed the app; Plan needs them.
    await row.click();
    await page.locator('.part.sidebar .monaco-list-row[aria-level="2"][aria-expanded]').first().waitFor({ timeout: 60_000 });
    // Nothing recorded yet: the view read the (missing) state at start and shows every resource not provisioned.
    assert.match(w.extensionLog(), /recorded state read for 0 environment\(s\)/);
    await row.hover();
    await row.locator('.actions .action-label[aria-label="Plan"]').click();
    await page.locator('.tabs-container .tab.active', { hasText: `${ENV}.plan.diff` }).waitFor({ timeout: 60_000 });
    const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
    // The editor renders spaces as non-breaking ones: \s matches both.
    await editor.filter({ hasText: /@@\sCreate:\s\d+\s@@/ }).waitFor();
    const text = await editor.innerText();
    assert.match(text, /Plan\sfor\senvironment\s"e2e"\s\(/);
    assert.match(text, /\+\s.*StatefulSet/);
    assert.doesNotMatch(text, /@@\sDelete/);
    // The title bar carries the Apply button of this plan.
    await page.locator('.editor-actions .action-label[aria-label="Apply This Plan"]').waitFor();
    await w.screenshot('plan');
  });

  step("Apply from the plan's title bar shows progress, then the final notification with Show Logs", get, async (w) => {
    const { page } = w;
    await page.locator('.editor-actions .action-label[aria-label="Apply This Plan"]').click();
    await w.toast(`Apply "${ENV}"`).waitFor();
    await w.screenshot('apply-progress');
    const done = w.toast(`Apply of "${ENV}" finished`);
    await done.waitFor({ timeout: 90_000 });
    await done.locator('a.monaco-button', { hasText: 'Show Logs' }).waitFor();
    assert.match(w.extensionLog(), new RegExp(`apply "${ENV}" \\[\\d+/\\d+\\] ✓`));
    await w.screenshot('apply-done');
  });

  step('the tree shows each resource as ready', get, async (w) => {
    const { page } = w;
    // The first resource group (the Deployments row before it holds deploys, not resources).
    const group = page.locator('.part.sidebar .monaco-list-row[aria-level="2"][aria-expanded]', { hasText: 'Shared infrastructure' }).first();
    if ((await group.getAttribute('aria-expanded')) === 'false') await group.click();
    await page.locator('.part.sidebar .monaco-list-row[aria-level="3"] .label-description', { hasText: /^ready$/ }).first().waitFor();
    await w.screenshot('tree-ready');
  });

  step('Apply while another run holds the lock is refused with the holder, host and start time', get, async (w) => {
    const { page } = w;
    const backend = await kubernetesStateBackend(driver!);
    const held = await backend.acquireLock({ user: 'carol', host: 'ci-runner-3', pid: 4242, startedAt: '2026-11-26T08:00:00.000Z', operation: 'apply' });
    try {
      await w.startCommand('Encore: Apply');
      await quickPick(page, ENV);
      const refused = w.toast(`Apply of "${ENV}" did not run`);
      await refused.waitFor({ timeout: 60_000 });
      assert.match(await refused.innerText(), /carol on ci-runner-3 \(pid 4242\), running apply since 2026-11-26T08:00:00\.000Z/);
      await w.screenshot('apply-locked');
    } finally {
      await held.release();
    }
  });

  step('Set Secret Value stores a typed value in the cluster only, never in the log', get, async (w) => {
    const { page } = w;
    const value = `e2e-${uniqueName('value')}`;
    await w.startCommand('Encore: Set Secret Value…');
    await quickPick(page, ENV);
    // The secrets are listed with whether their value is set.
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'EmailApiKey' });
    await row.filter({ hasText: 'no value yet' }).waitFor({ timeout: 30_000 });
    await row.click();
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.locator('.quick-input-widget .quick-input-box input[type="password"]').waitFor();
    await input.fill(value);
    await page.keyboard.press('Enter');
    await w.toast('stored the value of EmailApiKey').waitFor({ timeout: 30_000 });
    const secret = (await client!.list('v1', 'Secret', namespace)).items.find((o) => o.metadata.name.startsWith('encore-secret-email-api-key-')) as { data?: Record<string, string> } | undefined;
    assert.equal(Buffer.from(secret?.data?.value ?? '', 'base64').toString(), value);
    assert.match(w.extensionLog(), /set the value of secret EmailApiKey in "e2e"/);
    assert.ok(!w.extensionLog().includes(value), 'the value reached the log');
  });

  step('Destroy asks for the typed name, then deletes everything and the tree says not provisioned', get, async (w) => {
    const { page } = w;
    await contextMenu(page, treeRow(page, ENV), 'Destroy');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill('e2');
    await page.locator('.quick-input-widget .quick-input-message', { hasText: `Type ${ENV} to confirm` }).waitFor();
    await input.fill(ENV);
    await page.keyboard.press('Enter');
    await w.toast(`Destroy of "${ENV}" finished`).waitFor({ timeout: 90_000 });
    await page.locator('.part.sidebar .monaco-list-row[aria-level="3"] .label-description', { hasText: /^not provisioned$/ }).first().waitFor();
  });

  step('Plan of a Production environment first asks the sizing of its new resources and saves the answers', get, async (w) => {
    const { page } = w;
    await w.startCommand('Encore: Plan');
    await quickPick(page, PROD);
    await page.locator('.quick-input-widget .quick-input-title', { hasText: `New in Production environment "${PROD}"` }).waitFor();
    await w.screenshot('sizing-question');
    await quickPick(page, "Use Encore's defaults");
    await page.locator('.tabs-container .tab.active', { hasText: `${PROD}.plan.diff` }).waitFor({ timeout: 60_000 });
    const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
    await editor.filter({ hasText: new RegExp(`Plan\\sfor\\senvironment\\s"${PROD}"`) }).waitFor();
    assert.match(w.extensionLog(), new RegExp(`"${PROD}": saved the sizing answers to encore\\.environments\\.json`));
    const saved = (JSON.parse(readFileSync(path.join(w.workspace, 'encore.environments.json'), 'utf8')) as { environments: Environment[] }).environments.find((e) => e.name === PROD);
    assert.deepEqual(saved?.sizing?.databases?.users, { cpu: 1, memoryGiB: 4, diskGiB: 20 });
    assert.deepEqual(saved?.sizing?.services?.orders, { minInstances: 2, maxInstances: 10 });
  });
});
