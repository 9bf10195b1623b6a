// Setting up deploy on push (src/session/setupCi.ts), the part `encore-env setup-ci` and VS Code's "Set Up Deploy on
// Push…" share: the refusals, "apply first" while a Kubernetes environment's CI identity is not in its state (state
// in a local folder here; the cluster's in test/e2e/setupCi.e2e.test.ts), the gh pipe, how the file on disk compares
// (a file that cannot be read is never replaced) and the atomic write; and the tree's context values with the
// package.json when-clauses that offer the command on push environments only.
// Run: npm test -- unit test/unit/setupCi.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { environmentContextValue } from '../../src/extension/tree/treeData';
import type { Environment } from '../../src/model/environment';
import { emptyState } from '../../src/model/state';
import { MIN_ENCORE_VERSION } from '../../src/provisioning/deploy/encoreCli';
import { deployWorkflow } from '../../src/provisioning/deploy/workflow';
import { CI_IDENTITY } from '../../src/provisioning/planner/ciIdentity';
import { LocalFileBackend } from '../../src/provisioning/state/localFile';
import { EnvironmentSession, firstDifferentLine, isDeployError, kubeconfigCommand, prepareCiSetup, workflowFileStatus, writeWorkflowFile } from '../../src/session';

const repo = path.join(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'setup-ci-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const model = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();

const staging: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'push', branch: 'release/1' }, provider: { kind: 'kubernetes', context: 'nowhere', namespace: 'shop-staging' } };

/** The sample app in its own git repository, with the given environments, and a state folder. */
function app(environments: Environment[]): { dir: string; stateDir: string } {
  const dir = path.join(mkdtempSync(path.join(tmp, 'repo-')), 'shop');
  cpSync(path.join(repo, 'examples', 'sample-app'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'encore.environments.json'), JSON.stringify({ environments }));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } });
  return { dir, stateDir: path.join(dir, '.state') };
}

const open = (dir: string, environment: string, stateDir?: string) => EnvironmentSession.open({ appRoot: dir, environment, model, stateDir });

async function refusal(work: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await work;
  } catch (err) {
    assert.ok(isDeployError(err), String(err));
    return { code: err.code, message: err.message };
  }
  assert.fail('not refused');
}

test('a Kubernetes environment: "apply first" until its state has the CI identity ready, then the workflow, the secret and the gh pipe', async () => {
  const { dir, stateDir } = app([staging]);
  const session = await open(dir, 'staging', stateDir);
  try {
    const early = await refusal(prepareCiSetup(session, { requireApplied: true }));
    assert.equal(early.code, 'apply-first');
    assert.match(early.message, /environment "staging" has no CI identity yet \(ServiceAccount encore-deployer in namespace shop-staging\): apply first/);
    // Without requireApplied (the CLI's setup-ci) nothing is read: the workflow is said before the apply.
    assert.match((await prepareCiSetup(session)).credentials, /\(apply first\)/);

    const backend = new LocalFileBackend(stateDir, 'staging');
    const state = emptyState('staging', 'kubernetes');
    const graph = await session.graph();
    for (const id of [CI_IDENTITY.serviceAccountId, CI_IDENTITY.roleId, CI_IDENTITY.bindingId]) {
      const resource = graph.resources.find((r) => r.id === id)!;
      state.resources[id] = { resource, status: id === CI_IDENTITY.bindingId ? 'failed' : 'ready', lastAction: 'create', outputs: {}, secretOutputs: [], updatedAt: 't', error: null };
    }
    await backend.commit(state, [], null);
    // A binding that failed to apply is not an identity CI can use.
    assert.equal((await refusal(prepareCiSetup(session, { requireApplied: true }))).code, 'apply-first');
    state.resources[CI_IDENTITY.bindingId]!.status = 'ready';
    const loaded = await backend.load();
    await backend.commit({ ...state, serial: 1 }, [], loaded.version);

    const setup = await prepareCiSetup(session, { requireApplied: true, encoreVersion: '1.58.6' });
    assert.equal(setup.top, execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8' }).trim());
    assert.equal(setup.relative, '.github/workflows/encore-deploy-staging.yml');
    assert.equal(setup.file, path.join(setup.top, setup.relative));
    assert.equal(setup.appPath, '.');
    assert.equal(setup.text, await deployWorkflow({ environment: 'staging', branch: 'release/1', appPath: '.', encoreVersion: '1.58.6', cloud: { kind: 'kubernetes', kubeconfigSecret: 'ENCORE_KUBECONFIG_STAGING' } }));
    assert.deepEqual(setup.kubeconfig, { secret: 'ENCORE_KUBECONFIG_STAGING', command: 'encore-env setup-ci --env staging --print-kubeconfig | gh secret set ENCORE_KUBECONFIG_STAGING --env staging' });
    assert.match(setup.credentials, /ServiceAccount encore-deployer, whose Role is limited to namespace shop-staging; the environment's plan creates it \(applied\)/);
    assert.equal(setup.github.length, 2);
    assert.match(setup.github[1]!, /^Limit the GitHub environment "staging" to the branch release\/1 /);
    assert.equal(setup.repository, null);
  } finally {
    await session.dispose();
  }
});

test('refused: a manual trigger, an app outside git; the default Encore version is the minimum', async () => {
  const manual: Environment = { name: 'manual', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'c' } };
  // A GCP environment goes on to its credentials and state (cliDeploy.test.ts, gcpCiIdentity.test.ts).
  const { dir } = app([manual, staging]);
  for (const [name, code, message] of [['manual', 'manual', /deploys manually: give it a push trigger/]] as const) {
    const session = await open(dir, name);
    try {
      const r = await refusal(prepareCiSetup(session));
      assert.equal(r.code, code);
      assert.match(r.message, message);
    } finally {
      await session.dispose();
    }
  }
  const session = await open(dir, 'staging');
  try {
    assert.match((await prepareCiSetup(session)).text, new RegExp(`ENCORE_VERSION: ${MIN_ENCORE_VERSION.replace(/\./g, '\\.')}\\n`));
  } finally {
    await session.dispose();
  }
  const outside = mkdtempSync(path.join(os.tmpdir(), 'setup-ci-nogit-'));
  try {
    cpSync(dir, outside, { recursive: true, filter: (src) => !src.includes(`${path.sep}.git`) });
    const s = await open(outside, 'staging');
    try {
      const r = await refusal(prepareCiSetup(s));
      assert.equal(r.code, 'preflight');
      assert.match(r.message, /is not in a git repository: a deploy workflow lives in the repository's \.github\/workflows/);
    } finally {
      await s.dispose();
    }
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('the gh pipe names the app folder only when the app is below the repository top, quoted when it must be', () => {
  assert.equal(kubeconfigCommand('prod'), 'encore-env setup-ci --env prod --print-kubeconfig | gh secret set ENCORE_KUBECONFIG_PROD --env prod');
  assert.equal(kubeconfigCommand('my-env', '.'), 'encore-env setup-ci --env my-env --print-kubeconfig | gh secret set ENCORE_KUBECONFIG_MY_ENV --env my-env');
  assert.equal(kubeconfigCommand('prod', 'apps/shop'), 'encore-env setup-ci --env prod --print-kubeconfig apps/shop | gh secret set ENCORE_KUBECONFIG_PROD --env prod');
  assert.equal(kubeconfigCommand('prod', "apps/bob's shop"), "encore-env setup-ci --env prod --print-kubeconfig 'apps/bob'\\''s shop' | gh secret set ENCORE_KUBECONFIG_PROD --env prod");
});

test('the file on disk: absent, the same, different, or unreadable (never replaced); the write is atomic and goes through a link', async () => {
  const dir = mkdtempSync(path.join(tmp, 'files-'));
  const file = path.join(dir, '.github', 'workflows', 'encore-deploy-x.yml');
  assert.deepEqual(await workflowFileStatus(file, 'a\n'), { kind: 'absent' });
  await writeWorkflowFile(file, 'a\n');
  assert.equal(readFileSync(file, 'utf8'), 'a\n');
  assert.deepEqual(await workflowFileStatus(file, 'a\n'), { kind: 'same' });
  writeFileSync(file, 'a\n# mine\n');
  assert.deepEqual(await workflowFileStatus(file, 'a\n'), { kind: 'different', current: 'a\n# mine\n' });
  await writeWorkflowFile(file, 'b\n');
  assert.equal(readFileSync(file, 'utf8'), 'b\n');
  assert.deepEqual(readdirSync(path.dirname(file)), ['encore-deploy-x.yml'], 'no temporary file left');

  // A directory, a named pipe in its place: said, and not opened for a blocking read.
  const asDir = path.join(dir, 'dir.yml');
  mkdirSync(asDir);
  const d = await workflowFileStatus(asDir, 'a\n');
  assert.equal(d.kind, 'unreadable');
  assert.match((d as { problem: string }).problem, /is a directory, not a regular file.*so it is not replaced/);
  const fifo = path.join(dir, 'fifo.yml');
  execFileSync('mkfifo', [fifo]);
  assert.equal((await workflowFileStatus(fifo, 'a\n')).kind, 'unreadable');

  // A link to the real file: written through, the link kept.
  const real = path.join(dir, 'real.yml');
  writeFileSync(real, 'old\n');
  const link = path.join(dir, 'link.yml');
  symlinkSync(real, link);
  await writeWorkflowFile(link, 'new\n');
  assert.equal(readFileSync(real, 'utf8'), 'new\n');
  assert.equal(readFileSync(link, 'utf8'), 'new\n');
});

test('the tree offers Set Up Deploy on Push… on push environments only; Rotate and Finish still match with .push', () => {
  const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const items = manifest.contributes.menus['view/item/context'] as { command: string; when: string }[];
  const pattern = (command: string) => {
    const found = items.filter((m) => m.command === command);
    assert.equal(found.length, 1, command);
    assert.match(found[0]!.when, /isWorkspaceTrusted/);
    return new RegExp(/viewItem =~ \/(.+?)\/ /.exec(found[0]!.when)![1]!);
  };
  const setup = pattern('encore.environment.setupDeployOnPush');
  const rotate = pattern('encore.environment.rotateServiceAuth');
  const finish = pattern('encore.environment.finishServiceAuthRotation');
  const manual: Environment = { ...staging, deploy: { trigger: 'manual' } };
  const prod: Environment = { ...staging, type: 'production' };
  const cases = [
    { value: environmentContextValue(staging, false), setup: true, rotate: true, finish: false },
    { value: environmentContextValue(prod, true), setup: true, rotate: false, finish: true },
    { value: environmentContextValue(manual, false), setup: false, rotate: true, finish: false },
    { value: environmentContextValue(manual, true), setup: false, rotate: false, finish: true },
  ];
  assert.deepEqual(cases.map((c) => c.value), ['encore.environment.development.push', 'encore.environment.production.push.rotating', 'encore.environment.development', 'encore.environment.development.rotating']);
  for (const c of cases) {
    assert.deepEqual([setup.test(c.value), rotate.test(c.value), finish.test(c.value)], [c.setup, c.rotate, c.finish], c.value);
    // Plan, Apply, Deploy… match every environment node.
    assert.match(c.value, /^encore\.environment\b/);
  }
  for (const other of ['encore.deployments', 'encore.deploy.succeeded.current', 'encore.app', 'encore.setting']) assert.equal(setup.test(other), false, other);
  const commands = manifest.contributes.commands as { command: string; title: string; enablement?: string }[];
  for (const id of ['encore.setupDeployOnPush', 'encore.environment.setupDeployOnPush']) {
    const c = commands.find((x) => x.command === id);
    assert.equal(c?.title, 'Set Up Deploy on Push…', id);
    assert.equal(c?.enablement, 'isWorkspaceTrusted', id);
  }
  const palette = manifest.contributes.menus.commandPalette as { command: string; when: string }[];
  assert.match(palette.find((p) => p.command === 'encore.setupDeployOnPush')!.when, /isWorkspaceTrusted/);
});

test('the diff of a changed workflow opens at the first line where the two differ', () => {
  assert.equal(firstDifferentLine('a\nb\nc\n', 'a\nb\nc\n# my edit\n'), 3);
  assert.equal(firstDifferentLine('a\nb\nc\n# my edit\n', 'a\nb\nc\n'), 3, 'an edit added at the end: the end of the text written');
  assert.equal(firstDifferentLine('a\nX\nc\n', 'a\nb\nc\n'), 1);
  assert.equal(firstDifferentLine('a\r\nb\r\n', 'a\nB\n'), 1, 'CRLF and LF lines compare as lines');
  assert.equal(firstDifferentLine('', 'a\n'), 0);
});
