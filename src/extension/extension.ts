import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { EnvironmentsTree } from './environmentsTree';
import { LanguageServer } from './languageServer';
import { log } from './log';
import { WorkspaceApps } from './workspaceApps';

let server: LanguageServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const started = performance.now();
  try {
    context.subscriptions.push(log());
    const apps = new WorkspaceApps();
    const tree = new EnvironmentsTree(apps);
    const view = vscode.window.createTreeView('encore.environments', { treeDataProvider: tree, showCollapseAll: true });
    server = new LanguageServer(context);
    const languageServer = server;
    // The language server starts once the workspace has an Encore app (now or later), after activation returns.
    const startWhenAppFound = async () => {
      if ((await apps.list()).length > 0) await languageServer.start();
    };
    context.subscriptions.push(apps, view, server, apps.onDidChange(() => {
      tree.refresh();
      void startWhenAppFound();
    }));
    registerCommands(context, apps, server);
    // Finding the apps runs after activation returns: the view shows its progress bar meanwhile.
    void vscode.window.withProgress({ location: { viewId: 'encore.environments' } }, () => apps.list());
    void startWhenAppFound();
    log().info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
  } catch (err) {
    // VS Code does not tell the user when activation fails, so say it here.
    log().error('activation failed:', err);
    void vscode.window.showErrorMessage(`Environments for Encore could not start: ${(err as Error).message}`, 'Show Logs')
      .then((choice) => choice && log().show());
    throw err;
  }
}

/** Stops the language server; VS Code waits for the returned promise. */
export function deactivate(): Promise<void> | undefined {
  return server?.stop();
}
