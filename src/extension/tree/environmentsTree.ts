import path from 'node:path';
import * as vscode from 'vscode';
import type { AppModels } from '../appModels';
import { log } from '../log';
import type { WorkspaceApp, WorkspaceApps } from '../workspaceApps';
import { sourceKey } from './resourceGroups';
import type { SourceRef } from '../../model/desiredGraph';
import { buildTree, deployNodes, environmentId, groupId, itemData, type Action, type AppInput, type GraphFn, type StatusFn, type TreeData, type TreeNode } from './treeData';
import { currentDeploy, type DeployRecord } from '../../session';
import type { Environment } from '../../model/environment';

/** Reads an environment's deploy history (from its cluster), for its Deployments node. */
export type DeploysLoader = (root: string, env: Environment) => Promise<DeployRecord[]>;

/**
 * The Environments view. It rebuilds its data (treeData.ts) when the apps, their environments files or their models
 * change, debounced, and fires one refresh; node ids come from the model, so expansion and selection survive.
 */
export class EnvironmentsTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private data: TreeData | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly apps: WorkspaceApps,
    private readonly models: AppModels,
    private readonly graphFor: GraphFn,
    private readonly extensionUri: vscode.Uri,
    private readonly debounceMs = 100,
    private readonly statusOf?: StatusFn,
    private readonly loadDeploys?: DeploysLoader,
    /** Whether an environment has a service-auth key rotation in progress (its node's context value says so). */
    private readonly rotatingOf?: (root: string, envName: string) => boolean,
  ) {
    this.disposables.push(apps.onDidChange(() => this.schedule()), models.onDidChange(() => this.schedule()));
  }

  /** Rebuilds now and tells the view; what `reveal` waits for after a save. */
  refresh(): void {
    clearTimeout(this.timer);
    this.data = this.build();
    this.changed.fire(undefined);
  }

  /**
   * Recorded statuses changed (a plan, or a state commit during apply or destroy): rebuild once the burst settles.
   * The rebuild reuses the memoised graphs, so a step costs a walk of the tree, not a new plan.
   */
  statusesChanged(): void {
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), this.debounceMs);
  }

  private build(): TreeData {
    const started = performance.now();
    const data = buildTree(this.apps.current().map((a) => this.input(a)), this.graphFor, this.statusOf, { deployments: this.loadDeploys !== undefined, rotating: this.rotatingOf });
    log().debug(`built the Environments view (${data.nodes.size} nodes) in ${(performance.now() - started).toFixed(1)} ms`);
    return data;
  }

  private input(app: WorkspaceApp): AppInput {
    const root = app.found.root;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(root));
    const envs = app.environments;
    return {
      root,
      ...(!app.found.ok && { appError: app.found.error }),
      description: folder ? path.relative(folder.uri.fsPath, root) || folder.name : root,
      environments: envs.ok ? { ok: true, file: envs.file, environments: envs.environments } : { ok: false, file: envs.file, errors: envs.errors },
      model: this.models.state(root),
    };
  }

  private current(): TreeData {
    this.data ??= this.build();
    return this.data;
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) {
      await this.apps.list();
      if (!this.data) this.data = this.build();
    }
    if (node?.kind === 'deployments' && this.loadDeploys) return this.deploys(node);
    const data = this.current();
    return (data.children.get(node?.id ?? '') ?? []).map((id) => data.nodes.get(id) as TreeNode);
  }

  /** The history's nodes, read when the Deployments node is expanded; a failure is one node that says why. */
  private readonly deployParents = new Map<string, TreeNode>();

  private async deploys(node: Extract<TreeNode, { kind: 'deployments' }>): Promise<TreeNode[]> {
    try {
      const records = await this.loadDeploys!(node.root, node.env);
      const nodes = deployNodes(node, records, currentDeploy(records));
      for (const n of nodes) this.deployParents.set(n.id, node);
      if (nodes.length > 0) return nodes;
      return [{ kind: 'problem', id: `${node.id}/none`, root: node.root, severity: 'info', label: 'No deploys yet', description: '', tooltip: 'Deploy this environment to see its history here.' }];
    } catch (err) {
      log().warn(`the deploy history of "${node.env.name}": ${(err as Error).message}`);
      return [{ kind: 'problem', id: `${node.id}/error`, root: node.root, severity: 'warning', label: 'Deploy history unavailable', description: (err as Error).message.split('\n')[0]!.slice(0, 80), tooltip: (err as Error).message }];
    }
  }

  getParent(node: TreeNode): TreeNode | undefined {
    const deployParent = this.deployParents.get(node.id);
    if (deployParent) return deployParent;
    const data = this.current();
    const parent = data.parent.get(node.id);
    return parent === undefined ? undefined : data.nodes.get(parent);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const hasChildren = node.kind === 'deployments' || (this.current().children.get(node.id)?.length ?? 0) > 0;
    const d = itemData(node, hasChildren);
    const state =
      d.collapsible === 'none'
        ? vscode.TreeItemCollapsibleState.None
        : d.collapsible === 'expanded'
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(d.label, state);
    item.id = node.id;
    item.description = d.description;
    item.tooltip = d.tooltip === undefined ? undefined : node.kind === 'problem' ? d.tooltip : new vscode.MarkdownString(d.tooltip);
    item.iconPath = this.icon(d.icon);
    item.contextValue = d.contextValue;
    if (d.action) item.command = toCommand(d.action);
    return item;
  }

  private icon(name: string): vscode.TreeItem['iconPath'] {
    if (name.startsWith('env:')) {
      // One SVG per provider and type (media/env-<provider>-<type>.svg), drawn to read on light and dark themes.
      return vscode.Uri.joinPath(this.extensionUri, 'media', `env-${name.slice(4)}.svg`);
    }
    if (name === 'severity:error') return new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
    if (name === 'severity:warning') return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    if (name === 'severity:info') return new vscode.ThemeIcon('info');
    // Live statuses of resources (treeData.ts STATUS_ICON), coloured like the rest of the workbench's states.
    if (name === 'pass') return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    if (name === 'error') return new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
    if (name === 'warning') return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    return new vscode.ThemeIcon(name);
  }

  /** The environment's node, after the data was rebuilt. */
  environmentNode(root: string, name: string): TreeNode | undefined {
    return this.current().nodes.get(environmentId(root, name));
  }

  /** The node of a declaration's resources in an environment, or the environment's node when it has none. */
  resourceNode(root: string, envName: string, source: SourceRef): TreeNode | undefined {
    const nodes = this.current().nodes;
    return nodes.get(groupId(root, envName, sourceKey(source))) ?? nodes.get(environmentId(root, envName));
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

export function toCommand(action: Action): vscode.Command {
  if (action.kind === 'openFile') {
    const line = Math.max(0, (action.line ?? 1) - 1);
    const column = Math.max(0, (action.column ?? 1) - 1);
    const options: vscode.TextDocumentShowOptions = action.line === undefined ? {} : { selection: new vscode.Range(line, column, line, column) };
    return { title: 'Open', command: 'vscode.open', arguments: [vscode.Uri.file(action.file), options] };
  }
  // A URL for vscode.open is data in the node; the command needs a Uri.
  const args = action.command === 'vscode.open' ? (action.args ?? []).map((a) => (typeof a === 'string' ? vscode.Uri.parse(a) : a)) : action.args;
  return { title: action.title, command: action.command, ...(args && { arguments: args }) };
}
