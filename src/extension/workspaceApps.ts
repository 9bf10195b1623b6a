import path from 'node:path';
import * as vscode from 'vscode';
import { ENCORE_APP_FILE, readApp, type FoundApp } from '../analyzer/findApps';
import { formatProblem } from '../environments/problems';
import { EnvStore, type LoadResult } from '../environments/store';
import { ENVIRONMENTS_FILE } from '../model/environment';
import { log } from './log';

/** An Encore app in the workspace, its environments store, and what the store last read. */
export interface WorkspaceApp {
  found: FoundApp;
  /** Reads and writes the app's environments file; one per app for the whole session, so it keeps its version. */
  store: EnvStore;
  environments: LoadResult;
}

/** What the Environments view's welcome content keys on (context key `encore.workspaceState`). */
export type WorkspaceState = 'noApp' | 'noEnvironments' | 'hasEnvironments';

/**
 * Finds the Encore apps in the workspace folders, loads their environments through the EnvStore, and reloads when
 * either kind of file is created, changed or deleted (debounced, so a burst of file events costs one reload).
 */
export class WorkspaceApps implements vscode.Disposable {
  private apps: WorkspaceApp[] = [];
  private readonly stores = new Map<string, EnvStore>();
  /** The problems last logged per environments file. */
  private readonly logged = new Map<string, string>();
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

  /** The apps as last loaded, without waiting (empty before the first load). */
  current(): readonly WorkspaceApp[] {
    return this.apps;
  }

  find(root: string): WorkspaceApp | undefined {
    return this.apps.find((a) => a.found.root === root);
  }

  reload(): Promise<void> {
    this.loading = this.load();
    return this.loading;
  }

  /**
   * Takes what the stores hold now (after one of our saves), without reading the disk again: the view updates at
   * once, before the file watcher's event arrives.
   */
  async storesChanged(): Promise<void> {
    await this.list();
    for (const app of this.apps) app.environments = app.store.current() ?? app.environments;
    await this.publish();
  }

  state(): WorkspaceState {
    if (this.apps.length === 0) return 'noApp';
    // An unreadable file counts as "has environments": the tree shows its error instead of the welcome.
    const any = this.apps.some(({ environments: e }) => !e.ok || e.environments.length > 0);
    return any ? 'hasEnvironments' : 'noEnvironments';
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 150);
  }

  private store(root: string): EnvStore {
    let store = this.stores.get(root);
    if (!store) {
      store = new EnvStore(root);
      this.stores.set(root, store);
    }
    return store;
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
          const store = this.store(found.root);
          // One app's file must never keep every other app from the list.
          const environments = await store.load().catch((err: unknown): LoadResult => ({
            ok: false,
            file: store.file,
            errors: [{ message: `cannot read the file: ${(err as Error).message}`, path: '', line: 1, column: 1, offset: 0, length: 0 }],
            version: undefined,
          }));
          return { found, store, environments };
        }),
    );
    this.apps = apps.sort((a, b) => a.found.root.localeCompare(b.found.root));
    log().info(`found ${this.apps.length} Encore app(s) in ${Date.now() - started} ms`);
    for (const app of this.apps) {
      if (!app.found.ok) log().warn(app.found.error);
      const envs = app.environments;
      // Once per change of the problems, not on every reload (the list is capped by the store).
      const problems = envs.ok ? '' : envs.errors.map(formatProblem).join('\n');
      if (problems !== '' && this.logged.get(envs.file) !== problems) log().warn(`${envs.file}:\n${problems}`);
      this.logged.set(envs.file, problems);
    }
    await this.publish();
  }

  private async publish(): Promise<void> {
    await vscode.commands.executeCommand('setContext', 'encore.workspaceState', this.state());
    this.changed.fire();
  }

  /** A label for the app in pickers and messages: its folder name, and where it is when there are several. */
  static label(app: WorkspaceApp): string {
    return path.basename(app.found.root);
  }

  dispose(): void {
    clearTimeout(this.reloadTimer);
    for (const d of this.disposables) d.dispose();
  }
}
