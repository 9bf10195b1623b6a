// Files Encore's build cannot parse (issue 9, item 9): TypeScript syntax errors are error diagnostics at their
// position, as Encore's build fails on them; a binary .ts file and one that is not UTF-8 are reported and not
// analysed; a file or folder whose name is not valid UTF-8, or that cannot be read, is reported instead of skipped
// silently (a folder's problem on encore.app).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Diagnostic } from '../../src/model/appModel';
import { testApp } from './analyzerApp';

const repo = path.join(__dirname, '..', '..');
const API = 'import { api } from "encore.dev/api";\n';

function brief(root: string, d: Diagnostic): string {
  const r = d.range;
  return `${path.relative(root, d.file)}:${r.start.line + 1}:${r.start.character + 1}-${r.end.line + 1}:${r.end.character + 1} ${d.severity} ${d.message}`;
}

test('syntax errors are error diagnostics at their position, in files with resources and in plain helpers', () => {
  const app = testApp({
    'svc/api.ts': `${API}export const hello = api({}, async () => {});\nexport const = 5;\n`,
    // No encore.dev import and no relative import: a file the extraction skips, but Encore's build still parses it.
    'svc/util.ts': 'export function add(a: number, b: number) {\n  return a + (b;\n}\n',
  });
  try {
    const model = app.analyzer.analyze();
    assert.deepEqual(model.diagnostics.map((d) => brief(app.root, d)), [
      'svc/api.ts:3:14-3:15 error syntax error: Variable declaration expected. (TS1134)',
      'svc/api.ts:3:16-3:17 error syntax error: Variable declaration expected. (TS1134)',
      "svc/util.ts:2:16-2:17 error syntax error: ')' expected. (TS1005)",
    ]);
    // What could be parsed is still in the model.
    assert.deepEqual(model.endpoints.map((e) => e.name), ['hello']);
    // An edit that fixes the error clears it.
    const fixed = app.analyzer.setOverlay(path.join(app.root, 'svc/util.ts'), 'export function add(a: number, b: number) {\n  return a + b;\n}\n');
    assert.deepEqual(fixed.diagnostics.map((d) => brief(app.root, d)).filter((d) => d.startsWith('svc/util.ts')), []);
  } finally {
    app.cleanup();
  }
});

test('a file full of syntax errors reports the first ten and how many more', () => {
  const app = testApp({ 'svc/junk.ts': `${API}${'export const = ;\n'.repeat(30)}` });
  try {
    const messages = app.analyzer.analyze().diagnostics.map((d) => d.message);
    assert.equal(messages.length, 11);
    assert.ok(messages.slice(0, 10).every((m) => m.startsWith('syntax error: ')));
    assert.match(messages[10], /^and \d+ more syntax errors in this file$/);
  } finally {
    app.cleanup();
  }
});

test('a binary .ts file and one that is not UTF-8 are reported, not analysed', () => {
  const app = testApp({});
  try {
    const endpoint = Buffer.from(`${API}export const hello = api({}, async () => {});\n`);
    writeFileSync(path.join(app.root, 'svc/binary.ts'), Buffer.concat([endpoint, Buffer.from([0, 1, 2, 0x89, 0x50, 0x4e, 0x47])]));
    writeFileSync(path.join(app.root, 'svc/latin1.ts'), Buffer.concat([endpoint, Buffer.from('// caf\xe9\n', 'latin1')]));
    const model = app.analyzer.analyze();
    assert.deepEqual(model.diagnostics.map((d) => brief(app.root, d)), [
      "svc/binary.ts:1:1-1:1 error this file is not text (it holds NUL bytes), so it cannot be parsed and was not analysed: Encore's build fails on it; remove it, or rename it to something other than .ts",
      "svc/latin1.ts:1:1-1:1 error this file is not valid UTF-8 text, so it was not analysed: Encore's build fails on it; save it as UTF-8",
    ]);
    assert.deepEqual(model.endpoints, []);
    // The same for an editor's text holding NUL characters.
    const overlay = app.analyzer.setOverlay(path.join(app.root, 'svc/latin1.ts'), `${API}export const hello = api({}, async () => {});\n\0`);
    assert.deepEqual(overlay.diagnostics.map((d) => d.message.slice(0, 40)), ['this file is not text (it holds NUL byte', 'this file is not text (it holds NUL byte']);
    assert.deepEqual(overlay.endpoints, []);
  } finally {
    app.cleanup();
  }
});

test('a .ts file or a folder whose name is not valid UTF-8 is reported on encore.app', () => {
  const app = testApp({ 'svc/ok.ts': `${API}export const hello = api({}, async () => {});\n` });
  try {
    const svc = Buffer.from(path.join(app.root, 'svc'));
    writeFileSync(Buffer.concat([svc, Buffer.from('/caf\xe9.ts', 'latin1')]), `${API}export const other = api({}, async () => {});\n`);
    mkdirSync(Buffer.concat([svc, Buffer.from('/d\xff', 'latin1')]));
    // Not .ts, or in a folder Encore skips: not reported.
    writeFileSync(Buffer.concat([svc, Buffer.from('/caf\xe9.md', 'latin1')]), '');
    mkdirSync(path.join(app.root, 'node_modules'));
    mkdirSync(Buffer.concat([Buffer.from(path.join(app.root, 'node_modules')), Buffer.from('/\xff', 'latin1')]));
    const model = app.analyzer.analyze();
    assert.deepEqual(model.diagnostics.map((d) => brief(app.root, d)), [
      'encore.app:1:1-1:1 warning svc/caf\\xe9.ts: this file\'s name is not valid UTF-8, so it was not analysed and the model may miss what it declares; give it a UTF-8 name',
      'encore.app:1:1-1:1 warning svc/d\\xff: this folder\'s name is not valid UTF-8, so its files were not analysed and the model may miss what they declare; give it a UTF-8 name',
    ]);
    assert.deepEqual(model.endpoints.map((e) => e.name), ['hello']);
  } finally {
    app.cleanup();
  }
});

test('a .ts file and a folder that cannot be read are reported, not skipped silently', () => {
  const app = testApp({ 'svc/ok.ts': `${API}export const hello = api({}, async () => {});\n`, 'svc/secret.ts': `${API}export const other = api({}, async () => {});\n`, 'svc/locked/x.ts': '' });
  try {
    chmodSync(app.root, 0o755);
    chmodSync(path.join(app.root, 'svc/secret.ts'), 0o000);
    chmodSync(path.join(app.root, 'svc/locked'), 0o000);
    // Root reads every file whatever its mode: the analysis then runs as the unprivileged user "nobody".
    const asRoot = process.getuid?.() === 0;
    const script = `const { AppAnalyzer } = require(${JSON.stringify(path.join(repo, 'src/analyzer/analyzer.ts'))});` +
      `const m = new AppAnalyzer(${JSON.stringify(app.root)}).analyze();` +
      'process.stdout.write(JSON.stringify({ diagnostics: m.diagnostics, endpoints: m.endpoints.map((e) => e.name) }));';
    const args = ['--import', 'tsx', '--eval', script];
    const result = asRoot
      ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], { cwd: repo, encoding: 'utf8' })
      : spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const { diagnostics, endpoints } = JSON.parse(result.stdout) as { diagnostics: Diagnostic[]; endpoints: string[] };
    assert.deepEqual(diagnostics.map((d) => brief(app.root, d)), [
      `encore.app:1:1-1:1 warning svc/locked: this folder cannot be read (EACCES: permission denied, scandir '${app.root}/svc/locked'), so its files were not analysed and the model may miss what they declare`,
      `svc/secret.ts:1:1-1:1 error this file cannot be read (EACCES: permission denied, open '${app.root}/svc/secret.ts'), so it was not analysed`,
    ]);
    assert.deepEqual(endpoints, ['hello']);
  } finally {
    chmodSync(path.join(app.root, 'svc/locked'), 0o755);
    app.cleanup();
  }
});
