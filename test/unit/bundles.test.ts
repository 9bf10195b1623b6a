// The four bundles esbuild.mjs writes: module formats, externals and source maps.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const dist = path.join(__dirname, '..', '..', 'dist');
const read = (f: string) => readFileSync(path.join(dist, f), 'utf8');

test('each bundle exists with a source map', () => {
  for (const f of ['extension.js', 'server.js', 'cli.js', 'webview/main.js']) {
    assert.ok(existsSync(path.join(dist, `${f}.map`)), `${f}.map`);
    assert.match(read(f), /\/\/# sourceMappingURL=\S+\.js\.map\s*$/, f);
  }
});

test('the extension is CommonJS and leaves vscode to the host', () => {
  const extension = read('extension.js');
  assert.match(extension, /require\("vscode"\)/);
  assert.match(extension, /module\.exports/);
});

test('the webview bundle is a browser ES module with no node requires', () => {
  const webview = read('webview/main.js');
  assert.doesNotMatch(webview, /\brequire\(["']/);
  assert.ok(existsSync(path.join(dist, 'webview', 'codicon.css')) && existsSync(path.join(dist, 'webview', 'codicon.ttf')));
});
