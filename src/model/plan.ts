/**
 * The Plan: what apply or destroy would do to one environment, and the progress events they emit while doing it.
 * Plain JSON, so the CLI prints it with `--json`, the extension renders it as a diff, and the tree shows statuses.
 */

import type { ProviderKind, ResourceKind } from './desiredGraph';
import type { FieldChange } from './providerApi';

export type PlanAction = 'create' | 'update' | 'delete' | 'keep';

export interface PlanEntry {
  id: string;
  kind: ResourceKind;
  providerType: string;
  name: string;
  summary: string;
  action: PlanAction;
  /** Why, in words: "new in the app", "replicas changed", "no longer used by the app", "deleted outside the tool". */
  reason: string;
  /** For update: the fields that change. For create and delete: empty. */
  changes: FieldChange[];
  /** The live object differs from what the last apply recorded: someone changed it outside the tool. */
  drifted: boolean;
  /** When drifted: how the live object differs from what was recorded (before = recorded, after = live). */
  drift: FieldChange[];
  /** Holds data (databases, volumes, buckets, queues, secret values): deleting it needs a typed confirmation. */
  stateful: boolean;
  /** For create: the object already exists (left by an interrupted run, or made by hand) and will be adopted. */
  adopt: boolean;
  /**
   * For an adopt: the object does not carry this environment's mark (someone else made it), so apply takes it over
   * only with an explicit confirmation (`--adopt`, the Adopt button), and destroy leaves it in place.
   */
  foreign: boolean;
  /** For delete: the object was adopted from outside the tool, so it is left in place and only its record removed. */
  leave: boolean;
  /**
   * For update: the object's name or provider type changed, so the recorded object is deleted and a new one created
   * (a stateful replacement loses data, so it needs the same confirmation as a delete).
   */
  replace: boolean;
  dependsOn: string[];
}

export interface PlanCounts {
  create: number;
  update: number;
  delete: number;
  keep: number;
}

export interface Plan {
  environment: string;
  provider: ProviderKind;
  operation: 'apply' | 'destroy';
  /** Planned against recorded state alone, without reading the live objects: drift and adoption are not known. */
  offline: boolean;
  /** The state version the plan was made against; apply refuses a plan whose state has moved on since. */
  stateVersion: string | null;
  /** In dependency order for apply (creates and updates first-to-last, deletes last-to-first). */
  entries: PlanEntry[];
  counts: PlanCounts;
  /** Ids of stateful resources the plan deletes or replaces: shown apart, and the reason a confirmation is needed. */
  statefulDeletes: string[];
  /** Ids of objects made outside the tool that apply would take over: shown apart, and they need a confirmation. */
  foreignAdoptions: string[];
  /** Things said plainly: the planner's warnings, "offline: drift not checked", an interrupted earlier run. */
  notes: string[];
  /** What the environment will cost a month, for providers with a price table (AWS): an estimate. */
  cost?: CostEstimate;
  /**
   * Ids among `statefulDeletes` that keep a final snapshot when deleted (an RDS instance), unless the typed
   * confirmation declines it (`<name> without snapshot`). Absent when there are none.
   */
  finalSnapshots?: string[];
}

/** What the typed confirmation adds after the environment's name to delete without the final snapshots. */
export const WITHOUT_SNAPSHOT = 'without snapshot';

/**
 * The typed confirmation of a data loss: the environment's name, or the name followed by "without snapshot" to
 * decline the final snapshots as well. Spaces around and between words do not matter; case does, as for the name.
 */
export function parseConfirmation(typed: string | undefined, environment: string): { confirmed: boolean; finalSnapshots: boolean } {
  const words = (typed ?? '').trim().split(/\s+/);
  if (words.length === 1 && words[0] === environment) return { confirmed: true, finalSnapshots: true };
  if (words.length === 3 && words[0] === environment && `${words[1]} ${words[2]}` === WITHOUT_SNAPSHOT) return { confirmed: true, finalSnapshots: false };
  return { confirmed: false, finalSnapshots: true };
}

/** One resource's share of the estimate; `monthlyUsd` null when its price is unknown (never guessed). */
export interface CostLine {
  id: string;
  summary: string;
  monthlyUsd: number | null;
  /** What the figure counts ("2 NAT gateways with their public IPv4 address"), or why it is unknown. */
  basis: string;
}

export interface CostEstimate {
  currency: 'USD';
  /** The sum of the known lines. */
  monthlyUsd: number;
  /** False when a line's price is unknown: the total leaves it out. */
  complete: boolean;
  lines: CostLine[];
  /** When the prices were taken, and from where. */
  pricesTakenAt: string;
  source: string;
}

export function hasChanges(plan: Plan): boolean {
  return plan.counts.create + plan.counts.update + plan.counts.delete > 0;
}

export type ProgressPhase = 'start' | 'progress' | 'done' | 'failed' | 'skipped';

/** One line of progress from apply or destroy. Never contains a secret value. */
export interface ProgressEvent {
  /** 1-based position of the resource among the steps that change something. */
  step: number;
  total: number;
  resourceId: string;
  action: PlanAction;
  phase: ProgressPhase;
  message: string;
  /** ISO time, for logs. */
  at: string;
}

/** How an apply or destroy ended. */
export interface ApplyResult {
  environment: string;
  operation: 'apply' | 'destroy';
  outcome: 'succeeded' | 'failed' | 'cancelled';
  /** Ids per final state of this run. */
  done: string[];
  failed: { id: string; error: string }[];
  /** Not started because a dependency failed or the run was cancelled. */
  skipped: string[];
  /** The state version written last. */
  stateVersion: string | null;
  /** What stopped the run as a whole (state could not be written, the lock was lost); step failures are in `failed`. */
  error: string | null;
  durationMs: number;
}
