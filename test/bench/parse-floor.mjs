// Child process of the CLI benchmark (test/bench/cli.bench.ts): the floor of a cold `analyze` with TypeScript's
// parser. A fresh process that only parses every .ts file below the app (as the analyzer does: setParentNodes, the
// TypeScript of dist/cli/chunks/ with its V8 code cache, Node's compiled-code cache on), on one thread, with nothing
// else: no walk rules, no extraction, no link, no analysis cache, no output.
//
//   node test/bench/parse-floor.mjs <appRoot>
import { readdirSync, readFileSync } from 'node:fs';
import module from 'node:module';
import path from 'node:path';

module.enableCompileCache?.();
// Loaded after the compile cache is on, as dist/cli.js does; the production build comes first (npm run bench).
const { ts } = await import('../../dist/cli/chunks/typescript.mjs');

/** @param {string} dir @returns {string[]} */
function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name.startsWith('.')) return [];
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

for (const file of tsFiles(process.argv[2])) {
  ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}
