// Issue 5's figure: a plan of 500 resources in ≤ 50 ms. What is timed is what `encore-env plan` does once the app
// is analysed: the planner (AppModel × Environment → DesiredGraph), reading the recorded state of every resource
// (the local backend's file), and the diff with reasons and changed fields. Two shapes of the same environment:
// - offline: against recorded state alone (`plan --offline`);
// - live: with a live read of every resource from a zero-latency in-memory cloud, so only the engine's own work
//   (the bounded read pool, drift detection) is timed; the cluster's latency is the apply bench's business.
// The app is the synthetic generator's, grown until its development graph on Kubernetes has ≥ 500 resources, and
// analysed for real (not timed). The recorded state comes from a real apply of that graph into the memory cloud.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { AppModel } from '../../src/model/appModel';
import type { Environment } from '../../src/model/environment';
import { diffPlan, planChanges } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { scratch } from '../unit/engineGraphs';
import { generateSyntheticApp } from './synthetic-app';

const TARGET = 500;
const BUDGET_MS = 50;
const ROUNDS = Number(process.env.PLAN_ROUNDS ?? 30);
const ENV: Environment = { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev' } };

export async function benchPlan(): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-bench-plan-'));
  const s = scratch();
  try {
    const model = appWithAtLeast(dir, TARGET);
    const graph = desiredGraph(model, ENV);
    const applied = await s.apply(graph, { concurrency: 64 });
    if (applied.result.outcome !== 'succeeded') throw new Error(`the apply that records state failed: ${applied.result.error ?? JSON.stringify(applied.result.failed)}`);

    const offline: number[] = [];
    const live: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A structurally equal copy is a new model object, so the planner cannot reuse anything between rounds.
      const fresh = structuredClone(model);
      let t = performance.now();
      const offlinePlan = diffPlan(desiredGraph(fresh, ENV), await s.backend.load(), null);
      offline.push(performance.now() - t);
      t = performance.now();
      const livePlan = await planChanges(desiredGraph(fresh, ENV), await s.backend.load(), s.driver);
      live.push(performance.now() - t);
      for (const p of [offlinePlan, livePlan]) {
        if (p.counts.keep !== graph.resources.length) throw new Error(`a plan right after the apply changes something: ${JSON.stringify(p.counts)}`);
      }
    }
    const result = {
      resources: graph.resources.length,
      offline_plan_ms_median: percentile(offline, 0.5),
      offline_plan_ms_p90: percentile(offline, 0.9),
      live_plan_ms_median: percentile(live, 0.5),
      live_plan_ms_p90: percentile(live, 0.9),
      budget_ms: BUDGET_MS,
      rounds: ROUNDS,
      load_avg_1m: Number(os.loadavg()[0].toFixed(2)),
    };
    if (result.offline_plan_ms_median > BUDGET_MS || result.live_plan_ms_median > BUDGET_MS) {
      console.error(`plan bench: over the ${BUDGET_MS} ms budget for ${result.resources} resources`);
      process.exitCode = 1;
    }
    return result;
  } finally {
    s.done();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Grows the synthetic app one service at a time until its graph has `target` resources. */
function appWithAtLeast(dir: string, target: number): AppModel {
  for (let services = 5; services <= 200; services += 5) {
    const appDir = path.join(dir, `s${services}`);
    const { root } = generateSyntheticApp(appDir, { services, seed: 1 });
    const model = new AppAnalyzer(root).analyze();
    if (model.diagnostics.some((d) => d.severity === 'error')) throw new Error('the synthetic app has error diagnostics');
    if (desiredGraph(model, ENV).resources.length >= target) return model;
    rmSync(appDir, { recursive: true, force: true });
  }
  throw new Error(`no synthetic app of up to 200 services plans ${target} resources`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2));
}
