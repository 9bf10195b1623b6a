import path from 'node:path';
import * as vscode from 'vscode';
import { describeEnvironment, type Environment } from '../model/environment';
import type { WorkspaceApp, WorkspaceApps } from './workspaceApps';

/** The nodes of the Environments view. Ids are built from the model, so expansion survives a refresh. */
export type TreeNode =
  | { kind: 'app'; app: WorkspaceApp }
  | { kind: 'environment'; app: WorkspaceApp; env: Environment }
  | { kind: 'error'; id: string; label: string; message: string; command?: vscode.Command }
  | { kind: 'notice'; id: string; label: string; command?: vscode.Command };

export class EnvironmentsTree implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly apps: WorkspaceApps) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) {
      const apps = await this.apps.list();
      // One app: its environments at the top level, and nothing at all when it has none, so the view's welcome
      // content shows. Several apps: one group per app.
      return apps.length === 1 ? appChildren(apps[0], false) : apps.map((app) => ({ kind: 'app', app }));
    }
    return node.kind === 'app' ? appChildren(node.app, true) : [];
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'app': {
        const root = node.app.found.root;
        const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(root));
        const item = new vscode.TreeItem(path.basename(root), vscode.TreeItemCollapsibleState.Expanded);
        item.id = `app:${root}`;
        item.description = folder ? path.relative(folder.uri.fsPath, root) || folder.name : root;
        item.tooltip = root;
        item.iconPath = new vscode.ThemeIcon('package');
        item.contextValue = 'encore.app';
        return item;
      }
      case 'environment': {
        const { env } = node;
        const item = new vscode.TreeItem(env.name, vscode.TreeItemCollapsibleState.None);
        item.id = `env:${node.app.found.root}:${env.name}`;
        item.description = describeEnvironment(env);
        item.tooltip = new vscode.MarkdownString(`**${env.name}**\n\n${describeEnvironment(env)}`);
        item.iconPath = new vscode.ThemeIcon(env.type === 'production' ? 'rocket' : 'beaker');
        item.contextValue = `encore.environment.${env.type}`;
        return item;
      }
      case 'error': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.description = node.message;
        item.tooltip = node.message;
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
        item.contextValue = 'encore.error';
        item.command = node.command;
        return item;
      }
      case 'notice': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon('info');
        item.contextValue = 'encore.notice';
        item.command = node.command;
        return item;
      }
    }
  }
}

function appChildren(app: WorkspaceApp, noticeWhenEmpty: boolean): TreeNode[] {
  const root = app.found.root;
  const nodes: TreeNode[] = [];
  if (!app.found.ok) {
    nodes.push({
      kind: 'error',
      id: `app-error:${root}`,
      label: 'Cannot read encore.app',
      message: app.found.error,
      command: openFile(path.join(root, 'encore.app')),
    });
  }
  const envs = app.environments;
  if (envs.kind === 'invalid') {
    nodes.push({
      kind: 'error',
      id: `envfile-error:${root}`,
      label: 'Cannot read encore.environments.json',
      message: envs.message,
      command: openFile(envs.file),
    });
  } else if (envs.kind === 'ok' && envs.environments.length > 0) {
    nodes.push(...envs.environments.map((env): TreeNode => ({ kind: 'environment', app, env })));
  } else if (noticeWhenEmpty) {
    nodes.push({
      kind: 'notice',
      id: `no-envs:${root}`,
      label: 'No environments yet: Create Environment…',
      command: { title: 'Create Environment', command: 'encore.createEnvironment', arguments: [root] },
    });
  }
  return nodes;
}

function openFile(file: string): vscode.Command {
  return { title: 'Open', command: 'vscode.open', arguments: [vscode.Uri.file(file)] };
}
