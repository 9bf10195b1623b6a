// encore-env plan, apply, destroy and unlock on a copy of the sample app: in-process on the in-memory test cloud for
// the engine's paths, and through the real entry point for what needs no cluster.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { EXIT } from '../../src/cli/exitCodes';
import { runProvisionCommand, type CliIO } from '../../src/cli/provision/commands';
import type { ProvisionDeps } from '../../src/cli/provision/context';
import type { Plan } from '../../src/model/plan';
import { LocalFileBackend } from '../../src/provisioning/state';
import { MemoryCloud, memoryProvider } from './engineCloud';

const repo = path.join(__dirname, '..', '..');

function sampleCopy() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-provision-'));
  cpSync(path.join(repo, 'examples', 'sample-app'), dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'encore.environments.json'),
    JSON.stringify({
      environments: [
        { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev' } },
        { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1' } },
        { name: 'gprod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1' } },
      ],
    }),
  );
  const cloud = new MemoryCloud();
  const deps: ProvisionDeps = { providers: memoryProvider(cloud) };
  return { dir, cloud, deps, done: () => rmSync(dir, { recursive: true, force: true }) };
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(deps: ProvisionDeps, args: string[], io: Partial<CliIO> & { answers?: string[] } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const [command, ...rest] = args;
  const code = await runProvisionCommand(command as 'plan', rest, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    interactive: false,
    ask: async (q) => {
      err += q;
      return io.answers?.shift() ?? '';
    },
    signal: new AbortController().signal,
    ...io,
  }, deps);
  return { code, out, err };
}

test('plan --offline --json prints the plan of the sample app; --detailed-exitcode says there are changes', async () => {
  const s = sampleCopy();
  try {
    const r = await cli(s.deps, ['plan', '--env', 'dev', '--offline', '--json', s.dir]);
    assert.equal(r.code, EXIT.ok, r.err);
    const plan = JSON.parse(r.out) as Plan & { stateFrom: string };
    assert.equal(plan.offline, true);
    assert.equal(plan.environment, 'dev');
    assert.match(plan.stateFrom, /\.encore[/\\]state[/\\]dev/, 'where the recorded state was read');
    assert.deepEqual(plan.counts, { create: 46, update: 0, delete: 0, keep: 0 });
    assert.equal(s.cloud.calls.length, 0, 'offline reaches nothing');
    assert.equal((await cli(s.deps, ['plan', '--env=dev', '--offline', '--detailed-exitcode', s.dir])).code, EXIT.changes);
  } finally {
    s.done();
  }
});

test('apply --yes provisions the environment with progress on stderr and a summary on stdout; then nothing is left to change', async () => {
  const s = sampleCopy();
  try {
    const r = await cli(s.deps, ['apply', '--env', 'dev', '--yes', s.dir]);
    assert.equal(r.code, EXIT.ok, r.err);
    assert.match(r.err, /^Acting as tester \(the in-memory test cloud\)\.\nPlan for environment "dev" \(the in-memory test cloud\): 46 to create, 0 to update, 0 to delete, 0 unchanged\./);
    assert.match(r.err, /\n {2}\+ k8s:namespace {2}namespace dev in context kind-dev\n {6}new in the app\n/);
    assert.match(r.err, /\n\[1\/46\] creating Namespace dev…\n/);
    assert.match(r.err, /\n\[\d+\/46\] ✓ Deployment orders created\n/);
    assert.match(r.out, /^Apply of "dev" finished in \d+\.\d s: 46 done\.\n$/);
    assert.equal(s.cloud.objects().length, 46);
    const secrets = s.cloud.objects().flatMap((o) => Object.values(o.secrets));
    assert.ok(secrets.length >= 4);
    for (const v of secrets) assert.ok(!r.out.includes(v) && !r.err.includes(v), 'no generated secret is printed');
    const stateDir = path.join(s.dir, '.encore', 'state', 'dev');
    assert.deepEqual(readdirSync(stateDir).sort(), ['journal.jsonl', 'state.json']);
    for (const f of readdirSync(stateDir)) for (const v of secrets) assert.ok(!readFileSync(path.join(stateDir, f), 'utf8').includes(v));

    const again = await cli(s.deps, ['plan', '--env', 'dev', '--detailed-exitcode', s.dir]);
    assert.equal(again.code, EXIT.ok);
    assert.match(again.out, /0 to create, 0 to update, 0 to delete, 46 unchanged\.\n\nNo changes: the environment matches the app\.\n$/);
    const reapply = await cli(s.deps, ['apply', '--env', 'dev', '--yes', '--json', s.dir]);
    assert.equal(reapply.code, EXIT.ok);
    const { plan, result } = JSON.parse(reapply.out) as { plan: Plan; result: { outcome: string; done: string[] } };
    assert.equal(plan.counts.keep, 46);
    assert.deepEqual([result.outcome, result.done], ['succeeded', []]);
  } finally {
    s.done();
  }
});

test('apply asks on a terminal and goes ahead only on "yes"; without a terminal it needs --yes', async () => {
  const s = sampleCopy();
  try {
    const declined = await cli(s.deps, ['apply', '--env', 'dev', s.dir], { interactive: true, answers: ['y'] });
    assert.equal(declined.code, EXIT.confirmation);
    assert.match(declined.err, /46 to create[\s\S]*\nApply these changes to "dev"\? Only "yes" goes ahead: Nothing was changed\.\n$/);
    assert.equal(s.cloud.objects().length, 0);

    const noTty = await cli(s.deps, ['apply', '--env', 'dev', s.dir]);
    assert.equal(noTty.code, EXIT.confirmation);
    assert.equal(noTty.err, 'encore-env apply: apply changes environment "dev" and there is no terminal to ask for a confirmation in: review "encore-env plan --env dev", then run apply with --yes\n');

    const accepted = await cli(s.deps, ['apply', '--env', 'dev', s.dir], { interactive: true, answers: ['yes'] });
    assert.equal(accepted.code, EXIT.ok, accepted.err);
    assert.equal(s.cloud.objects().length, 46);
  } finally {
    s.done();
  }
});

test('destroy needs --confirm with the environment\'s name, lists what holds data, and removes everything', async () => {
  const s = sampleCopy();
  try {
    assert.equal((await cli(s.deps, ['apply', '--env', 'dev', '--yes', s.dir])).code, EXIT.ok);
    const missing = await cli(s.deps, ['destroy', '--env', 'dev', s.dir]);
    assert.equal(missing.code, EXIT.confirmation);
    assert.equal(missing.err, 'encore-env destroy: destroy deletes everything recorded for environment "dev", data included, and needs a typed confirmation. Nothing was changed. To go ahead: --confirm dev\n');
    const wrong = await cli(s.deps, ['destroy', '--env', 'dev', '--confirm', 'prod', s.dir]);
    assert.equal(wrong.code, EXIT.confirmation);
    assert.match(wrong.err, /was confirmed with "prod", which is not its name/);
    assert.equal(s.cloud.objects().length, 46);

    const r = await cli(s.deps, ['destroy', '--env', 'dev', '--confirm', 'dev', s.dir]);
    assert.equal(r.code, EXIT.ok, r.err);
    // Who acts comes first, as at the top of every plan.
    assert.match(r.err, /^Acting as tester \(the in-memory test cloud\)\.\nDestroy plan for environment "dev" .*: 0 to create, 0 to update, 46 to delete, 0 unchanged\./);
    assert.match(r.err, /\nResources that hold data and would be deleted \(their data is lost; this needs --confirm dev\):\n {2}! /);
    assert.match(r.err, /\n {2}! database:orders {2}orders DB → /);
    assert.match(r.out, /^Destroy of "dev" finished in .*: 46 done\.\n$/);
    assert.equal(s.cloud.objects().length, 0);
  } finally {
    s.done();
  }
});

test('a locked environment exits 5 with the holder; unlock refuses a live holder unless forced', async () => {
  const s = sampleCopy();
  try {
    const backend = LocalFileBackend.forApp(s.dir, 'dev');
    const held = await backend.acquireLock({ user: 'alice', host: os.hostname(), pid: process.pid, startedAt: '2026-05-01T10:00:00.000Z', operation: 'destroy' });
    const r = await cli(s.deps, ['apply', '--env', 'dev', '--yes', s.dir]);
    assert.equal(r.code, EXIT.locked);
    assert.match(r.err, new RegExp(`^encore-env apply: environment "dev" is locked by alice on .+ \\(pid ${process.pid}\\), running destroy since 2026-05-01T10:00:00\\.000Z\\. Wait for it to finish`));
    assert.equal(s.cloud.objects().length, 0);

    const refused = await cli(s.deps, ['unlock', '--env', 'dev', s.dir]);
    assert.equal(refused.code, EXIT.locked);
    assert.match(refused.err, /It was left in place; force it only if you know that run has stopped\./);
    const forced = await cli(s.deps, ['unlock', '--env', 'dev', '--force', s.dir]);
    assert.equal(forced.code, EXIT.ok);
    assert.match(forced.out, new RegExp(`^Broke the lock of alice on .+ \\(pid ${process.pid}\\), running destroy since 2026-05-01T10:00:00\\.000Z \\(forced\\)\\.\\n$`));
    assert.equal((await cli(s.deps, ['unlock', '--env', 'dev', s.dir])).out, 'Environment "dev" is not locked.\n');
    await held.release();
  } finally {
    s.done();
  }
});

test('a failed step exits 1 and says how to continue; Ctrl+C exits 130 after cancelling the step in flight', async () => {
  const s = sampleCopy();
  try {
    s.cloud.failOn('k8s:statefulset:encore-postgres-users', 'waitReady', () => new Error('PVC pending: no default StorageClass'));
    const r = await cli(s.deps, ['apply', '--env', 'dev', '--yes', s.dir]);
    assert.equal(r.code, EXIT.failure);
    assert.match(r.err, /\n\[\d+\/46\] ✗ StatefulSet encore-postgres-users: PVC pending: no default StorageClass\n/);
    assert.match(r.err, /\n\[\d+\/46\] - database:users not started: k8s:statefulset:encore-postgres-users failed\n/);
    assert.match(r.out, /^Apply of "dev" failed after .*: \d+ done, 1 failed, \d+ not started\.\n {2}✗ k8s:statefulset:encore-postgres-users: PVC pending: no default StorageClass\n {2}State records what was done; fix the cause and run it again: it continues where it stopped\.\n$/);

    s.cloud.failures.clear();
    s.cloud.hang.add('k8s:statefulset:encore-postgres-users');
    const controller = new AbortController();
    let err = '';
    const cancelled = await cli(s.deps, ['apply', '--env', 'dev', '--yes', s.dir], {
      signal: controller.signal,
      err: (t) => {
        err += t;
        if (t.includes('StatefulSet encore-postgres-users…')) setTimeout(() => controller.abort(new Error('cancelled with Ctrl+C')), 10);
      },
    });
    assert.equal(cancelled.code, EXIT.cancelled, err);
    assert.match(cancelled.out, /^Apply of "dev" was cancelled after .*: 0 done, 1 interrupted, 9 not started\. Run it again to finish\.\n {2}✗ k8s:statefulset:encore-postgres-users: cancelled \(cancelled with Ctrl\+C\)\n$/);
  } finally {
    s.done();
  }
});

test('usage errors exit 2 and say what is wrong', async () => {
  const s = sampleCopy();
  try {
    const cases: [string[], RegExp][] = [
      [['plan', s.dir], /^encore-env plan: --env NAME is required/],
      [['plan', '--env', 'dev', '--bogus', s.dir], /^encore-env plan: unknown option --bogus\n$/],
      [['apply', '--env'], /^encore-env apply: --env needs a value\n$/],
      [['plan', '--env', 'staging', s.dir], /there is no environment "staging" in .*encore\.environments\.json; it has dev, prod, gprod\n$/],
      [['plan', '--env', 'dev', s.dir, 'extra'], /^encore-env plan: unexpected extra\n$/],
      [['apply', '--env', 'dev', '--yes', '--concurrency', '0', s.dir], /--concurrency needs a whole number from 1 to 64/],
      [['apply', '--env', 'dev', '--yes', '--concurrency', '99999999', s.dir], /--concurrency needs a whole number from 1 to 64/],
      [['apply', '--env', 'dev', '--yes', '--concurrency', '1e3', s.dir], /--concurrency needs a whole number from 1 to 64/],
      [['apply', '--env', 'staging', '--yes', '--env', 'prod', s.dir], /^encore-env apply: --env is given twice; give it once\n$/],
      [['apply', '--env', 'dev', '--yes', '--yes', s.dir], /^encore-env apply: --yes is given twice/],
      [['plan', '--env', 'dev', '-x'], /^encore-env plan: unknown option -x\n$/],
      [['destroy', '--env', 'nope', s.dir], /there is no environment "nope"/],
      [['destroy', '--env', 'nope', '--confirm', 'nope', s.dir], /there is no environment "nope"/],
      [['plan', '--env', 'dev', path.join(s.dir, 'nope')], /does not exist\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(s.deps, args);
      assert.equal(r.code, EXIT.usage, args.join(' '));
      assert.match(r.err, message);
    }
    // DIR may be a folder inside the app.
    assert.equal((await cli(s.deps, ['plan', '--env', 'dev', '--offline', path.join(s.dir, 'orders')])).code, EXIT.ok);
  } finally {
    s.done();
  }
});

test('a cloud provider without credentials exits 3 and says how to make them (the real provider registry)', async () => {
  const s = sampleCopy();
  const saved = { ...process.env };
  // No ADC anywhere, and no probe of a metadata server from a test.
  Object.assign(process.env, { METADATA_SERVER_DETECTION: 'none', CLOUDSDK_CONFIG: path.join(s.dir, 'no-gcloud') });
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  try {
    const r = await cli({}, ['apply', '--env', 'gprod', '--yes', s.dir]);
    assert.equal(r.code, EXIT.unavailable);
    assert.match(r.err, /^encore-env apply: No Google Cloud credentials were found: .*gcloud auth application-default login/);
    const offline = await cli({}, ['plan', '--env', 'prod', '--offline', '--state-dir', path.join(s.dir, 'state'), s.dir]);
    assert.equal(offline.code, EXIT.ok, 'an offline plan needs no driver');
    assert.match(offline.out, /^Plan for environment "prod" \(offline, state from .*\): \d+ to create/);
  } finally {
    for (const key of ['METADATA_SERVER_DETECTION', 'CLOUDSDK_CONFIG', 'GOOGLE_APPLICATION_CREDENTIALS']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    s.done();
  }
});

test('the real entry point: help documents the exit codes, plan --offline works, and apply of a GCP environment without credentials exits 3', () => {
  const s = sampleCopy();
  try {
    const env = { ...process.env, METADATA_SERVER_DETECTION: 'none', CLOUDSDK_CONFIG: path.join(s.dir, 'no-gcloud'), GOOGLE_APPLICATION_CREDENTIALS: '' };
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), ...args], { cwd: repo, encoding: 'utf8', env });
    const help = run('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /encore-env plan --env NAME \[--offline\] \[--json\] \[--detailed-exitcode\] \[DIR\]/);
    assert.match(help.stdout, /4 plan --detailed-exitcode found changes, 5 the environment is locked by another apply or\ndestroy, 6 a confirmation is missing or wrong/);
    // --state-dir pins the local backend: the provider's own (in the cluster) would need a reachable cluster.
    const plan = run('plan', '--env', 'dev', '--offline', '--state-dir', path.join(s.dir, 'state'), s.dir);
    assert.equal(plan.status, 0, plan.stderr);
    assert.match(plan.stdout, /^Plan for environment "dev" \(offline, state from .*\): 46 to create, 0 to update, 0 to delete, 0 unchanged\.\n {2}note: offline:/);
    const gcp = run('apply', '--env', 'gprod', '--yes', s.dir);
    assert.equal(gcp.status, 3);
    assert.match(gcp.stderr, /No Google Cloud credentials were found/);
  } finally {
    s.done();
  }
});

test('each command analyses the app once, sizing questions and plan included', async () => {
  const s = sampleCopy();
  try {
    const prod = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1' } };
    writeFileSync(path.join(s.dir, 'encore.environments.json'), JSON.stringify({ environments: [JSON.parse(readFileSync(path.join(s.dir, 'encore.environments.json'), 'utf8')).environments[0], prod] }));
    let analyses = 0;
    const deps: ProvisionDeps = { ...s.deps, analyze: (root) => (analyses++, new AppAnalyzer(root).analyze()) };
    for (const args of [['plan', '--env', 'prod', '--offline'], ['plan', '--env', 'dev'], ['apply', '--env', 'dev', '--yes'], ['destroy', '--env', 'dev', '--confirm', 'dev']]) {
      analyses = 0;
      const r = await cli(deps, [...args, s.dir], { interactive: true, answers: Array(40).fill('') });
      assert.equal(r.code, EXIT.ok, `${args.join(' ')}: ${r.err}`);
      assert.ok(analyses <= 1, `${args.join(' ')} analysed the app ${analyses} times`);
    }
  } finally {
    s.done();
  }
});
