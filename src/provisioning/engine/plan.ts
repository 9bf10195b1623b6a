/**
 * Plan: the desired graph diffed against recorded state and, unless offline, the live objects. The diff itself
 * (`diffPlan`, `diffDestroy`) is pure and fast; live reads happen first, in parallel, in `readLive`.
 */

import { dependencyOrder, type DesiredGraph, type DesiredResource, type JsonObject, type ProviderKind } from '../../model/desiredGraph';
import type { Plan, PlanAction, PlanCounts, PlanEntry } from '../../model/plan';
import { DriverError, type FieldChange, type LiveObject, type ProviderDriver } from '../../model/providerApi';
import type { EnvState, LoadedState, ResourceState } from '../../model/state';
import { diffJson, mergeChanges } from './diff';
import { EngineError } from './errors';
import { Redactor } from './redact';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry';
import { estimateAwsCost, estimateGcpCost } from '../cost/estimate';
import { hasReference, resolveSettings, type OutputLookup } from './settings';

/** Live objects by resource id; null where the object does not exist. */
export type LiveReads = Map<string, LiveObject | null>;

/** What the pure diff needs from a live plan: the reads and the driver's comparison. Null when offline. */
export interface LiveView {
  objects: LiveReads;
  diff: ProviderDriver['diff'];
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Reads in flight at once (default 16): reads are cheap GETs for the provider, and plan time is waiting time. */
  concurrency?: number;
  retry?: RetryPolicy;
}

/** Plans an apply: with `driver` null, against recorded state alone (offline), and the plan says so. */
export async function planChanges(graph: DesiredGraph, loaded: LoadedState, driver: ProviderDriver | null, options: ReadOptions = {}): Promise<Plan> {
  checkState(loaded.state, graph.environment, graph.provider);
  if (!driver) return diffPlan(graph, loaded, null);
  const recorded = Object.values(loaded.state?.resources ?? {}).map((r) => r.resource);
  const wanted = new Set(graph.resources.map((r) => r.id));
  const objects = await readLive([...graph.resources, ...recorded.filter((r) => !wanted.has(r.id))], driver, options);
  return scrub(diffPlan(graph, loaded, { objects, diff: (d, l) => driver.diff(d, l) }), objects);
}

/** Plans a destroy of everything recorded; offline when `driver` is null. */
export async function planDestroy(environment: string, provider: ProviderKind, loaded: LoadedState, driver: ProviderDriver | null, options: ReadOptions = {}): Promise<Plan> {
  checkState(loaded.state, environment, provider);
  const recorded = Object.values(loaded.state?.resources ?? {}).map((r) => r.resource);
  const objects = driver ? await readLive(recorded, driver, options) : null;
  return diffDestroy(environment, provider, loaded, objects);
}

/**
 * Live reads bring secret outputs along; should a driver's diff let one slip into a field change, the value is
 * dropped and the change marked sensitive, so a printed or rendered plan never shows it.
 */
function scrub(plan: Plan, objects: LiveReads): Plan {
  const redactor = new Redactor();
  for (const live of objects.values()) for (const o of Object.values(live?.outputs ?? {})) if (o.secret) redactor.add(o.value);
  const clean = (c: FieldChange): FieldChange =>
    redactor.leaks(JSON.stringify([c.before ?? null, c.after ?? null])) ? { path: c.path, sensitive: true, ...(c.knownAfterApply ? { knownAfterApply: true } : {}) } : c;
  for (const e of plan.entries) {
    e.changes = e.changes.map(clean);
    e.drift = e.drift.map(clean);
  }
  return plan;
}

/** Reads every resource's live object through the driver, a bounded number at a time. */
export async function readLive(resources: DesiredResource[], driver: ProviderDriver, options: ReadOptions = {}): Promise<LiveReads> {
  const unsupported = [...new Set(resources.filter((r) => !driver.supports(r.providerType)).map((r) => r.providerType))];
  if (unsupported.length > 0) {
    throw new EngineError('unsupported', `the ${driver.kind} provider cannot handle ${unsupported.join(', ')} yet (${driver.target})`);
  }
  const signal = options.signal ?? new AbortController().signal;
  const out: LiveReads = new Map();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < resources.length) {
      signal.throwIfAborted();
      const r = resources[next++];
      try {
        out.set(r.id, await withRetry(() => driver.read(r, signal), options.retry ?? DEFAULT_RETRY, signal));
      } catch (err) {
        if (signal.aborted) throw err;
        throw new DriverError(errCode(err), `could not read ${r.id} (${r.name}) from ${driver.target}: ${(err as Error).message}`, { resourceId: r.id, cause: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, worker));
  return out;
}

function errCode(err: unknown): DriverError['code'] {
  return err instanceof DriverError ? err.code : 'unavailable';
}

export function checkState(state: EnvState | null, environment: string, provider: ProviderKind): void {
  if (!state) return;
  if (state.environment !== environment || state.provider !== provider) {
    throw new EngineError(
      'state-mismatch',
      `the recorded state is for environment "${state.environment}" on ${state.provider}, not "${environment}" on ${provider}; nothing was changed. Check the state location.`,
    );
  }
}

/** The apply plan: pure, given the live reads (null when offline). */
export function diffPlan(graph: DesiredGraph, loaded: LoadedState, live: LiveView | null): Plan {
  const recorded = loaded.state?.resources ?? {};
  const actions = new Map<string, { action: PlanAction; replace: boolean }>();
  const entries: PlanEntry[] = [];

  for (const r of dependencyOrder(graph)) {
    // At plan time only recorded outputs are known; a dependency that is about to be created or replaced has none
    // yet, so references to it stay as `${…}` and show as "known after apply".
    const lookup: OutputLookup = (id, attribute) => {
      const a = actions.get(id);
      if (!a || a.action === 'create' || a.replace) return undefined;
      const outputs = recorded[id]?.outputs;
      return outputs && attribute in outputs ? { value: outputs[attribute], secret: false } : undefined;
    };
    const settings = resolveSettings(r.settings, lookup).recordable;
    const entry = decide(r, recorded[r.id], live ? (live.objects.get(r.id) ?? null) : undefined, settings, live?.diff);
    actions.set(r.id, { action: entry.action, replace: entry.replace });
    entries.push(entry);
  }

  const wanted = new Set(graph.resources.map((r) => r.id));
  for (const rec of removalOrder(Object.values(recorded).filter((s) => !wanted.has(s.resource.id)))) {
    const gone = live ? live.objects.get(rec.resource.id) === null : false;
    entries.push(deleteEntry(rec, gone ? 'no longer in the app (already gone: only the record is removed)' : 'no longer in the app'));
  }

  const notes = [...graph.warnings];
  const plan = finish(graph.environment, graph.provider, 'apply', loaded, live === null, entries, notes);
  const region = graph.resources.find((r) => r.providerType === 'AWS::EC2::VPC')?.settings.region;
  if (graph.provider === 'aws' && typeof region === 'string') plan.cost = estimateAwsCost(graph, region);
  const gcpRegion = graph.resources.find((r) => r.providerType === 'compute.googleapis.com/Network')?.settings.region;
  if (graph.provider === 'gcp' && typeof gcpRegion === 'string') plan.cost = estimateGcpCost(graph, gcpRegion);
  return plan;
}

/** The destroy plan: everything recorded, dependents first. */
export function diffDestroy(environment: string, provider: ProviderKind, loaded: LoadedState, live: LiveReads | null): Plan {
  const entries = removalOrder(Object.values(loaded.state?.resources ?? {})).map((rec) =>
    deleteEntry(rec, live?.get(rec.resource.id) === null ? 'destroy (already gone: only the record is removed)' : 'destroy'),
  );
  return finish(environment, provider, 'destroy', loaded, live === null, entries, []);
}

function finish(environment: string, provider: ProviderKind, operation: Plan['operation'], loaded: LoadedState, offline: boolean, entries: PlanEntry[], notes: string[]): Plan {
  const counts: PlanCounts = { create: 0, update: 0, delete: 0, keep: 0 };
  for (const e of entries) counts[e.action]++;
  if (offline) notes.unshift('offline: planned against recorded state alone; live objects were not read, so drift and objects made outside the tool are not known');
  const last = loaded.state?.lastOperation;
  if (last?.outcome === 'running') {
    notes.push(`the ${last.kind} started by ${last.by.user} on ${last.by.host} at ${last.startedAt} did not finish; this plan completes it`);
  }
  return {
    environment,
    provider,
    operation,
    offline,
    stateVersion: loaded.version,
    entries,
    counts,
    // An adopted object that is left in place loses nothing.
    statefulDeletes: entries.filter((e) => e.stateful && ((e.action === 'delete' && !e.leave) || e.replace)).map((e) => e.id),
    foreignAdoptions: entries.filter((e) => e.adopt && e.foreign).map((e) => e.id),
    notes,
    ...withFinalSnapshots(entries, loaded),
  };
}

/** The stateful deletes whose recorded settings keep a final snapshot (RDS), for the confirmation to offer declining. */
function withFinalSnapshots(entries: PlanEntry[], loaded: LoadedState): Pick<Plan, 'finalSnapshots'> {
  const ids = entries
    .filter((e) => e.stateful && ((e.action === 'delete' && !e.leave) || e.replace))
    .filter((e) => loaded.state?.resources[e.id]?.resource.settings.finalSnapshot === true)
    .map((e) => e.id);
  return ids.length > 0 ? { finalSnapshots: ids } : {};
}

function decide(
  r: DesiredResource,
  rec: ResourceState | undefined,
  live: LiveObject | null | undefined,
  settings: JsonObject,
  diff: LiveView['diff'] | undefined,
): PlanEntry {
  const base = { id: r.id, kind: r.kind, providerType: r.providerType, name: r.name, summary: r.summary, stateful: r.stateful, dependsOn: r.dependsOn };
  const entry = (action: PlanAction, reason: string, more: Partial<PlanEntry> = {}): PlanEntry => ({
    ...base, action, reason, changes: [], drifted: false, drift: [], adopt: false, foreign: false, leave: false, replace: false, ...more,
  });
  const desiredVsLive = live && diff ? liveChanges(diff, r, settings, live) : [];

  if (!rec) {
    if (live && r.settings.existing === true) return entry('create', 'an existing cluster: apply reads it and changes nothing on it; destroy leaves it in place');
    if (live && r.settings.shared === true && !live.ours) return entry('create', 'exists already, not made by this tool: apply uses it as it is and changes nothing on it; destroy leaves it in place');
    if (live?.ours) return entry('create', 'made by an earlier run of this tool that did not record it: apply takes it back', { adopt: true, changes: desiredVsLive });
    if (live) {
      return entry('create', 'exists but was not made by this tool: apply takes it over only when you confirm the adoption (--adopt), and destroy leaves it in place', {
        adopt: true, foreign: true, changes: desiredVsLive,
      });
    }
    return entry('create', 'new in the app');
  }

  const recordedChanges = diffJson(rec.resource.settings, settings);
  if (rec.resource.name !== r.name || rec.resource.providerType !== r.providerType) {
    const what = rec.resource.name !== r.name ? `name ${rec.resource.name} → ${r.name}` : `type ${rec.resource.providerType} → ${r.providerType}`;
    const changes = [...diffJson({ name: rec.resource.name, providerType: rec.resource.providerType }, { name: r.name, providerType: r.providerType }), ...recordedChanges];
    return entry('update', `replaced (${what}): the recorded object is deleted and a new one created`, { replace: true, changes, stateful: r.stateful || rec.resource.stateful });
  }

  if (live === null) {
    const reason =
      rec.status === 'pending' ? 'a previous run was interrupted before this was created'
      : rec.status === 'failed' ? `the last run failed here (${rec.error ?? 'no reason recorded'}); apply tries again`
      : 'deleted outside the tool; apply creates it again';
    return entry('create', reason, { drifted: rec.status === 'ready' });
  }

  const drift = live && diff && rec.status === 'ready' ? driftOf(diff, rec, live) : [];
  const changes = mergeChanges(desiredVsLive, recordedChanges);
  const more = { changes, drifted: drift.length > 0, drift };
  if (rec.status === 'pending') return entry('update', 'a previous run was interrupted while changing this; apply finishes it', more);
  if (rec.status === 'failed') return entry('update', `the last run failed here (${rec.error ?? 'no reason recorded'}); apply tries again`, more);
  if (changes.length === 0) {
    if (drift.length > 0) return entry('update', 'changed outside the tool; apply restores the recorded settings', { ...more, changes: drift.map(invert) });
    return entry('keep', live === undefined ? 'unchanged since the last apply (live object not checked: offline)' : 'up to date', more);
  }
  if (recordedChanges.length === 0 && drift.length > 0) return entry('update', 'changed outside the tool; apply restores the recorded settings', more);
  return entry('update', `changed: ${listPaths(changes)}`, more);
}

/**
 * Desired vs live through the driver. Fields whose desired value still holds a reference are left to the recorded
 * diff: the reference is either known only after apply (already reported there) or a secret that is not compared.
 */
function liveChanges(diff: LiveView['diff'], r: DesiredResource, settings: JsonObject, live: LiveObject): FieldChange[] {
  return diff({ ...r, resolved: settings }, live).filter((c) => !hasReference(c.after));
}

/** Recorded vs live: the object changed outside the tool. Shown as before = recorded, after = live. */
function driftOf(diff: LiveView['diff'], rec: ResourceState, live: LiveObject): FieldChange[] {
  return diff({ ...rec.resource, resolved: rec.resource.settings }, live).filter((c) => !hasReference(c.after)).map(invert);
}

function invert(c: FieldChange): FieldChange {
  const out: FieldChange = { path: c.path };
  if (c.after !== undefined) out.before = c.after;
  if (c.before !== undefined) out.after = c.before;
  if (c.sensitive) out.sensitive = true;
  return out;
}

function listPaths(changes: FieldChange[]): string {
  const paths = changes.map((c) => c.path);
  return paths.length <= 4 ? paths.join(', ') : `${paths.slice(0, 3).join(', ')} and ${paths.length - 3} more`;
}

function deleteEntry(rec: ResourceState, reason: string): PlanEntry {
  const r = rec.resource;
  const leave = rec.origin === 'adopted';
  const existing = r.settings.existing === true;
  const shared = r.settings.shared === true;
  return {
    id: r.id, kind: r.kind, providerType: r.providerType, name: r.name, summary: r.summary, action: 'delete',
    reason: leave ? `${reason}: adopted from outside the tool, so it is left in place and only its record is removed`
      : existing ? `${reason}: an existing cluster, left in place; only what the environment made for it (on AWS an IAM OIDC provider of its own) goes`
      : shared ? `${reason}: only what the environment made goes; what was there before it is left in place`
      : reason,
    changes: [], drifted: false, drift: [], stateful: r.stateful, adopt: false, foreign: false, leave, replace: false, dependsOn: r.dependsOn,
  };
}

/** Recorded resources with every resource after the ones it depends on reversed: dependents are deleted first. */
export function removalOrder(records: ResourceState[]): ResourceState[] {
  const present = new Set(records.map((r) => r.resource.id));
  const resources = records.map((r) => ({ ...r.resource, dependsOn: r.resource.dependsOn.filter((d) => present.has(d)) }));
  const byId = new Map(records.map((r) => [r.resource.id, r]));
  return dependencyOrder({ resources }).reverse().map((r) => byId.get(r.id) as ResourceState);
}
