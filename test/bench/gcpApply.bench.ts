// BENCH=gcp-apply (issue 12): the sample app's GCP Production graph applied through the GCP provider module as the
// CLI opens it: the real Google clients to the fakes of test/gcp (sampleEnvironment.ts: proto-driven gRPC fakes,
// the REST fakes, pstest and fake-gcs-server), the in-cluster half to the real test kube-apiserver reached as the
// GKE cluster with the ADC access token. The fakes' long-running operations are given GCP's typical creation times
// scaled down by one factor (GKE 8 min, Cloud SQL 10, Memorystore 5: `operationTakes` in faults.ts, done at that
// deadline and not before, however often polled); every other operation is done at its first poll, and the driver
// polls at its own interval (10 s) scaled by the same factor.
//
// As BENCH=aws-apply: each step's duration from its progress events, the critical path the longest dependency chain
// over those durations (criticalPath in apply.bench.ts), the goal wall ≤ 1.05 × critical path; two runs, the
// engine's default concurrency and one slot per resource; the nominal critical path (the scaled typical times alone)
// beside it. Then the plan of the same graph with live reads against the fakes.
import '../gcp/tls';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredGraph } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { apply, planChanges } from '../../src/provisioning/engine';
import { DEFAULT_CONCURRENCY } from '../../src/provisioning/engine/operation';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { playLoadBalancers } from '../aws/sampleEnvironment';
import type { Faults } from '../gcp/faults';
import { TEST_PROJECT, TEST_REGION } from '../gcp/harness';
import { startGcpEnvironmentBed, type GcpEnvironmentBed } from '../gcp/sampleEnvironment';
import { simulateControllers } from '../integration/kubeControllers';
import { criticalPath } from './apply.bench';

const SCALE = Number(process.env.BENCH_GCP_SCALE ?? 0.004);
const MIN = 60_000;
/** GCP's typical creation times, unscaled (ms), by the graph's resource type. */
const TYPICAL_BY_TYPE: Record<string, number> = {
  'container.googleapis.com/Cluster': 8 * MIN,
  'sqladmin.googleapis.com/Instance': 10 * MIN,
  'redis.googleapis.com/Instance': 5 * MIN,
};
/** The driver's production poll interval (10 s), scaled like the durations. */
const POLL_MS = Math.max(5, Math.round(10_000 * SCALE));
const GOAL = 1.05;

interface ApplyFigures {
  concurrency: number;
  critical_path_ms: number;
  critical_path_steps: number;
  nominal_critical_path_ms: number;
  steps_wall_ms: number;
  total_apply_ms: number;
  ratio: number;
  ratio_to_nominal: number;
  max_concurrent_steps: number;
}

const sample = () => new AppAnalyzer(path.join(__dirname, '..', '..', 'examples', 'sample-app')).analyze();
const envNamed = (name: string): Environment => ({ name, type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: TEST_PROJECT, region: TEST_REGION } });

/** The creating operations of the three slow services take their scaled typical time; every other one poll. */
function timeOperations(bed: GcpEnvironmentBed): void {
  const all: Faults[] = [bed.gke, bed.redis, bed.secrets, bed.registry, bed.sql, bed.iam, bed.compute].map((f) => f.faults);
  for (const f of all) f.operationPolls('*', 1);
  bed.gke.faults.operationTakes('CreateCluster', TYPICAL_BY_TYPE['container.googleapis.com/Cluster']! * SCALE);
  bed.sql.faults.operationTakes('SqlInstancesService.Insert', TYPICAL_BY_TYPE['sqladmin.googleapis.com/Instance']! * SCALE);
  bed.redis.faults.operationTakes('CreateInstance', TYPICAL_BY_TYPE['redis.googleapis.com/Instance']! * SCALE);
}

async function applyOnce(bed: GcpEnvironmentBed, dir: string, env: Environment, graph: DesiredGraph, concurrency: number | undefined): Promise<{ figures: ApplyFigures; plan: Record<string, number> }> {
  const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: POLL_MS } });
  const admin = KubeClient.fromKubeConfig(bed.kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, env.name);
  const lbs = playLoadBalancers(admin, env.name);
  const started = new Map<string, number>();
  const done = new Map<string, number>();
  let running = 0;
  let maxRunning = 0;
  try {
    const backend = await opened.state();
    await opened.driver.preflight(new AbortController().signal);
    const t0 = performance.now();
    const applied = await apply(graph, {
      backend, driver: opened.driver, concurrency, retry: { attempts: 2, baseDelayMs: 10 },
      onProgress: (e) => {
        if (e.phase === 'start') {
          started.set(e.resourceId, performance.now());
          maxRunning = Math.max(maxRunning, ++running);
        }
        if (e.phase === 'done' || e.phase === 'failed') {
          done.set(e.resourceId, performance.now());
          running--;
        }
      },
    });
    const total = performance.now() - t0;
    if (applied.result.outcome !== 'succeeded') throw new Error(`the benchmark's apply ${applied.result.outcome}: ${applied.result.error ?? JSON.stringify(applied.result.failed)}`);
    if (done.size !== graph.resources.length) throw new Error(`${done.size} of ${graph.resources.length} steps finished`);
    const durations = new Map([...done].map(([id, end]) => [id, end - started.get(id)!]));
    const critical = criticalPath(graph, durations);
    const nominal = criticalPath(graph, new Map(graph.resources.map((r) => [r.id, (TYPICAL_BY_TYPE[r.providerType] ?? 0) * SCALE])));
    const wall = Math.max(...done.values()) - Math.min(...started.values());
    if (process.env.BENCH_APPLY_VERBOSE) console.error(critical.chain.map((id) => `${id} ${Math.round(durations.get(id)!)} ms`).join(' → '));

    const p0 = performance.now();
    const plan = await planChanges(graph, await backend.load(), opened.driver);
    const planMs = performance.now() - p0;
    return {
      figures: {
        concurrency: concurrency ?? DEFAULT_CONCURRENCY,
        critical_path_ms: Math.round(critical.ms),
        critical_path_steps: critical.chain.length,
        nominal_critical_path_ms: Math.round(nominal.ms),
        steps_wall_ms: Math.round(wall),
        total_apply_ms: Math.round(total),
        ratio: Number((wall / critical.ms).toFixed(3)),
        ratio_to_nominal: Number((wall / nominal.ms).toFixed(3)),
        max_concurrent_steps: maxRunning,
      },
      plan: {
        plan_live_ms: Math.round(planMs),
        plan_live_changes: plan.counts.create + plan.counts.update + plan.counts.delete,
        plan_resources: graph.resources.length,
      },
    };
  } finally {
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
}

export async function benchGcpApply(): Promise<Record<string, number>> {
  const model = sample();
  // Two environments of the same shape (the same graph but for names), one per run, side by side in the fakes.
  const runs = [{ env: envNamed('prod'), concurrency: undefined as number | undefined }, { env: envNamed('prodwide'), concurrency: -1 }];
  const graphs = runs.map((r) => desiredGraph(model, r.env, { appId: 'sample-app' }));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-bench-gcp-'));
  let bed: GcpEnvironmentBed | undefined;
  try {
    bed = await startGcpEnvironmentBed();
    timeOperations(bed);
    const results: ApplyFigures[] = [];
    let plan: Record<string, number> = {};
    for (const [i, run] of runs.entries()) {
      const graph = graphs[i]!;
      const out = await applyOnce(bed, dir, run.env, graph, run.concurrency === -1 ? graph.resources.length : run.concurrency);
      results.push(out.figures);
      if (i === 0) plan = out.plan;
    }
    const [byDefault, wide] = results as [ApplyFigures, ApplyFigures];
    const prefixed = (prefix: string, f: ApplyFigures) => Object.fromEntries(Object.entries(f).map(([k, v]) => [`${prefix}_${k}`, v]));
    return {
      resources: graphs[0]!.resources.length,
      scale: SCALE,
      poll_ms: POLL_MS,
      ...prefixed('default', byDefault),
      ...prefixed('wide', wide),
      ratio_goal: GOAL,
      ...plan,
    };
  } finally {
    await bed?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
