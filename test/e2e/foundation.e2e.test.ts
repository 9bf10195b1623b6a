// The extension in real VS Code on the sample app: the view container, the welcome content, and every command from
// the command palette.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { ACTIVITY_TITLE, openWorkbench, step, type Workbench } from './harness';

describe('foundation: the extension in VS Code', { timeout: 300_000 }, () => {
  let wb: Workbench;
  const get = () => wb;
  before(async () => {
    wb = await openWorkbench('foundation');
  });
  after(async () => {
    await wb?.close();
  });

  step('the Encore icon opens the Environments view', get, async ({ page }) => {
    await page.locator(`.activitybar .action-item a[aria-label="${ACTIVITY_TITLE}"]`).click();
    const pane = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: 'Environments' }) });
    await pane.waitFor();
    // One view in the container: VS Code titles the side bar "Encore: Environments".
    await page.locator('.part.sidebar .composite.title', { hasText: 'Encore: Environments' }).waitFor();
  });

  step('the "no environments yet" welcome shows with its Create Environment button', get, async (w) => {
    const pane = await w.showEnvironmentsView();
    const welcome = pane.locator('.welcome-view-content');
    await welcome.getByText('No environments yet', { exact: false }).waitFor();
    const button = welcome.locator('a.monaco-button', { hasText: 'Create Environment' });
    await button.waitFor();
    await w.screenshot('environments-view');
    // The button opens the Create Environment form (environments.e2e.test.ts drives it); close it again.
    await button.click();
    const tab = w.page.locator('.tabs-container .tab', { hasText: 'Create Environment' });
    await tab.waitFor();
    await w.runCommand('View: Close Editor');
    await tab.waitFor({ state: 'detached' });
  });

  step('the extension logged its activation', get, async (w) => {
    await waitUntil(() => /activated in [\d.]+ ms/.test(w.extensionLog()), 'the "activated in" log line');
    assert.match(w.extensionLog(), /found 1 Encore app\(s\)/);
  });

  for (const title of ['Encore: Plan', 'Encore: Apply', 'Encore: Destroy']) {
    step(`"${title}" runs from the palette and says there is no environment yet`, get, async (w) => {
      await w.runCommand(title);
      await w.toast('Encore: there is no environment to act on yet. Create one first.').waitFor();
    });
  }

  step('"Encore: Show Logs" opens the Encore output channel', get, async ({ page, runCommand }) => {
    await runCommand('Encore: Show Logs');
    const output = page.locator('.part.panel');
    await output.locator('.monaco-editor .view-lines', { hasText: 'activated in' }).waitFor();
  });

  step('"Encore: Open Environments File" creates the missing file when asked, and opens it', get, async (w) => {
    const file = path.join(w.workspace, 'encore.environments.json');
    assert.equal(existsSync(file), false);
    await w.runCommand('Encore: Open Environments File');
    const toast = w.toast('encore.environments.json does not exist yet');
    await toast.locator('a.monaco-button', { hasText: 'Create File' }).click();
    await w.page.locator('.tabs-container .tab', { hasText: 'encore.environments.json' }).waitFor();
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { environments: [] });
    // Still no environments: the welcome stays.
    const pane = await w.showEnvironmentsView();
    await pane.locator('.welcome-view-content').getByText('No environments yet', { exact: false }).waitFor();
  });

  step('"Encore: Refresh" and an outside edit show environments from the file', get, async (w) => {
    const file = path.join(w.workspace, 'encore.environments.json');
    writeFileSync(file, JSON.stringify({
      environments: [{
        name: 'staging', type: 'development', deploy: { trigger: 'push', branch: 'main' },
        provider: { kind: 'kubernetes', context: 'kind-dev' },
      }],
    }, null, 2));
    await w.runCommand('Encore: Refresh');
    const pane = await w.showEnvironmentsView();
    const row = pane.locator('.monaco-list-row[role="treeitem"]', { hasText: 'staging' });
    await row.waitFor();
    assert.equal(
      (await row.locator('.label-description').innerText()).trim(),
      'Development · Kubernetes kind-dev · push to main',
    );
  });

  step('a broken environments file shows an error node, and the file is left as it was', get, async (w) => {
    const file = path.join(w.workspace, 'encore.environments.json');
    const broken = '{ "environments": [ { "name": "staging", } ';
    writeFileSync(file, broken);
    const pane = await w.showEnvironmentsView();
    await pane.locator('.monaco-list-row[role="treeitem"]', { hasText: 'Cannot read encore.environments.json' }).waitFor();
    await w.screenshot('broken-environments-file');
    assert.equal(readFileSync(file, 'utf8'), broken);
  });

  step('a folder without encore.app shows the "no Encore app" welcome', get, async (w) => {
    const empty = path.join(w.scratch, 'not-an-encore-app');
    mkdirSync(empty, { recursive: true });
    writeFileSync(path.join(empty, 'index.ts'), 'export const x = 1;\n');
    await w.openFolder(empty);
    const pane = await w.showEnvironmentsView();
    await pane.locator('.welcome-view-content').getByText('No Encore app was found in this workspace', { exact: false }).waitFor();
    await pane.locator('.welcome-view-content a.monaco-button', { hasText: 'Open Folder' }).waitFor();
  });
});

async function waitUntil(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
