// Deploy (issue 11): the time a deploy adds around the build, for the sample app against a real local registry
// (crane registry serve) and the real test kube-apiserver, through `encore-env deploy --ci` in process with the
// stand-in `encore` on its PATH. The controllers are played by the test at a 10 ms tick, so a rollout is seen as
// soon as the watch looks ("the status written at once"). Per run: total (the command's start to its result line),
// build (the first build line to the first digest line: the encore CLI's build and push, which the product does
// not control), and the rest, the deploy's own share: preflight (revision, encore version, lock, identity, the
// "apply first" plan against state), the digest read, the Deployments applied, the rollout watch and the record.
// Goal: the deploy's own share ≤ 1.5 s median. BENCH_DEPLOY_RUNS (default 5) deploys after one untimed apply.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDeployCommand } from '../../src/cli/deploy/commands';
import { EXIT } from '../../src/cli/exitCodes';
import { runProvisionCommand, type CliIO } from '../../src/cli/provision/commands';
import type { Environment } from '../../src/model/environment';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { startRegistry } from '../../scripts/registry.mjs';
import { standinEnv } from '../deploy/encoreStandin';
import { simulateControllers } from '../integration/kubeControllers';
import { startTestKube, uniqueName } from '../kube/harness';

const RUNS = Number(process.env.BENCH_DEPLOY_RUNS ?? 5);
const GOAL_MS = 1500;
const GIT = ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false'];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function io(onLine?: (line: string) => void): CliIO & { stderr: () => string } {
  let err = '';
  let buffer = '';
  return {
    out: (t) => {
      buffer += t;
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) if (line) onLine?.(line);
    },
    err: (t) => void (err += t),
    interactive: false,
    ask: () => Promise.reject(new Error('no questions in the benchmark')),
    signal: new AbortController().signal,
    stderr: () => err,
  };
}

export async function benchDeploy(): Promise<Record<string, number>> {
  const repo = path.join(__dirname, '..', '..');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-deploy-'));
  const [kube, registry] = await Promise.all([startTestKube(), startRegistry()]);
  const client = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const namespace = uniqueName('bdeploy');
  const controllers = simulateControllers(client, namespace, { intervalMs: 10 });
  try {
    const dir = path.join(tmp, 'app');
    cpSync(path.join(repo, 'examples', 'sample-app'), dir, { recursive: true });
    const env: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace, registry: `${registry.host}/sample-app` } };
    writeFileSync(path.join(dir, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
    writeFileSync(path.join(dir, '.gitignore'), '.encore/\nnode_modules/\n');
    const git = (...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd: dir, env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'the sample app');
    const deps = { provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 20 } }, env: standinEnv({ DOCKER_CONFIG: path.join(dir, '.no-docker-config') }), rolloutPollMs: 20 };
    const applied = io();
    if ((await runProvisionCommand('apply', ['--env', 'staging', '--yes', dir], applied, deps)) !== EXIT.ok) throw new Error(`apply failed: ${applied.stderr()}`);

    const totals: number[] = [];
    const builds: number[] = [];
    const own: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let buildStart: number | undefined;
      let digestStart: number | undefined;
      const started = performance.now();
      const run = io((line) => {
        const e = JSON.parse(line) as { event: string; step?: string };
        if (e.event !== 'progress') return;
        if (e.step === 'build') buildStart ??= performance.now();
        if (e.step === 'digest') digestStart ??= performance.now();
      });
      const code = await runDeployCommand('deploy', ['--env', 'staging', '--ci', dir], run, deps);
      const total = performance.now() - started;
      if (code !== EXIT.ok || buildStart === undefined || digestStart === undefined) throw new Error(`deploy ${i + 1} failed (${code}): ${run.stderr()}`);
      totals.push(total);
      builds.push(digestStart - buildStart);
      own.push(total - (digestStart - buildStart));
    }
    const ownMedian = median(own);
    return {
      runs: RUNS,
      deploy_own_median_ms: Math.round(ownMedian),
      deploy_own_max_ms: Math.round(Math.max(...own)),
      build_median_ms: Math.round(median(builds)),
      total_median_ms: Math.round(median(totals)),
      goal_ms: GOAL_MS,
      goal_met: ownMedian <= GOAL_MS ? 1 : 0,
    };
  } finally {
    await controllers.stop();
    client.close();
    await Promise.all([kube.stop(), registry.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }
}
