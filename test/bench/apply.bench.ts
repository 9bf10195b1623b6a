// Apply (issue 5): with 50 ms injected latency per API call, the wall time of an apply's steps is at most 1.15× the
// critical path of its graph. The sample app's development graph is applied to the real test kube-apiserver through
// the fault proxy (test/kube/faultProxy.ts) by the engine, the Kubernetes driver and the Secret + Lease state
// backend, with no bound on concurrency (one slot per resource). Readiness comes from the simulated controllers,
// which talk to the server directly (a cluster's controllers are not behind our client's latency).
//
// Each step's duration is measured from its progress events (start → done). The critical path is the longest chain
// of the graph's dependencies (dependsOn plus the `${id.attr}` references the engine also waits for) summed over
// those measured durations, so it is what a scheduler with no overhead would take with the same API calls. Wall is
// first step start → last step done; total also counts preflight, the lock, the plan's live reads and the last
// state write. Figures are the run with the median ratio.
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { outputRefs, type DesiredGraph } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { apply } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { kubernetesStateBackend } from '../../src/provisioning/providers/kubernetes/driver';
import { simulateControllers } from '../integration/kubeControllers';
import { startFaultProxy, type FaultProxy } from '../kube/faultProxy';
import { kubeDriver, startTestKube, uniqueName, type TestKube } from '../kube/harness';

const LATENCY_MS = 50;
/** Readiness polling by the driver and the simulated controllers: well under the latency, so neither dominates. */
const POLL_MS = 20;
const RUNS = Number(process.env.BENCH_APPLY_RUNS ?? 3);

interface RunFigures {
  critical_path_ms: number;
  critical_path_steps: number;
  steps_wall_ms: number;
  total_apply_ms: number;
  ratio: number;
  api_calls: number;
  state_writes: number;
  max_concurrent_steps: number;
}

/** The longest chain of `durations` along the graph's dependencies, and its resources (first to last). */
export function criticalPath(graph: DesiredGraph, durations: Map<string, number>): { ms: number; chain: string[] } {
  const ids = new Set(graph.resources.map((r) => r.id));
  const deps = new Map(graph.resources.map((r) => [r.id, [...new Set([...r.dependsOn, ...outputRefs(r.settings).map((ref) => ref.id)])].filter((d) => ids.has(d))]));
  const finish = new Map<string, { ms: number; chain: string[] }>();
  const visit = (id: string, seen: Set<string>): { ms: number; chain: string[] } => {
    const known = finish.get(id);
    if (known) return known;
    if (seen.has(id)) throw new Error(`dependency cycle through ${id}`);
    seen.add(id);
    const longest = (deps.get(id) ?? []).map((d) => visit(d, seen)).reduce((a, b) => (b.ms > a.ms ? b : a), { ms: 0, chain: [] as string[] });
    const f = { ms: longest.ms + (durations.get(id) ?? 0), chain: [...longest.chain, id] };
    finish.set(id, f);
    return f;
  };
  return graph.resources.map((r) => visit(r.id, new Set())).reduce((a, b) => (b.ms > a.ms ? b : a), { ms: 0, chain: [] as string[] });
}

async function runOnce(proxy: FaultProxy, direct: KubeClient, graphOf: (env: Environment) => DesiredGraph): Promise<RunFigures> {
  const namespace = uniqueName('bench');
  const env: Environment = { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };
  const graph = graphOf(env);
  const driver = await kubeDriver(env, { appRoot: path.join(__dirname, '..', '..'), kubeconfig: proxy.kubeconfigPath, pollIntervalMs: POLL_MS });
  const backend = await kubernetesStateBackend(driver, { leaseDurationSeconds: 30 });
  const controllers = simulateControllers(direct, namespace, { intervalMs: POLL_MS });
  const started = new Map<string, number>();
  const done = new Map<string, number>();
  let running = 0;
  let maxRunning = 0;
  const firstCall = proxy.calls.length;
  try {
    const t0 = performance.now();
    const { result } = await apply(graph, {
      backend,
      driver,
      concurrency: graph.resources.length,
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
    if (result.outcome !== 'succeeded') throw new Error(`the benchmark's apply ${result.outcome}: ${result.error ?? JSON.stringify(result.failed)}`);
    if (done.size !== graph.resources.length) throw new Error(`${done.size} of ${graph.resources.length} steps finished`);
    const durations = new Map([...done].map(([id, end]) => [id, end - started.get(id)!]));
    const critical = criticalPath(graph, durations);
    const wall = Math.max(...done.values()) - Math.min(...started.values());
    const calls = proxy.calls.slice(firstCall).filter((c) => c.path.includes(`/namespaces/${namespace}`));
    if (process.env.BENCH_APPLY_VERBOSE) console.error(critical.chain.map((id) => `${id} ${Math.round(durations.get(id)!)} ms`).join(' → '));
    return {
      critical_path_ms: Math.round(critical.ms),
      critical_path_steps: critical.chain.length,
      steps_wall_ms: Math.round(wall),
      total_apply_ms: Math.round(total),
      ratio: Number((wall / critical.ms).toFixed(3)),
      api_calls: calls.length,
      state_writes: calls.filter((c) => /\/secrets\/encore-environments-state$/.test(c.path) && c.method !== 'GET').length,
      max_concurrent_steps: maxRunning,
    };
  } finally {
    await controllers.stop();
  }
}

export async function benchApply(): Promise<Record<string, number>> {
  const model = new AppAnalyzer(path.join(__dirname, '..', '..', 'examples', 'sample-app')).analyze();
  const graphOf = (env: Environment) => desiredGraph(model, env, { appId: 'sample-app' });
  let kube: TestKube | undefined;
  let proxy: FaultProxy | undefined;
  try {
    kube = await startTestKube();
    proxy = await startFaultProxy(kube, { latencyMs: LATENCY_MS });
    const direct = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
    const runs: RunFigures[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await runOnce(proxy, direct, graphOf));
    const sorted = [...runs].sort((a, b) => a.ratio - b.ratio);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const resources = graphOf({ name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace: 'x' } }).resources.length;
    return {
      resources,
      latency_ms: LATENCY_MS,
      concurrency: resources,
      poll_ms: POLL_MS,
      runs: runs.length,
      ...median,
      ratio_min: sorted[0]!.ratio,
      ratio_max: sorted[sorted.length - 1]!.ratio,
      ratio_limit: 1.15,
    };
  } finally {
    await proxy?.close();
    await kube?.stop();
  }
}
