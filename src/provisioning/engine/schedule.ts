/**
 * Runs a dependency graph of steps with a bound on how many run at once. A step starts when everything it depends on
 * has finished successfully; a failed or skipped dependency skips it (and, through it, its own dependents), while
 * independent steps go on. Once `mayStart` says no (cancelled, lock lost, state unwritable), no further step starts,
 * running ones finish, and the rest are skipped. Kept free of provisioning details so the ordering rules are tested
 * on their own.
 */

export interface DagNode {
  id: string;
  /** Ids of nodes that must finish first; ids that are not nodes of this run are already satisfied. */
  deps: string[];
}

export type NodeOutcome = 'done' | 'failed';

export interface DagHooks<T extends DagNode> {
  concurrency: number;
  /** Asked before each start; false stops the run between steps. */
  mayStart(): boolean;
  /** Runs one node; a rejection counts as 'failed'. */
  run(node: T): Promise<NodeOutcome>;
  /** A node that will not run, with the reason. */
  skipped(node: T, why: string): void;
}

export interface DagResult {
  done: string[];
  failed: string[];
  skipped: string[];
  /** The most nodes that ran at the same time (for tests and benchmarks). */
  maxConcurrent: number;
}

export function runDag<T extends DagNode>(given: T[], hooks: DagHooks<T>): Promise<DagResult> {
  const ids = new Set(given.map((n) => n.id));
  const nodes = byChainLength(given, ids);
  const state = new Map<string, 'waiting' | 'running' | NodeOutcome | 'skipped'>(nodes.map((n) => [n.id, 'waiting']));
  const result: DagResult = { done: [], failed: [], skipped: [], maxConcurrent: 0 };
  const limit = Math.max(1, Math.floor(hooks.concurrency));
  let running = 0;

  return new Promise((resolve) => {
    const skip = (node: T, why: string): void => {
      state.set(node.id, 'skipped');
      result.skipped.push(node.id);
      hooks.skipped(node, why);
    };
    const pump = (): void => {
      // Skipping can unblock the decision for later nodes (their dependency is now settled), so repeat until stable.
      for (let changed = true; changed; ) {
        changed = false;
        for (const node of nodes) {
          if (state.get(node.id) !== 'waiting') continue;
          const deps = node.deps.filter((d) => ids.has(d) && d !== node.id);
          const bad = deps.find((d) => state.get(d) === 'failed' || state.get(d) === 'skipped');
          if (bad !== undefined) {
            skip(node, `${bad} ${state.get(bad) === 'failed' ? 'failed' : 'did not run'}`);
            changed = true;
            continue;
          }
          if (!deps.every((d) => state.get(d) === 'done')) continue;
          if (!hooks.mayStart()) {
            skip(node, 'stopped before it started');
            changed = true;
            continue;
          }
          if (running >= limit) continue;
          start(node);
          changed = true;
        }
      }
      if (running === 0) {
        // Nothing runs and nothing can start: whatever still waits is stuck behind a cycle or a stopped run.
        for (const node of nodes) if (state.get(node.id) === 'waiting') skip(node, hooks.mayStart() ? 'dependency cycle' : 'stopped before it started');
        resolve(result);
      }
    };
    const start = (node: T): void => {
      state.set(node.id, 'running');
      running++;
      result.maxConcurrent = Math.max(result.maxConcurrent, running);
      let settled: NodeOutcome = 'failed';
      hooks
        .run(node)
        .then((outcome) => {
          settled = outcome;
        }, () => undefined)
        .finally(() => {
          running--;
          state.set(node.id, settled);
          (settled === 'done' ? result.done : result.failed).push(node.id);
          pump();
        });
    };
    pump();
  });
}

/**
 * The nodes with the longest chain of dependents first (stable otherwise): when slots are short, the start of a long
 * chain (a cluster before the node group and everything in it) is never queued behind a leaf.
 */
function byChainLength<T extends DagNode>(nodes: T[], ids: Set<string>): T[] {
  const dependents = new Map<string, string[]>();
  for (const n of nodes) for (const d of n.deps) if (ids.has(d) && d !== n.id) dependents.set(d, [...(dependents.get(d) ?? []), n.id]);
  const height = new Map<string, number>();
  const visiting = new Set<string>();
  const measure = (id: string): number => {
    const known = height.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle: runDag reports it; the order does not matter then
    visiting.add(id);
    const h = 1 + Math.max(0, ...(dependents.get(id) ?? []).map(measure));
    visiting.delete(id);
    height.set(id, h);
    return h;
  };
  return nodes
    .map((node, index) => ({ node, index, h: measure(node.id) }))
    .sort((a, b) => b.h - a.h || a.index - b.index)
    .map((x) => x.node);
}
