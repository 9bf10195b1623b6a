import * as vscode from 'vscode';
import { ENCORE_APP_FILE, readApp, type FoundApp } from '../analyzer/findApps';
import { readEnvironments, type EnvironmentsRead } from '../environments/readEnvironments';
import { ENVIRONMENTS_FILE } from '../model/environment';
import { log } from './log';

/** An Encore app in the workspace, with what its environments file holds. */
export interface WorkspaceApp {
  found: FoundApp;
  environments: EnvironmentsRead;
}

/** What the Environments view's welcome content keys on (context key `encore.workspaceState`). */
export type WorkspaceState = 'noApp' | 'noEnvironments' | 'hasEnvironments';

/**
 * Finds the Encore apps in the workspace folders, reads their environments files, and reloads when either kind of
 * file is created, changed or deleted (debounced, so a burst of file events costs one reload).
 */
export class WorkspaceApps implements vscode.Disposable {
  private apps: WorkspaceApp[] = [];
  private loading: Promise<void> | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  readonly onDidChange = this.changed.event;

  constructor() {
    for (const name of [ENCORE_APP_FILE, ENVIRONMENTS_FILE]) {
      const watcher = vscode.workspace.createFileSystemWatcher(`**/${name}`);
      const schedule = () => this.scheduleReload();
      this.disposables.push(watcher, watcher.onDidCreate(schedule), watcher.onDidChange(schedule), watcher.onDidDelete(schedule));
    }
    this.disposables.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleReload()));
  }

  /** The apps, loading them first if this is the first call. */
  async list(): Promise<WorkspaceApp[]> {
    if (!this.loading) this.loading = this.load();
    await this.loading;
    return this.apps;
  }

  reload(): Promise<void> {
    this.loading = this.load();
    return this.loading;
  }

  state(): WorkspaceState {
    if (this.apps.length === 0) return 'noApp';
    // An unreadable file counts as "has environments": the tree shows its error instead of the welcome.
    const any = this.apps.some(({ environments: e }) => e.kind === 'invalid' || (e.kind === 'ok' && e.environments.length > 0));
    return any ? 'hasEnvironments' : 'noEnvironments';
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 150);
  }

  private async load(): Promise<void> {
    const started = Date.now();
    const exclude = vscode.workspace.getConfiguration('encore').get<string[]>('appSearch.exclude', []);
    const excludeGlob = exclude.length > 0 ? `{${exclude.join(',')}}` : undefined;
    const files = await vscode.workspace.findFiles(`**/${ENCORE_APP_FILE}`, excludeGlob);
    const apps = await Promise.all(
      files
        .filter((uri) => uri.scheme === 'file')
        .map(async (uri): Promise<WorkspaceApp> => {
          const found = await readApp(uri.fsPath);
          return { found, environments: await readEnvironments(found.root) };
        }),
    );
    this.apps = apps.sort((a, b) => a.found.root.localeCompare(b.found.root));
    log().info(`found ${this.apps.length} Encore app(s) in ${Date.now() - started} ms`);
    for (const app of this.apps) {
      if (!app.found.ok) log().warn(app.found.error);
      if (app.environments.kind === 'invalid') log().warn(`${app.environments.file}: ${app.environments.message}`);
    }
    await vscode.commands.executeCommand('setContext', 'encore.workspaceState', this.state());
    this.changed.fire();
  }

  dispose(): void {
    clearTimeout(this.reloadTimer);
    for (const d of this.disposables) d.dispose();
  }
}
