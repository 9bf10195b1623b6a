import * as vscode from 'vscode';
import type { AppModelEntry, ServerSettings, ServerStatusParams } from '../model/protocol';
import type { Client } from './client';
import { log } from './log';
import { ServerStatusItem, type ServerUiState } from './serverStatus';

/**
 * Owns the language client: starts it when the workspace has an Encore app, restarts it on request (never by itself),
 * and keeps the status item in step. vscode-languageclient and the protocol load with the first start, not at
 * activation. Start, restart and stop are serialised, so a double click on Restart cannot leave two servers running.
 */
export class LanguageServer implements vscode.Disposable {
  private current: Client | undefined;
  /** Bumped whenever a client is replaced, so late events from an old client are ignored. */
  private generation = 0;
  private transition: Promise<void> = Promise.resolve();
  private item: ServerStatusItem | undefined;
  private channels: { output: vscode.LogOutputChannel; trace: vscode.LogOutputChannel } | undefined;
  private readonly modelChanged = new vscode.EventEmitter<string>();
  private readonly runningChanged = new vscode.EventEmitter<void>();
  private readonly listeners: vscode.Disposable[];
  /** Why the server is not running, once it failed; undefined while it runs or before it first starts. */
  private failure: string | undefined;
  /** Fires with an app root when the server's model of that app changed. */
  readonly onDidChangeModel = this.modelChanged.event;
  /** Fires when the server started, stopped or failed. */
  readonly onDidChangeRunning = this.runningChanged.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    /** Adds each environment's status to the server's lenses (codeLensStatus.ts). */
    private readonly decorateCodeLenses: (lenses: vscode.CodeLens[], document: vscode.TextDocument) => vscode.CodeLens[] = (lenses) => lenses,
  ) {
    this.listeners = [
      this.modelChanged,
      this.runningChanged,
      vscode.workspace.onDidChangeConfiguration((e) => void this.configurationChanged(e)),
    ];
  }

  /** Whether the server is up ('running'), on its way ('starting'), or down with a reason ('failed'). */
  status(): { kind: 'running' | 'starting' } | { kind: 'failed'; message: string } {
    if (this.failure !== undefined) return { kind: 'failed', message: this.failure };
    return this.current?.client.isRunning() ? { kind: 'running' } : { kind: 'starting' };
  }

  /**
   * The server's model of every app (or of the app at `root`), after pending edits are analysed; undefined when the
   * server is not running.
   */
  async appModels(root?: string): Promise<AppModelEntry[] | undefined> {
    await this.transition;
    const client = this.current?.client;
    if (!client?.isRunning()) return undefined;
    // Imported here: the protocol package loads with the client, not at activation.
    const { AppModelRequest } = await import('../model/protocol');
    const result = await client.sendRequest(AppModelRequest, root === undefined ? {} : { root });
    return result.apps;
  }

  /** Asks the editor for the CodeLenses again (their environment statuses changed). */
  async refreshCodeLenses(): Promise<void> {
    const client = this.current?.client;
    if (!client?.isRunning()) return;
    const { refreshCodeLenses } = await import('./client');
    refreshCodeLenses(client);
  }

  /** Starts the server unless it is running already. */
  start(): Promise<void> {
    return this.serialise(async () => {
      if (!this.current) await this.startClient();
    });
  }

  restart(): Promise<void> {
    return this.serialise(async () => {
      log().info('restarting the Encore language server');
      await this.stopClient();
      await this.startClient();
    });
  }

  stop(): Promise<void> {
    return this.serialise(() => this.stopClient());
  }

  showLogs(): void {
    this.output().show();
  }

  dispose(): void {
    for (const d of this.listeners) d.dispose();
    this.item?.dispose();
  }

  private serialise(step: () => Promise<void>): Promise<void> {
    this.transition = this.transition.then(step, step);
    return this.transition;
  }

  private output(): vscode.LogOutputChannel {
    this.channels ??= {
      output: vscode.window.createOutputChannel('Encore Language Server', { log: true }),
      trace: vscode.window.createOutputChannel('Encore Language Server Trace', { log: true }),
    };
    return this.channels.output;
  }

  private async startClient(): Promise<void> {
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    const started = performance.now();
    this.show({ kind: 'starting' });
    const output = this.output();
    try {
      const { createClient } = await import('./client');
      const created = createClient(this.context, {
        output,
        traceOutput: this.channels!.trace,
        onStatus: (status) => current() && this.show(fromServer(status)),
        onUnexpectedClose: () => current() && this.unexpectedClose(),
        onModelChanged: (root) => {
          if (!current()) return;
          log().debug(`the model of ${root} changed`);
          this.modelChanged.fire(root);
        },
        codeLensEnabled: () => vscode.workspace.getConfiguration('encore').get<boolean>('codeLens.enabled', true),
        decorateCodeLenses: this.decorateCodeLenses,
        serverSettings,
      });
      this.current = created;
      this.failure = undefined;
      await created.client.start();
      log().info(`the Encore language server started in ${(performance.now() - started).toFixed(0)} ms`);
      this.runningChanged.fire();
    } catch (err) {
      if (!current()) return;
      // Never thrown further: a server that cannot start must not break the rest of the extension.
      log().error('the Encore language server could not start:', err);
      this.failure = `The Encore language server could not start: ${(err as Error).message}`;
      this.show({ kind: 'failed', message: `It could not start: ${(err as Error).message}` });
      this.runningChanged.fire();
    }
  }

  private async stopClient(): Promise<void> {
    const stopping = this.current;
    this.current = undefined;
    this.generation++;
    if (!stopping) return;
    for (const d of stopping.disposables) d.dispose();
    try {
      await stopping.client.dispose(2000);
    } catch (err) {
      // A server that already died cannot be asked to shut down; that is not worth more than a log line.
      log().debug('stopping the language server:', err);
    }
    this.item?.hide();
    this.runningChanged.fire();
  }

  private unexpectedClose(): void {
    const message = 'The Encore language server stopped unexpectedly. It is not restarted automatically.';
    log().error(message);
    this.failure = message;
    this.runningChanged.fire();
    this.show({ kind: 'failed', message });
    void vscode.window.showErrorMessage(message, 'Restart', 'Show Logs').then((choice) => {
      if (choice === 'Restart') void this.restart();
      else if (choice === 'Show Logs') this.showLogs();
    });
  }

  private show(state: ServerUiState): void {
    this.item ??= new ServerStatusItem();
    this.item.show(state);
  }

  private async configurationChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
    const client = this.current?.client;
    if (!client?.isRunning()) return;
    const { refreshCodeLenses, sendSettings } = await import('./client');
    if (e.affectsConfiguration('encore.codeLens.enabled')) refreshCodeLenses(client);
    if (e.affectsConfiguration('encore.analysis')) await sendSettings(client, serverSettings());
  }
}

function serverSettings(): ServerSettings {
  return { debounceMs: vscode.workspace.getConfiguration('encore').get<number>('analysis.debounceMs', 150) };
}

function fromServer(status: ServerStatusParams): ServerUiState {
  switch (status.state) {
    case 'starting':
      return { kind: 'starting' };
    case 'ready':
      return { kind: 'ready' };
    case 'analysing':
      return { kind: 'analysing', message: status.message };
    case 'error':
      return { kind: 'analysisFailed', message: status.message ?? 'see the logs' };
  }
}
