// `npm run bench` (after the production build): packages the .vsix the benchmarks install, then runs them.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCodeServer, packageExtension } from './vscode-host.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
ensureCodeServer();
mkdirSync(path.join(root, 'test-results'), { recursive: true });
const vsix = packageExtension(root, path.join(root, 'test-results', 'encore-environments.vsix'));
const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/bench/run.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ENCORE_E2E_VSIX: vsix },
});
process.exit(result.status ?? 1);
