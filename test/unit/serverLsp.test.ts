// The language server process over real LSP (stdio), without VS Code: a scratch copy of the sample app, the messages
// VS Code would send, and what comes back (status, the app model, CodeLens, hovers, diagnostics that come and go).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  CodeLensRequest,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  FileChangeType,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type MarkupContent,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import {
  AppModelChangedNotification,
  AppModelRequest,
  ServerStatusNotification,
  type ServerStatusParams,
} from '../../src/model/protocol';

const repoRoot = path.join(__dirname, '..', '..');

describe('the language server over LSP', { timeout: 60_000 }, () => {
  let scratch: string;
  let root: string;
  let server: ChildProcess;
  let connection: ProtocolConnection;
  const statuses: ServerStatusParams[] = [];
  const changed: string[] = [];
  const diagnostics = new Map<string, Diagnostic[]>();
  const logs: string[] = [];
  const uri = (rel: string) => pathToFileURL(path.join(root, rel)).href;

  before(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'encore-lsp-'));
    root = path.join(scratch, 'sample-app');
    cpSync(path.join(repoRoot, 'examples', 'sample-app'), root, { recursive: true });
    server = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/server/server.ts'), '--stdio'], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    connection = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
    connection.onNotification(ServerStatusNotification, (s) => void statuses.push(s));
    connection.onNotification(AppModelChangedNotification, ({ root }) => void changed.push(root));
    connection.onNotification(PublishDiagnosticsNotification.type, (p) => void diagnostics.set(p.uri, p.diagnostics));
    connection.onNotification('window/logMessage', (p: { message: string }) => void logs.push(p.message));
    connection.onRequest('workspace/codeLens/refresh', () => null);
    connection.listen();
  });

  after(async () => {
    connection?.dispose();
    server?.kill();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('initialize announces CodeLens and hovers; the app is found and analysed', async () => {
    const result = await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'sample-app' }],
      capabilities: { workspace: { codeLens: { refreshSupport: true } } },
      initializationOptions: { debounceMs: 20 },
    });
    assert.deepEqual(result.capabilities.codeLensProvider, { resolveProvider: false });
    assert.equal(result.capabilities.hoverProvider, true);
    await connection.sendNotification(InitializedNotification.type, {});
    await waitFor(() => statuses.at(-1)?.state === 'ready', 'the ready status');
    assert.deepEqual(statuses, [
      { state: 'starting' },
      { state: 'analysing', message: 'finding Encore apps' },
      { state: 'analysing', message: 'analysing 1 app(s)' },
      { state: 'ready' },
    ]);
    assert.ok(changed.includes(root));
    assert.ok(logs.some((l) => /found 1 Encore app\(s\)/.test(l)), logs.join('\n'));
  });

  test('encore/appModel returns the analysed model', async () => {
    const { apps } = await connection.sendRequest(AppModelRequest, {});
    assert.equal(apps.length, 1);
    const [app] = apps;
    assert.ok('model' in app);
    assert.equal(app.root, root);
    assert.deepEqual(app.model.databases.map((d) => d.name), ['orders', 'users']);
    assert.deepEqual(app.model.diagnostics, []);
    // A path inside the app selects it too.
    assert.equal((await connection.sendRequest(AppModelRequest, { root: path.join(root, 'users') })).apps.length, 1);
  });

  test('a CodeLens sits on the database declaration and carries the reveal arguments', async () => {
    const lenses = await connection.sendRequest(CodeLensRequest.type, { textDocument: { uri: uri('users/db.ts') } });
    assert.deepEqual(lenses, [
      {
        range: { start: { line: 2, character: 18 }, end: { line: 4, character: 2 } },
        command: { title: 'Encore: database users', command: 'encore.revealResource', arguments: [root, 'database', 'users'] },
      },
    ]);
  });

  test('the hover on the declaration summarises the database', async () => {
    const hover = await connection.sendRequest(HoverRequest.type, {
      textDocument: { uri: uri('users/db.ts') },
      position: { line: 2, character: 38 },
    });
    const value = (hover?.contents as MarkupContent).value;
    assert.match(value, /Encore database\*\* `users`/);
    assert.match(value, /Migrations: 2 migrations in `users\/migrations`, latest `2_add_email\.up\.sql`/);
    assert.match(value, /Used by: service `users`/);
    // Outside every declaration there is nothing to say.
    assert.equal(await connection.sendRequest(HoverRequest.type, { textDocument: { uri: uri('users/db.ts') }, position: { line: 0, character: 3 } }), null);
  });

  test('an unsaved edit brings a diagnostic, the fix takes it away', async () => {
    const file = uri('users/db.ts');
    const text = readFileSync(path.join(root, 'users/db.ts'), 'utf8');
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: file, languageId: 'typescript', version: 1, text } });
    await connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: file, version: 2 },
      contentChanges: [{ text: text.replace('"users"', 'dbName') }],
    });
    await waitFor(() => diagnostics.get(file)?.length === 1, 'the diagnostic');
    const [d] = diagnostics.get(file)!;
    assert.equal(d.message, 'expected string literal');
    assert.equal(d.severity, 1);
    assert.equal(d.source, 'Encore');
    assert.deepEqual(d.range.start, { line: 2, character: 34 });
    // The lens goes with the declaration Encore no longer recognises.
    assert.deepEqual(await connection.sendRequest(CodeLensRequest.type, { textDocument: { uri: file } }), []);

    await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: file, version: 3 }, contentChanges: [{ text }] });
    await waitFor(() => diagnostics.get(file)?.length === 0, 'the diagnostic to be cleared');
    await connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: file } });
  });

  test('a file changed on disk is picked up from the file watcher event', async () => {
    const extra = path.join(root, 'orders', 'extra.ts');
    writeFileSync(extra, 'import { SQLDatabase } from "encore.dev/storage/sqldb";\nexport const again = new SQLDatabase("users");\n');
    await connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uri('orders/extra.ts'), type: FileChangeType.Created }] });
    await waitFor(() => diagnostics.get(uri('orders/extra.ts'))?.length === 1, 'the duplicate database diagnostic');
    assert.equal(diagnostics.get(uri('orders/extra.ts'))![0].message, 'SQL Database with this name already defined');

    unlinkSync(extra);
    await connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uri('orders/extra.ts'), type: FileChangeType.Deleted }] });
    await waitFor(() => diagnostics.get(uri('orders/extra.ts'))?.length === 0, 'the diagnostic to be cleared');
  });

  test('a second encore.app nested below is found: a Go app, reported and not analysed', async () => {
    const nested = path.join(root, 'tools', 'goapp');
    cpSync(path.join(root, 'users'), path.join(nested, 'users'), { recursive: true });
    writeFileSync(path.join(nested, 'encore.app'), '{}');
    await connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: pathToFileURL(path.join(nested, 'encore.app')).href, type: FileChangeType.Created }],
    });
    await waitFor(() => changed.includes(nested), 'the nested app');
    const { apps } = await connection.sendRequest(AppModelRequest, {});
    assert.deepEqual(apps.map((a) => a.root), [root, nested]);
    assert.ok('notAnalysed' in apps[1] && apps[1].lang === 'go');
    // The Go app's files belong to it: no lens from the outer app's analysis.
    const lenses = await connection.sendRequest(CodeLensRequest.type, { textDocument: { uri: pathToFileURL(path.join(nested, 'users', 'db.ts')).href } });
    assert.deepEqual(lenses, []);
  });

  test('shutdown and exit end the process cleanly', async () => {
    await connection.sendRequest(ShutdownRequest.type);
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    await connection.sendNotification(ExitNotification.type);
    assert.equal(await exited, 0);
  });
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
