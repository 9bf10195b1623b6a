// The bundles esbuild.mjs writes: module formats, externals, source maps, and what each CLI command loads.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const dist = path.join(__dirname, '..', '..', 'dist');
const read = (f: string) => readFileSync(path.join(dist, f), 'utf8');

test('each bundle exists with a source map', () => {
  for (const f of ['extension.js', 'extension/extension.mjs', 'server.js', 'cli.js', 'cli/main.mjs', 'webview/main.js']) {
    assert.ok(existsSync(path.join(dist, `${f}.map`)), `${f}.map`);
    assert.match(read(f), /\/\/# sourceMappingURL=\S+\.m?js\.map\s*$/, f);
  }
});

test('the extension\'s main is CommonJS and loads the split ES module extension, which leaves vscode to the host', () => {
  const main = read('extension.js');
  assert.match(main, /module\.exports/);
  assert.match(main, /extension\.mjs/);
  const chunks = readdirSync(path.join(dist, 'extension', 'chunks')).filter((f) => f.endsWith('.mjs')).map((f) => read(`extension/chunks/${f}`));
  // Through require, which VS Code answers with its API; never an ES import, which it does not.
  assert.ok(chunks.some((c) => /\("vscode"\)/.test(c)), 'vscode is required');
  assert.ok(![read('extension/extension.mjs'), ...chunks].some((c) => /from\s*"vscode"|import\s*"vscode"/.test(c)), 'vscode is never imported as an ES module');
});

test('the extension\'s start loads at most 1 MB and no Kubernetes client, cloud SDK or language client', () => {
  const loaded = staticClosure('extension/extension.mjs');
  const bytes = ['extension.js', ...loaded].reduce((n, f) => n + statSync(path.join(dist, f)).size, 0);
  assert.ok(bytes <= 1024 * 1024, `the extension's start loads ${bytes} bytes: ${loaded.join(', ')}`);
  assert.deepEqual(heavyIn(loaded).concat(loaded.filter((f) => packagesOf(f).has('vscode-languageclient'))), []);
  const all = readdirSync(path.join(dist, 'extension', 'chunks')).filter((f) => f.endsWith('.mjs')).map((f) => `extension/chunks/${f}`);
  assert.ok(all.some((f) => packagesOf(f).has('@kubernetes/client-node')), 'the Kubernetes client is in a chunk loaded on demand');
});

test('the webview bundle is a browser ES module with no node requires', () => {
  const webview = read('webview/main.js');
  assert.doesNotMatch(webview, /\brequire\(["']/);
  assert.ok(existsSync(path.join(dist, 'webview', 'codicon.css')) && existsSync(path.join(dist, 'webview', 'codicon.ttf')));
});

/** The packages (or `src`) whose code a bundle file holds, from its source map. */
function packagesOf(file: string): Set<string> {
  const { sources } = JSON.parse(read(`${file}.map`)) as { sources: string[] };
  return new Set(
    sources.map((s) => {
      const at = s.lastIndexOf('node_modules/');
      if (at < 0) return 'src';
      const parts = s.slice(at + 'node_modules/'.length).split('/');
      return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    }),
  );
}

/** `file` and every CLI file it imports statically (what loads with it), relative to dist/. */
function staticClosure(file: string): string[] {
  const seen = new Set<string>();
  const queue = [file];
  while (queue.length > 0) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    // Static `import … from "./x"` and bare `import "./x"`; a dynamic `import("./x")` has a parenthesis and is skipped.
    for (const m of read(f).matchAll(/(?:\bfrom|\bimport)\s*"(\.\.?\/[^"]+)"/g)) queue.push(path.posix.join(path.posix.dirname(f), m[1]));
  }
  return [...seen];
}

const HEAVY = /^(typescript|ts-morph|@ts-morph\/common|@kubernetes\/client-node|@aws-sdk\/.*|@smithy\/.*|@google-cloud\/.*|google-gax|google-auth-library)$/;
const heavyIn = (files: string[]) => files.flatMap((f) => [...packagesOf(f)].filter((p) => HEAVY.test(p)).map((p) => `${f}: ${p}`));

test('the CLI executable is a small CommonJS file that loads the split ES module CLI', () => {
  const bin = read('cli.js');
  assert.match(bin, /^#!\/usr\/bin\/env node\n/);
  assert.match(bin, /enableCompileCache/);
  assert.ok(bin.length < 4096, `dist/cli.js is ${bin.length} bytes`);
  assert.ok(existsSync(path.join(dist, 'cli', 'main.mjs')));
});

test('--help, --version and apps load neither TypeScript, the Kubernetes client nor a cloud SDK', () => {
  const loaded = staticClosure('cli/main.mjs');
  assert.deepEqual(heavyIn(loaded), []);
  // The heavy parts are there, behind dynamic imports.
  const all = readdirSync(path.join(dist, 'cli', 'chunks')).filter((f) => f.endsWith('.mjs')).map((f) => `cli/chunks/${f}`);
  // ts-morph carries its own TypeScript (in @ts-morph/common).
  assert.ok(all.some((f) => packagesOf(f).has('@ts-morph/common')), 'TypeScript is in a chunk');
  assert.ok(all.some((f) => packagesOf(f).has('@kubernetes/client-node')), 'the Kubernetes client is in a chunk');
});

test('plan, apply, destroy, unlock and the deploy commands load the analyzer (TypeScript) and the providers only on demand', () => {
  // One chunk for the provisioning commands, one for the deploy commands.
  const commands = readdirSync(path.join(dist, 'cli', 'chunks')).filter((f) => /^commands-.*\.mjs$/.test(f));
  assert.equal(commands.length, 2, commands.join(', '));
  for (const chunk of commands) assert.deepEqual(heavyIn(staticClosure(`cli/chunks/${chunk}`)), [], chunk);
});

test('analyze loads TypeScript only when a file is not in its cache', () => {
  const chunks = readdirSync(path.join(dist, 'cli', 'chunks'));
  const cached = chunks.filter((f) => /^analysisCache-.*\.mjs$/.test(f));
  const extract = chunks.filter((f) => /^extract-.*\.mjs$/.test(f));
  assert.equal(cached.length, 1, chunks.join(', '));
  assert.equal(extract.length, 1, chunks.join(', '));
  assert.deepEqual(heavyIn(staticClosure(`cli/chunks/${cached[0]}`)), []);
  assert.ok(staticClosure(`cli/chunks/${extract[0]}`).some((f) => packagesOf(f).has('@ts-morph/common')));
});
