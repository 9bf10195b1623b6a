// The bundles esbuild.mjs writes: module formats, externals, source maps, and what each CLI command loads.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const dist = path.join(__dirname, '..', '..', 'dist');
const read = (f: string) => readFileSync(path.join(dist, f), 'utf8');

test('each bundle exists with a source map', () => {
  for (const f of ['extension.js', 'server.js', 'cli.js', 'cli/main.mjs', 'webview/main.js']) {
    assert.ok(existsSync(path.join(dist, `${f}.map`)), `${f}.map`);
    assert.match(read(f), /\/\/# sourceMappingURL=\S+\.m?js\.map\s*$/, f);
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

test('plan, apply, destroy and unlock load the analyzer (TypeScript) and the providers only on demand', () => {
  const commands = readdirSync(path.join(dist, 'cli', 'chunks')).filter((f) => /^commands-.*\.mjs$/.test(f));
  assert.equal(commands.length, 1, commands.join(', '));
  assert.deepEqual(heavyIn(staticClosure(`cli/chunks/${commands[0]}`)), []);
});
