// The README's `npm start` path, end to end in real VS Code (code-server) on the real local cluster
// (scripts/local-cluster.mjs, context encore-local): the demo workspace (the sample app with
// examples/demo.environments.json, whose Development environment `staging` targets encore-local and pulls every image
// through its image override from the local registry), with the cluster's kubeconfig first in KUBECONFIG as npm start
// gives it. First the Create Environment form makes an environment on encore-local with the same image override
// (the mirror, and a per-image replacement row checked as it is typed). Then, on the demo's staging, from the tree: Plan, Apply (which stops at the workloads waiting for the app's secrets), Set Secret Value
// for both secrets, Plan and Apply again until every resource is ready in the tree, checked against the cluster
// itself (pods Ready, images from the local registry), then Destroy, after which the namespace is gone.
// Needs Linux and root (CI's .ci/run is root); elsewhere the cluster refuses to start and the suite fails saying why.
// Run: npm test -- e2e test/e2e/localCluster.e2e.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { buildLocalCluster, kubectlBin, startLocalCluster, type LocalCluster } from '../../scripts/local-cluster.mjs';
import { contextMenu, openWorkbench, quickPick, repoRoot, step, treeRow, type Workbench } from './harness';

const ENV = 'staging';
/** The demo gives staging no namespace: the environment's name is its namespace. */
const NAMESPACE = ENV;
const SECRETS = ['EmailApiKey', 'SessionSigningKey'];
/** The image the services' pods run before a deploy, which the demo replaces with one that answers HTTP. */
const PLACEHOLDER = 'registry.k8s.io/pause:3.10';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

describe('the local cluster in VS Code: the demo\'s staging from Plan to every resource ready, secrets, Destroy', { timeout: 1_800_000 }, () => {
  let wb: Workbench;
  let cluster: LocalCluster | undefined;
  const get = () => wb;
  const kubectl = (...args: string[]) => {
    const r = spawnSync(kubectlBin(), ['--kubeconfig', cluster!.kubeconfigPath, '--context', 'encore-local', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
  const getJson = (...args: string[]): Any => {
    const r = kubectl(...args, '-o', 'json');
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as Any;
  };
  const pods = () => kubectl('get', 'pods', '-n', NAMESPACE, '-o', 'wide').stdout;
  /** The environment's namespace as the cluster has it: its objects, claims, volumes and latest events. */
  const clusterNow = () => [
    kubectl('get', 'namespace', NAMESPACE, '-o', 'jsonpath={.status}').stdout,
    kubectl('get', 'all,pvc,jobs,cronjobs', '-n', NAMESPACE, '-o', 'wide').stdout,
    kubectl('get', 'pv', '-o', 'wide').stdout,
    kubectl('get', 'events', '-A', '--sort-by=.lastTimestamp').stdout.split('\n').slice(-30).join('\n'),
  ].join('\n');

  before(async () => {
    await buildLocalCluster({ log: (m) => console.log(`[build] ${m}`) });
    cluster = await startLocalCluster({ log: (m) => console.log(`[cluster] ${m}`) });
    const kubeconfig = [cluster.kubeconfigPath, path.join(os.homedir(), '.kube', 'config')].join(path.delimiter);
    wb = await openWorkbench('local-cluster', undefined, {
      // The demo workspace as npm start makes it (scripts/start.mjs demoWorkspace).
      prepare: (workspace) => copyFileSync(path.join(repoRoot, 'examples', 'demo.environments.json'), path.join(workspace, 'encore.environments.json')),
      env: () => ({ KUBECONFIG: kubeconfig, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' }),
    });
  });
  after(async () => {
    await wb?.close();
    const left = await cluster?.stop();
    if (left?.length) console.error(`the local cluster left: ${left.join('; ')}`);
  });

  /** Plan from the tree row, then Apply This Plan from the plan's title bar; resolves to the final toast's text. */
  async function planAndApply(w: Workbench, screenshot: string): Promise<string> {
    const { page } = w;
    // VS Code shows at most 3 toasts and queues the rest: the earlier ones go first, so this run's are seen.
    await w.runCommand('Notifications: Clear All Notifications');
    // The last plan's tab goes too: its title and first lines are this plan's, and its Apply is the last plan's.
    await w.runCommand('View: Close All Editors');
    await page.locator('.tabs-container .tab', { hasText: `${ENV}.plan.diff` }).waitFor({ state: 'detached' });
    const row = treeRow(page, ENV);
    await row.hover();
    await row.locator('.actions .action-label[aria-label="Plan"]').click();
    await page.locator('.tabs-container .tab.active', { hasText: `${ENV}.plan.diff` }).waitFor({ timeout: 60_000 });
    const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
    await editor.filter({ hasText: new RegExp(`Plan\\sfor\\senvironment\\s"${ENV}"`) }).waitFor({ timeout: 60_000 });
    await w.screenshot(`${screenshot}-plan`);
    await page.locator('.editor-actions .action-label[aria-label="Apply This Plan"]').click();
    await w.toast(`Apply "${ENV}"`).waitFor();
    const done = w.toast(new RegExp(`Apply of "${ENV}" (finished|failed|did not run)`));
    await done.waitFor({ timeout: 900_000 });
    await w.screenshot(`${screenshot}-done`);
    const text = await done.innerText();
    // Dismissed, so the next run's toast is the only one.
    await done.hover();
    await done.locator('.codicon-notifications-clear, .codicon-close').first().click().catch(() => {});
    return text;
  }

  step('the demo\'s staging shows in the tree on encore-local with its resources not provisioned', get, async (w) => {
    const { page } = w;
    await w.showEnvironmentsView();
    const row = treeRow(page, ENV);
    await row.waitFor();
    await row.click();
    // The resources appear once the language server has analysed the app.
    await page.locator('.part.sidebar .monaco-list-row[aria-level="2"][aria-expanded]').first().waitFor({ timeout: 120_000 });
    await treeRow(page, 'Context', 'encore-local').waitFor();
  });

  step('Create Environment: the form makes one on encore-local with the image mirror and a per-image replacement', get, async (w) => {
    const { page } = w;
    await w.runCommand('Encore: Create Environment');
    const f = page.locator('iframe.webview.ready').filter({ visible: true }).contentFrame().frameLocator('iframe#active-frame');
    await f.locator('h1', { hasText: 'New environment for sample-app' }).waitFor();
    await f.locator('#name input').fill('local');
    await f.locator('vscode-radio[value="manual"]').click();
    // The cluster's context is discovered from KUBECONFIG, as npm start gives it.
    await until(async () => (await f.locator('#kubeContext').evaluate((el) => (el as unknown as { value: string }).value)) === 'encore-local', 'the context encore-local');
    await f.locator('#imageMirror input').fill(`${cluster!.registry}/mirror`);
    // A replacement row: an image the product never runs is refused beside it; the placeholder is accepted.
    await f.locator('#add-image-replacement').click();
    const from = f.locator('[id="imageReplace:0:from"]');
    const to = f.locator('[id="imageReplace:0:to"] input');
    await f.locator('[id="imageReplace:0:from-error"]', { hasText: 'Choose the image to replace, or remove this row.' }).waitFor();
    await from.click();
    await f.locator('[id="imageReplace:0:from"] li.option', { hasText: PLACEHOLDER }).first().click();
    await to.fill('http://registry.example.com/pause');
    await f.locator('[id="imageReplace:0:to-error"]', { hasText: 'is not an image reference: it starts with a URL scheme' }).waitFor();
    assert.equal(await f.locator('#submit').getAttribute('disabled'), '');
    await to.fill(`${cluster!.registry}/encore/placeholder:1`);
    await f.locator('[id="imageReplace:0:to-error"]').filter({ hasText: /./ }).waitFor({ state: 'detached' });
    await until(async () => (await f.locator('#submit').getAttribute('disabled')) === null, 'Create enabled');
    await f.locator('#image-replacements').scrollIntoViewIfNeeded();
    await w.screenshot('form-image-replacements');
    await f.locator('#submit').click();
    await w.toast('environment "local" created in encore.environments.json').waitFor();
    const written = (JSON.parse(readFileSync(path.join(w.workspace, 'encore.environments.json'), 'utf8')) as { environments: Any[] }).environments;
    const created = written.find((e) => e.name === 'local');
    const demo = written.find((e) => e.name === ENV);
    // The same override as the demo's staging, made in the form.
    assert.deepEqual(created?.images, demo?.images);
    assert.deepEqual(created?.provider, { kind: 'kubernetes', context: 'encore-local' });
    // Collapsed again, so the tree shows staging's resources only.
    const row = treeRow(page, 'local');
    await row.waitFor();
    if ((await row.getAttribute('aria-expanded')) === 'true') await row.click();
  });

  step('Apply creates the resources and stops at the workloads that wait for the app\'s secrets', get, async (w) => {
    const text = await planAndApply(w, 'first-apply');
    assert.match(text, new RegExp(`Apply of "${ENV}" failed`), `${text}\n${pods()}`);
    assert.match(text, /cannot start its pods until the secret (EmailApiKey|SessionSigningKey)/, text);
    // The servers run already: the databases' pods pulled their image from the local registry through the override.
    const postgres = getJson('get', 'pod', 'encore-postgres-users-0', '-n', NAMESPACE);
    assert.ok(String(postgres.spec.containers[0].image).startsWith(`${cluster!.registry}/mirror/`), postgres.spec.containers[0].image);
  });

  step('Set Secret Value stores each secret in the cluster', get, async (w) => {
    const { page } = w;
    for (const name of SECRETS) {
      await w.runCommand('Notifications: Clear All Notifications');
      await w.startCommand('Encore: Set Secret Value…');
      await quickPick(page, ENV);
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: name });
      await row.filter({ hasText: 'no value yet' }).waitFor({ timeout: 60_000 });
      await row.click();
      await page.locator('.quick-input-widget .quick-input-box input[type="password"]').waitFor();
      const value = `demo-${name}-${Math.random().toString(36).slice(2)}`;
      await page.locator('.quick-input-widget .quick-input-box input').fill(value);
      await page.keyboard.press('Enter');
      await w.toast(`stored the value of ${name}`).waitFor({ timeout: 60_000 });
      assert.ok(!w.extensionLog().includes(value), 'the value reached the log');
    }
    const secrets = (getJson('get', 'secrets', '-n', NAMESPACE).items as Any[]).filter((s) => s.metadata.name.startsWith('encore-secret-'));
    assert.equal(secrets.filter((s) => s.data?.value).length, SECRETS.length, secrets.map((s) => s.metadata.name).join(', '));
  });

  step('Apply again finishes, and the tree shows every resource ready, as the cluster is', get, async (w) => {
    const { page } = w;
    const text = await planAndApply(w, 'second-apply');
    assert.match(text, new RegExp(`Apply of "${ENV}" finished`), `${text}\n${pods()}`);
    // The environment's tooltip counts its resources by status: all of them ready.
    const summary = await environmentSummary(page);
    const m = /(\d+) resources, (.*)$/m.exec(summary);
    assert.ok(m, summary);
    assert.equal(m[2]!.trim(), `${m[1]} ready`, summary);
    // Each group's rows, one group open at a time (the tree renders only the rows in view).
    const groups = page.locator('.part.sidebar .monaco-list-row[aria-level="2"][aria-expanded]');
    // The Deployments row (the deploy history) holds deploys, not resources.
    const labels = (await groups.locator('.label-name').allInnerTexts()).map((l) => l.trim()).filter((l) => l !== 'Deployments');
    assert.ok(labels.includes('Shared infrastructure'), labels.join(', '));
    for (const label of labels) {
      const group = treeRow(page, label).and(groups).first();
      await group.scrollIntoViewIfNeeded();
      if ((await group.getAttribute('aria-expanded')) === 'false') await group.click();
      await page.locator('.part.sidebar .monaco-list-row[aria-level="3"]').first().waitFor();
      const statuses = await page.locator('.part.sidebar .monaco-list-row[aria-level="3"] .label-description').allInnerTexts();
      assert.ok(statuses.length > 0 && statuses.every((s) => s.trim() === 'ready'), `${label}: ${statuses.join(', ')}`);
      if (label === 'Shared infrastructure') await w.screenshot('tree-ready');
      await group.click();
    }
    // The cluster agrees: every pod of the environment Running and Ready, pulled from the local registry.
    const live = (getJson('get', 'pods', '-n', NAMESPACE).items as Any[]).filter((p) => !p.metadata.ownerReferences?.some((o: Any) => o.kind === 'Job'));
    assert.ok(live.length >= 10, pods());
    for (const p of live) {
      assert.equal(p.status.phase, 'Running', `${p.metadata.name}\n${pods()}`);
      assert.ok((p.status.conditions as Any[]).some((c) => c.type === 'Ready' && c.status === 'True'), `${p.metadata.name} is Ready\n${pods()}`);
      for (const c of p.spec.containers as Any[]) assert.ok(String(c.image).startsWith(`${cluster!.registry}/`), `${p.metadata.name}: ${c.image}`);
    }
  });

  step('Destroy asks for the typed name, deletes everything, and the namespace is gone', get, async (w) => {
    const { page } = w;
    // VS Code shows at most 3 toasts and queues the rest: the earlier ones (a plan's, the stored secrets') go first.
    await w.runCommand('Notifications: Clear All Notifications');
    await contextMenu(page, treeRow(page, ENV), 'Destroy');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(ENV);
    await page.keyboard.press('Enter');
    // The typed name was accepted (the box closes) and the destroy runs (its progress notification).
    const running = await w.toast(new RegExp(`Destroy (of )?"${ENV}"`)).first().waitFor({ timeout: 60_000 }).then(() => true, () => false);
    if (!running) assert.fail(`Destroy of ${ENV} did not start after the typed name\n${await stillRunning(w)}`);
    // Finished or not, the outcome's toast; a destroy still running after the wait is described, not just timed out.
    const outcome = w.toast(new RegExp(`Destroy of "${ENV}" (finished|failed|did not run|was cancelled)`));
    const ended = await outcome.waitFor({ timeout: 480_000 }).then(() => true, () => false);
    const text = ended ? await outcome.innerText() : '(no outcome after 480 s)';
    writeFileSync(path.join(w.artifacts, 'destroy.extension.log'), w.extensionLog());
    if (!/finished/.test(text)) assert.fail(`Destroy of ${ENV}: ${text}\n${await stillRunning(w)}\n${clusterNow()}`);
    assert.match(await environmentSummary(page), /\d+ resources, not provisioned/);
    await w.screenshot('destroyed');
    const started = Date.now();
    while (kubectl('get', 'namespace', NAMESPACE).status === 0) {
      if (Date.now() - started > 180_000) assert.fail(`the namespace ${NAMESPACE} is still there 180 s after Destroy\n${pods()}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const claims = (getJson('get', 'pv').items as Any[]).filter((pv) => pv.spec.claimRef?.namespace === NAMESPACE && pv.status.phase !== 'Released');
    assert.deepEqual(claims.map((pv) => pv.metadata.name), []);
  });
});

/** What a destroy that did not finish was doing: the visible notifications, the log's last lines, and the cluster. */
async function stillRunning(w: Workbench): Promise<string> {
  const toasts = await w.page.locator('.notifications-toasts .notification-toast').allInnerTexts().catch(() => []);
  const dialogs = await w.page.locator('.monaco-dialog-box').allInnerTexts().catch(() => []);
  const input = w.page.locator('.quick-input-widget').filter({ visible: true });
  const quickInput = (await input.count()) > 0 ? `${await input.innerText()} [value: ${await input.locator('input').first().inputValue()}]` : '(hidden)';
  const log = w.extensionLog().split('\n').slice(-40).join('\n');
  return [`notifications: ${toasts.join(' | ') || '(none)'}`, `dialogs: ${dialogs.join(' | ') || '(none)'}`, `quick input: ${quickInput}`, `extension log (last 40 lines):\n${log}`].join('\n');
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The environment row's tooltip (shown on hover), which ends with "N resources, <counts by status>". */
async function environmentSummary(page: Page): Promise<string> {
  const row = treeRow(page, ENV);
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.locator('.part.statusbar').hover({ position: { x: 2, y: 2 } });
    await row.hover();
    const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: /resources, / }).first();
    if (await hover.waitFor({ timeout: 5_000 }).then(() => true, () => false)) return hover.innerText();
  }
  throw new Error(`no tooltip on the "${ENV}" row`);
}
