import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

/**
 * The language server process. It speaks LSP to the extension over IPC and keeps the open documents in sync; the
 * analysis it serves (diagnostics, CodeLens, hovers, the app model) arrives with the application model.
 */
const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

connection.onInitialize(() => ({
  capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental },
  serverInfo: { name: 'Encore language server' },
}));

documents.listen(connection);
connection.listen();
