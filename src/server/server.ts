import { fileURLToPath } from 'node:url';
import {
  CodeLensRefreshRequest,
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  AppModelChangedNotification,
  AppModelRequest,
  readServerSettings,
  ServerStatusNotification,
  type ServerSettings,
} from '../model/protocol';
import { codeLenses } from './codeLens';
import { diagnosticsByUri, PublishedDiagnostics } from './diagnostics';
import { declarationAt, renderHover } from './hover';
import { AppWorkspace } from './workspace';

/**
 * The language server process. It speaks LSP to the extension over IPC: it finds the Encore apps of the workspace
 * folders, analyses the TypeScript ones, and serves diagnostics, CodeLens, hovers and the `encore/appModel` request.
 * Analyzer failures are reported (status and log), never allowed to end the process.
 */
const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const published = new PublishedDiagnostics();
let settings: ServerSettings = readServerSettings(undefined);
let codeLensRefresh = false;
let folderEvents = false;
let folders: string[] = [];

const workspace = new AppWorkspace({
  changed(roots) {
    const { models, unreadable } = workspace.diagnosticSources();
    for (const [uri, diagnostics] of published.update(diagnosticsByUri(models, unreadable))) {
      void connection.sendDiagnostics({ uri, diagnostics });
    }
    for (const root of roots) void connection.sendNotification(AppModelChangedNotification, { root });
    // Lenses of other files can change too (a declaration moved to another file, an app appeared).
    if (codeLensRefresh) connection.sendRequest(CodeLensRefreshRequest.type).catch(() => {});
  },
  status(state, message) {
    void connection.sendNotification(ServerStatusNotification, message === undefined ? { state } : { state, message });
  },
  info: (message) => connection.console.info(message),
  debug: (message) => connection.console.debug(message),
  error: (message) => connection.console.error(message),
  debounceMs: () => settings.debounceMs,
});

/** The file path of a `file:` URI, or undefined for other schemes (untitled documents, virtual files). */
function filePath(uri: string): string | undefined {
  return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
}

connection.onInitialize((params: InitializeParams) => {
  settings = readServerSettings(params.initializationOptions);
  codeLensRefresh = params.capabilities.workspace?.codeLens?.refreshSupport === true;
  folderEvents = params.capabilities.workspace?.workspaceFolders === true;
  const uris = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
  folders = uris.map(filePath).filter((f): f is string => f !== undefined);
  void connection.sendNotification(ServerStatusNotification, { state: 'starting' });
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      codeLensProvider: { resolveProvider: false },
      hoverProvider: true,
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
    serverInfo: { name: 'Encore language server' },
  };
});

connection.onInitialized(() => {
  connection.console.info(`Encore language server started (pid ${process.pid}, node ${process.version})`);
  // Folders added to or removed from a multi-root workspace (only clients that support it send these).
  if (folderEvents) {
    connection.workspace.onDidChangeWorkspaceFolders((event) => {
      const removed = new Set(event.removed.map((f) => filePath(f.uri)));
      const added = event.added.map((f) => filePath(f.uri)).filter((f): f is string => f !== undefined);
      folders = [...folders.filter((f) => !removed.has(f)), ...added];
      void workspace.setFolders(folders);
    });
  }
  void workspace.setFolders(folders);
});

connection.onDidChangeConfiguration((params) => {
  settings = readServerSettings(params.settings);
});

documents.onDidChangeContent(({ document }) => {
  const file = filePath(document.uri);
  if (file) workspace.openDocument(file, document.getText());
});

documents.onDidClose(({ document }) => {
  const file = filePath(document.uri);
  if (file) workspace.closeDocument(file);
});

connection.onDidChangeWatchedFiles(({ changes }) => {
  for (const change of changes) {
    const file = filePath(change.uri);
    if (file) workspace.fileChanged(file);
  }
});

connection.onCodeLens(async ({ textDocument }) => {
  const file = filePath(textDocument.uri);
  if (!file) return [];
  await workspace.settled();
  const model = workspace.modelFor(file);
  return model ? codeLenses(model, file) : [];
});

connection.onHover(async ({ textDocument, position }) => {
  const file = filePath(textDocument.uri);
  if (!file) return null;
  await workspace.settled();
  const model = workspace.modelFor(file);
  const decl = model && declarationAt(model, file, position);
  return model && decl ? { contents: { kind: 'markdown', value: renderHover(model, decl) }, range: decl.range } : null;
});

connection.onRequest(AppModelRequest, async (params) => {
  await workspace.settled();
  return { apps: workspace.entries(params?.root) };
});

connection.onShutdown(() => workspace.dispose());

// The process must outlive an analyzer bug: log what escaped and keep serving.
process.on('uncaughtException', (err) => connection.console.error(`uncaught exception: ${err.stack ?? err.message}`));
process.on('unhandledRejection', (reason) => connection.console.error(`unhandled rejection: ${String(reason)}`));

documents.listen(connection);
connection.listen();
