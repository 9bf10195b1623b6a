// Set Up Deploy on Push… in real VS Code (code-server), on the sample app's Kubernetes environments with a push
// trigger, against the test kube-apiserver (reached through KUBECONFIG only): "stage" is applied beforehand (the CLI,
// in process, with the controller stand-in), so its CI identity (ServiceAccount, Role, RoleBinding) is in the state
// Secret the extension reads; "next" is not. From the tree: "next" is refused with "apply first" and a Plan button;
// "stage" shows the workflow, writes .github/workflows/encore-deploy-stage.yml (the text workflow.ts generates),
// opens it, and copies the gh pipe. Then the file is edited on disk: the command (from the palette) shows the
// differences and asks before replacing it; Cancel keeps it, Replace rewrites it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { EXIT } from '../../src/cli/exitCodes';
import { runProvisionCommand, type CliIO } from '../../src/cli/provision/commands';
import type { Environment } from '../../src/model/environment';
import { MIN_ENCORE_VERSION } from '../../src/provisioning/deploy/encoreCli';
import { deployWorkflow, kubeconfigSecretName, workflowPath } from '../../src/provisioning/deploy/workflow';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { simulateControllers } from '../integration/kubeControllers';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { contextMenu, escapeRegExp, openWorkbench, quickPick, sampleApp, step, treeRow, type Workbench } from './harness';

const APPLIED = 'stage';
const LATER = 'next';
const GIT = ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', '-c', 'commit.gpgsign=false'];
const git = (dir: string, ...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();
const TITLE = 'Set Up Deploy on Push…';
const GH = `encore-env setup-ci --env ${APPLIED} --print-kubeconfig | gh secret set ${kubeconfigSecretName(APPLIED)} --env ${APPLIED}`;

function quietIO(): CliIO & { stderr: () => string } {
  let err = '';
  return { out: () => {}, err: (t) => void (err += t), interactive: false, ask: () => Promise.reject(new Error('no questions here')), signal: new AbortController().signal, stderr: () => err };
}

describe('setup-ci: Set Up Deploy on Push… from the tree and the palette', { timeout: 600_000 }, () => {
  let wb: Workbench;
  let kube: TestKube;
  let client: KubeClient;
  const namespace = uniqueName('e2eci');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'encore-e2e-setupci-app-'));
  const app = path.join(tmp, 'sample-app');
  const get = () => wb;
  let expected: string;
  const workflowInput = { environment: APPLIED, branch: 'main', appPath: '.', encoreVersion: MIN_ENCORE_VERSION, cloud: { kind: 'kubernetes', kubeconfigSecret: kubeconfigSecretName(APPLIED) } } as const;
  const workflow = () => path.join(wb.workspace, workflowPath(APPLIED));

  before(async () => {
    expected = await deployWorkflow(workflowInput);
    kube = await startTestKube();
    client = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
    cpSync(sampleApp, app, { recursive: true });
    const envs: Environment[] = [
      { name: APPLIED, type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } },
      { name: LATER, type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace: uniqueName('e2enext') } },
    ];
    writeFileSync(path.join(app, 'encore.environments.json'), `${JSON.stringify({ environments: envs }, null, 2)}\n`);
    writeFileSync(path.join(app, '.gitignore'), '.encore/\nnode_modules/\n');
    git(app, 'init', '-q', '-b', 'main');
    git(app, 'add', '-A');
    git(app, 'commit', '-q', '-m', 'the sample app');
    const controllers = simulateControllers(client, namespace, { intervalMs: 50 });
    try {
      const io = quietIO();
      const code = await runProvisionCommand('apply', ['--env', APPLIED, '--yes', app], io, { provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 50 } } });
      assert.equal(code, EXIT.ok, io.stderr());
    } finally {
      await controllers.stop();
    }
    wb = await openWorkbench('setup-ci', app, {
      env: () => ({
        KUBECONFIG: kube.kubeconfigPath,
        // As in deploy.e2e.test.ts: keep this PATH (git) instead of a login shell's.
        VSCODE_CLI: '1',
        PATH: [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter),
        NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
      }),
    });
    await wb.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  });
  after(async () => {
    await wb?.close();
    client?.close();
    await kube?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Answers a modal dialog: its message must match `message`; presses `button`; returns the message and detail. */
  async function answerDialog(w: Workbench, message: RegExp, button: string): Promise<string> {
    const dialog = w.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    const text = await dialog.locator('.dialog-message-text').innerText();
    assert.match(text, message);
    const detail = await dialog.locator('.dialog-message-detail').innerText().catch(() => '');
    await dialog.locator('.dialog-buttons .monaco-button', { hasText: new RegExp(`^\\s*${button}\\s*$`) }).click();
    await dialog.waitFor({ state: 'hidden' });
    return `${text}\n${detail}`;
  }

  async function fromTree(w: Workbench, env: string): Promise<void> {
    await w.runCommand('Notifications: Clear All Notifications');
    await w.showEnvironmentsView();
    const row = treeRow(w.page, env).and(w.page.locator('[aria-level="1"]'));
    await row.waitFor({ timeout: 60_000 });
    await contextMenu(w.page, row, TITLE);
    // A row the tree re-rendered while its menu was open (the model or the states arriving just after start-up) runs
    // the command with no node: it then asks which environment, as from the palette.
    const asked = w.page.locator('.quick-input-widget .quick-input-title', { hasText: TITLE });
    if (await asked.waitFor({ timeout: 2_000 }).then(() => true, () => false)) await quickPick(w.page, env);
  }

  step('on an environment not applied yet: refused with "apply first", and its Plan button plans it; nothing written', get, async (w) => {
    await fromTree(w, LATER);
    const refused = w.toast(new RegExp(`environment "${LATER}" has no CI identity yet \\(ServiceAccount encore-deployer in namespace [\\w-]+\\): apply first`));
    await refused.waitFor({ timeout: 60_000 });
    await w.screenshot('apply-first');
    await refused.locator('a.monaco-button', { hasText: /^Plan$/ }).click();
    await w.page.locator('.tabs-container .tab.active', { hasText: `${LATER}.plan.diff` }).waitFor({ timeout: 120_000 });
    // The editor's text has non-breaking spaces: \s matches them.
    assert.match(await w.page.locator('.monaco-editor .view-lines').first().innerText(), new RegExp(`Plan\\sfor\\senvironment\\s"${LATER}"`));
    assert.equal(existsSync(path.join(w.workspace, '.github')), false);
  });

  step('on the applied environment: the workflow previewed, written as workflow.ts makes it, opened; the gh pipe copied', get, async (w) => {
    const { page } = w;
    await fromTree(w, APPLIED);
    // What would be written is shown behind the question.
    await page.locator('.monaco-dialog-box').waitFor({ timeout: 60_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: `name: Deploy ${APPLIED} (Encore)` }).first().waitFor();
    assert.equal(existsSync(workflow()), false);
    const said = await answerDialog(w, new RegExp(`^Write ${escapeRegExp(workflowPath(APPLIED))}\\?`), 'Write Workflow');
    assert.match(said, /On every push to main \(and on Run workflow\) it runs "encore-env deploy --env stage --ci" in the GitHub environment "stage"/);
    assert.match(said, /ServiceAccount encore-deployer, whose Role is limited to namespace/);
    // The toast comes after the write and the file's tab: the preview's tab, active until then, has the same name.
    const next = w.toast(`wrote ${workflowPath(APPLIED)}. Next, on GitHub: store the CI kubeconfig as the environment secret ${kubeconfigSecretName(APPLIED)}`);
    await next.waitFor({ timeout: 60_000 });
    await page.locator('.tabs-container .tab.active', { hasText: `encore-deploy-${APPLIED}.yml` }).waitFor({ timeout: 30_000 });
    assert.equal(readFileSync(workflow(), 'utf8'), expected);
    assert.match(await next.innerText(), /limit the GitHub environment "stage" to the branch main/);
    await w.screenshot('written');
    await next.locator('a.monaco-button', { hasText: 'Copy the gh command' }).click();
    await w.toast(`copied "${GH}"`).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), GH);
    assert.match(w.extensionLog(), new RegExp(`copied the gh command: ${escapeRegExp(GH)}`));
    // No token, no kubeconfig: the extension never minted one.
    assert.doesNotMatch(w.extensionLog(), /certificate-authority-data|token:/);
  });

  step('the file edited on disk: the palette command shows the differences and asks; Cancel keeps it, Replace rewrites it', get, async (w) => {
    const { page } = w;
    writeFileSync(workflow(), `${expected}# my edit\n`);
    for (const [button, kept] of [['Cancel', true], ['Replace', false]] as const) {
      await w.runCommand('Notifications: Clear All Notifications');
      await w.startCommand(`Encore: ${TITLE}`);
      // Two environments deploy on push: the palette asks which.
      await quickPick(page, APPLIED);
      // Behind the question, the diff editor shows the two versions.
      await page.locator('.monaco-dialog-box').waitFor({ timeout: 60_000 });
      const diff = page.locator('.tabs-container .tab', { hasText: 'what Set Up Deploy on Push writes' });
      await diff.waitFor({ timeout: 60_000 });
      await answerDialog(w, new RegExp(`^${escapeRegExp(workflowPath(APPLIED))} exists and differs from the workflow this version writes\\. Replace it\\?`), button);
      if (kept) {
        await w.toast(`${workflowPath(APPLIED)} was kept as it is`).waitFor({ timeout: 30_000 });
        // The diff stays open, scrolled to the difference: the edit is on the left (the file) only.
        await page.locator('.monaco-diff-editor .original-in-monaco-diff-editor .view-lines', { hasText: '# my edit' }).waitFor({ timeout: 60_000 });
        assert.equal(await page.locator('.monaco-diff-editor .modified-in-monaco-diff-editor .view-lines', { hasText: '# my edit' }).count(), 0);
        await w.screenshot('kept');
        assert.equal(readFileSync(workflow(), 'utf8'), `${expected}# my edit\n`);
      } else {
        await w.toast(`wrote ${workflowPath(APPLIED)}`).waitFor({ timeout: 30_000 });
        assert.equal(readFileSync(workflow(), 'utf8'), expected);
        // Only the file stays open, no diff of what is now the same text.
        await diff.waitFor({ state: 'detached', timeout: 60_000 });
        await page.locator('.tabs-container .tab.active', { hasText: `encore-deploy-${APPLIED}.yml` }).waitFor({ timeout: 60_000 });
      }
    }
  });
});
