// Builds the bundles: extension, language server and the CLI's executable (cjs, node), the CLI (esm, node, split
// into chunks) and the webview (esm, browser).
// Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { namesUsedAsTs, typescriptParserOnly } from './scripts/typescript-parser-only.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const require = createRequire(import.meta.url);

/** Prints the lines VS Code's esbuild problem matcher waits for, and every error with its location. */
const reporter = {
  name: 'reporter',
  setup(build) {
    const out = build.initialOptions.outfile ?? build.initialOptions.outdir;
    build.onStart(() => console.log(`[watch] build started (${out})`));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log(`[watch] build finished (${out})`);
    });
  },
};

/**
 * The CLI's TypeScript: the parser and what the analyzer (src/analyzer/, the only code that imports it in the CLI's
 * chunks, see typescriptApart) uses of it, cut out of ts-morph's copy (scripts/typescript-parser-only.mjs). Made once:
 * a watch build keeps the names it started with.
 */
const cliTypeScript = (() => {
  let made;
  return () => {
    if (!made) {
      const file = require.resolve('@ts-morph/common/dist/typescript.js');
      const analyzer = readdirSync('src/analyzer', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).sort();
      const names = namesUsedAsTs(analyzer.map((f) => readFileSync(path.join('src/analyzer', f), 'utf8')));
      made = { file, ...typescriptParserOnly(file, names, require('typescript')) };
    }
    return made;
  };
})();

/** What the CLI's TypeScript bundle is made from, which names its V8 code cache (src/cli/typescriptLoader.ts). */
function typescriptBuild() {
  return createHash('sha256')
    .update(cliTypeScript().contents)
    .update(`${esbuild.version} ${production}`)
    .digest('hex')
    .slice(0, 16);
}

/** The analyzer's version for its on-disk cache: a hash of what decides the facts it extracts, the CLI's parser too. */
function analyzerBuild() {
  const hash = createHash('sha256').update(require('ts-morph/package.json').version).update(typescriptBuild());
  for (const dir of ['src/analyzer', 'src/model']) {
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
      if (f.endsWith('.ts')) hash.update(f).update(readFileSync(path.join(dir, f)));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * `import { ts } from 'ts-morph'` in a bundle takes TypeScript from ts-morph's own copy (the very same parser) without
 * ts-morph and its helpers, which the analyzer never uses: half the code to load and compile (issue 13). Importing
 * anything else from ts-morph fails the build.
 */
const typescriptOfTsMorph = {
  name: 'typescript-of-ts-morph',
  setup(build) {
    build.onResolve({ filter: /^ts-morph$/ }, () => ({ path: 'ts-morph', namespace: 'typescript-of-ts-morph' }));
    build.onLoad({ filter: /.*/, namespace: 'typescript-of-ts-morph' }, () => ({
      contents: "export { default as ts } from '@ts-morph/common/dist/typescript.js';",
      loader: 'js',
      resolveDir: path.dirname(require.resolve('ts-morph/package.json')),
    }));
    // TypeScript's CommonJS file, as a module whose top level is TypeScript's own: esbuild would wrap it in a function
    // that V8 compiles lazily on every run, out of reach of Node's compile cache; its top-level arrow function called
    // at once is compiled eagerly, so the cache holds it (about half of loading TypeScript).
    build.onLoad({ filter: /[\\/]@ts-morph[\\/]common[\\/]dist[\\/]typescript\.js$/ }, (args) => ({
      contents: `var module = { exports: {} };\n${readFileSync(args.path, 'utf8')}\nexport default module.exports;\n`,
      loader: 'js',
    }));
  },
};

/**
 * The CLI's chunks import TypeScript (`ts-morph`, see typescriptOfTsMorph) from dist/cli/chunks/typescript.mjs, a
 * bundle of its own built without keepNames: keepNames would name each of TypeScript's 15,000 functions again at every
 * load (about 15 ms of a run that parses one file, issue 13), and TypeScript needs no names kept.
 */
const typescriptApart = {
  name: 'typescript-apart',
  setup(build) {
    build.onResolve({ filter: /^ts-morph$/ }, (args) => {
      // Only chunks import it (extraction is loaded on demand), so the path is beside them.
      if (!/[\\/]src[\\/]analyzer[\\/]/.test(args.importer)) throw new Error(`ts-morph imported from ${args.importer}, outside the analyzer`);
      return { path: './typescript.mjs', external: true };
    });
  },
};

/** `ts-morph` in the CLI's TypeScript bundle: TypeScript's parser only (cliTypeScript). */
const typescriptParserOnlyPlugin = {
  name: 'typescript-parser-only',
  setup(build) {
    build.onResolve({ filter: /^ts-morph$/ }, () => ({ path: cliTypeScript().file, namespace: 'typescript-parser-only' }));
    build.onLoad({ filter: /.*/, namespace: 'typescript-parser-only' }, () => ({ contents: cliTypeScript().contents, loader: 'js' }));
  },
};

/**
 * The CLI's own `import … from 'node:fs'` without the ES module facade Node makes for it: the facade reads every
 * export, getters too, and the ReadStream getter loads Node's streams (about 3 ms of every run, issue 13). The module
 * comes from process.getBuiltinModule (Node 22.3; require before it), with its data properties (not its getters) as
 * named exports. Only for the project's files, which never import fs as a namespace; libraries keep Node's import.
 */
const builtinsWithoutFacade = {
  name: 'builtins-without-facade',
  setup(build) {
    build.onResolve({ filter: /^(node:)?fs$/ }, (args) => {
      if (args.kind !== 'import-statement' || !/[\\/]src[\\/]/.test(args.importer) || args.importer.includes('node_modules')) return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'builtin-without-facade' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin-without-facade' }, (args) => {
      const names = Object.entries(Object.getOwnPropertyDescriptors(require(`node:${args.path}`)))
        .filter(([name, d]) => 'value' in d && /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default')
        .map(([name]) => name);
      const id = JSON.stringify(`node:${args.path}`);
      return {
        contents: `const m = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule(${id}) : require(${id});\nexport default m;\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}\n`,
        loader: 'js',
      };
    });
  },
};

/**
 * `import()` of a CommonJS package in a split ES bundle becomes a chunk whose only export is `default` (the package's
 * module.exports), so `(await import('google-auth-library')).GoogleAuth` is undefined there, where Node's own import()
 * gives each export a name. This gives such a chunk the package's names too (read by loading the package at build
 * time, as Node would), beside `default`; packages that are ES modules are left to esbuild.
 */
const namedExportsOfDynamicCommonJs = {
  name: 'named-exports-of-dynamic-commonjs',
  setup(build) {
    if (build.initialOptions.platform !== 'node') return;
    const names = new Map();
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData?.commonJsChecked || args.path.startsWith('node:')) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { commonJsChecked: true } });
      if (resolved.errors.length > 0 || resolved.external || resolved.namespace !== 'file' || !isCommonJs(resolved.path)) return undefined;
      return { path: resolved.path, namespace: 'dynamic-commonjs' };
    });
    build.onLoad({ filter: /.*/, namespace: 'dynamic-commonjs' }, (args) => {
      if (!names.has(args.path)) {
        names.set(args.path, Object.keys(require(args.path)).filter((n) => n !== 'default' && n !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(n)));
      }
      const file = JSON.stringify(args.path);
      return {
        contents: [`const m = require(${file});`, 'export default m;', ...names.get(args.path).map((n) => `export const ${n} = m.${n};`)].join('\n'),
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

/** A file esbuild bundles as CommonJS: not .mjs, not in a "type": "module" package, and without ES module syntax. */
function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    if (JSON.parse(readFileSync(manifest, 'utf8')).type === 'module') return false;
    break;
  }
  return !/^\s*(import|export)\b\s*[\w{*]/m.test(readFileSync(file, 'utf8'));
}

/**
 * src/environments/schemaValidators.ts as ajv's standalone code for the environments schema, generated at build time
 * by the module's own standaloneSource() (bundled and run here): a bundle then ships the validators without ajv or its
 * compiler, and compiles nothing at run time (issue 13).
 */
let schemaValidatorsSource;
const prebuiltSchemaValidators = {
  name: 'prebuilt-schema-validators',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]environments[\\/]schemaValidators\.ts$/ }, async (args) => {
      const generate = () =>
        esbuild
          .build({ entryPoints: [args.path], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent' })
          .then(({ outputFiles }) => {
            const module = { exports: {} };
            new Function('module', 'exports', 'require', outputFiles[0].text)(module, module.exports, require);
            return module.exports.standaloneSource();
          });
      // Once for all the bundles of a build; in watch mode at each rebuild (the schema may have changed).
      const source = watch ? generate() : (schemaValidatorsSource ??= generate());
      return { contents: await source, loader: 'js', resolveDir: path.dirname(args.path), watchFiles: [args.path, path.resolve('schemas/encore.environments.schema.json')] };
    });
  },
};

const common = {
  bundle: true,
  minify: production,
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'linked',
  define: {
    'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development'),
    ENCORE_ANALYZER_BUILD: JSON.stringify(analyzerBuild()),
  },
  plugins: [...(watch ? [reporter] : []), typescriptOfTsMorph, namedExportsOfDynamicCommonJs, prebuiltSchemaValidators],
};

// keepNames: bundled libraries test class names (proto3-json-serializer's `value.constructor.name === 'Long'` when
// Cloud SQL's REST client sends an int64), which minifying would otherwise rename.
const node = { ...common, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], keepNames: true };

/**
 * An ES module split into chunks: each dynamic import() becomes a chunk loaded when first needed, so a bundle's start
 * reads only what its entry imports statically. Bundled CommonJS packages get `require`, `__filename` and `__dirname`.
 */
const splitEsm = {
  ...node,
  format: 'esm',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  banner: {
    js: [
      "import { createRequire as __esmCreateRequire } from 'node:module';",
      "import { fileURLToPath as __esmFileURLToPath } from 'node:url';",
      'const require = __esmCreateRequire(import.meta.url);',
      'const __filename = __esmFileURLToPath(import.meta.url);',
      "const __dirname = __esmFileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
};

/** `import … from 'vscode'` becomes require('vscode'): VS Code gives its API to CommonJS requires of the extension. */
const vscodeThroughRequire = {
  name: 'vscode-through-require',
  setup(build) {
    build.onResolve({ filter: /^vscode$/ }, (args) =>
      args.namespace === 'vscode-shim' ? { path: 'vscode', external: true } : { path: 'vscode', namespace: 'vscode-shim' },
    );
    build.onLoad({ filter: /.*/, namespace: 'vscode-shim' }, () => ({ contents: "module.exports = require('vscode');", loader: 'js' }));
  },
};

const bundles = [
  { ...node, entryPoints: ['src/extension/loader.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // The extension itself, split like the CLI; `vscode` is reached through require (VS Code answers it there).
  // Its metafile (dist/extension.meta.json, not packaged) is what test/unit/bundles.test.ts reads the start's static
  // import graph from.
  { ...splitEsm, entryPoints: ['src/extension/extension.ts'], outdir: 'dist/extension', metafile: true, plugins: [...common.plugins, vscodeThroughRequire] },
  { ...node, entryPoints: ['src/server/server.ts'], outfile: 'dist/server.js' },
  { ...node, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // The CLI itself: an ES module split into chunks, so that a command loads only what it imports (--help loads
  // neither TypeScript nor a provider). Bundled CommonJS packages get `require`, `__filename` and `__dirname`.
  {
    ...splitEsm,
    entryPoints: { main: 'src/cli/main.ts', extractWorker: 'src/analyzer/extractWorker.ts' },
    outdir: 'dist/cli',
    plugins: [typescriptApart, builtinsWithoutFacade, ...common.plugins],
  },
  // TypeScript's parser for the CLI's chunks (cliTypeScript), built apart without keepNames (see typescriptApart): a
  // script that evaluates to a function returning it, which src/cli/typescriptLoader.ts (dist/cli/chunks/typescript.mjs)
  // compiles with V8's code cache; ASCII, so that the loader reads it as latin1.
  {
    ...node,
    format: 'iife',
    globalName: '__encoreTypeScript',
    keepNames: false,
    charset: 'ascii',
    entryPoints: { typescript: 'ts-morph' },
    outdir: 'dist/cli/chunks',
    plugins: [typescriptParserOnlyPlugin, ...node.plugins],
    banner: { js: '(function (require, __filename, __dirname) {' },
    footer: { js: 'return __encoreTypeScript.ts;\n})' },
  },
  {
    ...splitEsm,
    splitting: false,
    entryPoints: { typescript: 'src/cli/typescriptLoader.ts' },
    outdir: 'dist/cli/chunks',
    plugins: [builtinsWithoutFacade, ...common.plugins],
    define: { ...splitEsm.define, ENCORE_TYPESCRIPT_BUILD: JSON.stringify(typescriptBuild()) },
  },
  {
    ...common,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview/main.js',
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  },
];

/** The codicon font and stylesheet that `vscode-icon` expects on the webview page. */
function copyWebviewAssets() {
  const codicons = path.dirname(require.resolve('@vscode/codicons/dist/codicon.css'));
  mkdirSync('dist/webview', { recursive: true });
  for (const file of ['codicon.css', 'codicon.ttf']) cpSync(path.join(codicons, file), path.join('dist/webview', file));
}

if (!watch) rmSync('dist', { recursive: true, force: true });
copyWebviewAssets();
if (watch) {
  const contexts = await Promise.all(bundles.map((options) => esbuild.context(options)));
  await Promise.all(contexts.map((context) => context.watch()));
} else {
  const started = Date.now();
  const results = await Promise.all(bundles.map((options) => esbuild.build(options)));
  for (const [i, { metafile }] of results.entries()) {
    if (metafile) writeFileSync(`${bundles[i].outdir}.meta.json`, JSON.stringify(metafile));
  }
  console.log(`built ${bundles.length} bundles${production ? ' (production)' : ''} in ${Date.now() - started} ms`);
}
