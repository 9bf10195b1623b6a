// The application model in real VS Code: the language server starts with the sample app, its CodeLens and hover sit
// on the database declaration, an edit brings Encore's diagnostic and the fix takes it away, and the server can be
// restarted and its logs shown.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { openWorkbench, step, type Workbench } from './harness';

const LENS = 'Encore: database users';
const STARTED = /Encore language server started \(pid \d+/g;

describe('application model: the language server in VS Code', { timeout: 300_000 }, () => {
  let wb: Workbench;
  const get = () => wb;
  before(async () => {
    wb = await openWorkbench('analyzer');
  });
  after(async () => {
    await wb?.close();
  });

  const statusItem = (w: Workbench, words: string) =>
    w.page.locator(`.part.statusbar .statusbar-item[aria-label="Encore language server: ${words}"]`);
  const lens = (w: Workbench) => w.page.locator('.monaco-editor .codelens-decoration', { hasText: LENS });
  /**
   * Where `text` is in the open file, as Go to Line/Column takes it (1-based). The steps put the caret there from the
   * keyboard rather than clicking a token's span: until the editor has tokenized a line it is one span, and on a
   * loaded machine that can last longer than a step waits.
   */
  const positionOf = (file: string, text: string, after = false) => {
    const lines = readFileSync(file, 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes(text));
    assert.ok(line >= 0, `"${text}" in ${file}`);
    return { line: line + 1, column: lines[line]!.indexOf(text) + 1 + (after ? text.length : 0) };
  };
  const goTo = async (w: Workbench, at: { line: number; column: number }) => {
    await w.page.keyboard.press('Control+G');
    const input = w.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${at.line}:${at.column}`);
    await input.press('Enter');
    await input.waitFor({ state: 'hidden' });
    await w.page.locator('.part.statusbar .statusbar-item', { hasText: `Ln ${at.line}, Col ${at.column}` }).waitFor();
  };
  const problem = (w: Workbench, text: string) => w.page.locator('.markers-panel .monaco-list-row', { hasText: text });

  step('the server starts with the app, and the status item says it runs', get, async (w) => {
    await statusItem(w, 'running').waitFor();
    await waitUntil(() => (w.channelLog('Encore Language Server').match(STARTED) ?? []).length === 1, 'the server log');
    const log = w.channelLog('Encore Language Server');
    assert.match(log, /found 1 Encore app\(s\): .*sample-app \(typescript\)/);
    assert.match(log, /analysed .*sample-app in \d+ ms: 4 service\(s\), 0 diagnostic\(s\)/);
  });

  step('users/db.ts shows the CodeLens above the database declaration', get, async (w) => {
    await w.openFile('users/db.ts');
    await lens(w).waitFor();
    // The lens belongs to the declaration's line: it is rendered right above it.
    const lensBox = await lens(w).boundingBox();
    const lineBox = await w.page.locator('.monaco-editor .view-line', { hasText: 'new SQLDatabase' }).boundingBox();
    assert.ok(lensBox && lineBox && lensBox.y < lineBox.y && lineBox.y - lensBox.y < 2 * lineBox.height, 'lens above the line');
    await w.screenshot('codelens');
  });

  step('the hover on the declaration summarises the database', get, async (w) => {
    // The caret inside `SQLDatabase` of `new SQLDatabase("users", …)`, then Show or Focus Hover (Ctrl+K Ctrl+I).
    const at = positionOf(path.join(w.workspace, 'users', 'db.ts'), 'SQLDatabase(');
    await goTo(w, { line: at.line, column: at.column + 3 });
    await w.page.keyboard.press('Control+K');
    await w.page.keyboard.press('Control+I');
    const hover = w.page.locator('.monaco-hover', { hasText: 'Encore database' });
    await hover.waitFor();
    const text = await hover.innerText();
    assert.match(text, /Migrations: 2 migrations in users\/migrations, latest 2_add_email\.up\.sql/);
    assert.match(text, /Used by: service users/);
    await w.screenshot('hover');
    await w.page.keyboard.press('Escape');
  });

  step('a non-literal database name brings Encore\'s diagnostic; the fix takes it away', get, async (w) => {
    const { page } = w;
    const file = path.join(w.workspace, 'users', 'db.ts');
    const original = readFileSync(file, 'utf8');
    const at = positionOf(file, 'SQLDatabase(');
    // The caret after the literal "users": delete it and type a name instead.
    await goTo(w, positionOf(file, 'SQLDatabase("users"', true));
    for (let i = 0; i < '"users"'.length; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('dbName');
    await page.locator('.monaco-editor .view-line', { hasText: 'SQLDatabase(dbName,' }).waitFor();

    await page.keyboard.press('Control+Shift+M');
    const row = problem(w, 'expected string literal');
    await row.waitFor();
    assert.match(await row.innerText(), /Encore/);
    await page.locator('.monaco-editor .squiggly-error').first().waitFor();
    // Encore no longer recognises the database, so its lens goes too.
    await lens(w).waitFor({ state: 'detached' });
    await w.screenshot('diagnostic');

    // Retype the literal: the diagnostic goes and the lens comes back.
    // The editor holds the change (the file on disk may not yet): the caret goes after `dbName` on the same line.
    await goTo(w, { line: at.line, column: at.column + 'SQLDatabase(dbName'.length });
    for (let i = 0; i < 'dbName'.length; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('"users"');
    await page.locator('.monaco-editor .view-line', { hasText: 'SQLDatabase("users",' }).waitFor();
    await row.waitFor({ state: 'detached' });
    await lens(w).waitFor();
    // VS Code in the browser saves after a delay by default (files.autoSave): the file ends up as it was.
    await page.locator('.tabs-container .tab.active.dirty').waitFor({ state: 'detached' });
    await waitUntil(() => readFileSync(file, 'utf8') === original, 'the saved file to equal the original');
  });

  step('encore.codeLens.enabled = false hides the lenses, and true brings them back', get, async (w) => {
    const settings = path.join(w.workspace, '.vscode', 'settings.json');
    mkdirSync(path.dirname(settings), { recursive: true });
    writeFileSync(settings, JSON.stringify({ 'encore.codeLens.enabled': false }));
    await lens(w).waitFor({ state: 'detached' });
    rmSync(settings);
    await lens(w).waitFor();
  });

  step('"Encore: Show Language Server Logs" opens the server\'s output channel', get, async (w) => {
    await w.runCommand('Encore: Show Language Server Logs');
    await w.page.locator('.part.panel .monaco-editor .view-lines', { hasText: 'Encore language server started' }).waitFor();
  });

  step('"Encore: Restart Language Server" starts a new server, which serves the lenses again', get, async (w) => {
    await w.runCommand('Encore: Restart Language Server');
    await waitUntil(() => (w.channelLog('Encore Language Server').match(STARTED) ?? []).length === 2, 'a second server start');
    await statusItem(w, 'running').waitFor();
    await w.openFile('users/db.ts');
    await lens(w).waitFor();
    assert.match(w.extensionLog(), /restarting the Encore language server/);
  });

  step('a crashed server is not restarted by itself: the item shows it failed, and Restart brings it back', get, async (w) => {
    const starts = () => [...w.channelLog('Encore Language Server').matchAll(/Encore language server started \(pid (\d+)/g)];
    const before = starts();
    const pid = Number(before.at(-1)![1]);
    process.kill(pid, 'SIGKILL'); // the server process the test's own code-server started
    await statusItem(w, 'failed').waitFor();
    const toast = w.toast('The Encore language server stopped unexpectedly');
    await toast.waitFor();
    await w.screenshot('server-failed');
    // No restart loop: a few seconds later, still no new server.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(starts().length, before.length);
    await toast.locator('a.monaco-button', { hasText: 'Restart' }).click();
    await waitUntil(() => starts().length === before.length + 1, 'the restarted server');
    await statusItem(w, 'running').waitFor();
    await lens(w).waitFor();
  });
});

async function waitUntil(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
