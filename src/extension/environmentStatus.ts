import path from 'node:path';
import * as vscode from 'vscode';
import { describeEnvironment, type Environment } from '../model/environment';
import type { WorkspaceApps } from './workspaceApps';

const KEY = 'encore.selectedEnvironment';
export const SELECT_COMMAND = 'encore.selectEnvironment';

export interface Selected {
  root: string;
  name: string;
}

/**
 * The selected environment, in the status bar: the one the CodeLens reveals in and later commands act on by default.
 * It is a local preference, so it lives in workspaceState, never in the committed environments file. A selection
 * whose environment went away falls back to the first environment.
 */
export class EnvironmentStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('encore.environment', vscode.StatusBarAlignment.Left, 1);
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(
    private readonly state: vscode.Memento,
    private readonly apps: WorkspaceApps,
  ) {
    this.item.name = 'Encore Environment';
    this.item.command = SELECT_COMMAND;
    this.disposables.push(apps.onDidChange(() => this.render()));
    this.render();
  }

  /** Every environment of every app, in app order. */
  private all(): { root: string; env: Environment }[] {
    return this.apps.current().flatMap((a) => (a.environments.ok ? a.environments.environments.map((env) => ({ root: a.found.root, env })) : []));
  }

  /** The selected environment, or the first one when nothing (or something gone) is selected. */
  selected(): { root: string; env: Environment } | undefined {
    const all = this.all();
    const saved = this.state.get<Selected>(KEY);
    return all.find((e) => saved && e.root === saved.root && e.env.name === saved.name) ?? all[0];
  }

  /** The selected environment of one app, or its first. */
  selectedIn(root: string): Environment | undefined {
    const s = this.selected();
    if (s && s.root === root) return s.env;
    const app = this.apps.find(root);
    return app?.environments.ok ? app.environments.environments[0] : undefined;
  }

  async select(root: string, name: string): Promise<void> {
    await this.state.update(KEY, { root, name } satisfies Selected);
    this.render();
  }

  /** After a rename: keep the selection on the renamed environment. */
  async renamed(root: string, from: string, to: string): Promise<void> {
    const saved = this.state.get<Selected>(KEY);
    if (saved && saved.root === root && saved.name === from) await this.select(root, to);
  }

  async pick(): Promise<void> {
    const all = this.all();
    const several = new Set(all.map((e) => e.root)).size > 1;
    const current = this.selected();
    type Item = vscode.QuickPickItem & { root?: string; name?: string; create?: boolean };
    const items: Item[] = all.map(({ root, env }) => ({
      label: `${current && current.root === root && current.env.name === env.name ? '$(check) ' : ''}${env.name}`,
      description: several ? `${describeEnvironment(env)} · ${path.basename(root)}` : describeEnvironment(env),
      root,
      name: env.name,
    }));
    items.push({ label: '$(add) Create Environment…', create: true, alwaysShow: true });
    const picked = await vscode.window.showQuickPick(items, { title: 'Select Environment', placeHolder: 'The environment the editor shows first' });
    if (!picked) return;
    if (picked.create) {
      await vscode.commands.executeCommand('encore.createEnvironment');
      return;
    }
    if (picked.root && picked.name) await this.select(picked.root, picked.name);
  }

  private render(): void {
    if (this.apps.current().length === 0) {
      this.item.hide();
      return;
    }
    const s = this.selected();
    if (s) {
      this.item.text = `$(server-environment) ${s.env.name}`;
      this.item.tooltip = `Encore environment: ${s.env.name} (${describeEnvironment(s.env)}). Click to choose another.`;
      this.item.accessibilityInformation = { label: `Encore environment: ${s.env.name}` };
    } else {
      this.item.text = '$(server-environment) No environment';
      this.item.tooltip = 'This Encore app has no environment yet. Click to create one.';
      this.item.accessibilityInformation = { label: 'Encore environment: none' };
    }
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
