// Drives a real VS Code (code-server) in Debian's headless Chromium with playwright-core. Each suite gets a fresh
// code-server profile with the packaged extension installed, a copy of the sample app, and a fresh browser profile.
// A failing step saves a screenshot, the extension's log and code-server's log under test-results/e2e/<suite>/.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import {
  ensureCodeServer,
  freePort,
  installExtension,
  prepareProfile,
  quietSettings,
  startCodeServer,
} from '../../scripts/vscode-host.mjs';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const sampleApp = path.join(repoRoot, 'examples', 'sample-app');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** The activity-bar container's title in package.json. */
export const ACTIVITY_TITLE = 'Encore';

export interface Workbench {
  page: Page;
  /** The folder VS Code has open (a scratch copy; tests may write to it). */
  workspace: string;
  /** A scratch folder for workspaces other than the sample app. */
  scratch: string;
  artifacts: string;
  /** code-server's --user-data-dir (its Machine/settings.json holds the remote, machine-scoped settings). */
  userDataDir: string;
  /** Opens another folder in the same window. */
  openFolder(folder: string): Promise<void>;
  /** Runs a command from the command palette by its full title, e.g. "Encore: Plan". */
  runCommand(title: string): Promise<void>;
  /**
   * Picks a command in the palette and returns at once, for commands that open a QuickPick or an InputBox of their
   * own in the same widget (runCommand waits for the palette to close).
   */
  startCommand(title: string): Promise<void>;
  /** Opens and focuses the Environments view, and returns its pane. */
  showEnvironmentsView(): Promise<Locator>;
  /** Waits for a notification toast that contains `text`. */
  toast(text: string | RegExp): Locator;
  screenshot(name: string): Promise<string>;
  /** The text of the extension's LogOutputChannel as written to disk by VS Code ('' before it exists). */
  extensionLog(): string;
  /** The text of another LogOutputChannel of the extension, by its name, e.g. "Encore Language Server". */
  channelLog(name: string): string;
  /** What the page wrote to the browser's console (its last 2,000 messages). */
  consoleLog(): string;
  /** The log files of the profile named `fileName` (e.g. "remoteexthost.log"), in every window's and host's folder. */
  logFiles(fileName: string): string[];
  /** Opens a workspace file in an editor through Quick Open, by its path relative to the workspace. */
  openFile(relativePath: string): Promise<void>;
  close(): Promise<void>;
}

export interface WorkbenchOptions {
  /** Runs after the app is copied, before code-server starts (e.g. to make the copy a git repository). */
  prepare?(workspace: string, scratch: string): void;
  /** Extra environment for code-server and its extension host (e.g. KUBECONFIG pointing into `scratch`). */
  env?(workspace: string, scratch: string): Record<string, string>;
}

/** Starts code-server with the packaged extension on a copy of `app`, opens it in Chromium and waits for the workbench. */
export async function openWorkbench(suite: string, app = sampleApp, options: WorkbenchOptions = {}): Promise<Workbench> {
  const vsix = process.env.ENCORE_E2E_VSIX;
  if (!vsix || !existsSync(vsix)) {
    throw new Error('ENCORE_E2E_VSIX must name the packaged extension; run the e2e tests through `npm test` or `npm run test:e2e`');
  }
  ensureCodeServer();
  const artifacts = path.join(repoRoot, 'test-results', 'e2e', suite);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const scratch = mkdtempSync(path.join(os.tmpdir(), `encore-e2e-${suite}-`));
  const workspace = path.join(scratch, path.basename(app));
  cpSync(app, workspace, { recursive: true });
  options.prepare?.(workspace, scratch);
  const profile = prepareProfile(path.join(scratch, 'code-server'), {
    ...quietSettings,
    'security.workspace.trust.enabled': false,
  });
  installExtension(profile, vsix);
  const serverLog = path.join(artifacts, 'code-server.log');
  const server = await startCodeServer({
    profile,
    folder: workspace,
    port: await freePort(),
    logFile: serverLog,
    ...(options.env && { env: options.env(workspace, scratch) }),
  });

  const browserProfile = path.join(scratch, 'chromium');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(browserProfile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  // The browser's console, for a failure's artifacts: the workbench logs a provider's error there (a CodeLens, a hover).
  const consoleLines: string[] = [];
  page.on('console', (message) => {
    consoleLines.push(`${new Date().toISOString()} [${message.type()}] ${message.text()}`);
    if (consoleLines.length > 2_000) consoleLines.shift();
  });

  const workbench: Workbench = {
    page,
    workspace,
    scratch,
    artifacts,
    userDataDir: profile.userDataDir,
    async openFolder(folder) {
      await page.goto(server.url(folder));
      await waitForWorkbench(page);
    },
    async runCommand(title) {
      await workbench.startCommand(title);
      await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'hidden' });
    },
    async startCommand(title) {
      const input = page.locator('.quick-input-widget .quick-input-box input');
      // Other commands can match the query and be listed first (e.g. "Encore: Show Language Server Logs" for
      // "Encore: Show Logs"), so pick the row whose label is exactly the title, and click it.
      const row = page.locator('.quick-input-widget .monaco-list-row', {
        has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
      }).first();
      for (let attempt = 1; ; attempt++) {
        // The palette needs the workbench focused; the status bar is always there and clicking it has no side effects.
        await page.locator('.part.statusbar').click({ position: { x: 2, y: 2 } });
        await page.keyboard.press('F1');
        await input.waitFor({ state: 'visible' });
        await input.fill(`>${title}`);
        try {
          await row.waitFor({ timeout: 10_000 });
          await row.click({ timeout: 10_000 });
          return;
        } catch (err) {
          // The palette closes when something takes the focus, e.g. a webview that finished loading after it opened:
          // then the command did not run, and the palette opens again.
          if (attempt < 3 && !(await input.isVisible())) continue;
          const labels = await page.locator('.quick-input-widget .monaco-list-row .label-name').allInnerTexts();
          throw new Error(`no command titled "${title}" to click in the palette (it lists ${labels.map((l) => `"${l.trim()}"`).join(', ')})`, { cause: err });
        }
      }
    },
    async showEnvironmentsView() {
      const pane = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: 'Environments' }) });
      // The view's own focus command opens it whatever state the side bar is in (clicking the icon of an open
      // container would close it instead). Right after the window opens, the palette may not list the view's
      // commands yet; then the activity-bar icon opens it, clicked only when its container is not the open one.
      try {
        await workbench.runCommand('Encore: Focus on Environments View');
      } catch {
        await page.keyboard.press('Escape');
        const icon = page.locator(`.activitybar .action-item a[aria-label="${ACTIVITY_TITLE}"]`);
        const open = await page.locator('.activitybar li.action-item.checked', { has: icon }).count();
        if (!open) await icon.click();
      }
      await pane.waitFor();
      return pane;
    },
    toast(text) {
      return page.locator('.notifications-toasts .notification-toast', { hasText: text });
    },
    async screenshot(name) {
      const file = path.join(artifacts, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    extensionLog() {
      return workbench.channelLog('Encore');
    },
    channelLog(name) {
      return workbench.logFiles(`${name}.log`).map((f) => readFileSync(f, 'utf8')).join('\n');
    },
    consoleLog() {
      return consoleLines.join('\n');
    },
    logFiles(fileName) {
      return findFiles(path.join(profile.userDataDir, 'logs'), (f) => path.basename(f) === fileName);
    },
    async openFile(relativePath) {
      await page.locator('.part.statusbar').click({ position: { x: 2, y: 2 } });
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible' });
      await input.fill(relativePath);
      // Quick Open shows the file name as the label and its folder as the description.
      const name = path.basename(relativePath);
      const folder = path.dirname(relativePath);
      const row = page.locator('.quick-input-widget .monaco-list-row', {
        has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }),
        hasText: folder === '.' ? undefined : folder,
      }).first();
      await row.click();
      await input.waitFor({ state: 'hidden' });
      await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
    },
    async close() {
      await context.close().catch(() => {});
      await server.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
  try {
    await workbench.openFolder(workspace);
  } catch (err) {
    await saveFailure(workbench, 'workbench-start');
    await workbench.close();
    throw err;
  }
  return workbench;
}

async function waitForWorkbench(page: Page): Promise<void> {
  await page.waitForSelector('.monaco-workbench .part.activitybar');
  // The explorer lists the folder once the remote file system answers.
  await page.waitForSelector('.explorer-folders-view .monaco-list-row');
}

/**
 * A test step that, when it fails, keeps a screenshot and the logs. Steps in one suite share the workbench, so a
 * failure says which step left it in a bad state.
 */
export function step(name: string, workbench: () => Workbench, fn: (wb: Workbench) => Promise<void>): void {
  test(name, async () => {
    const wb = workbench();
    try {
      await fn(wb);
    } catch (err) {
      await saveFailure(wb, name);
      throw err;
    }
  });
}

async function saveFailure(wb: Workbench, name: string): Promise<void> {
  const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
  const shot = await wb.screenshot(`failure-${slug}`).catch(() => undefined);
  writeFileSync(path.join(wb.artifacts, `failure-${slug}.extension.log`), wb.extensionLog());
  const serverLog = wb.channelLog('Encore Language Server');
  if (serverLog) writeFileSync(path.join(wb.artifacts, `failure-${slug}.server.log`), serverLog);
  // VS Code's own logs on the server side (the extension hosts, the remote agent).
  const workbenchLogs = ['remoteagent.log', 'remoteexthost.log'].flatMap((name) => wb.logFiles(name));
  writeFileSync(path.join(wb.artifacts, `failure-${slug}.vscode.log`), workbenchLogs.map((f) => `==> ${f}\n${readFileSync(f, 'utf8')}`).join('\n'));
  writeFileSync(path.join(wb.artifacts, `failure-${slug}.console.log`), wb.consoleLog());
  console.error(`e2e failure artifacts: ${shot ?? '(no screenshot)'}, ${wb.artifacts}`);
}

/** The Environments view's row whose label is exactly `label` (and whose description contains `description`). */
export function treeRow(page: Page, label: string, description?: string): Locator {
  const row = page.locator('.part.sidebar .monaco-list-row[role="treeitem"]', {
    has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }),
  });
  return description ? row.filter({ has: page.locator('.label-description', { hasText: description }) }) : row;
}

/** Runs an item of a row's context menu, from the keyboard (the menu reacts to keys more reliably than to clicks). */
export async function contextMenu(page: Page, row: Locator, item: string): Promise<void> {
  const menu = page.locator('.context-view .monaco-menu');
  const focused = menu.locator('.action-item.focused .action-label');
  // A tree refresh can re-render the row under the click and close the menu: open it again, up to three times.
  for (let attempt = 0; attempt < 3; attempt++) {
    await row.click({ button: 'right' });
    if (!(await menu.waitFor({ timeout: 5_000 }).then(() => true, () => false))) continue;
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('ArrowDown');
      if ((await focused.innerText().catch(() => '')).trim() === item) {
        await page.keyboard.press('Enter');
        return;
      }
    }
    await page.keyboard.press('Escape');
  }
  throw new Error(`no "${item}" in the context menu`);
}

/** Picks the row of the open QuickPick whose label starts with `label`. */
export async function quickPick(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-widget .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}`) }) }).first();
  await row.click();
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function findFiles(dir: string, match: (file: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    .filter((f) => statSync(f).isFile() && match(f));
}
