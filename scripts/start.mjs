// `npm start`: opens real VS Code (code-server) on the sample app with the extension installed, at a 127.0.0.1 URL,
// and shows the CLI planning the same app. On Linux as root it first starts the local Kubernetes cluster
// (scripts/local-cluster.mjs, context encore-local), which the demo's Development environment targets, and stops it
// on Ctrl+C; `--no-cluster` skips it, and where it cannot run npm start says why and goes on without it.
// Usage: npm start [-- FOLDER] [-- --no-cluster] [-- --fresh] (env PORT picks the port; default 8080, or a free one)
// Without FOLDER it opens a demo copy of examples/sample-app with two environments (examples/demo.environments.json),
// kept between runs in the cache so what you create or edit there stays; `npm start -- --fresh` starts it anew.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cacheDir, ensureCodeServer, freePort, installExtension, packageExtension, prepareProfile, quietSettings, startCodeServer,
} from './vscode-host.mjs';
import { buildLocalCluster, CannotRunHere, checkHost, CONTEXT, kubeconfigPath, localClusterStatus, startLocalCluster } from './local-cluster.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const fresh = args.includes('--fresh');
const noCluster = args.includes('--no-cluster');
const given = args.find((a) => !a.startsWith('--'));
/** sha256 of examples/demo.environments.json before its staging environment targeted the local cluster. */
const DEMO_BEFORE_LOCAL_CLUSTER = 'e2c019e75d2eedf67bfdc2ec2e8d564ad9a37cb82c5730f83cd371937407fa67';

let stopping = false;
// Ctrl+C while the cluster starts: startLocalCluster tears down what it started, then npm start ends.
const startAbort = new globalThis.AbortController();
const abortStart = () => startAbort.abort();
process.on('SIGINT', abortStart).on('SIGTERM', abortStart);
// The cluster this run started (stopped on exit), or 'running' when one already ran (left as it was).
const cluster = noCluster ? null : await localCluster();
process.off('SIGINT', abortStart).off('SIGTERM', abortStart);
if (startAbort.signal.aborted) process.exit(130);
// From here on, Ctrl+C and any failure stop code-server and a cluster this run started.
let server;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stopAll(0));
process.on('uncaughtException', (err) => {
  console.error(err);
  void stopAll(1);
});

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
// With the cluster, its kubeconfig comes first, so the extension and the CLI see the context encore-local next to
// the user's own contexts; ~/.kube/config is not written.
const kubeEnv = cluster ? { KUBECONFIG: [kubeconfigPath, process.env.KUBECONFIG || path.join(os.homedir(), '.kube', 'config')].join(path.delimiter) } : {};
server = await startCodeServer({ profile, folder, port, logFile, env: kubeEnv });

const cli = (...cliArgs) => {
  console.log(`\n$ encore-env ${cliArgs.join(' ')}`);
  spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), ...cliArgs], { stdio: 'inherit', env: { ...process.env, ...kubeEnv } });
};
console.log('\nThe CLI on the same app:');
cli('analyze', folder);
if (!given) {
  // Against the local cluster when it runs; otherwise offline, against the recorded state alone.
  if (cluster) cli('plan', '--env', 'staging', folder);
  else cli('plan', '--env', 'staging', '--offline', folder);
}
console.log(`
VS Code (code-server) is running with Environments for Encore installed, on ${folder}.

    Open ${server.url()}

Click the Encore icon in the activity bar. code-server's log: ${logFile}${cluster ? `
The demo's staging environment targets the local cluster (context ${CONTEXT}): Plan, Apply, Set Secret Value and
Destroy act on it for real. kubectl: KUBECONFIG=${kubeconfigPath} kubectl get pods -A` : ''}
Press Ctrl+C to stop${cluster && cluster !== 'running' ? ' (the local cluster stops too)' : ''}.`);

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  await server?.stop().catch(() => undefined);
  if (cluster && cluster !== 'running') {
    console.log('Stopping the local cluster…');
    const left = await cluster.stop().catch((err) => [String(err)]);
    if (left.length > 0) console.error(`The local cluster left: ${left.join('; ')}. \`node scripts/local-cluster.mjs stop\` cleans up.`);
  }
  process.exit(code);
}
server.child.on('exit', (code) => {
  if (stopping) return;
  console.error(`code-server exited (${code}); see ${logFile}`);
  void stopAll(1);
});

/**
 * Starts the local cluster where it can: says first what it changes on the host and how to skip it. Returns the
 * cluster, 'running' when one already runs, or null (with the reason said) where it cannot.
 */
async function localCluster() {
  const status = await localClusterStatus().catch(() => ({ running: false }));
  if (status.running && status.ready) {
    console.log(`The local Kubernetes cluster already runs (context ${CONTEXT}); using it, and leaving it running on exit.\n`);
    return 'running';
  }
  try {
    await checkHost({ ports: false });
  } catch (err) {
    if (!(err instanceof CannotRunHere)) throw err;
    console.log(`Not starting the local Kubernetes cluster: ${err.message}\nGoing on without it (npm start -- --no-cluster skips this check): Plan works offline, and Apply needs a cluster of your own.\n`);
    return null;
  }
  console.log(`Starting a local Kubernetes cluster on this machine (context ${CONTEXT}) for the demo's staging environment.
While it runs it changes this host, and undoes it all on Ctrl+C (see the README, "A local Kubernetes cluster"):
  - kernel settings vm.overcommit_memory, kernel.panic, kernel.panic_on_oops, net.ipv4.conf.all.route_localnet and
    net.ipv4.ip_forward (the values from before are restored);
  - a bridge encore0 (10.244.0.1/24), iptables chains KUBE-* and ENCORE-LOCAL-FORWARD;
  - /var/lib/encore-local-cluster, /var/lib/kubelet, /var/log/pods, /var/log/containers, /run/containerd, /run/netns,
    /var/lib/cni;
  - ports 16443, 12379-12380, 10248-10250, 10256, 15000 and one for containerd's streaming on 127.0.0.1, DNS on
    10.244.0.1:53; Debian packages runc, containernetworking-plugins and iptables if missing.
To skip it: npm start -- --no-cluster
`);
  try {
    // Seconds from the cache; the first time about 18 minutes (the README says what it costs).
    await buildLocalCluster({ log: (m) => console.log(`[local cluster build] ${m}`) });
    const started = await startLocalCluster({ signal: startAbort.signal, log: (m) => console.log(`[local cluster] ${m}`) });
    console.log(`The local cluster is up: ${started.server}, context ${CONTEXT}, images from ${started.registry}.\n`);
    return started;
  } catch (err) {
    if (startAbort.signal.aborted) return null;
    console.log(`The local Kubernetes cluster did not start: ${err instanceof Error ? err.message : String(err)}\nGoing on without it: Plan works offline, and Apply needs a cluster of your own.\n`);
    return null;
  }
}

/** A copy of the sample app with the demo environments, in the cache, made on first use or with --fresh. */
function demoWorkspace() {
  const dir = path.join(work, 'workspace', 'sample-app');
  if (fresh || !existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'examples', 'sample-app'), dir, { recursive: true });
    copyFileSync(path.join(root, 'examples', 'demo.environments.json'), path.join(dir, 'encore.environments.json'));
  }
  // A demo kept from before the local cluster, whose file nobody edited: its staging context did not exist anywhere,
  // so it gets the demo's environments of today (an edited file is left alone; --fresh remakes it).
  const file = path.join(dir, 'encore.environments.json');
  if (existsSync(file) && createHash('sha256').update(readFileSync(file)).digest('hex') === DEMO_BEFORE_LOCAL_CLUSTER) {
    copyFileSync(path.join(root, 'examples', 'demo.environments.json'), file);
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
