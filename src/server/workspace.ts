import path from 'node:path';
import { AppAnalyzer } from '../analyzer/analyzer';
import { ENCORE_APP_FILE } from '../analyzer/findApps';
import type { AppModel } from '../model/appModel';
import type { AppModelEntry, ServerState } from '../model/protocol';
import { appForFile, discoverApps } from './apps';
import { Debouncer } from './debounce';
import type { UnreadableApp } from './diagnostics';
import { PendingChanges, type FileChange } from './pending';

/** What the workspace tells the server, which turns it into LSP messages. */
export interface WorkspaceHost {
  /** The models (or the entries) of these apps changed, or the apps appeared or went away. */
  changed(roots: string[]): void;
  status(state: ServerState, message?: string): void;
  info(message: string): void;
  debug(message: string): void;
  error(message: string): void;
  /** Quiet time after the last edit before an app is re-analysed. */
  debounceMs(): number;
}

/** The part of AppAnalyzer the workspace drives. */
export type Analyzer = Pick<AppAnalyzer, 'analyze' | 'setOverlay' | 'clearOverlay' | 'fileChanged'>;

interface TypeScriptApp {
  kind: 'typescript';
  root: string;
  analyzer: Analyzer | undefined;
  model: AppModel | undefined;
  /** Why the last analysis failed; cleared by the next one that succeeds. Without an analyzer, the app is retried
   * from scratch on its next change. */
  error: string | undefined;
  pending: PendingChanges;
  debouncer: Debouncer;
}

type App =
  | TypeScriptApp
  | { kind: 'go'; root: string; notAnalysed: string }
  | { kind: 'unreadable'; root: string; error: string };

export const GO_NOT_ANALYSED =
  'a Go app (encore.app does not say "lang": "typescript"): this version analyses Encore.ts apps only, so it is not analysed';

/**
 * The Encore apps of the workspace folders and their analyzers. A file belongs to the innermost app that contains it;
 * open documents are analysed from their editor text, other files from disk. Edits are queued per app and analysed
 * after a quiet time; a request for a model applies the queue first, so answers are never stale.
 */
export class AppWorkspace {
  private folders: string[] = [];
  private apps = new Map<string, App>();
  /** Open documents: file → current text. Re-applied whenever an app gets a fresh analyzer. */
  private readonly open = new Map<string, string>();
  private discovery: Promise<void> = Promise.resolve();
  private lastStatus = '';

  constructor(
    private readonly host: WorkspaceHost,
    private readonly createAnalyzer: (root: string) => Analyzer = (root) => new AppAnalyzer(root),
  ) {}

  /** Sets the workspace folders and finds their apps again. */
  setFolders(folders: readonly string[]): Promise<void> {
    this.folders = [...new Set(folders)];
    return this.rediscover();
  }

  /** Finds the apps again (an encore.app appeared, changed or went away). Runs after any discovery in flight. */
  rediscover(): Promise<void> {
    this.discovery = this.discovery.then(() => this.discover()).catch((err: unknown) => {
      this.host.error(`finding the Encore apps failed: ${describe(err)}`);
    });
    return this.discovery;
  }

  /** Resolves once the apps are known and analysed (requests wait for it). */
  settled(): Promise<void> {
    return this.discovery;
  }

  openDocument(file: string, text: string): void {
    this.open.set(file, text);
    this.queue(file, { kind: 'overlay', text });
  }

  closeDocument(file: string): void {
    this.open.delete(file);
    this.queue(file, { kind: 'closed' });
  }

  /** A watched file was created, changed or deleted on disk. */
  fileChanged(file: string): void {
    if (path.basename(file) === ENCORE_APP_FILE) void this.rediscover();
    else this.queue(file, { kind: 'disk' });
  }

  /** The current model of the app that `file` belongs to, with queued edits applied. */
  modelFor(file: string): AppModel | undefined {
    const app = this.appOf(file);
    if (app?.kind !== 'typescript') return undefined;
    this.flush(app);
    return app.model;
  }

  /** Every app (or the innermost app containing `root`), with queued edits applied. */
  entries(root?: string): AppModelEntry[] {
    let apps = [...this.apps.values()];
    if (root !== undefined) {
      const match = appForFile(this.apps.keys(), path.resolve(root));
      apps = apps.filter((a) => a.root === match);
    }
    return apps.map((app): AppModelEntry => {
      switch (app.kind) {
        case 'go':
          return { root: app.root, lang: 'go', notAnalysed: app.notAnalysed };
        case 'unreadable':
          return { root: app.root, error: app.error };
        case 'typescript':
          this.flush(app);
          return app.model
            ? { root: app.root, lang: 'typescript', model: app.model }
            : { root: app.root, error: `analysis failed: ${app.error ?? 'not analysed yet'}` };
      }
    });
  }

  /** The analysed models and the unreadable encore.app files, for diagnostics. */
  diagnosticSources(): { models: AppModel[]; unreadable: UnreadableApp[] } {
    const models: AppModel[] = [];
    const unreadable: UnreadableApp[] = [];
    for (const app of this.apps.values()) {
      if (app.kind === 'typescript' && app.model) models.push(app.model);
      if (app.kind === 'unreadable') {
        const appFile = path.join(app.root, ENCORE_APP_FILE);
        // findApps prefixes its errors with the file; the diagnostic sits on that file, so the prefix goes.
        const message = app.error.startsWith(`${appFile}: `) ? app.error.slice(appFile.length + 2) : app.error;
        unreadable.push({ appFile, message: `cannot read encore.app: ${message}` });
      }
    }
    return { models, unreadable };
  }

  dispose(): void {
    for (const app of this.apps.values()) if (app.kind === 'typescript') app.debouncer.cancel();
  }

  private appOf(file: string): App | undefined {
    const root = appForFile(this.apps.keys(), file);
    return root === undefined ? undefined : this.apps.get(root);
  }

  private queue(file: string, change: FileChange): void {
    const app = this.appOf(file);
    // Files of Go apps, unreadable apps, or no app at all are not analysed.
    if (app?.kind !== 'typescript') return;
    app.pending.add(file, change);
    app.debouncer.schedule();
  }

  private async discover(): Promise<void> {
    this.reportStatus('analysing', 'finding Encore apps');
    const found = await discoverApps(this.folders, (message) => this.host.error(message));
    const before = this.apps;
    const next = new Map<string, App>();
    const rootsChanged = found.length !== before.size || found.some((f) => !before.has(f.root));
    for (const f of found) {
      const old = before.get(f.root);
      if (!f.ok) next.set(f.root, { kind: 'unreadable', root: f.root, error: f.error });
      else if (f.app.lang !== 'typescript') next.set(f.root, { kind: 'go', root: f.root, notAnalysed: GO_NOT_ANALYSED });
      // When apps come or go, files may move to another (nested) app: every analyzer starts over.
      else if (old?.kind === 'typescript' && !rootsChanged) next.set(f.root, old);
      else next.set(f.root, this.newTypeScriptApp(f.root));
    }
    for (const old of before.values()) {
      if (old.kind === 'typescript' && next.get(old.root) !== old) old.debouncer.cancel();
    }
    this.apps = next;
    this.host.info(
      found.length === 0
        ? `no Encore app in ${this.folders.join(', ') || 'the workspace (no folder is open)'}`
        : `found ${found.length} Encore app(s): ${found.map((f) => `${f.root} (${f.ok ? f.app.lang : 'unreadable'})`).join(', ')}`,
    );
    // New apps, and failed ones (an encore.app change is a reason to try again).
    const fresh = [...next.values()].filter((a): a is TypeScriptApp => a.kind === 'typescript' && !a.analyzer);
    if (fresh.length > 0) {
      this.reportStatus('analysing', `analysing ${fresh.length} app(s)`);
      // Let the status notification leave before the synchronous analysis holds the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      for (const app of fresh) this.analyseFully(app);
    }
    this.reportCurrentStatus();
    this.host.changed([...new Set([...before.keys(), ...next.keys()])].sort());
  }

  private newTypeScriptApp(root: string): TypeScriptApp {
    const app: TypeScriptApp = {
      kind: 'typescript',
      root,
      analyzer: undefined,
      model: undefined,
      error: undefined,
      pending: new PendingChanges(),
      debouncer: new Debouncer(() => this.flushAndReport(app), () => this.host.debounceMs()),
    };
    return app;
  }

  /** The debounced path: analyse the queued edits, then tell the host. */
  private flushAndReport(app: TypeScriptApp): void {
    if (this.apps.get(app.root) !== app) return; // the app went away meanwhile
    if (this.flush(app)) {
      this.reportCurrentStatus();
      this.host.changed([app.root]);
    }
  }

  /**
   * Applies the queued edits of `app` (or starts over when it has no analyzer). Returns whether the model changed.
   * Synchronous, so a request that calls it answers from the current text.
   */
  private flush(app: TypeScriptApp): boolean {
    app.debouncer.cancel();
    if (!app.analyzer) {
      // A failed app is retried when something changed, not on every request.
      if (app.error !== undefined && app.pending.size === 0) return false;
      this.analyseFully(app);
      return true;
    }
    const changes = app.pending.drain();
    if (changes.length === 0) return false;
    const started = performance.now();
    try {
      let model = app.model;
      for (const [file, change] of changes) model = apply(app.analyzer, file, change);
      app.model = model;
      app.error = undefined;
      this.host.debug(`re-analysed ${app.root} after ${changes.length} change(s) in ${elapsed(started)}`);
    } catch (err) {
      this.fail(app, err);
    }
    return true;
  }

  /** A fresh analyzer, a cold analysis from disk, then the open documents' text on top. */
  private analyseFully(app: TypeScriptApp): void {
    app.pending.clear();
    app.debouncer.cancel();
    const started = performance.now();
    try {
      const analyzer = this.createAnalyzer(app.root);
      let model = analyzer.analyze();
      const roots = [...this.apps.keys()];
      for (const [file, text] of this.open) {
        if (appForFile(roots, file) === app.root) model = analyzer.setOverlay(file, text);
      }
      app.analyzer = analyzer;
      app.model = model;
      app.error = undefined;
      this.host.info(
        `analysed ${app.root} in ${elapsed(started)}: ${model.services.length} service(s), ` +
          `${model.diagnostics.length} diagnostic(s)`,
      );
    } catch (err) {
      this.fail(app, err);
    }
  }

  /** The analyzer threw: report it, drop the model (never serve a wrong one), start over on the next change. */
  private fail(app: TypeScriptApp, err: unknown): void {
    app.analyzer = undefined;
    app.model = undefined;
    app.error = describe(err);
    app.pending.clear();
    this.host.error(`analysing ${app.root} failed: ${err instanceof Error && err.stack ? err.stack : app.error}`);
  }

  private reportCurrentStatus(): void {
    const failed = [...this.apps.values()].filter((a): a is TypeScriptApp => a.kind === 'typescript' && a.error !== undefined);
    if (failed.length === 0) this.reportStatus('ready');
    else this.reportStatus('error', failed.map((a) => `analysing ${a.root} failed: ${a.error}`).join('\n'));
  }

  /** Sends a status only when it differs from the last one. */
  private reportStatus(state: ServerState, message?: string): void {
    const key = `${state}\n${message ?? ''}`;
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.host.status(state, message);
  }
}

function apply(analyzer: Analyzer, file: string, change: FileChange): AppModel {
  switch (change.kind) {
    case 'overlay':
      return analyzer.setOverlay(file, change.text);
    case 'closed':
      return analyzer.clearOverlay(file);
    case 'disk':
      return analyzer.fileChanged(file);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function elapsed(started: number): string {
  return `${(performance.now() - started).toFixed(0)} ms`;
}
