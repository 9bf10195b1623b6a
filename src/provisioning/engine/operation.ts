/**
 * Apply and destroy as whole operations: preflight, take the environment's lock, load state, plan afresh against
 * the live objects, check the typed confirmation and the user's approval, run the steps in dependency order with a
 * bound on parallelism, record the end, release the lock. Nothing changes before every check has passed.
 */

import { randomBytes } from 'node:crypto';
import { outputRefs, type DesiredGraph, type DesiredResource, type ProviderKind } from '../../model/desiredGraph';
import { hasChanges, parseConfirmation, WITHOUT_SNAPSHOT, type ApplyResult, type Plan, type ProgressEvent } from '../../model/plan';
import type { ProviderDriver } from '../../model/providerApi';
import { emptyState, type EnvState, type LoadedState, type StateBackend, type StateVersion } from '../../model/state';
import { jsonEqual } from './diff';
import { describeError, EngineError } from './errors';
import { currentIdentity, type Identity } from './identity';
import { planChanges, planDestroy, type ReadOptions } from './plan';
import { StateRecorder } from './recorder';
import { Redactor } from './redact';
import { DEFAULT_RETRY, type RetryPolicy } from './retry';
import { runDag } from './schedule';
import { StepRunner, type Step } from './steps';

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_READ_CONCURRENCY = 16;

export interface RunOptions {
  backend: StateBackend;
  driver: ProviderDriver;
  /** Stops the run between steps; in-flight driver calls get it too and abort. */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Steps in flight at once (default 4). */
  concurrency?: number;
  /** Live reads in flight at once while planning (default 16: reads are cheap GETs, and plan time is waiting time). */
  readConcurrency?: number;
  retry?: RetryPolicy;
  /** The environment's name, typed by the user: required when the plan deletes or replaces a stateful resource. */
  confirm?: string;
  /**
   * Objects made outside the tool that the user confirmed taking over (the plan's `foreignAdoptions`, by id), or
   * true for any the plan finds (the CLI's --adopt, given after reviewing a plan).
   */
  adopt?: readonly string[] | true;
  /**
   * Asked under the lock with the fresh plan before anything changes (not when nothing would); false cancels, and
   * 'adopt' approves the plan with the adoptions it shows.
   */
  approve?: (plan: Plan) => boolean | 'adopt' | Promise<boolean | 'adopt'>;
  /** A plan the user reviewed (the extension's diff view): refused as stale if apply would now do something else. */
  reviewed?: Plan;
  identity?: Identity;
  /** Called after every state commit (the tree refreshes from it). */
  onState?: (state: EnvState, version: StateVersion) => void;
}

export interface RunOutcome {
  plan: Plan;
  result: ApplyResult;
}

/** Per resource id, the output attributes other resources' settings refer to. */
function referencedOutputs(resources: DesiredResource[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of resources) for (const ref of outputRefs(r.settings)) (out.get(ref.id) ?? out.set(ref.id, new Set()).get(ref.id)!).add(ref.attribute);
  return out;
}

export function apply(graph: DesiredGraph, options: RunOptions): Promise<RunOutcome> {
  return run('apply', graph.environment, graph.provider, graph, (loaded, signal) => planChanges(graph, loaded, options.driver, readOptions(options, signal)), options);
}

/** Deletes everything recorded for the environment, dependents first. */
export function destroy(environment: string, provider: ProviderKind, options: RunOptions): Promise<RunOutcome> {
  return run('destroy', environment, provider, null, (loaded, signal) => planDestroy(environment, provider, loaded, options.driver, readOptions(options, signal)), options);
}

function readOptions(options: RunOptions, signal: AbortSignal): ReadOptions {
  return { signal, retry: options.retry, concurrency: options.readConcurrency ?? DEFAULT_READ_CONCURRENCY };
}

async function run(
  kind: 'apply' | 'destroy',
  environment: string,
  provider: ProviderKind,
  graph: DesiredGraph | null,
  makePlan: (loaded: LoadedState, signal: AbortSignal) => Promise<Plan>,
  options: RunOptions,
): Promise<RunOutcome> {
  const started = Date.now();
  const userSignal = options.signal ?? new AbortController().signal;
  const identity = options.identity ?? currentIdentity();
  userSignal.throwIfAborted();
  await options.driver.preflight(userSignal);
  const lock = await options.backend.acquireLock({ ...identity, startedAt: new Date().toISOString(), operation: kind });
  try {
    const signal = AbortSignal.any([userSignal, lock.lost]);
    const loaded = await options.backend.load();
    const plan = await makePlan(loaded, signal);
    const outcome = (result: Omit<ApplyResult, 'environment' | 'operation' | 'durationMs'>): RunOutcome => ({
      plan,
      result: { environment, operation: kind, durationMs: Date.now() - started, ...result },
    });

    checkReviewed(plan, options.reviewed);
    checkConfirmation(plan, options.confirm);
    const state = structuredClone(loaded.state ?? emptyState(environment, provider));
    const unfinished = state.lastOperation?.outcome === 'running';
    if (!hasChanges(plan) && !unfinished && !describesChanged(plan, state, graph)) {
      return outcome({ outcome: 'succeeded', done: [], failed: [], skipped: [], stateVersion: loaded.version, error: null });
    }
    const approved = hasChanges(plan) && options.approve ? await options.approve(plan) : true;
    if (!approved) return outcome({ outcome: 'cancelled', done: [], failed: [], skipped: [], stateVersion: loaded.version, error: null });
    checkAdoption(plan, approved === 'adopt' ? plan.foreignAdoptions : options.adopt);
    signal.throwIfAborted();
    return outcome(await execute(kind, plan, graph, state, loaded.version, { signal, lockLost: lock.lost }, identity, options));
  } finally {
    await lock.release();
  }
}

async function execute(
  kind: 'apply' | 'destroy',
  plan: Plan,
  graph: DesiredGraph | null,
  state: EnvState,
  version: StateVersion | null,
  { signal, lockLost }: { signal: AbortSignal; lockLost: AbortSignal },
  identity: Identity,
  options: RunOptions,
): Promise<Omit<ApplyResult, 'environment' | 'operation' | 'durationMs'>> {
  const operationId = `${kind}-${new Date().toISOString()}-${randomBytes(3).toString('hex')}`;
  const redactor = new Redactor();
  const recorder = new StateRecorder(options.backend, state, version, operationId, redactor, options.onState);
  // The 'running' marker is durable before the first change, so a crash anywhere later is visible to the next plan.
  await recorder.record(
    (s) => {
      s.lastOperation = { id: operationId, kind, startedAt: new Date().toISOString(), finishedAt: null, outcome: 'running', by: { user: identity.user, host: identity.host } };
    },
    { event: 'operation-start', message: `${kind} by ${identity.user} on ${identity.host} (pid ${identity.pid})` },
  );

  const recordedResources = new Map(Object.entries(state.resources).map(([id, r]) => [id, r.resource]));
  const desired = new Map((graph?.resources ?? []).map((r) => [r.id, r]));
  const steps = buildSteps(plan, desired, recordedResources);
  const runner = new StepRunner(
    {
      driver: options.driver, recorder, redactor, signal, retry: options.retry ?? DEFAULT_RETRY,
      emit: (e) => options.onProgress?.(e),
      resourceOf: (id) => desired.get(id) ?? recordedResources.get(id),
      referenced: referencedOutputs(graph?.resources ?? []),
      ...(plan.statefulDeletes.length > 0 && { confirmed: { ids: new Set(plan.statefulDeletes), finalSnapshot: parseConfirmation(options.confirm, plan.environment).finalSnapshots } }),
    },
    steps.filter((s) => s.number > 0).length,
  );
  const dag = await runDag(steps, {
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    mayStart: () => !signal.aborted && !recorder.failure,
    run: (step) => runner.run(step),
    skipped: (step, why) => runner.skipped(step, why),
  });

  const failedHard = runner.failures.length > 0 && !signal.aborted;
  const outcome = recorder.failure || failedHard || lockLost.aborted ? 'failed' : signal.aborted ? 'cancelled' : 'succeeded';
  let error: string | null = recorder.failure ? describeError(recorder.failure) : null;
  if (!error && lockLost.aborted) error = `the lock on the environment was lost during the ${kind} (${describeError(lockLost.reason)}); it stopped before further steps`;
  try {
    await recorder.record(
      (s) => {
        if (s.lastOperation) Object.assign(s.lastOperation, { finishedAt: new Date().toISOString(), outcome });
      },
      { event: 'operation-end', message: outcome },
    );
    await recorder.flush();
  } catch (err) {
    error ??= describeError(err);
  }
  const interesting = (id: string) => steps.find((s) => s.id === id)?.number !== 0;
  return {
    outcome: error && outcome === 'succeeded' ? 'failed' : outcome,
    done: dag.done.filter(interesting),
    failed: runner.failures,
    skipped: dag.skipped.filter(interesting),
    stateVersion: recorder.currentVersion,
    error,
  };
}

/**
 * Steps with their dependencies. A create, update or keep waits for what it depends on and for every resource its
 * settings refer to. A delete waits for everything that was recorded as depending on it, so dependents are deleted
 * (or updated away from it) first.
 */
function buildSteps(plan: Plan, desired: Map<string, DesiredResource>, recorded: Map<string, DesiredResource>): Step[] {
  const dependents = new Map<string, string[]>();
  for (const r of recorded.values()) for (const d of r.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), r.id]);
  let number = 0;
  return plan.entries.map((entry) => {
    const resource = entry.action === 'delete' ? recorded.get(entry.id) : desired.get(entry.id);
    if (!resource) throw new Error(`the plan names ${entry.id}, which is neither desired nor recorded`);
    const deps = entry.action === 'delete' ? (dependents.get(entry.id) ?? []) : [...new Set([...resource.dependsOn, ...outputRefs(resource.settings).map((r) => r.id)])];
    return { id: entry.id, deps, entry, resource, number: entry.action === 'keep' ? 0 : ++number };
  });
}

function checkReviewed(plan: Plan, reviewed: Plan | undefined): void {
  if (!reviewed) return;
  const fingerprint = (p: Plan) => new Set(p.entries.filter((e) => e.action !== 'keep').map((e) => `${e.action}${e.replace ? ' (replace)' : ''}${e.foreign ? ' (adopt)' : ''}${e.leave ? ' (leave)' : ''} ${e.id}`));
  const now = fingerprint(plan);
  const shown = fingerprint(reviewed);
  const added = [...now].filter((e) => !shown.has(e)).sort();
  const gone = [...shown].filter((e) => !now.has(e)).sort();
  if (added.length > 0 || gone.length > 0) {
    const list = (entries: string[]) => `${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ` and ${entries.length - 5} more` : ''}`;
    const what = [added.length > 0 && `now also ${list(added)}`, gone.length > 0 && `no longer ${list(gone)}`].filter(Boolean).join('; ');
    throw new EngineError('stale-plan', `what ${plan.operation} would do has changed since the plan was shown (the app, the state or the live objects changed: ${what}); nothing was changed. Plan again and review it.`);
  }
}

function checkConfirmation(plan: Plan, confirm: string | undefined): void {
  if (plan.statefulDeletes.length === 0 || parseConfirmation(confirm, plan.environment).confirmed) return;
  const list = plan.statefulDeletes.join(', ');
  const what = confirm === undefined ? 'no confirmation was given' : `the confirmation "${confirm}" is not the environment's name`;
  throw new EngineError(
    'confirmation-required',
    `${plan.operation} would delete resources that hold data (${list}); their data would be lost. Nothing was changed: ${what}. To go ahead, confirm with the environment's name, "${plan.environment}"${plan.finalSnapshots?.length ? ` (the databases keep a final snapshot; "${plan.environment} ${WITHOUT_SNAPSHOT}" deletes them without one)` : ''}.`,
  );
}

function checkAdoption(plan: Plan, adopt: readonly string[] | true | undefined): void {
  const unconfirmed = adopt === true ? [] : plan.foreignAdoptions.filter((id) => !adopt?.includes(id));
  if (unconfirmed.length === 0) return;
  const list = unconfirmed.map((id) => {
    const e = plan.entries.find((x) => x.id === id);
    return e ? `${e.providerType.split('/').pop()} ${e.name}` : id;
  });
  throw new EngineError(
    'adoption-required',
    `${plan.operation} would take over ${list.length === 1 ? 'an object that exists but was' : `${list.length} objects that exist but were`} not made by this tool (${list.join(', ')}): it would change ${list.length === 1 ? 'it' : 'them'} to the app's settings, and destroy would leave ${list.length === 1 ? 'it' : 'them'} in place. Nothing was changed. To go ahead, confirm the adoption.`,
  );
}

/** True when a keep's description (summary, dependencies) differs from the record, so state needs refreshing. */
function describesChanged(plan: Plan, state: EnvState, graph: DesiredGraph | null): boolean {
  if (!graph) return false;
  const byId = new Map(graph.resources.map((r) => [r.id, r]));
  return plan.entries.some((e) => {
    const rec = state.resources[e.id];
    const want = byId.get(e.id);
    if (e.action !== 'keep' || !rec || !want) return false;
    return !jsonEqual({ ...rec.resource, settings: null } as never, { ...want, settings: null } as never);
  });
}
