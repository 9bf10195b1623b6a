// What the .vsix holds (`vsce ls`, the same allowlist .vscodeignore gives `vsce package`): the bundles VS Code loads
// and their licence notices, and no notice for a bundle it does not ship (the CLI ships through npm's `bin`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..');

test('the .vsix ships the extension\'s chunks, each licence notice with its bundle, and neither the CLI nor its notice', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  assert.ok(files.includes('dist/extension.js'), files.join('\n'));
  for (const notice of files.filter((f) => f.endsWith('.LEGAL.txt'))) {
    assert.ok(files.includes(notice.slice(0, -'.LEGAL.txt'.length)), `${notice} ships without its bundle`);
  }
  assert.ok(files.includes('dist/extension/extension.mjs'), 'the split extension is in the .vsix');
  // Every chunk the extension may load on demand ships with it.
  const chunks = readdirSync(path.join(root, 'dist', 'extension', 'chunks')).filter((f) => f.endsWith('.mjs'));
  assert.ok(chunks.length > 0);
  assert.deepEqual(chunks.filter((c) => !files.includes(`dist/extension/chunks/${c}`)), []);
  assert.ok(!files.some((f) => f.startsWith('dist/cli.js') || f.startsWith('dist/cli/')), 'the CLI is not in the .vsix');
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.map')), 'no sources, tests or source maps');
});
