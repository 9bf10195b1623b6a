// The CLI's TypeScript is the parser cut out of ts-morph's TypeScript (scripts/typescript-parser-only.mjs): it must
// parse every file exactly as the whole of TypeScript does (the analyzer's own, in the language server), with the
// same trees, the same syntax errors, and the same token starts as Node.getStart(), which only the whole has.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ts } from 'ts-morph';
import { tokenStart } from '../../src/analyzer/extract';
import { modelJson } from '../../src/analyzer/modelJson';
import { analyzeCached } from '../../src/cli/analysisCache';
import { generateSyntheticApp } from '../bench/synthetic-app';

const repo = path.join(__dirname, '..', '..');
const loader = path.join(repo, 'dist', 'cli', 'chunks', 'typescript.mjs');

/** Sources that reach the corners of the parser and the scanner: errors, trivia, templates, regular expressions. */
const TRICKY: Record<string, string> = {
  'unclosed.ts': 'import { api } from "encore.dev/api";\nexport const get = api({ method: "GET" }, async () => {\n  return { a: 1 ',
  'garbage.ts': 'let = ;\nfunction (\nconst 1x = 2;\nclass { }\n}}}\n',
  'conflict.ts': '<<<<<<< HEAD\nconst a = 1;\n=======\nconst a = 2;\n>>>>>>> branch\nexport { a };\n',
  'shebang.ts': '#!/usr/bin/env node\n// a comment\n/* and another */ export const a = 1;\n',
  'bom.ts': '\uFEFF/** doc */\nexport const b = 1;\n',
  'jsdoc.ts': '/**\n * @param x the x\n * @returns {number} twice\n */\nexport function f(x: number) { return 2 * x; }\n/** broken { @type */ const y = 1;\n',
  'templates.ts': 'const b = 1, e = 2;\nconst t = `a${b}c${`d${e}`}` + tag`x${b}`;\nfunction tag(s: TemplateStringsArray, ...v: unknown[]) { return s.raw.join(String(v)); }\n',
  'regex.ts': 'const s = "abc";\nconst r = /ab+c/gi.test(s) ? 1 / 2 : /[/]\\//.source;\nconst bad = /(?<n>a)\\k<m>/u;\n',
  'modern.ts': [
    '@sealed class C<T extends object = {}> { #p = 1; static { C.n++; } static n = 0; accessor a = 2; declare d: string; constructor(private readonly q?: T) {} }',
    'function sealed(c: unknown, _: unknown) { return c; }',
    'enum E { A = 1, B = A << 2, C = "c" }',
    'namespace N.M { export const x = 1_000_000n; }',
    'const o = { a: 1 } satisfies Record<string, number>;',
    'const g = <T,>(x: T): T => x!;',
    'let v = (o as any)?.a?.[0] ?? <number>g(0);',
    'type U = `pre-${string}` | [a: number, b?: string, ...rest: boolean[]];',
    'const \\u0061bc = 1;',
    'label: for (const k in o) { if (k) continue label; }',
    'export default abstract class {}',
    'async function* gen() { for await (const x of [Promise.resolve(1)]) yield* [x]; }',
    'using res = { [Symbol.dispose]() {} };',
  ].join('\n'),
  'jsx-in-ts.ts': 'const el = <div className="a">{1}</div>;\n',
  'empty.ts': '',
  'only-comments.ts': '// nothing\n/* at all */\n',
};

/** Every .ts file of the examples and the fixtures, a small synthetic app, and TRICKY. */
function sources(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(p);
      else if (e.isFile() && e.name.endsWith('.ts')) out.push({ name: path.relative(repo, p), text: readFileSync(p, 'utf8') });
    }
  };
  walk(path.join(repo, 'examples'));
  walk(path.join(repo, 'test', 'fixtures'));
  const synthetic = mkdtempSync(path.join(os.tmpdir(), 'encore-ts-parser-'));
  try {
    generateSyntheticApp(synthetic, { services: 4, seed: 3 });
    const before = out.length;
    walk(synthetic);
    for (const s of out.slice(before)) s.name = `synthetic/${path.basename(path.dirname(s.name))}/${path.basename(s.name)}`;
  } finally {
    rmSync(synthetic, { recursive: true, force: true });
  }
  for (const [name, text] of Object.entries(TRICKY)) out.push({ name: `tricky/${name}`, text });
  return out;
}

/**
 * What a parse gave, as plain data: every node (kind, pos, end, flags, text of identifiers and literals, token start
 * by the scanner), in order, and the syntax errors. The same function runs in the child, on the CLI's TypeScript.
 */
function shapeOf(typescript: typeof ts, name: string, text: string) {
  const sf = typescript.createSourceFile(name, text, typescript.ScriptTarget.Latest, true, typescript.ScriptKind.TS);
  const scanner = typescript.createScanner(typescript.ScriptTarget.Latest, true, typescript.LanguageVariant.Standard, text);
  const nodes: (string | number)[][] = [];
  const visit = (node: ts.Node): void => {
    if (node.pos === node.end) nodes.push([node.kind, node.pos, node.end, node.flags, node.pos]);
    else {
      scanner.resetTokenState(node.pos);
      scanner.scan();
      // What the analyzer reads of names and literals: `text` (a getter of identifiers) and `escapedText`.
      const t = node as { escapedText?: string; text?: string };
      const text = node.kind === typescript.SyntaxKind.SourceFile ? '' : String(t.text ?? '');
      nodes.push([node.kind, node.pos, node.end, node.flags, scanner.getTokenStart(), text, String(t.escapedText ?? '')]);
    }
    typescript.forEachChild(node, visit);
  };
  visit(sf);
  const parsed = (sf as { parseDiagnostics?: ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  const diagnostics = parsed.map((d) => [d.code, d.start, d.length, d.category, typescript.flattenDiagnosticMessageText(d.messageText, ' ')]);
  return { nodes, diagnostics };
}

/** The shapes the CLI's TypeScript gives, in a process of its own (the loader writes a code cache at exit). */
function shapesInTheCli(files: { name: string; text: string }[]): ReturnType<typeof shapeOf>[] {
  const home = mkdtempSync(path.join(os.tmpdir(), 'encore-ts-parser-home-'));
  try {
    const code = `const { ts } = await import(${JSON.stringify(loader)});\nconst shapeOf = ${shapeOf.toString()};\nconst files = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));\nprocess.stdout.write(JSON.stringify(files.map((f) => shapeOf(ts, f.name, f.text))));`;
    // __name: what tsx's keepNames puts in a function's text.
    const script = `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nconst __name = (f) => f;\n${code}`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      input: JSON.stringify(files),
      env: { ...process.env, XDG_CACHE_HOME: home },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as ReturnType<typeof shapeOf>[];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test("the CLI's TypeScript parses every file as the whole of TypeScript: the same trees and the same syntax errors", () => {
  const files = sources();
  assert.ok(files.length > 60, `${files.length} files`);
  const cli = shapesInTheCli(files);
  const withErrors: string[] = [];
  for (const [i, { name, text }] of files.entries()) {
    const whole = shapeOf(ts, name, text);
    assert.deepEqual(cli[i], whole, name);
    if (whole.diagnostics.length > 0) withErrors.push(name);
  }
  for (const name of ['unclosed', 'garbage', 'conflict', 'jsx-in-ts']) assert.ok(withErrors.includes(`tricky/${name}.ts`), `${name} has syntax errors`);
});

test("tokenStart() is Node.getStart() for every node, which the CLI's TypeScript lacks", () => {
  let checked = 0;
  for (const { name, text } of sources()) {
    const sf = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
    const visit = (node: ts.Node): void => {
      assert.equal(tokenStart(scanner, node), node.getStart(sf), `${name}: ${ts.SyntaxKind[node.kind]} at ${node.pos}`);
      checked++;
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  assert.ok(checked > 10_000, `${checked} nodes`);
});

test("the CLI's TypeScript is the parser: without the checker, the emitter and the language service", () => {
  const bundle = readFileSync(path.join(repo, 'dist', 'cli', 'chunks', 'typescript.js'), 'latin1');
  const whole = readFileSync(require.resolve('@ts-morph/common/dist/typescript.js'), 'latin1');
  assert.ok(bundle.length < whole.length / 5, `${bundle.length} bytes, the whole is ${whole.length}`);
  // Names that only the checker (typeToTypeNode, getTypeOfSymbolAtLocation), the language service
  // (getCompletionsAtPosition) and Node's `sys` (writeOutputIsTTY) hold; the syntax errors' messages stay.
  for (const gone of ['typeToTypeNode', 'getTypeOfSymbolAtLocation', 'getCompletionsAtPosition', 'writeOutputIsTTY']) {
    assert.ok(whole.includes(gone), `the whole has ${gone}`);
    assert.ok(!bundle.includes(gone), `the CLI's has no ${gone}`);
  }
  assert.ok(bundle.includes('Unterminated_string_literal'));
});

test("the CLI's analyze gives the model the analyzer gives with the whole of TypeScript, diagnostics and ranges too", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-ts-parser-apps-'));
  try {
    const apps: string[] = [path.join(repo, 'examples', 'sample-app')];
    for (const name of readdirSync(path.join(repo, 'test', 'fixtures', 'apps'))) apps.push(path.join(repo, 'test', 'fixtures', 'apps', name));
    generateSyntheticApp(path.join(dir, 'synthetic'), { services: 8, seed: 5 });
    apps.push(path.join(dir, 'synthetic'));
    let diagnostics = 0;
    for (const [i, app] of apps.entries()) {
      // Copies without an analysis cache, one for each side.
      const [cliCopy, ownCopy] = [`cli-${i}`, `own-${i}`].map((name) => path.join(dir, name));
      for (const copy of [cliCopy, ownCopy]) cpSync(app, copy, { recursive: true, filter: (src) => path.basename(src) !== '.encore' });
      const r = spawnSync(process.execPath, [path.join(repo, 'dist', 'cli.js'), 'analyze', cliCopy, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      assert.ok(r.status === 0 || r.status === 1, r.stderr);
      // The CLI analyses every app below the folder (the fixture "everything" holds a nested one); the first is the root.
      const [fromCli] = JSON.parse(r.stdout.split(cliCopy).join('APP')) as { diagnostics: unknown[] }[];
      const own = JSON.parse(JSON.stringify({ root: 'APP', lang: 'typescript', ...modelJson(await analyzeCached(ownCopy)) }).split(ownCopy).join('APP'));
      assert.deepEqual(fromCli, own, path.relative(repo, app));
      diagnostics += fromCli.diagnostics.length;
    }
    assert.ok(diagnostics > 5, `${diagnostics} diagnostics compared`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the cut keeps what the exports reach and the statements it does not know, and fails on a file of another shape', async () => {
  const { typescriptParserOnly } = (await import(pathToFileURL(path.join(repo, 'scripts', 'typescript-parser-only.mjs')).href)) as {
    typescriptParserOnly(file: string, names: string[], typescript: typeof ts): { contents: string; exported: string[] };
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-ts-cut-'));
  try {
    const file = path.join(dir, 'typescript.js');
    const bundle = (body: string) => `/* header */\nvar ts = {}; ((module) => {\n${body}\n})({ get exports() { return ts; }, set exports(v) { ts = v; } })\n`;
    writeFileSync(file, bundle([
      '"use strict";',
      'var typescript_exports = {};',
      '__export(typescript_exports, { createSourceFile: () => createSourceFile, createProgram: () => createProgram, SyntaxKind: () => SyntaxKind });',
      'module.exports = __toCommonJS(typescript_exports);',
      'function createSourceFile() { return scan() + SyntaxKind.A; }',
      'function scan() { return tables.size; }',
      'var tables = new Map([[1, 2]]);',
      'tables.extra = 1;',
      'var SyntaxKind = /* @__PURE__ */ ((K) => { K[K.A = 1] = "A"; return K; })(SyntaxKind || {});',
      'function createProgram() { return checker(); }',
      'function checker() { return 1; }',
      'var Debug;',
      '((Debug2) => { Debug2.fail = () => checker(); })(Debug || (Debug = {}));',
      'registerCodeFix({ getCodeActions: () => createProgram() });',
      'setObjectAllocator(getServicesObjectAllocator());',
      'if (sys && sys.debugMode) { Debug.isDebugging = true; }',
      'var objectAllocator = {}; function idText(i) { return i.escapedText; } function setObjectAllocator(a) { Object.assign(objectAllocator, a); }',
      'keepMe();',
      'function keepMe() {}',
    ].join('\n')));
    const { contents, exported } = typescriptParserOnly(file, ['createSourceFile', 'SyntaxKind', 'Node', 'SourceFile'], ts);
    assert.deepEqual(exported, ['SyntaxKind', 'createSourceFile'], 'names that are only types are left out');
    for (const kept of ['function createSourceFile', 'function scan', 'var tables', 'tables.extra = 1', 'var SyntaxKind', 'keepMe();', 'function keepMe']) assert.ok(contents.includes(kept), kept);
    for (const gone of ['createProgram', 'function checker', 'Debug', 'registerCodeFix', 'getServicesObjectAllocator', 'module.exports', '__export(typescript_exports']) assert.ok(!contents.includes(gone), gone);
    assert.match(contents, /export const ts = \{ SyntaxKind: SyntaxKind, createSourceFile: createSourceFile \};\n$/);

    writeFileSync(file, 'module.exports = {};\n');
    assert.throws(() => typescriptParserOnly(file, ['createSourceFile'], ts), /not the wrapper TypeScript's bundle had/);
    writeFileSync(file, bundle('function createSourceFile() {}'));
    assert.throws(() => typescriptParserOnly(file, ['createSourceFile'], ts), /export list .* was not found/);
    writeFileSync(file, bundle('__export(typescript_exports, { createSourceFile: () => createSourceFile });'));
    assert.throws(() => typescriptParserOnly(file, ['createSourceFile'], ts), /ts\.createSourceFile \(createSourceFile\) is not declared at the top level/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
