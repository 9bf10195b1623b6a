// What Plan, Apply, Destroy and Set Secret Value act on: an app's environment, picked from the tree or the palette,
// opened as a provisioning session (src/session/) on the language server's model of the app and the app's own
// environments store, as the CLI opens one.
import * as vscode from 'vscode';
import type { Environment } from '../../model/environment';
import { EnvironmentSession, type SessionHooks } from '../../session';
import type { AppModels } from '../appModels';
import type { ModelState, TreeNode } from '../tree/treeData';
import type { WorkspaceApps } from '../workspaceApps';

export interface Target {
  root: string;
  env: Environment;
}

type EnvironmentNode = Extract<TreeNode, { kind: 'environment' }>;

function isEnvironmentNode(node: unknown): node is EnvironmentNode {
  return typeof node === 'object' && node !== null && (node as TreeNode).kind === 'environment';
}

/** Which environments a palette command offers, and what it says when none fits (default: all, "create one first"). */
export interface TargetFilter {
  accepts(env: Environment): boolean;
  none: string;
}

/** The tree node's environment, or one picked from every app's environments (the palette). */
export async function chooseTarget(apps: WorkspaceApps, node: unknown, title: string, filter?: TargetFilter): Promise<Target | undefined> {
  if (isEnvironmentNode(node)) return { root: node.root, env: node.env };
  const list = await apps.list();
  const items = list.flatMap((a) =>
    a.environments.ok ? a.environments.environments.map((env) => ({ label: env.name, description: vscode.workspace.asRelativePath(a.found.root), target: { root: a.found.root, env } })) : [],
  ).filter((item) => !filter || filter.accepts(item.target.env));
  if (items.length === 0 && filter && list.some((a) => a.environments.ok && a.environments.environments.length > 0)) {
    void vscode.window.showInformationMessage(`Encore: ${filter.none}`);
    return undefined;
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Encore: there is no environment to act on yet. Create one first.', 'Create Environment')
      .then((c) => c && vscode.commands.executeCommand('encore.createEnvironment'));
    return undefined;
  }
  if (items.length === 1) return items[0]?.target;
  return (await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose the environment' }))?.target;
}

/** How long a command waits for the language server's first model of the app before it gives up. */
const ANALYSIS_WAIT_MS = 60_000;

/**
 * The app's model state once the language server has one: a command run while it is still analysing (just after
 * start-up) waits for it, with a cancellable progress notification, instead of refusing.
 */
async function settledState(models: AppModels, root: string): Promise<ModelState> {
  if (models.state(root).kind !== 'pending') return models.state(root);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Encore: waiting for the analysis of the app…', cancellable: true },
    (_progress, token) =>
      new Promise<ModelState>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          changed.dispose();
          cancelled.dispose();
          resolve(models.state(root));
        };
        const timer = setTimeout(done, ANALYSIS_WAIT_MS);
        const changed = models.onDidChange(() => models.state(root).kind !== 'pending' && done());
        const cancelled = token.onCancellationRequested(done);
      }),
  );
}

/**
 * A session on the target's environment, on the model the tree shows. An app whose model is not known (the
 * language server is still analysing it after a minute, or it failed) cannot be planned, and says why.
 */
export async function openSession(apps: WorkspaceApps, models: AppModels, t: Target, hooks: SessionHooks = {}): Promise<EnvironmentSession> {
  const app = (await apps.list()).find((a) => a.found.root === t.root);
  if (!app) throw new Error(`the app at ${t.root} is no longer in the workspace`);
  const state = await settledState(models, t.root);
  if (state.kind !== 'ready') {
    const why = state.kind === 'pending' ? 'the language server is still analysing it' : state.message;
    throw new Error(`the app's resources are not known (${why}), so there is nothing to plan yet`);
  }
  return EnvironmentSession.open({
    appRoot: t.root,
    appId: app.found.ok ? app.found.app.id : undefined,
    environment: t.env.name,
    model: state.model,
    store: app.store,
    hooks,
  });
}
