import * as vscode from 'vscode';
import {
  CloseAction,
  CodeLensRequest,
  DidChangeConfigurationNotification,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  AppModelChangedNotification,
  ServerStatusNotification,
  type ServerSettings,
  type ServerStatusParams,
} from '../model/protocol';

/**
 * Builds the language client. Loaded with a dynamic import only when an Encore app is in the workspace, so activation
 * never pays for vscode-languageclient.
 */

/** What the client reports to its owner (the status item, the log), and the settings it reads. */
export interface ClientHooks {
  output: vscode.LogOutputChannel;
  traceOutput: vscode.LogOutputChannel;
  onStatus(status: ServerStatusParams): void;
  /** The server process went away without being asked to. It is not restarted: the owner offers Restart. */
  onUnexpectedClose(): void;
  onModelChanged(root: string): void;
  codeLensEnabled(): boolean;
  /** Adds to the server's lenses (the environment statuses); called on every lens request. */
  decorateCodeLenses(lenses: vscode.CodeLens[], document: vscode.TextDocument): vscode.CodeLens[];
  serverSettings(): ServerSettings;
}

export interface Client {
  client: LanguageClient;
  /** Watchers and listeners that live as long as this client. */
  disposables: vscode.Disposable[];
}

export function createClient(context: vscode.ExtensionContext, hooks: ClientHooks): Client {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc },
  };
  // The server re-analyses on these: sources, migrations, and encore.app files (apps appearing or going away).
  const watchers = ['**/*.ts', '**/*.sql', '**/encore.app'].map((glob) => vscode.workspace.createFileSystemWatcher(glob));
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'typescript' }],
    synchronize: { fileEvents: watchers },
    initializationOptions: hooks.serverSettings(),
    outputChannel: hooks.output,
    traceOutputChannel: hooks.traceOutput,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    diagnosticCollectionName: 'encore',
    // Like vscode-eslint and the AWS Toolkit: a crashing server is not restarted in a loop. The status item shows it
    // failed, with Restart and Show Logs.
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue, handled: true }),
      closed: () => {
        hooks.onUnexpectedClose();
        return {
          action: CloseAction.DoNotRestart,
          handled: true,
          message: 'The Encore language server stopped. It is not restarted automatically: run "Encore: Restart Language Server".',
        };
      },
    },
    initializationFailedHandler: (error) => {
      hooks.output.error('the Encore language server failed to initialize:', error);
      return false;
    },
    middleware: {
      // The lenses come from the server; the setting decides whether the editor shows them, and each environment's
      // status is added here, on the client, where the environments and the planner are.
      provideCodeLenses: async (document, token, next) => {
        if (!hooks.codeLensEnabled()) return [];
        const lenses = await next(document, token);
        return lenses ? hooks.decorateCodeLenses(lenses, document) : lenses;
      },
    },
  };
  const client = new LanguageClient('encore', 'Encore Language Server', serverOptions, clientOptions);
  const disposables: vscode.Disposable[] = [
    ...watchers,
    client.onNotification(ServerStatusNotification, (status) => hooks.onStatus(status)),
    client.onNotification(AppModelChangedNotification, ({ root }) => hooks.onModelChanged(root)),
  ];
  return { client, disposables };
}

/** Asks the editor for the lenses again (the setting changed). One provider serves every TypeScript document. */
export function refreshCodeLenses(client: LanguageClient): void {
  const feature = client.getFeature(CodeLensRequest.method);
  const document = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.languageId === 'typescript');
  if (document) feature.getProvider(document)?.onDidChangeCodeLensEmitter.fire();
}

/** Sends the server its settings after they changed. */
export function sendSettings(client: LanguageClient, settings: ServerSettings): Promise<void> {
  return client.sendNotification(DidChangeConfigurationNotification.type, { settings });
}
