// encore-env deploy, deploys, rollback and promote on the sample app's Kubernetes environments, against a real local
// registry (crane registry serve) and the real test kube-apiserver, with the stand-in `encore` on the PATH the
// deploy gets. No controllers run there: the test plays them (kubeControllers.ts writes the Deployments' status), or
// writes a stuck rollout's status itself. Also: a deploy refused with "apply first", a failed rollout that names the
// service and why, and a deploy killed at step boundaries then run again (the history stays parseable, no deploy is
// recorded twice, the lock is breakable).
// Run: npm test -- integration test/integration/deployCli.test.ts
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runDeployCommand } from '../../src/cli/deploy/commands';
import { EXIT } from '../../src/cli/exitCodes';
import type { CliIO } from '../../src/cli/provision/commands';
import { runProvisionCommand } from '../../src/cli/provision/commands';
import { runSecretCommand } from '../../src/cli/provision/secretCommand';
import type { ProvisionDeps } from '../../src/cli/provision/context';
import type { Environment } from '../../src/model/environment';
import { parseHistory, type DeployRecord } from '../../src/provisioning/deploy/history';
import { parseImageRef, RegistryClient } from '../../src/provisioning/deploy/registry';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { HISTORY_SECRET } from '../../src/provisioning/providers/kubernetes/deployTarget';
import { startRegistry, type TestRegistry } from '../../scripts/registry.mjs';
import { standinEnv } from '../deploy/encoreStandin';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { simulateControllers, type Controllers } from './kubeControllers';

const repo = path.join(__dirname, '..', '..');
const cli = path.join(repo, 'dist', 'cli.js');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'deploy-cli-'));
let kube: TestKube;
let registry: TestRegistry;
let client: KubeClient;

before(async () => {
  [kube, registry] = await Promise.all([startTestKube(), startRegistry()]);
  client = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
});
after(async () => {
  client?.close();
  await Promise.all([kube?.stop(), registry?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const GIT = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];
const git = (dir: string, ...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();

interface App {
  dir: string;
  staging: string;
  production: string;
  deps: ProvisionDeps & { env: NodeJS.ProcessEnv; rolloutPollMs: number };
}

/** The sample app in a git repository of its own, with a staging and a production environment on the test cluster. */
function sampleApp(): App {
  const dir = mkdtempSync(path.join(tmp, 'app-'));
  cpSync(path.join(repo, 'examples', 'sample-app'), dir, { recursive: true });
  const staging = uniqueName('dstg');
  const production = uniqueName('dprod');
  const registrySetting = `${registry.host}/sample-app`;
  const env = (name: string, namespace: string): Environment => ({
    name, type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace, registry: registrySetting },
  });
  writeFileSync(path.join(dir, 'encore.environments.json'), `${JSON.stringify({ environments: [env('staging', staging), env('production', production)] }, null, 2)}\n`);
  writeFileSync(path.join(dir, '.gitignore'), '.encore/\nnode_modules/\n');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'the sample app');
  return {
    dir, staging, production,
    deps: { provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 50 } }, env: standinEnv({ DOCKER_CONFIG: path.join(dir, '.no-docker-config') }), rolloutPollMs: 50 },
  };
}

function io(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    interactive: false,
    ask: () => Promise.reject(new Error('no questions in these tests')),
    signal: new AbortController().signal,
    stdout: () => out,
    stderr: () => err,
  };
}

async function applyEnv(app: App, name: 'staging' | 'production'): Promise<void> {
  const i = io();
  const code = await runProvisionCommand('apply', ['--env', name, '--yes', app.dir], i, app.deps);
  assert.equal(code, EXIT.ok, i.stderr());
}

/** `encore-env deploy|rollback|promote … --ci` in process: the JSON lines it printed, and its exit code. */
async function ciRun(app: App, command: 'deploy' | 'rollback' | 'promote', args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const i = io();
  const code = await runDeployCommand(command, [...args, '--ci', app.dir], i, { ...app.deps, env: { ...app.deps.env, ...extraEnv } });
  const lines = i.stdout().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Any);
  return { code, lines, result: lines.at(-1)!, stderr: i.stderr() };
}

async function history(namespace: string): Promise<{ records: DeployRecord[]; problems: string[] }> {
  const secret = await client.get<Any & { apiVersion: string; kind: string; metadata: { name: string } }>('v1', 'Secret', namespace, HISTORY_SECRET);
  return parseHistory(JSON.parse(Buffer.from(secret.data['history.json'], 'base64').toString('utf8')));
}

async function deployments(namespace: string): Promise<Any[]> {
  return (await client.list('apps/v1', 'Deployment', namespace)).items as Any[];
}

/** The service-auth variables each Deployment gets, by Deployment name. */
async function serviceAuthVars(namespace: string): Promise<Record<string, string[]>> {
  return Object.fromEntries((await deployments(namespace)).map((d) => [
    d.metadata.name as string,
    (d.spec.template.spec.containers[0].env as Any[]).map((e) => e.name as string).filter((n) => n.startsWith('ENCORE_SERVICE_AUTH_KEY')).sort(),
  ]));
}

test('a deploy during a service-auth key rotation keeps both keys in every Deployment; finishing after it leaves the new one', async () => {
  const app = sampleApp();
  const controllers = simulateControllers(client, app.staging, { intervalMs: 50 });
  const rotate = async (...args: string[]) => {
    const i = { ...io(), readSecret: () => Promise.reject(new Error('no values are read here')) };
    assert.equal(await runSecretCommand(['rotate-service-auth', '--env', 'staging', '--yes', ...args, app.dir], i, app.deps), EXIT.ok, i.stderr());
  };
  try {
    await applyEnv(app, 'staging');
    await rotate();
    const both = await serviceAuthVars(app.staging);
    for (const [name, vars] of Object.entries(both)) assert.deepEqual(vars, ['ENCORE_SERVICE_AUTH_KEY', 'ENCORE_SERVICE_AUTH_KEY_2'], name);
    const deployed = await ciRun(app, 'deploy', ['--env', 'staging']);
    assert.equal(deployed.code, EXIT.ok, deployed.stderr);
    // The deploy's graph has the recorded key ids: no Deployment lost the new key (or the old one) mid-rotation.
    assert.deepEqual(await serviceAuthVars(app.staging), both);
    const digest = (deployed.result.record as DeployRecord).image.digest;
    await rotate('--finish');
    for (const d of await deployments(app.staging)) {
      assert.equal(d.spec.template.spec.containers[0].image, `${registry.host}/sample-app@${digest}`, 'the finish kept the deployed image');
    }
    for (const [name, vars] of Object.entries(await serviceAuthVars(app.staging))) assert.deepEqual(vars, ['ENCORE_SERVICE_AUTH_KEY_2'], name);
  } finally {
    await controllers.stop();
  }
});

test('deploy, deploys, a second deploy, rollback and promote pick and run the right digests', async () => {
  const app = sampleApp();
  const controllers: Controllers[] = [];
  try {
    // Never applied: nothing is built.
    const early = await ciRun(app, 'deploy', ['--env', 'staging']);
    assert.equal(early.code, EXIT.applyFirst, early.stderr);
    assert.match(early.result.error, /has not been applied yet: apply first/);

    controllers.push(simulateControllers(client, app.staging, { intervalMs: 50 }));
    await applyEnv(app, 'staging');
    const summary = path.join(app.dir, '..', `${path.basename(app.dir)}-summary.md`);
    const first = await ciRun(app, 'deploy', ['--env', 'staging'], { GITHUB_STEP_SUMMARY: summary, GITHUB_ACTOR: 'octocat', GITHUB_EVENT_NAME: 'push' });
    assert.equal(first.code, EXIT.ok, `${first.stderr}\n${JSON.stringify(first.lines.slice(-5), null, 2)}`);
    assert.equal(first.result.event, 'result');
    const r1 = first.result.record as DeployRecord;
    assert.equal(r1.result, 'succeeded');
    assert.equal(r1.trigger, 'push');
    assert.equal(r1.by, 'github:octocat');
    assert.equal(r1.revision.commit, git(app.dir, 'rev-parse', 'HEAD'));
    assert.equal(r1.revision.dirty, false);
    // Every step reported, the build's own lines streamed among them.
    const steps = new Set(first.lines.filter((l) => l.event === 'progress').map((l) => l.step));
    assert.deepEqual([...steps], ['preflight', 'build', 'digest', 'apply', 'rollout', 'record']);
    assert.ok(first.lines.some((l) => l.step === 'build' && l.stream), 'the build output was not streamed');

    // The digest recorded is the registry's for the tag pushed, and every Deployment runs it by digest, annotated.
    const short = git(app.dir, 'rev-parse', '--short', 'HEAD');
    const pushed = await new RegistryClient(registry.host).digestOf(parseImageRef(`${registry.host}/sample-app:${short}`));
    assert.equal(r1.image.digest, pushed);
    const live = await deployments(app.staging);
    assert.ok(live.length >= 2, 'the sample app has several services');
    for (const d of live) {
      assert.equal(d.spec.template.spec.containers[0].image, `${registry.host}/sample-app@${pushed}`, d.metadata.name);
      assert.equal(d.metadata.annotations['encore.dev/deploy-id'], r1.id);
      assert.equal(d.metadata.annotations['encore.dev/revision'], r1.revision.commit);
    }
    const md = readFileSync(summary, 'utf8');
    assert.match(md, /## encore-env deploy: succeeded/);
    assert.ok(md.includes(r1.id) && md.includes(pushed), md);

    // An apply of infrastructure afterwards keeps the deployed image and its annotations (nothing to change).
    const plan = io();
    assert.equal(await runProvisionCommand('plan', ['--env', 'staging', '--json', '--detailed-exitcode', app.dir], plan, app.deps), EXIT.ok, plan.stdout());
    await applyEnv(app, 'staging');
    for (const d of await deployments(app.staging)) {
      assert.equal(d.spec.template.spec.containers[0].image, `${registry.host}/sample-app@${pushed}`);
      assert.equal(d.metadata.annotations['encore.dev/deploy-id'], r1.id);
    }

    // A new commit: a new image, a second record.
    writeFileSync(path.join(app.dir, 'users', 'CHANGELOG.md'), 'a change\n');
    git(app.dir, 'add', '-A');
    git(app.dir, 'commit', '-q', '-m', 'a change');
    const second = await ciRun(app, 'deploy', ['--env', 'staging']);
    assert.equal(second.code, EXIT.ok, second.stderr);
    const r2 = second.result.record as DeployRecord;
    assert.notEqual(r2.image.digest, r1.image.digest);
    assert.equal(r2.trigger, 'ci');

    // deploys: newest first, the current one marked.
    const list = io();
    assert.equal(await runDeployCommand('deploys', ['--env', 'staging', '--json', app.dir], list, app.deps), EXIT.ok, list.stderr());
    const listed = JSON.parse(list.stdout()) as { current: string; deploys: DeployRecord[]; problems: string[] };
    assert.equal(listed.current, r2.id);
    assert.deepEqual(listed.deploys.map((d) => d.id), [r2.id, r1.id]);
    assert.deepEqual(listed.problems, []);
    const text = io();
    assert.equal(await runDeployCommand('deploys', ['--env', 'staging', app.dir], text, app.deps), EXIT.ok);
    assert.match(text.stdout(), new RegExp(`^\\* ${r2.id} `, 'm'));

    // Rollback to the first: its digest again, no build, a new record naming what it restores.
    const back = await ciRun(app, 'rollback', ['--env', 'staging', '--to', r1.id]);
    assert.equal(back.code, EXIT.ok, back.stderr);
    assert.ok(!back.lines.some((l) => l.step === 'build'), 'a rollback built something');
    const r3 = back.result.record as DeployRecord;
    assert.equal(r3.trigger, 'rollback');
    assert.equal(r3.restores, r1.id);
    assert.equal(r3.image.digest, r1.image.digest);
    for (const d of await deployments(app.staging)) assert.equal(d.spec.template.spec.containers[0].image, `${registry.host}/sample-app@${r1.image.digest}`);
    const unknown = await ciRun(app, 'rollback', ['--env', 'staging', '--to', 'd-20000101-000000-0000']);
    assert.equal(unknown.code, EXIT.usage);
    assert.match(unknown.result.error, /has no deploy d-20000101-000000-0000/);

    // Promote staging → production: the digest staging runs now (the rolled-back one).
    controllers.push(simulateControllers(client, app.production, { intervalMs: 50 }));
    await applyEnv(app, 'production');
    const promoted = await ciRun(app, 'promote', ['--from', 'staging', '--to', 'production']);
    assert.equal(promoted.code, EXIT.ok, promoted.stderr);
    const r4 = promoted.result.record as DeployRecord;
    assert.equal(r4.trigger, 'promote');
    assert.deepEqual(r4.promotedFrom, { environment: 'staging', deployId: r3.id });
    assert.equal(r4.image.digest, r1.image.digest);
    // One app model, whatever the environment: no warning that the image was built for another.
    assert.equal(r4.appModelHash, r1.appModelHash);
    assert.deepEqual(promoted.result.notes, []);
    assert.deepEqual(back.result.notes, []);
    for (const d of await deployments(app.production)) assert.equal(d.spec.template.spec.containers[0].image, `${registry.host}/sample-app@${r1.image.digest}`);

    const stored = await history(app.staging);
    assert.deepEqual(stored.records.map((r) => r.id), [r1.id, r2.id, r3.id]);
    assert.deepEqual(stored.problems, []);

    // The environment's app model changed since its last apply (now Production): apply first, with the differences.
    const file = path.join(app.dir, 'encore.environments.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.environments[0].type = 'production';
    writeFileSync(file, JSON.stringify(doc));
    const refused = await ciRun(app, 'deploy', ['--env', 'staging']);
    assert.equal(refused.code, EXIT.applyFirst, refused.stderr);
    assert.match(refused.result.error, /was last applied for a different app model: apply first/);
    assert.match(refused.result.error, /\n {2}(create|update) k8s:/);
    assert.equal((await history(app.staging)).records.length, 3, 'a refused deploy was recorded');
  } finally {
    for (const c of controllers) await c.stop();
  }
});

test('a rollout stuck past its progress deadline fails the deploy and names the service and why', async () => {
  const app = sampleApp();
  const controllers = simulateControllers(client, app.staging, { intervalMs: 50 });
  await applyEnv(app, 'staging');
  await controllers.stop();
  const running = ciRun(app, 'deploy', ['--env', 'staging', '--rollout-timeout', '60']);
  // Play the controller until the deploy ends: each Deployment on the new image gets the status of its current
  // generation; the first one is stuck past its progress deadline, the others roll out.
  let done = false;
  void running.finally(() => (done = true));
  let stuck: string | undefined;
  while (!done) {
    const live = await deployments(app.staging);
    stuck ??= live.length > 0 ? (live[0]!.metadata.name as string) : undefined;
    for (const d of live) {
      if (!String(d.spec.template.spec.containers[0].image).includes('@sha256:')) continue;
      const n = d.spec.replicas ?? 1;
      const status = d.metadata.name === stuck
        ? { observedGeneration: d.metadata.generation, replicas: n, updatedReplicas: n, availableReplicas: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${stuck}-7d9f" has timed out progressing.` }] }
        : { observedGeneration: d.metadata.generation, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n };
      if (JSON.stringify(d.status?.observedGeneration) !== JSON.stringify(status.observedGeneration) || (d.status?.availableReplicas ?? -1) !== status.availableReplicas) {
        await client.mergePatch('apps/v1', 'Deployment', app.staging, d.metadata.name, { status }, 'status');
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const failed = await running;
  assert.equal(failed.code, EXIT.failure, failed.stderr);
  // Failed by the controller's condition, not by the watch running out of time.
  assert.doesNotMatch(failed.stderr, /did not roll out within/);
  assert.match(failed.stderr, new RegExp(`deployment "${stuck}" exceeded its progress deadline: ReplicaSet "${stuck}-7d9f" has timed out progressing`));
  const record = failed.result.record as DeployRecord;
  assert.equal(record.result, 'failed');
  assert.match(record.message!, new RegExp(`"${stuck}"`));
  const stored = await history(app.staging);
  assert.deepEqual(stored.records.map((r) => [r.id, r.result]), [[record.id, 'failed']]);
});

/** Runs the built CLI's deploy --ci and SIGKILLs it once a progress line of `step` appears; resolves to its lines. */
function killAt(app: App, step: string): Promise<{ lines: Any[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'deploy', '--env', 'staging', '--ci', app.dir], { env: { ...app.deps.env, KUBECONFIG: kube.kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    let err = '';
    const lines: Any[] = [];
    let killed = false;
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const p of parts.filter(Boolean)) {
        const line = JSON.parse(p) as Any;
        lines.push(line);
        if (!killed && line.event === 'progress' && line.step === step) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('close', () => (lines.length === 0 ? reject(new Error(`the CLI printed nothing: ${err}`)) : resolve({ lines, killed })));
  });
}

test('a deploy killed at a step boundary, then run again: the lock is breakable, the history parseable, nothing recorded twice', async () => {
  const app = sampleApp();
  const controllers = simulateControllers(client, app.staging, { intervalMs: 50 });
  try {
    await applyEnv(app, 'staging');
    const ids: string[] = [];
    for (const step of ['build', 'digest', 'apply', 'rollout', 'record']) {
      const { killed, lines } = await killAt(app, step);
      assert.ok(killed, `the deploy never reached ${step}: ${JSON.stringify(lines.at(-1))}`);
      // The killed run's lock stays; its holder's process is gone, so unlock breaks it without --force.
      const again = await ciRun(app, 'deploy', ['--env', 'staging']);
      // Killed while it held the lock (every step but the last, whose release may have happened before the kill).
      if (step !== 'record') {
        assert.equal(again.code, EXIT.locked, `after a kill at ${step}: ${again.stderr}`);
        assert.match(again.stderr, /running deploy since/);
      }
      if (again.code === EXIT.locked) {
        const unlock = io();
        assert.equal(await runProvisionCommand('unlock', ['--env', 'staging', app.dir], unlock, app.deps), EXIT.ok, unlock.stderr());
        const third = await ciRun(app, 'deploy', ['--env', 'staging']);
        assert.equal(third.code, EXIT.ok, `after a kill at ${step}: ${third.stderr}`);
        ids.push((third.result.record as DeployRecord).id);
        if (step === 'rollout') assert.ok(third.lines.some((l) => /was interrupted before it was recorded/.test(l.message ?? '')), 'the interrupted deploy was not reported');
      } else {
        assert.equal(again.code, EXIT.ok, `after a kill at ${step}: ${again.stderr}`);
        ids.push((again.result.record as DeployRecord).id);
      }
      const stored = await history(app.staging);
      assert.deepEqual(stored.problems, []);
      assert.equal(new Set(stored.records.map((r) => r.id)).size, stored.records.length, 'a deploy was recorded twice');
      // Each re-run's deploy is there once; a killed run is there at most once (killed after its record was written).
      for (const id of ids) assert.equal(stored.records.filter((r) => r.id === id).length, 1, id);
      assert.ok(stored.records.length <= ids.length * 2, `${stored.records.length} records for ${ids.length * 2} runs`);
      // Every Deployment runs the digest of the last recorded deploy: no mix.
      const current = stored.records.at(-1)!;
      for (const d of await deployments(app.staging)) assert.equal(d.spec.template.spec.containers[0].image, `${registry.host}/sample-app@${current.image.digest}`, `${d.metadata.name} after a kill at ${step}`);
    }
  } finally {
    await controllers.stop();
  }
});

test('a deploy cancelled during its build (Ctrl+C) exits 130, records nothing and releases the lock', async () => {
  const app = sampleApp();
  const controllers = simulateControllers(client, app.staging, { intervalMs: 50 });
  try {
    await applyEnv(app, 'staging');
    const controller = new AbortController();
    let out = '';
    let err = '';
    const cancelling: CliIO = {
      out: (t) => {
        out += t;
        // The stand-in's "hang" mode prints its lines and never ends: cancel on its first line, as Ctrl+C would.
        if (!controller.signal.aborted && /"stream":/.test(out)) controller.abort(new Error('cancelled with Ctrl+C'));
      },
      err: (t) => void (err += t),
      interactive: false,
      ask: () => Promise.reject(new Error('no questions')),
      signal: controller.signal,
    };
    const code = await runDeployCommand('deploy', ['--env', 'staging', '--ci', app.dir], cancelling, { ...app.deps, env: standinEnv({ DOCKER_CONFIG: path.join(app.dir, '.no-docker-config'), ENCORE_STANDIN_FAIL: 'hang' }) });
    assert.equal(code, EXIT.cancelled, err);
    assert.match(err, /cancelled with Ctrl\+C/);
    // Nothing recorded, the Deployments untouched, and the next deploy is not locked out.
    assert.equal(await client.find('v1', 'Secret', app.staging, HISTORY_SECRET), null);
    for (const d of await deployments(app.staging)) assert.doesNotMatch(String(d.spec.template.spec.containers[0].image), /@sha256:/);
    const next = await ciRun(app, 'deploy', ['--env', 'staging']);
    assert.equal(next.code, EXIT.ok, next.stderr);
  } finally {
    await controllers.stop();
  }
});
