// Pure (no vscode): each resource's live status for the tree and the CodeLens, from the recorded state the engine
// commits (ready, pending, failed) and the latest plan's drift. Updated from the state the engine hands over after
// each commit, so no step re-plans the app; the view rebuilds once a burst of commits settles (environmentsTree.ts).
import type { Plan } from '../../model/plan';
import type { EnvState } from '../../model/state';
import { serviceAuthRotationInProgress } from '../../session';

/**
 * A resource's status as the tree and the CodeLens show it: the recorded status (model/state.ts ResourceStatus),
 * 'drifted' from the last plan, or 'not provisioned'. Not the provider's live ObjectStatus (model/providerApi.ts).
 */
export type ShownStatus = 'not provisioned' | 'ready' | 'pending' | 'failed' | 'drifted';

interface EnvStatuses {
  recorded: Map<string, { status: 'ready' | 'pending' | 'failed'; error: string | null; updatedAt: string; revision?: string }>;
  drifted: Set<string>;
  /** A service-auth key rotation is in progress (two keys verify): the environment offers Finish Key Rotation. */
  rotating: boolean;
}

export class LiveStatuses {
  private readonly byEnv = new Map<string, EnvStatuses>();

  /**
   * A plan brings the drift it found; a state commit alone keeps the drift of the last plan for what it did not touch.
   * Returns whether any status changed, so the view is not rebuilt (and a reveal in progress not disturbed) for nothing.
   */
  update(root: string, env: string, state: EnvState | null, plan?: Plan): boolean {
    const key = keyOf(root, env);
    const before = this.byEnv.get(key);
    const recorded = new Map(Object.entries(state?.resources ?? {}).map(([id, r]) => [id, { status: r.status, error: r.error, updatedAt: r.updatedAt, ...deployedRevision(r.outputs) }]));
    // An apply takes drift back: a resource recorded again since the plan is no longer drifted.
    const drifted = plan
      ? new Set(plan.entries.filter((e) => e.drifted).map((e) => e.id))
      : new Set([...(before?.drifted ?? [])].filter((id) => before?.recorded.get(id)?.updatedAt === recorded.get(id)?.updatedAt));
    const rotating = serviceAuthRotationInProgress(state);
    const changed = fingerprint(before) !== fingerprint({ recorded, drifted, rotating });
    this.byEnv.set(key, { recorded, drifted, rotating });
    return changed;
  }

  statusOf(root: string, env: string, id: string): { status: ShownStatus; error?: string; revision?: string } {
    const s = this.byEnv.get(keyOf(root, env));
    const r = s?.recorded.get(id);
    if (!r) return { status: 'not provisioned' };
    const revision = r.revision ? { revision: r.revision } : {};
    if (r.status === 'ready' && s?.drifted.has(id)) return { status: 'drifted', ...revision };
    return r.error ? { status: r.status, error: r.error, ...revision } : { status: r.status, ...revision };
  }

  /** Whether the environment's recorded state has a service-auth key rotation in progress. */
  rotating(root: string, env: string): boolean {
    return this.byEnv.get(keyOf(root, env))?.rotating ?? false;
  }

  /** Counts per status for an environment's resource ids, for the environment's description and the lens. */
  summary(root: string, env: string, ids: readonly string[]): Record<ShownStatus, number> {
    const counts: Record<ShownStatus, number> = { 'not provisioned': 0, ready: 0, pending: 0, failed: 0, drifted: 0 };
    for (const id of ids) counts[this.statusOf(root, env, id).status]++;
    return counts;
  }
}

/** The short commit a deploy recorded on a Deployment's state (outputs `deployRevision`, session/deploy.ts). */
function deployedRevision(outputs: Record<string, unknown> | undefined): { revision?: string } {
  const rev = outputs?.deployRevision;
  if (typeof rev !== 'string' || !/^[a-f0-9]{7,64}(-dirty)?$/.test(rev)) return {};
  return { revision: rev.replace(/^([a-f0-9]{7})[a-f0-9]*/, '$1') };
}

function fingerprint(s: EnvStatuses | undefined): string {
  if (!s || (s.recorded.size === 0 && s.drifted.size === 0)) return '';
  return JSON.stringify([[...s.recorded].map(([id, r]) => [id, r.status, r.error, r.revision ?? null]).sort(), [...s.drifted].sort(), s.rotating]);
}

function keyOf(root: string, env: string): string {
  return `${root}\u0000${env}`;
}

export function describeCounts(counts: Record<ShownStatus, number>): string {
  const order: ShownStatus[] = ['ready', 'pending', 'failed', 'drifted', 'not provisioned'];
  return order.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(', ');
}
