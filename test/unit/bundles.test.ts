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

// What activation reads, from esbuild's metafile: the start-up chunk and every chunk it imports statically (a dynamic
// import() is loaded on first use). Measured at 423 KB (issue 13; 694 KB before yaml, ajv's compiler and the LSP
// protocol left it); the budget leaves room for growth, not for a library.
const STARTUP_BUDGET = 512 * 1024;
const NOT_AT_STARTUP = /^(yaml|ajv|fast-uri|typescript|ts-morph|@ts-morph\/common|@kubernetes\/client-node|@aws-sdk\/.*|@smithy\/.*|@google-cloud\/.*|google-gax|google-auth-library|vscode-languageclient|vscode-languageserver-protocol|vscode-jsonrpc)$/;

test('the extension\'s start-up graph stays within its budget and holds no yaml, ajv compiler, LSP protocol, Kubernetes client or cloud SDK', () => {
  const meta = JSON.parse(read('extension.meta.json')) as {
    outputs: Record<string, { bytes: number; imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const entry = Object.keys(meta.outputs).find((o) => o.endsWith('dist/extension/extension.mjs'));
  assert.ok(entry, 'the metafile describes dist/extension/extension.mjs');
  const graph = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const out = queue.pop()!;
    if (graph.has(out)) continue;
    graph.add(out);
    for (const i of meta.outputs[out].imports) if (i.kind === 'import-statement' && !i.external) queue.push(i.path);
  }
  const bytes = [...graph].reduce((n, o) => n + meta.outputs[o].bytes, 0);
  assert.ok(bytes <= STARTUP_BUDGET, `the start-up graph is ${bytes} bytes (budget ${STARTUP_BUDGET}): ${[...graph].join(', ')}`);
  // ajv's run-time helpers (a few hundred bytes) come with the validators generated at build time; its compiler does not.
  const offending = [...graph].flatMap((o) =>
    Object.keys(meta.outputs[o].inputs)
      .filter((input) => !/node_modules\/ajv\/dist\/runtime\//.test(input))
      .filter((input) => { const p = packageOf(input); return p !== undefined && NOT_AT_STARTUP.test(p); })
      .map((input) => `${o}: ${input}`),
  );
  assert.deepEqual(offending, []);
  // They are still there, in chunks loaded on first use.
  const lazy = Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs).map(packageOf));
  for (const p of ['yaml', 'vscode-languageserver-protocol', '@kubernetes/client-node']) assert.ok(lazy.includes(p), `${p} is in a chunk loaded on demand`);
});

/** The package of a metafile input (`node_modules/@scope/name/…`), undefined for the project's own files. */
function packageOf(input: string): string | undefined {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return undefined;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

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
/** The CLI's TypeScript: a script its loader (this chunk) compiles, out of the import graph (src/cli/typescriptLoader.ts). */
const TYPESCRIPT_LOADER = 'cli/chunks/typescript.mjs';
const heavyIn = (files: string[]) =>
  files.flatMap((f) => [...packagesOf(f), ...(f === TYPESCRIPT_LOADER ? packagesOf('cli/chunks/typescript.js') : [])].filter((p) => HEAVY.test(p)).map((p) => `${f}: ${p}`));

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
  // ts-morph carries its own TypeScript (in @ts-morph/common), which the loader's chunk compiles.
  assert.ok(packagesOf('cli/chunks/typescript.js').has('@ts-morph/common'), 'TypeScript is beside the chunks');
  assert.ok(all.includes(TYPESCRIPT_LOADER));
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
  assert.ok(staticClosure(`cli/chunks/${extract[0]}`).includes(TYPESCRIPT_LOADER));
  assert.ok(heavyIn([TYPESCRIPT_LOADER]).length > 0);
});
