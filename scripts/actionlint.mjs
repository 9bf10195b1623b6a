// Test equipment: actionlint v1.7.12 (github.com/rhysd/actionlint), which lints GitHub Actions workflows offline,
// including the inputs of popular actions (actions/checkout, aws-actions/configure-aws-credentials, …). Built from
// the Go module proxy by the wrapper module test/deploy/actionlint/ into the cache, never shipped.
// Usage: node scripts/actionlint.mjs build | node scripts/actionlint.mjs FILE...   (lints the files)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { goTool } from './go-tool.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export const actionlint = goTool({
  name: 'actionlint',
  moduleDir: path.join(root, 'test', 'deploy', 'actionlint'),
  modulePath: 'github.com/rhysd/actionlint',
  pkgs: ['github.com/rhysd/actionlint/cmd/actionlint'],
});

/** Builds actionlint into the cache if needed (under a minute cold); resolves to its path. */
export function ensureActionlint() {
  return actionlint.ensure();
}

/**
 * Lints workflow files. shellcheck and pyflakes are turned off explicitly (`-shellcheck= -pyflakes=`), so the result
 * does not depend on whether the machine happens to have them. Resolves to the exit code and actionlint's output.
 */
export async function runActionlint(files, { cwd = root } = {}) {
  const bin = await ensureActionlint();
  const result = spawnSync(bin, ['-no-color', '-shellcheck=', '-pyflakes=', ...files], { cwd, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { code: result.status ?? 1, output: `${result.stdout}${result.stderr}`.trim() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  (args[0] === 'build' ? ensureActionlint().then(() => 0) : runActionlint(args).then(({ code, output }) => {
    if (output) process.stdout.write(`${output}\n`);
    return code;
  })).then((code) => (process.exitCode = code), (err) => {
    process.stderr.write(`[actionlint] ${err.message}\n`);
    process.exitCode = 1;
  });
}
