// The package.json contributions follow VS Code's conventions and stay consistent with the code.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const { contributes } = manifest;
type Command = { command: string; title: string; category?: string; icon?: string };
type MenuItem = { command: string; when?: string; group?: string };
const commands: Command[] = contributes.commands;

test('activation is lazy: a workspace with encore.app, or (implicitly) the view and the commands', () => {
  assert.deepEqual(manifest.activationEvents, ['workspaceContains:**/encore.app']);
});

test('engines.vscode accepts code-server 4.139 (Code 1.139) and the releases of the last year', () => {
  assert.equal(manifest.engines.vscode, '^1.105.0');
  const typesVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/@types/vscode/package.json'), 'utf8')).version;
  assert.ok(typesVersion.startsWith('1.105.'), `@types/vscode ${typesVersion} must not be newer than engines.vscode`);
});

test('the Encore container holds the Environments view, with its own SVG icon', () => {
  assert.deepEqual(contributes.viewsContainers.activitybar, [{ id: 'encore', title: 'Encore', icon: 'media/encore.svg' }]);
  assert.equal(contributes.views.encore[0].id, 'encore.environments');
  assert.equal(contributes.views.encore[0].name, 'Environments');
  assert.match(readFileSync(path.join(root, 'media/encore.svg'), 'utf8'), /<svg[^>]*viewBox="0 0 24 24"/);
});

test('every command is in the Encore category; the required ones exist', () => {
  for (const c of commands) assert.equal(c.category, 'Encore', c.command);
  const titles = new Set(commands.map((c) => c.title));
  for (const t of [
    'Create Environment', 'Refresh', 'Plan', 'Apply', 'Destroy', 'Open Environments File', 'Show Logs',
    'Restart Language Server', 'Show Language Server Logs',
  ]) {
    assert.ok(titles.has(t), t);
  }
});

test('every command shown in a title bar or inline has a codicon', () => {
  const shown: MenuItem[] = [
    ...contributes.menus['view/title'],
    ...contributes.menus['view/item/context'].filter((m: MenuItem) => m.group?.startsWith('inline')),
  ];
  for (const item of shown) {
    const command = commands.find((c) => c.command === item.command);
    assert.ok(command, `${item.command} is declared`);
    assert.match(command.icon ?? '', /^\$\([a-z-]+\)$/, `${item.command} has a codicon`);
  }
});

test('node-only commands are hidden from the palette; provisioning needs a trusted workspace', () => {
  const palette: MenuItem[] = contributes.menus.commandPalette;
  for (const c of commands.filter((c) => c.command.startsWith('encore.environment.'))) {
    assert.equal(palette.find((p) => p.command === c.command)?.when, 'false', c.command);
  }
  // The CodeLens command takes its arguments from the lens: it makes no sense in the palette.
  assert.equal(palette.find((p) => p.command === 'encore.revealResource')?.when, 'false');
  for (const id of ['encore.plan', 'encore.apply', 'encore.destroy']) {
    assert.equal(commands.find((c) => c.command === id)?.['enablement' as keyof Command], 'isWorkspaceTrusted');
    assert.match(palette.find((p) => p.command === id)?.when ?? '', /isWorkspaceTrusted/);
  }
  for (const item of contributes.menus['view/item/context'] as MenuItem[]) assert.match(item.when ?? '', /view == encore\.environments/);
});

test('the welcome views key on the states the extension sets', () => {
  const states = readFileSync(path.join(root, 'src/extension/workspaceApps.ts'), 'utf8').match(/type WorkspaceState = (.*);/)?.[1];
  const welcome: { when: string; contents: string }[] = contributes.viewsWelcome;
  assert.deepEqual(welcome.map((w) => w.when), ['encore.workspaceState == noApp', 'encore.workspaceState == noEnvironments']);
  for (const w of welcome) assert.ok(states?.includes(`'${w.when.split(' == ')[1]}'`), w.when);
  assert.match(welcome[1].contents, /\[\$\(add\) Create Environment\]\(command:encore\.createEnvironment\)/);
});

test('every command the extension registers is declared, and every declared command is registered', () => {
  const source = ['src/extension/commands.ts', 'src/extension/provision/provisionCommands.ts', 'src/extension/provision/deployCommands.ts', 'src/extension/provision/rotationCommands.ts', 'src/extension/provision/setupCiCommands.ts'].map((f) => readFileSync(path.join(root, f), 'utf8')).join('\n');
  const declared = commands.map((c) => c.command).sort();
  const registered = [...source.matchAll(/register\('([a-z.A-Z]+)'/g)].map((m) => m[1]).sort();
  assert.deepEqual(registered, declared);
});

test('the environments file gets schema validation; Restricted Mode is supported with a reason', () => {
  assert.deepEqual(contributes.jsonValidation, [{ fileMatch: 'encore.environments.json', url: './schemas/encore.environments.schema.json' }]);
  assert.ok(existsSync(path.join(root, 'schemas/encore.environments.schema.json')));
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.ok(manifest.capabilities.untrustedWorkspaces.description.length > 40);
});

test('the language server settings exist with their defaults, and the CodeLens command matches the protocol', () => {
  const properties = contributes.configuration.properties;
  assert.equal(properties['encore.codeLens.enabled'].default, true);
  assert.equal(properties['encore.analysis.debounceMs'].default, 150);
  // vscode-languageclient reads `<client id>.trace.server`; the client id is 'encore'.
  assert.deepEqual(properties['encore.trace.server'].enum, ['off', 'messages', 'verbose']);
  const protocol = readFileSync(path.join(root, 'src/model/protocol.ts'), 'utf8');
  // The command's name lives apart from the protocol (so the extension's start does not load the LSP protocol).
  assert.match(readFileSync(path.join(root, 'src/model/revealResource.ts'), 'utf8'), /REVEAL_RESOURCE_COMMAND = 'encore\.revealResource'/);
  assert.match(protocol, /export \{ REVEAL_RESOURCE_COMMAND, type RevealResourceArgs \} from '\.\/revealResource'/);
  assert.match(protocol, /debounceMs: 150/);
  assert.match(readFileSync(path.join(root, 'src/extension/client.ts'), 'utf8'), /new LanguageClient\('encore',/);
});

test('the CLI is exposed as encore-env', () => {
  assert.deepEqual(manifest.bin, { 'encore-env': 'dist/cli.js' });
});

test('the Environments feature: quick create and select in the palette, edit and delete on environment nodes only', () => {
  const palette: MenuItem[] = contributes.menus.commandPalette;
  const byId = (id: string) => commands.find((c) => c.command === id);
  assert.equal(byId('encore.createEnvironmentQuick')?.title, 'Create Environment (Quick…)');
  assert.equal(byId('encore.selectEnvironment')?.title, 'Select Environment…');
  for (const id of ['encore.createEnvironmentQuick', 'encore.selectEnvironment']) {
    assert.equal(palette.find((p) => p.command === id)?.when, 'encore.workspaceState && encore.workspaceState != noApp', id);
  }
  const context: MenuItem[] = contributes.menus['view/item/context'];
  for (const id of ['encore.environment.edit', 'encore.environment.delete']) {
    const items = context.filter((m) => m.command === id);
    assert.ok(items.length > 0, id);
    // Editing the file is not provisioning: it needs no trust, but only environment nodes have it.
    for (const m of items) assert.equal(m.when, 'view == encore.environments && viewItem =~ /^encore\\.environment\\b/', id);
  }
  assert.ok(context.some((m) => m.command === 'encore.environment.edit' && m.group?.startsWith('inline')));
  assert.ok(context.some((m) => m.command === 'encore.environment.delete' && m.group?.startsWith('9_danger')));
  // The welcome offers the keyboard-only path too.
  assert.match(contributes.viewsWelcome[1].contents, /\(command:encore\.createEnvironmentQuick\)/);
});

test('every environment icon the tree uses exists, for each provider and type', () => {
  for (const provider of ['aws', 'gcp', 'kubernetes']) {
    for (const type of ['production', 'development']) {
      assert.match(readFileSync(path.join(root, 'media', `env-${provider}-${type}.svg`), 'utf8'), /<svg[^>]*viewBox="0 0 16 16"/);
    }
  }
});
