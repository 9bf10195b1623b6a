// `npm start`: opens real VS Code (code-server) on the sample app with the extension installed, at a 127.0.0.1 URL.
// Usage: npm start [-- FOLDER] (env PORT picks the port; default 8080, or a free one if 8080 is taken)
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cacheDir, ensureCodeServer, freePort, installExtension, packageExtension, prepareProfile, quietSettings, startCodeServer,
} from './vscode-host.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const folder = path.resolve(process.argv[2] ?? path.join(root, 'examples', 'sample-app'));

ensureCodeServer();
const work = path.join(cacheDir, 'start');
mkdirSync(work, { recursive: true });
const vsix = packageExtension(root, path.join(work, 'encore-environments.vsix'));
// One profile kept between runs, so open editors and layout persist like a real install.
const profile = prepareProfile(path.join(work, 'profile'), { ...quietSettings, 'workbench.startupEditor': 'none' });
installExtension(profile, vsix);

const port = await pickPort(Number(process.env.PORT ?? 8080));
const logFile = path.join(work, 'code-server.log');
const server = await startCodeServer({ profile, folder, port, logFile });

console.log('\nThe CLI on the same app (encore-env apps):');
spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'apps', folder], { stdio: 'inherit' });
console.log(`
VS Code (code-server) is running with Environments for Encore installed, on ${folder}.

    Open ${server.url()}

Click the Encore icon in the activity bar. code-server's log: ${logFile}
Press Ctrl+C to stop.`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await server.stop();
    process.exit(0);
  });
}
server.child.on('exit', (code) => {
  console.error(`code-server exited (${code}); see ${logFile}`);
  process.exit(1);
});

async function pickPort(preferred) {
  const { createServer } = await import('node:net');
  const free = await new Promise((resolve) => {
    const probe = createServer().once('error', () => resolve(false)).listen(preferred, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}
