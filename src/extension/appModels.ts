import * as vscode from 'vscode';
import type { AppModelEntry } from '../model/protocol';
import type { LanguageServer } from './languageServer';
import { log } from './log';
import type { ModelState } from './tree/treeData';

/**
 * The language server's application models, as the tree, the form's preview and the CodeLens statuses need them.
 * Fetched with `encore/appModel` once the server runs and again after each `encore/appModelChanged` (debounced, so
 * a burst of edits costs one request), and kept until the next answer, so every consumer reads them synchronously.
 */
export class AppModels implements vscode.Disposable {
  private entries = new Map<string, AppModelEntry>();
  private fetched = false;
  private timer: NodeJS.Timeout | undefined;
  private fetching: Promise<void> | undefined;
  private again = false;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** Fires after the models (or the server's state) changed. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly server: LanguageServer,
    private readonly debounceMs = 200,
  ) {
    this.disposables.push(
      server.onDidChangeModel(() => this.schedule()),
      server.onDidChangeRunning(() => {
        if (server.status().kind === 'running') this.schedule(0);
        else this.changed.fire();
      }),
    );
  }

  /** What is known about the app at `root` right now. */
  state(root: string): ModelState {
    const status = this.server.status();
    if (status.kind === 'failed') return { kind: 'unavailable', message: status.message };
    const entry = this.entries.get(root);
    if (!entry) return { kind: 'pending' };
    if ('error' in entry) return { kind: 'failed', message: entry.error };
    if (entry.lang === 'go') return { kind: 'go', message: entry.notAnalysed };
    return { kind: 'ready', model: entry.model };
  }

  /** Whether a first answer came (tests and logs). */
  hasModels(): boolean {
    return this.fetched;
  }

  private schedule(delay = this.debounceMs): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fetch(), delay);
  }

  /** One request at a time; a change during a request asks once more afterwards. */
  private async fetch(): Promise<void> {
    if (this.fetching) {
      this.again = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      try {
        const started = performance.now();
        const apps = await this.server.appModels();
        if (!apps) return;
        this.entries = new Map(apps.map((a) => [a.root, a]));
        this.fetched = true;
        log().debug(`fetched the models of ${apps.length} app(s) in ${(performance.now() - started).toFixed(0)} ms`);
        this.changed.fire();
      } catch (err) {
        // The server went away mid-request, or failed to answer: its status item says so; the view keeps what it had.
        log().warn('could not fetch the app models from the language server:', err);
      }
    })();
    try {
      await this.fetching;
    } finally {
      this.fetching = undefined;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      }
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
