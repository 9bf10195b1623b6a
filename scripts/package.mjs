// `npm run package`: packages the built extension into a .vsix and reports its size and contents.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { packageExtension } from './vscode-host.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { name, version } = JSON.parse((await import('node:fs')).readFileSync(path.join(root, 'package.json'), 'utf8'));
const vsix = packageExtension(root, path.join(root, `${name}-${version}.vsix`));
const size = statSync(vsix).size;
console.log(`${path.relative(root, vsix)}: ${(size / 1024).toFixed(1)} KiB (${size} bytes)`);
spawnSync(process.execPath, [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'ls', '--no-dependencies'], { cwd: root, stdio: 'inherit' });
