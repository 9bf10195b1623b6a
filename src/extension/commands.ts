import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { ConflictError, EnvStoreError } from '../environments/errors';
import type { DeclarationKind } from '../model/appModel';
import { ENVIRONMENTS_FILE } from '../model/environment';
import type { AppModels } from './appModels';
import type { EnvironmentStatus } from './environmentStatus';
import type { FormHost } from './form/formPanel';
import type { LanguageServer } from './languageServer';
import { log } from './log';
import type { EnvironmentsTree } from './tree/environmentsTree';
import { declarationSource } from './tree/resourceGroups';
import type { TreeNode } from './tree/treeData';
import type { WorkspaceApp, WorkspaceApps } from './workspaceApps';

export interface Services {
  apps: WorkspaceApps;
  server: LanguageServer;
  models: AppModels;
  tree: EnvironmentsTree;
  view: vscode.TreeView<TreeNode>;
  status: EnvironmentStatus;
  form: FormHost;
}

type EnvironmentNode = Extract<TreeNode, { kind: 'environment' }>;

/** Registers the commands other than Plan, Apply and Destroy (provision/provisionCommands.ts). */
export function registerCommands(context: vscode.ExtensionContext, s: Services): void {
  const register = registerCommand(context);

  register('encore.showLogs', () => log().show());
  register('encore.refresh', () => s.apps.reload());
  register('encore.openEnvironmentsFile', () => openEnvironmentsFile(s.apps));
  register('encore.restartServer', () => s.server.restart());
  register('encore.showServerLogs', () => s.server.showLogs());
  register('encore.revealResource', (root, kind, name, env) => revealResource(s, root, kind, name, env));
  register('encore.createEnvironment', async (root) => {
    const app = await chooseApp(s.apps, root, 'Create Environment');
    if (app && writable(app)) (await import('./form/formPanel')).EnvironmentFormPanel.show(s.form, app.found.root);
  });
  register('encore.createEnvironmentQuick', async (root) => {
    const app = await chooseApp(s.apps, root, 'Create Environment (Quick…)');
    if (app && writable(app)) await (await import('./form/quickCreate')).quickCreateEnvironment(s.form, app.found.root);
  });
  register('encore.environment.edit', async (node) => {
    if (!isEnvironmentNode(node)) return;
    const app = s.apps.find(node.root);
    if (app && writable(app)) (await import('./form/formPanel')).EnvironmentFormPanel.show(s.form, node.root, node.env);
  });
  register('encore.environment.delete', (node) => isEnvironmentNode(node) && deleteEnvironment(s, node));
  register('encore.selectEnvironment', () => s.status.pick());
}

/** Registers a command through one wrapper that logs failures and offers the log, so no error is silent. */
export function registerCommand(context: vscode.ExtensionContext) {
  return (id: string, run: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        log().debug(`command ${id}`);
        try {
          await run(...args);
        } catch (err) {
          log().error(`${id} failed:`, err);
          const cause = err instanceof Error && err.cause instanceof Error ? ` (cause: ${err.cause.message})` : '';
          const choice = await vscode.window.showErrorMessage(`Encore: ${(err as Error).message}${cause}`, 'Show Logs');
          if (choice) log().show();
        }
      }),
    );
}

function isEnvironmentNode(node: unknown): node is EnvironmentNode {
  return typeof node === 'object' && node !== null && (node as TreeNode).kind === 'environment';
}

/** The app a command acts on: the one given (a tree node's or the welcome button's), the only one, or a pick. */
async function chooseApp(apps: WorkspaceApps, root: unknown, title: string): Promise<WorkspaceApp | undefined> {
  const list = await apps.list();
  if (typeof root === 'string') {
    const given = apps.find(root);
    if (given) return given;
  }
  if (list.length === 0) {
    await vscode.window.showInformationMessage('Encore: there is no Encore app (no encore.app file) in this workspace.');
    return undefined;
  }
  if (list.length === 1) return list[0];
  const picked = await vscode.window.showQuickPick(
    list.map((a) => ({ label: path.basename(a.found.root), description: vscode.workspace.asRelativePath(a.found.root), app: a })),
    { title, placeHolder: 'Choose the Encore app' },
  );
  return picked?.app;
}

/** The store never writes over a broken file; say so before the user fills in a form for nothing. */
function writable(app: WorkspaceApp): boolean {
  const envs = app.environments;
  if (envs.ok) return true;
  const first = envs.errors[0];
  const where = first ? ` (line ${first.line}, column ${first.column}: ${first.message})` : '';
  void vscode.window
    .showErrorMessage(`Encore: ${ENVIRONMENTS_FILE} is not valid${where}, so it cannot be changed here. Fix it by hand first.`, 'Open File')
    .then((choice) => choice && openAt(envs.file, first?.line, first?.column));
  return false;
}

async function openAt(file: string, line?: number, column?: number): Promise<void> {
  const position = new vscode.Position(Math.max(0, (line ?? 1) - 1), Math.max(0, (column ?? 1) - 1));
  await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(position, position) });
}

/** Delete: only after the name is typed back; it removes the environment from the file and touches no cloud. */
async function deleteEnvironment(s: Services, node: EnvironmentNode): Promise<void> {
  const { name } = node.env;
  const typed = await vscode.window.showInputBox({
    title: `Delete Environment "${name}"`,
    prompt: `Type "${name}" to remove it from ${ENVIRONMENTS_FILE}. Nothing already provisioned is touched.`,
    placeHolder: name,
    ignoreFocusOut: true,
    validateInput: (v) => (v === name ? undefined : `Type ${name} to confirm`),
  });
  if (typed !== name) return;
  const app = s.apps.find(node.root);
  if (!app) throw new Error('this Encore app is no longer in the workspace');
  try {
    await app.store.delete(name);
  } catch (err) {
    if (err instanceof ConflictError) await s.apps.storesChanged();
    if (err instanceof EnvStoreError) {
      log().warn(err.message);
      const choice = await vscode.window.showErrorMessage(`Encore: "${name}" was not deleted. ${err.message}`, 'Open File');
      if (choice) await openAt(app.store.file);
      return;
    }
    throw err;
  }
  log().info(`deleted environment "${name}" from ${app.store.file}`);
  await s.apps.storesChanged();
  s.tree.refresh();
  void vscode.window.showInformationMessage(`Encore: environment "${name}" deleted from ${ENVIRONMENTS_FILE}.`);
}

/**
 * The command behind every CodeLens: shows the declaration's resources in the Environments view, in the given
 * environment (the per-environment lenses pass one) or else the selected one.
 */
async function revealResource(s: Services, root: unknown, kind: unknown, name: unknown, envName: unknown): Promise<void> {
  if (typeof root !== 'string' || typeof kind !== 'string' || typeof name !== 'string') {
    log().warn('encore.revealResource needs [root, kind, name]');
    await vscode.commands.executeCommand('encore.environments.focus');
    return;
  }
  await s.apps.list();
  const env = typeof envName === 'string' ? envName : s.status.selectedIn(root)?.name;
  if (!env) {
    await vscode.commands.executeCommand('encore.environments.focus');
    void vscode.window.showInformationMessage(`Encore: this app has no environment yet, so "${name}" is in none. Create one to see what it becomes.`, 'Create Environment')
      .then((choice) => choice && vscode.commands.executeCommand('encore.createEnvironment', root));
    return;
  }
  const state = s.models.state(root);
  const topic = kind === 'subscription' && state.kind === 'ready' ? state.model.subscriptions.find((x) => x.name === name)?.topic : undefined;
  const node = s.tree.resourceNode(root, env, declarationSource(kind as DeclarationKind, name, topic));
  if (!node) {
    log().info(`reveal ${kind} "${name}": no node for environment "${env}" of ${root}`);
    await vscode.commands.executeCommand('encore.environments.focus');
    return;
  }
  await s.view.reveal(node, { select: true, focus: true, expand: true });
}

/** Opens the environments file of the chosen app. A missing file can be created empty, never over an existing one. */
async function openEnvironmentsFile(apps: WorkspaceApps): Promise<void> {
  const app = await chooseApp(apps, undefined, 'Open Environments File');
  if (!app) return;
  const file = path.join(app.found.root, ENVIRONMENTS_FILE);
  const envs = app.environments;
  if (envs.ok && !envs.exists) {
    const create = 'Create File';
    const choice = await vscode.window.showInformationMessage(
      `Encore: ${vscode.workspace.asRelativePath(file)} does not exist yet. Create it with an empty list of environments?`,
      create,
    );
    if (choice !== create) return;
    try {
      // 'wx' fails if the file appeared meanwhile: an existing file is never overwritten.
      await writeFile(file, `${JSON.stringify({ environments: [] }, null, 2)}\n`, { flag: 'wx' });
      log().info(`created ${file}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const first = envs.ok ? undefined : envs.errors[0];
  await openAt(file, first?.line, first?.column);
}

export { openAt };
