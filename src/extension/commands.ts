import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { ENVIRONMENTS_FILE } from '../model/environment';
import { notYetAvailable, upcoming, type UpcomingFeature } from '../model/upcoming';
import type { TreeNode } from './environmentsTree';
import type { LanguageServer } from './languageServer';
import { log } from './log';
import type { WorkspaceApps } from './workspaceApps';

/** Registers every command through one wrapper that logs failures and offers the log, so no error is silent. */
export function registerCommands(context: vscode.ExtensionContext, apps: WorkspaceApps, server: LanguageServer): void {
  const register = (id: string, run: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        log().debug(`command ${id}`);
        try {
          await run(...args);
        } catch (err) {
          log().error(`${id} failed:`, err);
          const choice = await vscode.window.showErrorMessage(`Encore: ${(err as Error).message}`, 'Show Logs');
          if (choice) log().show();
        }
      }),
    );

  const comingLater = (title: string, feature: UpcomingFeature, needsTrust: boolean) => async (node?: unknown) => {
    if (needsTrust && !vscode.workspace.isTrusted) {
      await vscode.window.showWarningMessage(`Encore: ${title} is disabled in Restricted Mode. Trust this workspace to use it.`);
      return;
    }
    const env = isEnvironmentNode(node) ? ` for "${node.env.name}"` : '';
    const message = notYetAvailable(`Encore: ${title}${env}`, feature);
    log().info(message);
    await vscode.window.showInformationMessage(message);
  };

  register('encore.showLogs', () => log().show());
  register('encore.refresh', () => apps.reload());
  register('encore.openEnvironmentsFile', () => openEnvironmentsFile(apps));
  register('encore.restartServer', () => server.restart());
  register('encore.showServerLogs', () => server.showLogs());
  register('encore.revealResource', (root, kind, name) => revealResource(root, kind, name));
  register('encore.createEnvironment', comingLater('Create Environment', 'environments', false));
  for (const [action, title] of [['plan', 'Plan'], ['apply', 'Apply'], ['destroy', 'Destroy']] as const) {
    register(`encore.${action}`, comingLater(title, 'provisioning', true));
    register(`encore.environment.${action}`, comingLater(title, 'provisioning', true));
  }
}

/**
 * The command behind every CodeLens. Revealing the resource in each environment's tree arrives with the Environments
 * feature; until then it focuses the Environments view and says so in the log.
 */
async function revealResource(root: unknown, kind: unknown, name: unknown): Promise<void> {
  log().info(
    `reveal ${String(kind)} "${String(name)}" of ${String(root)}: the Environments view lists each environment's ` +
      `resources once ${upcoming.environments} lands; focusing the view for now`,
  );
  await vscode.commands.executeCommand('encore.environments.focus');
}

function isEnvironmentNode(node: unknown): node is Extract<TreeNode, { kind: 'environment' }> {
  return typeof node === 'object' && node !== null && (node as TreeNode).kind === 'environment';
}

/** Opens the environments file of the chosen app. A missing file can be created empty, never over an existing one. */
async function openEnvironmentsFile(apps: WorkspaceApps): Promise<void> {
  const list = await apps.list();
  if (list.length === 0) {
    await vscode.window.showInformationMessage('Encore: there is no Encore app (no encore.app file) in this workspace.');
    return;
  }
  let app = list[0];
  if (list.length > 1) {
    const picked = await vscode.window.showQuickPick(
      list.map((a) => ({ label: path.basename(a.found.root), description: vscode.workspace.asRelativePath(a.found.root), app: a })),
      { title: 'Open Environments File', placeHolder: 'Choose the Encore app' },
    );
    if (!picked) return;
    app = picked.app;
  }
  const file = path.join(app.found.root, ENVIRONMENTS_FILE);
  if (app.environments.kind === 'missing') {
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
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}
