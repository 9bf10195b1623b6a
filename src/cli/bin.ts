// The `encore-env` executable (dist/cli.js): turns on V8's compiled-code cache (Node 22), then loads the CLI, an ES
// module split into chunks that each command loads on demand (dist/cli/main.mjs, see esbuild.mjs).
import module from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

module.enableCompileCache?.();
import(pathToFileURL(path.join(__dirname, 'cli', 'main.mjs')).href).catch((err: unknown) => {
  process.stderr.write(`encore-env: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
