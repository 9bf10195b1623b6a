// The `encore-env` executable (dist/cli.js): turns on V8's compiled-code cache (Node 22), then loads the CLI, an ES
// module split into chunks that each command loads on demand (dist/cli/main.mjs, see esbuild.mjs).
import module from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { version } from '../../package.json';

// `encore-env analyze | head`: the reader went away, so the rest of the output has nowhere to go. The command still
// finishes what it started (an apply is not cut off halfway) and exits with its own status, quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
});

const [command] = process.argv.slice(2);
if (command === '--version' || command === '-v') {
  // Answered here: the CLI's modules and the compile cache's set-up cost more than node itself (issue 13).
  process.stdout.write(`${version}\n`);
} else {
  module.enableCompileCache?.();
  import(pathToFileURL(path.join(__dirname, 'cli', 'main.mjs')).href).catch((err: unknown) => {
    process.stderr.write(`encore-env: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
