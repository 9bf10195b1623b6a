// The Environments feature in real VS Code (code-server) on the sample app: the Create Environment form (an invalid
// name blocks it, the preview and sizing questions, the state surviving a hidden panel), the tree with each
// environment's settings and resources, the keyboard-only path, Edit, Delete with a typed confirmation, the CodeLens
// statuses and reveal, the status bar selection, and a hand-broken file that shows an error node and is never
// written over. The machine's AWS profiles, kube contexts and git branches are fixtures in the scratch folder.
// Screenshots land in test-results/e2e/environments/; docs/images/form.png and tree.png are copies of a run's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { ACTIVITY_TITLE, contextMenu, escapeRegExp, openWorkbench, quickPick, step, treeRow, type Workbench } from './harness';

const FILE = 'encore.environments.json';

/** Fixture files for discovery: one SSO profile, two kube contexts, and a git repository with two branches. */
function prepare(workspace: string, scratch: string): void {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: workspace, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'add', '.');
  git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-q', '-m', 'sample app');
  git('branch', 'release');
  writeFileSync(
    path.join(scratch, 'aws-config'),
    [
      '[profile shop]', 'sso_session = corp', 'sso_account_id = 111111111111', 'sso_role_name = Developer', 'region = eu-west-1', '',
      '[sso-session corp]', 'sso_start_url = https://example.awsapps.com/start', 'sso_region = eu-west-1', '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(scratch, 'kubeconfig'),
    [
      'apiVersion: v1', 'kind: Config', 'current-context: kind-dev',
      'clusters:', '- name: kind-dev', '  cluster: {server: "https://127.0.0.1:6443"}', '- name: prod', '  cluster: {server: "https://10.0.0.1"}',
      'users:', '- name: dev', '  user: {token: "not-a-real-token"}',
      'contexts:', '- name: kind-dev', '  context: {cluster: kind-dev, user: dev}', '- name: prod-cluster', '  context: {cluster: prod, user: dev}', '',
    ].join('\n'),
  );
}

function env(_workspace: string, scratch: string): Record<string, string> {
  return {
    AWS_CONFIG_FILE: path.join(scratch, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(scratch, 'aws-credentials-none'),
    AWS_PROFILE: 'shop',
    KUBECONFIG: path.join(scratch, 'kubeconfig'),
    CLOUDSDK_CONFIG: path.join(scratch, 'gcloud'),
    GOOGLE_APPLICATION_CREDENTIALS: path.join(scratch, 'no-adc.json'),
  };
}

describe('environments: the tree, the Create Environment form, Edit, Delete, CodeLens', { timeout: 600_000 }, () => {
  let wb: Workbench;
  const get = () => wb;
  const file = () => path.join(wb.workspace, FILE);
  const envsInFile = () => (JSON.parse(readFileSync(file(), 'utf8')) as { environments: { name: string }[] }).environments;
  /** The console of every frame, webviews included: the form reports CSP violations there. */
  const consoleLines: string[] = [];
  before(async () => {
    wb = await openWorkbench('environments', undefined, { prepare, env });
    wb.page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  });
  after(async () => {
    await wb?.close();
  });

  step('the welcome button opens the Create Environment form, built from discovered values', get, async (w) => {
    // The activity-bar icon: right after start the palette may not list the view's focus command yet.
    await w.page.locator(`.activitybar .action-item a[aria-label="${ACTIVITY_TITLE}"]`).click();
    const pane = w.page.locator('.part.sidebar .pane', { has: w.page.locator('.pane-header', { hasText: 'Environments' }) });
    await pane.locator('.welcome-view-content a.monaco-button', { hasText: 'Create Environment' }).click();
    const f = form(w.page);
    await f.locator('h1', { hasText: 'New environment for sample-app' }).waitFor();
    // Discovery: the current kube context comes first, so a new environment starts on Kubernetes with it.
    assert.equal(await f.locator('#kubeContext').evaluate((el) => (el as unknown as { value: string }).value), 'kind-dev');
    // The preview is already there (the name is not needed for it).
    await f.locator('#preview', { hasText: 'StatefulSet postgres:16' }).first().waitFor();
  });

  step('an invalid name shows its error as it is typed and blocks Create', get, async (w) => {
    const f = form(w.page);
    await f.locator('#name input').fill('Staging_1');
    const error = f.locator('#name-error');
    await error.filter({ hasText: 'Must be a DNS label' }).waitFor();
    assert.equal(await f.locator('#submit').getAttribute('disabled'), '');
    await w.screenshot('form-invalid-name');
    // The button is disabled: clicking does nothing, and nothing is written.
    await f.locator('#submit').click({ force: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.throws(() => readFileSync(file()), /ENOENT/);
  });

  step('Production on AWS: the profile and region, the sizing questions and a live preview', get, async (w) => {
    const f = form(w.page);
    await f.locator('#name input').fill('prod');
    await f.locator('#name-error').filter({ hasText: /./ }).waitFor({ state: 'detached' }).catch(() => {});
    await waitText(f.locator('#name-error'), '');
    await f.locator('vscode-radio[value="production"]').click();
    await f.locator('vscode-radio[value="manual"]').click();
    await f.locator('vscode-radio[value="aws"]').click();
    // The active profile (AWS_PROFILE=shop) and its region are filled in.
    await waitValue(f.locator('#awsProfile'), 'shop');
    await waitValue(f.locator('#awsRegion'), 'eu-west-1');
    await f.locator('#preview', { hasText: 'RDS PostgreSQL db.m5.large, 7-day backups' }).first().waitFor();
    // Sizing: answer the users database's vCPUs; an out-of-range answer is refused first.
    const cpu = f.locator('[data-sizing="sizing:databases/users/cpu"] input');
    await cpu.fill('100');
    await f.locator('.sizing-error', { hasText: 'Enter a value from 1 to 64 vCPU' }).waitFor();
    assert.equal(await f.locator('#submit').getAttribute('disabled'), '');
    await cpu.fill('4');
    await f.locator('.sizing-error').waitFor({ state: 'detached' });
    await f.locator('#preview', { hasText: 'users' }).first().waitFor();
    await f.locator('#preview li.res', { hasText: /^RDS PostgreSQL db\.m5\.xlarge, 7-day backups/ }).waitFor();
    await f.locator('#summary', { hasText: 'Production · AWS eu-west-1 · manual deploy' }).waitFor();
    await waitEnabled(f.locator('#submit'));
    await f.locator('h1').scrollIntoViewIfNeeded();
    await w.screenshot('form');
  });

  step('the form keeps what was typed while its panel is hidden', get, async (w) => {
    await w.openFile('users/db.ts');
    await w.page.locator('.tabs-container .tab', { hasText: 'Create Environment' }).click();
    const f = form(w.page);
    await waitValue(f.locator('#name'), 'prod');
    await waitValue(f.locator('[data-sizing="sizing:databases/users/cpu"]'), '4');
    assert.equal(await f.locator('vscode-radio[value="production"]').evaluate((el) => (el as unknown as { checked: boolean }).checked), true);
  });

  step('the form ran under its CSP without a single violation', get, async () => {
    // The page says it loaded (so the console is being captured), and nothing was blocked.
    assert.ok(consoleLines.some((l) => l.includes('Encore form: page loaded')), 'the webview console is captured');
    assert.deepEqual(consoleLines.filter((l) => /CSP violation|Refused to|Content Security Policy/.test(l)), []);
  });

  step('Create writes the file, selects the new environment in the tree, and offers Plan', get, async (w) => {
    const f = form(w.page);
    await waitEnabled(f.locator('#submit'));
    await f.locator('#submit').click();
    const toast = w.toast('environment "prod" created in encore.environments.json');
    await toast.waitFor();
    const written = JSON.parse(readFileSync(file(), 'utf8'));
    assert.equal(written.environments.length, 1);
    const prod = written.environments[0];
    assert.deepEqual(
      { name: prod.name, type: prod.type, deploy: prod.deploy, provider: prod.provider },
      { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' } },
    );
    // Every sizing question is answered in the file (the default where the field was left empty), so it is not asked again.
    assert.deepEqual(prod.sizing.databases.users, { cpu: 4, memoryGiB: 8, diskGiB: 20 });
    assert.deepEqual(prod.sizing.services.orders, { minInstances: 2, maxInstances: 10 });
    // The panel closed, and the new environment is selected (and expanded) in the tree.
    await w.page.locator('.tabs-container .tab', { hasText: 'Create Environment' }).waitFor({ state: 'detached' });
    const row = treeRow(w.page, 'prod');
    // The reveal settles after the view's debounced refresh: wait for the state instead of reading it once.
    await row.and(w.page.locator('[aria-selected="true"][aria-expanded="true"]')).waitFor({ timeout: 10_000 });
    assert.equal((await row.locator('.label-description').innerText()).trim(), 'Production · AWS eu-west-1 · manual deploy');
    // Plan runs on the AWS provider's driver: profile "shop" is an SSO profile with no sign-in here, and it says how.
    await toast.locator('a.monaco-button', { hasText: 'Plan' }).click();
    await w.toast('aws sso login --profile shop').waitFor();
  });

  step('the tree shows the environment\'s settings, then its resources, each not provisioned', get, async (w) => {
    const { page } = w;
    for (const [label, value] of [['Type', 'Production'], ['Deploy', 'manually'], ['Provider', 'AWS'], ['Region', 'eu-west-1'], ['Profile', 'shop']]) {
      await treeRow(page, label, value).waitFor();
    }
    await treeRow(page, 'Shared infrastructure').waitFor();
    const users = treeRow(page, 'users', 'database · RDS PostgreSQL db.m5.xlarge');
    await users.click();
    await page.keyboard.press('ArrowRight');
    const rds = treeRow(page, 'RDS PostgreSQL db.m5.xlarge, 7-day backups');
    await rds.waitFor();
    assert.equal((await rds.locator('.label-description').innerText()).trim(), 'not provisioned');
    await treeRow(page, 'Secret encore-db-users (generated password of role users)').waitFor();
  });

  step('Create Environment (Quick…) creates one from the keyboard, with Back and the discovered values', get, async (w) => {
    const { page } = w;
    await w.startCommand('Encore: Create Environment (Quick…)');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.locator('.quick-input-widget .quick-input-box input[placeholder="e.g. staging"]').waitFor();
    // The name is checked as it is typed: "prod" is taken.
    await input.fill('prod');
    await page.locator('.quick-input-widget .quick-input-message', { hasText: 'already exists' }).waitFor();
    await input.fill('staging');
    await page.keyboard.press('Enter');
    await quickPick(page, 'Development');
    // Back goes to the type step, and forward again.
    await page.locator('.quick-input-widget .quick-input-titlebar a[aria-label="Back"], .quick-input-widget a.codicon-quick-input-back').first().click();
    await quickPick(page, 'Development');
    await quickPick(page, 'On push to a branch');
    await quickPick(page, 'main');
    await quickPick(page, 'Kubernetes');
    await quickPick(page, 'kind-dev');
    // The namespace step, once it is shown (the pick before it has the same input box): empty is the env's name.
    await page.locator('.quick-input-widget .quick-input-box input[placeholder="staging"]').waitFor();
    await page.keyboard.press('Enter');
    await quickPick(page, 'Create "staging"');
    await w.toast('environment "staging" created').waitFor();
    assert.deepEqual(envsInFile().map((e) => e.name), ['prod', 'staging']);
    const row = treeRow(page, 'staging');
    await row.waitFor();
    assert.equal((await row.locator('.label-description').innerText()).trim(), 'Development · Kubernetes kind-dev · push to main');
  });

  step('the CodeLens shows each environment\'s status, and a click reveals the resource in the tree', get, async (w) => {
    const { page } = w;
    await w.openFile('users/db.ts');
    const lens = (text: string) => page.locator('.monaco-editor .codelens-decoration a', { hasText: text });
    await lens('staging: StatefulSet postgres:16').waitFor();
    await lens('prod: RDS PostgreSQL db.m5.xlarge').waitFor();
    await w.screenshot('codelens');
    // No toasts over the picture taken below.
    await w.runCommand('Notifications: Clear All Notifications');
    // Collapse prod first, so the reveal has something to do.
    await treeRow(page, 'prod').click();
    await page.keyboard.press('ArrowLeft');
    await lens('prod: RDS PostgreSQL db.m5.xlarge').click();
    const users = treeRow(page, 'users', 'database · RDS PostgreSQL db.m5.xlarge');
    await users.waitFor();
    await waitAttribute(users, 'aria-selected', 'true');
    // Widen the side bar for the README's picture of the tree beside the lenses.
    const bar = await page.locator('.part.sidebar').boundingBox();
    if (bar) {
      await page.mouse.move(bar.x + bar.width + 1, bar.y + bar.height / 2);
      await page.mouse.down();
      await page.mouse.move(bar.x + bar.width + 200, bar.y + bar.height / 2, { steps: 5 });
      await page.mouse.up();
    }
    await w.screenshot('tree');
  });

  step('the status bar shows the selected environment, and its picker changes it', get, async (w) => {
    const { page } = w;
    const item = page.locator('.part.statusbar .statusbar-item[aria-label^="Encore environment: "]');
    await waitAttribute(item, 'aria-label', 'Encore environment: prod');
    await item.locator('a').click();
    await quickPick(page, 'staging');
    await waitAttribute(item, 'aria-label', 'Encore environment: staging');
  });

  step('Edit opens the same form filled in, and saves the change', get, async (w) => {
    const { page } = w;
    // The pencil among the row's inline actions.
    const row = treeRow(page, 'staging');
    await row.hover();
    await row.locator('.actions .action-label[aria-label="Edit Environment…"]').click();
    const f = form(page);
    await f.locator('h1', { hasText: 'Edit environment staging' }).waitFor();
    await waitValue(f.locator('#name'), 'staging');
    await waitValue(f.locator('#branch'), 'main');
    await selectOption(f, 'branch', 'release');
    await f.locator('#kubeNamespace input').fill('shop-staging');
    await f.locator('#summary', { hasText: 'push to release' }).waitFor();
    await waitEnabled(f.locator('#submit'));
    await f.locator('#submit').click();
    await w.toast('environment "staging" saved').waitFor();
    const staging = JSON.parse(readFileSync(file(), 'utf8')).environments[1];
    assert.deepEqual(staging.deploy, { trigger: 'push', branch: 'release' });
    assert.deepEqual(staging.provider, { kind: 'kubernetes', context: 'kind-dev', namespace: 'shop-staging' });
    await waitText(treeRow(page, 'staging').locator('.label-description'), 'Development · Kubernetes kind-dev · push to release');
  });

  step('Delete asks for the name to be typed, then removes the environment from the file and the tree', get, async (w) => {
    const { page } = w;
    await contextMenu(page, treeRow(page, 'staging'), 'Delete Environment…');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill('stagin');
    await page.locator('.quick-input-widget .quick-input-message', { hasText: 'Type staging to confirm' }).waitFor();
    await page.keyboard.press('Enter');
    // A wrong name never deletes.
    assert.deepEqual(envsInFile().map((e) => e.name), ['prod', 'staging']);
    await input.fill('staging');
    await page.keyboard.press('Enter');
    await w.toast('environment "staging" deleted').waitFor();
    assert.deepEqual(envsInFile().map((e) => e.name), ['prod']);
    await treeRow(page, 'staging').waitFor({ state: 'detached' });
  });

  step('a hand-broken file shows an error node that opens it at the error, and the file is left untouched', get, async (w) => {
    const { page } = w;
    const broken = readFileSync(file(), 'utf8').replace('"type": "production"', '"type": "prodution"');
    writeFileSync(file(), broken);
    const row = treeRow(page, 'Cannot read encore.environments.json');
    await row.waitFor();
    await waitText(row.locator('.label-description'), /line \d+, column \d+: environments\[0\]\.type: must be "production" or "development"/);
    await w.screenshot('broken-file');
    // Create refuses to write over it, and says why.
    await w.runCommand('Encore: Create Environment');
    await w.toast('encore.environments.json is not valid').waitFor();
    // The error node opens the file at the error.
    await row.click();
    await page.locator('.tabs-container .tab.active', { hasText: FILE }).waitFor();
    await page.locator('.editor-actions, .monaco-editor').first().waitFor();
    assert.equal(readFileSync(file(), 'utf8'), broken);
    // Fixing it by hand brings the environment back.
    writeFileSync(file(), broken.replace('"prodution"', '"production"'));
    await treeRow(page, 'prod').waitFor();
  });
});

/** The visible webview's page: two nested iframes. */
function form(page: Page): FrameLocator {
  return page.locator('iframe.webview.ready').filter({ visible: true }).contentFrame().frameLocator('iframe#active-frame');
}

async function selectOption(f: FrameLocator, id: string, value: string): Promise<void> {
  await f.locator(`#${id}`).click();
  await f.locator(`#${id} li.option`, { hasText: new RegExp(`^\\s*${escapeRegExp(value)}\\s*$`) }).click();
  await waitValue(f.locator(`#${id}`), value);
}

async function waitValue(locator: Locator, value: string): Promise<void> {
  await waitFor(async () => (await locator.evaluate((el) => (el as unknown as { value: string }).value)) === value, `value ${value}`);
}

async function waitEnabled(locator: Locator): Promise<void> {
  await waitFor(async () => (await locator.getAttribute('disabled')) === null, 'an enabled button');
}

async function waitAttribute(locator: Locator, name: string, value: string): Promise<void> {
  await waitFor(async () => (await locator.getAttribute(name)) === value, `${name}=${value}`);
}

async function waitText(locator: Locator, text: string | RegExp): Promise<void> {
  await waitFor(async () => {
    const t = (await locator.innerText()).trim();
    return typeof text === 'string' ? t === text : text.test(t);
  }, `text ${String(text)}`);
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

