// Diagnostics as the server publishes them: per file URI, merged across apps, republished only when they change, and
// cleared when a file has none left. Also the settings the server accepts from the client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppModel, Diagnostic } from '../../src/model/appModel';
import { readServerSettings } from '../../src/model/protocol';
import { diagnosticsByUri, fileUri, PublishedDiagnostics } from '../../src/server/diagnostics';

const range = (line: number) => ({ start: { line, character: 2 }, end: { line, character: 9 } });
const diag = (file: string, line: number, message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic =>
  ({ file, range: range(line), severity, message });
const model = (root: string, diagnostics: Diagnostic[]): AppModel => ({
  root, services: [], endpoints: [], databases: [], topics: [], subscriptions: [], cronJobs: [], caches: [], buckets: [],
  secrets: [], gateway: null, authHandler: null, metrics: [], diagnostics,
});

test('diagnostics are grouped per file URI with LSP severities and the Encore source', () => {
  const byUri = diagnosticsByUri(
    [model('/ws/a', [diag('/ws/a/x.ts', 1, 'expected string literal'), diag('/ws/a/x.ts', 4, 'topic name should be kebab-case', 'warning'), diag('/ws/a/y y.ts', 0, 'dup')])],
    [],
  );
  assert.deepEqual([...byUri.keys()], ['file:///ws/a/x.ts', 'file:///ws/a/y%20y.ts']);
  assert.deepEqual(byUri.get('file:///ws/a/x.ts'), [
    { range: range(1), severity: 1, source: 'Encore', message: 'expected string literal' },
    { range: range(4), severity: 2, source: 'Encore', message: 'topic name should be kebab-case' },
  ]);
});

test('two apps reporting on one file are merged; an unreadable encore.app gets its error on the file', () => {
  const byUri = diagnosticsByUri(
    [model('/ws/a', [diag('/ws/a/b/x.ts', 1, 'from a')]), model('/ws/a/b', [diag('/ws/a/b/x.ts', 2, 'from b')])],
    [{ appFile: '/ws/c/encore.app', message: 'cannot read encore.app: "lang" must be "typescript" or "go", not 3' }],
  );
  assert.deepEqual(byUri.get('file:///ws/a/b/x.ts')?.map((d) => d.message), ['from a', 'from b']);
  assert.deepEqual(byUri.get(fileUri('/ws/c/encore.app')), [
    { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: 1, source: 'Encore', message: 'cannot read encore.app: "lang" must be "typescript" or "go", not 3' },
  ]);
});

test('only changed files are republished, and files without diagnostics any more are cleared', () => {
  const published = new PublishedDiagnostics();
  const first = diagnosticsByUri([model('/ws', [diag('/ws/a.ts', 1, 'one'), diag('/ws/b.ts', 1, 'two')])], []);
  assert.deepEqual(published.update(first).map(([uri, list]) => [uri, list.length]), [['file:///ws/a.ts', 1], ['file:///ws/b.ts', 1]]);
  // The same diagnostics again: nothing to send.
  assert.deepEqual(published.update(first), []);
  // a.ts changes, b.ts is fixed.
  const second = diagnosticsByUri([model('/ws', [diag('/ws/a.ts', 2, 'one')])], []);
  assert.deepEqual(published.update(second).map(([uri, list]) => [uri, list.map((d) => d.range.start.line)]), [['file:///ws/a.ts', [2]], ['file:///ws/b.ts', []]]);
  // b.ts was cleared once; it is not cleared again.
  assert.deepEqual(published.update(new Map()).map(([uri, list]) => [uri, list.length]), [['file:///ws/a.ts', 0]]);
  assert.deepEqual(published.update(new Map()), []);
});

test('server settings come with defaults and sane bounds, whatever the client sends', () => {
  assert.deepEqual(readServerSettings(undefined), { debounceMs: 150 });
  assert.deepEqual(readServerSettings(null), { debounceMs: 150 });
  assert.deepEqual(readServerSettings({ debounceMs: 40 }), { debounceMs: 40 });
  assert.deepEqual(readServerSettings({ debounceMs: 0 }), { debounceMs: 0 });
  assert.deepEqual(readServerSettings({ debounceMs: -5 }), { debounceMs: 150 });
  assert.deepEqual(readServerSettings({ debounceMs: '40' }), { debounceMs: 150 });
  assert.deepEqual(readServerSettings({ debounceMs: Number.NaN }), { debounceMs: 150 });
  assert.deepEqual(readServerSettings({ debounceMs: 1e9 }), { debounceMs: 10_000 });
});
