// encore-env deploy, deploys, rollback, promote and setup-ci: what is decided before a cluster is reached (usage
// errors and their exit codes, --ci's JSON result line on a refusal), and setup-ci writing the deploy workflow into
// the app's git repository (the file workflow.ts generates; an edited one is not replaced without --force).
// The deploys themselves run against a registry and a kube-apiserver in test/integration/deployCli.test.ts.
// Run: npm test -- unit test/unit/cliDeploy.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runDeployCommand, type DeployCommand } from '../../src/cli/deploy/commands';
import { EXIT } from '../../src/cli/exitCodes';
import type { CliIO } from '../../src/cli/provision/commands';
import { MIN_ENCORE_VERSION } from '../../src/provisioning/deploy/encoreCli';
import { deployWorkflow, kubeconfigSecretName } from '../../src/provisioning/deploy/workflow';
import { standinEnv } from '../deploy/encoreStandin';

const repo = path.join(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cli-deploy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function io(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    interactive: false,
    ask: () => Promise.reject(new Error('no questions')),
    signal: new AbortController().signal,
    stdout: () => out,
    stderr: () => err,
  };
}

/** The sample app in a repository whose top is one folder above it (a monorepo), with two environments. */
function monorepo(): { top: string; app: string } {
  const top = mkdtempSync(path.join(tmp, 'repo-'));
  const app = path.join(top, 'apps', 'shop');
  mkdirSync(path.dirname(app), { recursive: true });
  cpSync(path.join(repo, 'examples', 'sample-app'), app, { recursive: true });
  const environments = [
    { name: 'staging', type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'c', namespace: 'shop-staging', registry: '127.0.0.1:5000/shop' } },
    { name: 'manual', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'c' } },
  ];
  writeFileSync(path.join(app, 'encore.environments.json'), JSON.stringify({ environments }));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: top, env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } });
  return { top, app };
}

async function run(command: DeployCommand, ...args: string[]) {
  return runWith({}, command, ...args);
}

async function runWith(env: NodeJS.ProcessEnv, command: DeployCommand, ...args: string[]) {
  const i = io();
  const code = await runDeployCommand(command, args, i, Object.keys(env).length ? { env } : {});
  return { code, stdout: i.stdout(), stderr: i.stderr() };
}

test('usage errors are exit 2 with what to give, before anything is read or reached', async () => {
  const { app } = monorepo();
  assert.deepEqual(await run('deploy', app), { code: EXIT.usage, stdout: '', stderr: 'encore-env deploy: --env NAME is required (the environment, as named in encore.environments.json)\n' });
  assert.match((await run('rollback', '--env', 'staging', app)).stderr, /--to DEPLOY_ID is required/);
  assert.equal((await run('rollback', '--env', 'staging', app)).code, EXIT.usage);
  assert.match((await run('promote', '--to', 'staging', app)).stderr, /--from NAME is required/);
  assert.match((await run('promote', '--from', 'staging', '--to', 'staging', app)).stderr, /name the same environment/);
  assert.match((await run('deploy', '--env', 'staging', '--rollout-timeout', '1e3', app)).stderr, /--rollout-timeout needs a whole number/);
  assert.match((await run('deploy', '--env', 'staging', '--env', 'manual', app)).stderr, /--env is given twice/);
  const missing = await run('deploys', '--env', 'nope', app);
  assert.equal(missing.code, EXIT.usage);
  assert.match(missing.stderr, /there is no environment "nope" in .*; it has staging, manual/);
});

test('--ci reports a refusal as a JSON result line on stdout too', async () => {
  const { app } = monorepo();
  const r = await run('rollback', '--env', 'staging', '--ci', app);
  assert.equal(r.code, EXIT.usage);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, [{ event: 'result', ok: false, exitCode: EXIT.usage, error: '--to DEPLOY_ID is required (see encore-env deploys --env NAME)' }]);
});

test('setup-ci writes the workflow at the repository top for the app folder, and keeps an edited one without --force', async () => {
  const { top, app } = monorepo();
  const r = await run('setup-ci', '--env', 'staging', app);
  assert.equal(r.code, EXIT.ok, r.stderr);
  const file = path.join(top, '.github', 'workflows', 'encore-deploy-staging.yml');
  const expected = await deployWorkflow({ environment: 'staging', branch: 'main', appPath: 'apps/shop', encoreVersion: MIN_ENCORE_VERSION, cloud: { kind: 'kubernetes', kubeconfigSecret: kubeconfigSecretName('staging') } });
  assert.equal(readFileSync(file, 'utf8'), expected);
  assert.match(r.stdout, /encore-env setup-ci --env staging --print-kubeconfig \| gh secret set ENCORE_KUBECONFIG_STAGING --env staging\n/);
  assert.match(r.stdout, /limited to namespace shop-staging/);
  // The same file again is fine; an edited one is kept unless --force.
  assert.equal((await run('setup-ci', '--env', 'staging', app)).code, EXIT.ok);
  writeFileSync(file, `${expected}# my edit\n`);
  const kept = await run('setup-ci', '--env', 'staging', app);
  assert.equal(kept.code, EXIT.confirmation);
  assert.match(kept.stderr, /exists and differs .* --force/);
  assert.match(readFileSync(file, 'utf8'), /# my edit/);
  assert.equal((await run('setup-ci', '--env', 'staging', '--force', '--encore-version', '1.58.6', app)).code, EXIT.ok);
  assert.match(readFileSync(file, 'utf8'), /1\.58\.6/);
  assert.doesNotMatch(readFileSync(file, 'utf8'), /# my edit/);
});

test('setup-ci refuses an environment that deploys manually', async () => {
  const { app } = monorepo();
  const r = await run('setup-ci', '--env', 'manual', app);
  assert.equal(r.code, EXIT.usage);
  assert.match(r.stderr, /deploys manually: give it a push trigger/);
});

test('setup-ci for a GCP environment without Application Default Credentials says how to get them, and writes nothing', async () => {
  const { top, app } = monorepo();
  const environments = [{ name: 'eu', type: 'production', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1' } }];
  writeFileSync(path.join(app, 'encore.environments.json'), JSON.stringify({ environments }));
  // No credentials anywhere: an empty gcloud folder, no key file, no metadata server.
  const saved = { CLOUDSDK_CONFIG: process.env.CLOUDSDK_CONFIG, GOOGLE_APPLICATION_CREDENTIALS: process.env.GOOGLE_APPLICATION_CREDENTIALS, METADATA_SERVER_DETECTION: process.env.METADATA_SERVER_DETECTION };
  process.env.CLOUDSDK_CONFIG = mkdtempSync(path.join(os.tmpdir(), 'no-gcloud-'));
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.METADATA_SERVER_DETECTION = 'none';
  try {
    const r = await run('setup-ci', '--env', 'eu', app);
    assert.notEqual(r.code, EXIT.ok);
    assert.match(r.stderr, /No Google Cloud credentials were found.*gcloud auth application-default login/s);
    assert.equal(existsSync(path.join(top, '.github')), false);
  } finally {
    rmSync(process.env.CLOUDSDK_CONFIG, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

const GIT = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];
function commitAll(top: string, message: string): void {
  const env = { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined };
  execFileSync('git', [...GIT, 'add', '-A'], { cwd: top, env });
  execFileSync('git', [...GIT, 'commit', '-q', '-m', message], { cwd: top, env });
}

test('the local preflights refuse with exit 8 before any cluster is reached: registry, encore missing or too old, --revision', async () => {
  const { top, app } = monorepo();
  commitAll(top, 'first');
  // No registry in the environment's settings.
  const noRegistry = await runWith(standinEnv(), 'deploy', '--env', 'manual', app);
  assert.equal(noRegistry.code, EXIT.preflight, noRegistry.stderr);
  assert.match(noRegistry.stderr, /names no registry to push the app's image to: add "registry"/);
  // No encore on PATH (git is still there) nor where the installer puts it: how to install it.
  const missing = await runWith({ ...process.env, PATH: '/usr/bin:/bin', HOME: path.join(top, 'no-home'), ENCORE_INSTALL: undefined }, 'deploy', '--env', 'staging', app);
  assert.equal(missing.code, EXIT.preflight, missing.stderr);
  assert.match(missing.stderr, /The Encore CLI \(`encore`\) is not installed, or not on PATH \(nor in .*no-home\/\.encore\/bin, where its installer puts it\).*curl -L https:\/\/encore\.dev\/install\.sh \| bash/s);
  // Too old.
  const old = await runWith(standinEnv({ ENCORE_STANDIN_VERSION: 'v1.49.9' }), 'deploy', '--env', 'staging', app);
  assert.equal(old.code, EXIT.preflight, old.stderr);
  assert.match(old.stderr, new RegExp(`v1\\.49\\.9, older than ${MIN_ENCORE_VERSION.replace(/\./g, '\\.')}`));
  // --revision must be the commit checked out.
  writeFileSync(path.join(app, 'CHANGES.md'), 'second\n');
  commitAll(top, 'second');
  const revision = await runWith(standinEnv(), 'deploy', '--env', 'staging', '--revision', 'HEAD~1', '--ci', app);
  assert.equal(revision.code, EXIT.preflight, revision.stderr);
  assert.match(revision.stderr, /--revision HEAD~1 is commit [0-9a-f]{12}, but .* has [0-9a-f]{12} checked out: .* check out HEAD~1 first/);
  assert.equal(JSON.parse(revision.stdout.trim().split('\n').at(-1)!).exitCode, EXIT.preflight);
  const unknown = await runWith(standinEnv(), 'deploy', '--env', 'staging', '--revision', 'no-such-branch', app);
  assert.equal(unknown.code, EXIT.preflight);
  assert.match(unknown.stderr, /--revision no-such-branch is not a commit/);
});
