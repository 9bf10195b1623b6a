// The project's test command (`npm test`): type-checks and lints, builds the production bundles, builds the test
// kube-apiserver and etcd (cached) the integration tests run against, packages the .vsix the end-to-end tests
// install into real VS Code, then runs every test file in one node:test run that ends with "N passed, N failed".
// Usage: node scripts/test.mjs [unit|integration|e2e|all] [test files...]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureActionlint } from './actionlint.mjs';
import { buildGcpFakes } from './gcp-fakes.mjs';
import { buildKubeBinaries } from './kube-test-server.mjs';
import { buildLocalCluster } from './local-cluster.mjs';
import { buildMoto } from './moto.mjs';
import { ensureRegistryTools } from './registry.mjs';
import { ensureCodeServer, packageExtension } from './vscode-host.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// The tests run on the Node the extension host and the CLI run on (engines.node). npm's scripts find the `node`
// devDependency first on PATH, so `npm test` gets Node 22 on a machine whose own Node is older.
if (Number(process.versions.node.split('.')[0]) < 22) {
  console.error(`the tests need Node 22 or later and run on ${process.version}: run them with "npm test", which uses the node devDependency`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const [which = 'all', ...only] = process.argv.slice(2);
if (!['unit', 'integration', 'e2e', 'all'].includes(which)) {
  console.error('usage: node scripts/test.mjs [unit|integration|e2e|all] [test files...]');
  process.exit(2);
}

function testFiles(dir) {
  return readdirSync(path.join(root, dir), { recursive: true })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f))
    .sort();
}

const step = (what, args) => {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${what} failed`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
};

if (which === 'all' && only.length === 0) {
  step('typecheck', [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.']);
  step('typecheck (webview)', [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'webview']);
  step('lint', [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.']);
}
step('build', ['esbuild.mjs', '--production']);
const suites = which === 'all' ? ['unit', 'integration', 'e2e'] : [which];
const files = only.length > 0 ? only : suites.flatMap((suite) => testFiles(`test/${suite}`));
const env = { ...process.env };
if (files.some((f) => f.includes(`${path.sep}integration${path.sep}`) || f.startsWith('test/integration'))) {
  try {
    // The real API server the Kubernetes provider is tested against: about 5 minutes the first time, then cached.
    await buildKubeBinaries();
    // crane, distribution and actionlint for the deploy tests: about 2 minutes the first time, then cached.
    await ensureRegistryTools();
    await ensureActionlint();
    // Google's Pub/Sub and Cloud Storage fakes for the GCP provider: about 2 minutes the first time, then cached.
    await buildGcpFakes();
    // The local cluster's binaries and images (test/integration/localCluster*.test.ts): about 18 minutes cold on two cores, then cached.
    if (files.some((f) => path.basename(f).startsWith('localCluster'))) await buildLocalCluster();
  } catch (err) {
    console.error(`building the test servers failed: ${err.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  if (files.some((f) => path.basename(f).startsWith('aws'))) {
    try {
      // The AWS emulator the AWS tests run against (moto in a venv): about a minute the first time, then cached.
      await buildMoto();
    } catch (err) {
      console.error(`installing moto failed: ${err.message}`);
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
  }
}
if (files.some((f) => f.includes(`${path.sep}e2e${path.sep}`) || f.startsWith('test/e2e'))) {
  try {
    // Installed before the tests start, so a first install's two minutes never count against a test's timeout.
    ensureCodeServer();
    // test/e2e/deploy.e2e.test.ts pushes to a local registry with crane (built once, as for the integration tests).
    if (files.some((f) => path.basename(f).startsWith('deploy'))) await ensureRegistryTools();
    // test/e2e/localCluster.e2e.test.ts runs on the local cluster (built once, as for the integration tests).
    if (files.some((f) => path.basename(f).startsWith('localCluster'))) await buildLocalCluster();
    // test/e2e/gcp.e2e.test.ts applies against Google's Pub/Sub and Cloud Storage fakes (built once, as above).
    if (files.some((f) => path.basename(f).startsWith('gcp'))) await buildGcpFakes();
    mkdirSync(path.join(root, 'test-results'), { recursive: true });
    env.ENCORE_E2E_VSIX = packageExtension(root, path.join(root, 'test-results', 'encore-environments.vsix'));
  } catch (err) {
    console.error(`setting up the end-to-end tests failed: ${err.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs', '--test-reporter-destination=stdout',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
