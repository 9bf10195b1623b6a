import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { EnvironmentsTree } from './environmentsTree';
import { log } from './log';
import { WorkspaceApps } from './workspaceApps';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const started = performance.now();
  try {
    context.subscriptions.push(log());
    const apps = new WorkspaceApps();
    const tree = new EnvironmentsTree(apps);
    const view = vscode.window.createTreeView('encore.environments', { treeDataProvider: tree, showCollapseAll: true });
    context.subscriptions.push(apps, view, apps.onDidChange(() => tree.refresh()));
    registerCommands(context, apps);
    // Finding the apps runs after activation returns: the view shows its progress bar meanwhile.
    void vscode.window.withProgress({ location: { viewId: 'encore.environments' } }, () => apps.list());
    log().info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
  } catch (err) {
    // VS Code does not tell the user when activation fails, so say it here.
    log().error('activation failed:', err);
    void vscode.window.showErrorMessage(`Environments for Encore could not start: ${(err as Error).message}`, 'Show Logs')
      .then((choice) => choice && log().show());
    throw err;
  }
}

export function deactivate(): void {}
