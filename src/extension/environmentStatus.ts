import path from 'node:path';
import * as vscode from 'vscode';
import { describeEnvironment, type Environment } from '../model/environment';
import type { EnvStore } from '../environments';
import { describeIdentity } from '../model/providerApi';
import { shortPrincipal, type EnvironmentFacts } from './environmentFacts';
import type { WorkspaceApps } from './workspaceApps';

/** Reads who acts on an environment and what it runs (environmentFacts.ts); absent in tests of the selection alone. */
export type FactsLoader = (root: string, env: Environment, store: EnvStore, signal: AbortSignal) => Promise<EnvironmentFacts>;

/** How long the facts wait for the environments to stop changing before they are read again. */
const FACTS_SETTLE_MS = 500;

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
  /** The facts of the environment they were read for (its key), or the read in flight. */
  private facts: { key: string; facts?: EnvironmentFacts; reading?: AbortController } | undefined;
  private factsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: vscode.Memento,
    private readonly apps: WorkspaceApps,
    private readonly loadFacts?: FactsLoader,
  ) {
    this.item.name = 'Encore Environment';
    this.item.command = SELECT_COMMAND;
    // A change of the environments (an edit, Refresh, the end of a deploy) reads the facts again.
    this.disposables.push(apps.onDidChange(() => this.render(true)), vscode.workspace.onDidGrantWorkspaceTrust(() => this.render(true)));
    this.render();
  }

  /** Reads who acts and what runs again (after a deploy or a login). */
  refreshFacts(): void {
    this.render(true);
  }

  private scheduleFacts(root: string, env: Environment, again: boolean): void {
    const key = JSON.stringify([root, env.name, env.provider]);
    if (!this.loadFacts || !vscode.workspace.isTrusted) {
      this.facts = undefined;
      return;
    }
    if (this.facts?.key === key && !again) return;
    this.facts?.reading?.abort();
    const reading = new AbortController();
    this.facts = { key, reading, ...(this.facts?.key === key && this.facts.facts && { facts: this.facts.facts }) };
    clearTimeout(this.factsTimer);
    const load = this.loadFacts;
    this.factsTimer = setTimeout(() => {
      const store = this.apps.find(root)?.store;
      if (!store) return;
      load(root, env, store, reading.signal).then(
        (facts) => {
          if (reading.signal.aborted || this.facts?.key !== key) return;
          this.facts = { key, facts };
          this.render();
        },
        (err: unknown) => {
          if (reading.signal.aborted || this.facts?.key !== key) return;
          this.facts = { key, facts: { identityProblem: (err as Error).message, revisionProblem: (err as Error).message } };
          this.render();
        },
      );
    }, FACTS_SETTLE_MS);
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

  private render(readFacts = false): void {
    if (this.apps.current().length === 0) {
      this.item.hide();
      return;
    }
    const s = this.selected();
    if (s) {
      this.scheduleFacts(s.root, s.env, readFacts);
      const facts = this.facts?.facts;
      const who = facts?.identity ? ` $(account) ${shortPrincipal(facts.identity.principal)}` : '';
      const runs = facts?.current ? ` $(git-commit) ${facts.current.revision.commit.slice(0, 7)}${facts.current.revision.dirty ? '*' : ''}` : '';
      this.item.text = `$(server-environment) ${s.env.name}${who}${runs}`;
      this.item.tooltip = tooltip(s.env, facts, this.facts?.reading !== undefined && !facts);
      this.item.accessibilityInformation = {
        label: `Encore environment: ${s.env.name}${facts?.identity ? `, acting as ${facts.identity.principal}` : ''}${facts?.current ? `, running ${facts.current.revision.commit.slice(0, 7)}` : ''}`,
      };
    } else {
      this.item.text = '$(server-environment) No environment';
      this.item.tooltip = 'This Encore app has no environment yet. Click to create one.';
      this.item.accessibilityInformation = { label: 'Encore environment: none' };
    }
    this.item.show();
  }

  dispose(): void {
    clearTimeout(this.factsTimer);
    this.facts?.reading?.abort();
    for (const d of this.disposables) d.dispose();
  }
}

/** The status bar's tooltip: the environment, who acts on it, and what it runs (or why that is not known). */
export function tooltip(env: Environment, facts: EnvironmentFacts | undefined, reading: boolean): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendText(`Encore environment: ${env.name} (${describeEnvironment(env)})\n\n`);
  if (facts?.identity) md.appendText(`Acting as ${describeIdentity(facts.identity)}\n\n`);
  else if (facts?.identityProblem) md.appendText(`Who acts is not known: ${facts.identityProblem}\n\n`);
  else if (reading) md.appendText('Checking who acts and what runs…\n\n');
  else if (!vscode.workspace.isTrusted) md.appendText('Trust this workspace to see who acts and what runs.\n\n');
  if (facts?.current) {
    const r = facts.current;
    md.appendText(`Runs ${r.revision.commit.slice(0, 12)}${r.revision.dirty ? ' (with uncommitted changes)' : ''}${r.revision.branch ? ` from ${r.revision.branch}` : ''}: deploy ${r.id}, ${r.at} by ${r.by}\n\n`);
  } else if (facts?.revisionProblem) md.appendText(`What runs is not known: ${facts.revisionProblem}\n\n`);
  else if (facts) md.appendText('Nothing deployed yet.\n\n');
  md.appendText('Click to choose another environment.');
  return md;
}
