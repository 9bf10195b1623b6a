// `npm start`: opens real VS Code (code-server) on the sample app with the extension installed, at a 127.0.0.1 URL,
// and shows the CLI planning the same app.
// Usage: npm start [-- FOLDER] (env PORT picks the port; default 8080, or a free one if 8080 is taken)
// Without FOLDER it opens a demo copy of examples/sample-app with two environments (examples/demo.environments.json),
// kept between runs in the cache so what you create or edit there stays; `npm start -- --fresh` starts it anew.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cacheDir, ensureCodeServer, freePort, installExtension, packageExtension, prepareProfile, quietSettings, startCodeServer,
} from './vscode-host.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const fresh = args.includes('--fresh');
const given = args.find((a) => !a.startsWith('--'));

ensureCodeServer();
const work = path.join(cacheDir, 'start');
mkdirSync(work, { recursive: true });
const folder = given ? path.resolve(given) : demoWorkspace();
const vsix = packageExtension(root, path.join(work, 'encore-environments.vsix'));
// One profile kept between runs, so open editors and layout persist like a real install.
const profile = prepareProfile(path.join(work, 'profile'), { ...quietSettings, 'workbench.startupEditor': 'none' });
installExtension(profile, vsix);

const port = await pickPort(Number(process.env.PORT ?? 8080));
const logFile = path.join(work, 'code-server.log');
const server = await startCodeServer({ profile, folder, port, logFile });

const cli = (...cliArgs) => {
  console.log(`\n$ encore-env ${cliArgs.join(' ')}`);
  spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), ...cliArgs], { stdio: 'inherit' });
};
console.log('\nThe CLI on the same app:');
cli('analyze', folder);
if (!given) {
  // Offline: the demo's kube context does not exist here, so the plan is against recorded state alone.
  cli('plan', '--env', 'staging', '--offline', folder);
}
console.log(`
VS Code (code-server) is running with Environments for Encore installed, on ${folder}.

    Open ${server.url()}

Click the Encore icon in the activity bar. code-server's log: ${logFile}
Press Ctrl+C to stop.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    stopping = true;
    await server.stop();
    process.exit(0);
  });
}
server.child.on('exit', (code) => {
  if (stopping) return;
  console.error(`code-server exited (${code}); see ${logFile}`);
  process.exit(1);
});

/** A copy of the sample app with the demo environments, in the cache, made on first use or with --fresh. */
function demoWorkspace() {
  const dir = path.join(work, 'workspace', 'sample-app');
  if (fresh || !existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'examples', 'sample-app'), dir, { recursive: true });
    copyFileSync(path.join(root, 'examples', 'demo.environments.json'), path.join(dir, 'encore.environments.json'));
  }
  return dir;
}

async function pickPort(preferred) {
  const { createServer } = await import('node:net');
  const free = await new Promise((resolve) => {
    const probe = createServer().once('error', () => resolve(false)).listen(preferred, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}
