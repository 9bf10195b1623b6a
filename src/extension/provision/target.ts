// What Plan, Apply and Destroy need before the engine runs, the same parts the CLI uses (src/cli/provision/context.ts):
// the environment, the desired graph, the provider's driver and the state backend. The graph comes from the language
// server's model through the view's memoised planner, so it is the graph the tree shows.
import * as vscode from 'vscode';
import type { DesiredGraph } from '../../model/desiredGraph';
import type { Environment } from '../../model/environment';
import type { ProviderDriver } from '../../model/providerApi';
import type { StateBackend } from '../../model/state';
import * as providers from '../../provisioning/providers';
import { LocalFileBackend } from '../../provisioning/state';
import type { AppModels } from '../appModels';
import type { PlanFn, TreeNode } from '../tree/treeData';
import type { WorkspaceApps } from '../workspaceApps';

export interface Target {
  root: string;
  env: Environment;
}

type EnvironmentNode = Extract<TreeNode, { kind: 'environment' }>;

function isEnvironmentNode(node: unknown): node is EnvironmentNode {
  return typeof node === 'object' && node !== null && (node as TreeNode).kind === 'environment';
}

/** The tree node's environment, or one picked from every app's environments (the palette). */
export async function chooseTarget(apps: WorkspaceApps, node: unknown, title: string): Promise<Target | undefined> {
  if (isEnvironmentNode(node)) return { root: node.root, env: node.env };
  const list = await apps.list();
  const items = list.flatMap((a) =>
    a.environments.ok ? a.environments.environments.map((env) => ({ label: env.name, description: vscode.workspace.asRelativePath(a.found.root), target: { root: a.found.root, env } })) : [],
  );
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Encore: there is no environment to act on yet. Create one first.', 'Create Environment')
      .then((c) => c && vscode.commands.executeCommand('encore.createEnvironment'));
    return undefined;
  }
  if (items.length === 1) return items[0]?.target;
  return (await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose the environment' }))?.target;
}

/** The graph the tree shows; an app Encore would refuse to build is refused here as the CLI refuses it. */
export function desiredGraph(models: AppModels, planFor: PlanFn, t: Target): DesiredGraph {
  const state = models.state(t.root);
  if (state.kind !== 'ready') {
    const why = state.kind === 'pending' ? 'the language server is still analysing it' : state.message;
    throw new Error(`the app's resources are not known (${why}), so there is nothing to plan yet`);
  }
  const errors = state.model.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) throw new Error(`the app has ${errors} error${errors === 1 ? '' : 's'} that Encore would refuse to build; fix them first (Problems view)`);
  return planFor(state.model, t.env);
}

export function makeDriver(t: Target): Promise<ProviderDriver> {
  return providers.driverFor(t.env, { appRoot: t.root });
}

/**
 * The provider's backend (a Kubernetes environment's Secret + Lease; with `driver` null, its read-only local copy),
 * else `.encore/state/<env>/`, as in the CLI.
 */
export async function makeBackend(t: Target, driver: ProviderDriver | null): Promise<StateBackend> {
  return (await providers.stateBackendFor(t.env, { appRoot: t.root, driver })) ?? LocalFileBackend.forApp(t.root, t.env.name);
}
