// How long the Environments view takes to refresh for 20 environments of an app whose plans have 100+ resources
// each. It measures the pure part of a refresh, in this node process, without the vscode module: building the view's
// data (treeData.ts: buildTree, with the real planner) and walking it the way VS Code does when every node is
// expanded (getChildren for each node, then itemData, which getTreeItem maps one to one onto a vscode.TreeItem).
// Two figures:
// - cold: after the model changed (a new model object, so every environment is planned again);
// - warm: after an environments-file change that leaves the plans as they were (the planner cache hits).
// The app is the synthetic generator's with 5 services (every kind of infrastructure), analysed for real.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import { buildTree, itemData, type AppInput, type GraphFn, type TreeData } from '../../src/extension/tree/treeData';
import type { AppModel } from '../../src/model/appModel';
import type { Environment } from '../../src/model/environment';
import { generateSyntheticApp } from './synthetic-app';

const ENVIRONMENTS = 20;
const SERVICES = 5;
const ROUNDS = Number(process.env.TREE_ROUNDS ?? 30);

export async function benchTree(): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-bench-tree-'));
  try {
    const { root } = generateSyntheticApp(dir, { services: SERVICES, seed: 1 });
    const model = new AppAnalyzer(root).analyze();
    if (model.diagnostics.some((d) => d.severity === 'error')) throw new Error('the synthetic app has error diagnostics');
    const envs = environments();
    const counts = envs.map((e) => cachedGraphs(() => undefined)(model, e).resources.length);
    if (Math.min(...counts) < 100) throw new Error(`an environment has fewer than 100 resources (${Math.min(...counts)})`);
    const input = (m: AppModel): AppInput[] => [
      { root, description: 'app', environments: { ok: true, file: path.join(root, 'encore.environments.json'), environments: envs }, model: { kind: 'ready', model: m } },
    ];

    const cold: number[] = [];
    const warm: number[] = [];
    let nodes = 0;
    const graphFor = cachedGraphs(() => undefined);
    for (let round = 0; round < ROUNDS; round++) {
      // A structurally equal copy is a new model object, as after each encore/appModel answer.
      const fresh = structuredClone(model);
      cold.push(time(() => (nodes = refresh(input(fresh), graphFor))));
      warm.push(time(() => refresh(input(fresh), graphFor)));
    }
    return {
      environments: ENVIRONMENTS,
      resources_per_env_min: Math.min(...counts),
      resources_per_env_max: Math.max(...counts),
      nodes,
      cold_refresh_ms_median: median(cold),
      cold_refresh_ms_p90: percentile(cold, 0.9),
      warm_refresh_ms_median: median(warm),
      warm_refresh_ms_p90: percentile(warm, 0.9),
      rounds: ROUNDS,
      load_avg_1m: Number(os.loadavg()[0].toFixed(2)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One refresh: build the data, then every getChildren and getTreeItem of a fully expanded view. */
function refresh(apps: AppInput[], graphFor: GraphFn): number {
  const data = buildTree(apps, graphFor);
  return walk(data, '');
}

function walk(data: TreeData, id: string): number {
  let n = 0;
  for (const child of data.children.get(id) ?? []) {
    const node = data.nodes.get(child);
    if (!node) throw new Error(`dangling child ${child}`);
    const item = itemData(node, (data.children.get(child)?.length ?? 0) > 0);
    if (!item.label) throw new Error(`a node without a label: ${child}`);
    n += 1 + walk(data, child);
  }
  return n;
}

/** Every type × provider, cycled: the plans differ in shape as real environments do. */
function environments(): Environment[] {
  const kinds: Pick<Environment, 'type' | 'provider'>[] = [
    { type: 'development', provider: { kind: 'kubernetes', context: 'kind-dev' } },
    { type: 'production', provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' } },
    { type: 'production', provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1' } },
    { type: 'development', provider: { kind: 'aws', region: 'us-east-1' } },
    { type: 'development', provider: { kind: 'gcp', project: 'shop-dev-123', region: 'us-central1' } },
    { type: 'production', provider: { kind: 'kubernetes', context: 'prod', namespace: 'shop' } },
  ];
  return Array.from({ length: ENVIRONMENTS }, (_, i) => ({
    name: `env-${i + 1}`,
    deploy: i % 2 === 0 ? { trigger: 'push', branch: `branch-${i}` } : { trigger: 'manual' },
    ...kinds[i % kinds.length],
  }));
}

function time(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2));
}
