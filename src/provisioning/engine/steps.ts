/**
 * One step per plan entry: what the engine does with the driver for a create, update, keep or delete, how it records
 * the step in state and the journal, and the progress events it emits. The order of steps is schedule.ts's business;
 * the lock and the run as a whole are operation.ts's.
 */

import { outputRefs, type DesiredResource, type JsonObject, type JsonValue } from '../../model/desiredGraph';
import type { PlanEntry, ProgressEvent, ProgressPhase } from '../../model/plan';
import type { Outputs, ProviderDriver, ResolvedResource, StepContext } from '../../model/providerApi';
import type { ResourceState } from '../../model/state';
import { jsonEqual } from './diff';
import { describeError } from './errors';
import type { StateRecorder } from './recorder';
import type { Redactor } from './redact';
import { withRetry, type RetryPolicy } from './retry';
import type { DagNode, NodeOutcome } from './schedule';
import { resolveSettings, type OutputLookup } from './settings';

export interface Step extends DagNode {
  entry: PlanEntry;
  /** What the step applies: the desired resource (create, update, keep) or the recorded one (delete). */
  resource: DesiredResource;
  /** 1-based among the steps that change something; 0 for a keep until it turns out to need an update. */
  number: number;
}

export interface StepEnv {
  driver: ProviderDriver;
  recorder: StateRecorder;
  redactor: Redactor;
  signal: AbortSignal;
  retry: RetryPolicy;
  emit: (event: ProgressEvent) => void;
  /** Resources by id that a reference may point to: the desired graph, then what is recorded. */
  resourceOf: (id: string) => DesiredResource | undefined;
  /** Per resource id, the output attributes other resources refer to. */
  referenced?: Map<string, Set<string>>;
  /** The stateful deletes the user confirmed (the plan's statefulDeletes), and whether the final snapshots stay. */
  confirmed?: { ids: ReadonlySet<string>; finalSnapshot: boolean };
}

const VERB: Record<Exclude<PlanEntry['action'], 'keep'>, string> = { create: 'creating', update: 'updating', delete: 'deleting' };

export class StepRunner {
  /** Outputs by resource id: recorded ones to start with, then what this run's steps returned (secret ones too). */
  private readonly outputs = new Map<string, Outputs>();
  /** Live reads made to recover secret outputs that state never holds, one per resource. */
  private readonly liveReads = new Map<string, Promise<void>>();
  total: number;
  readonly failures: { id: string; error: string }[] = [];

  constructor(
    private readonly env: StepEnv,
    total: number,
  ) {
    this.total = total;
    for (const [id, rec] of Object.entries(env.recorder.state.resources)) {
      this.outputs.set(id, Object.fromEntries(Object.entries(rec.outputs).map(([k, value]) => [k, { value }])));
    }
  }

  async run(step: Step): Promise<NodeOutcome> {
    const { entry } = step;
    try {
      if (entry.action === 'delete') return await this.remove(step);
      // A keep is checked with what is in memory first: references to secrets stay `${…}` in what is recorded
      // anyway, so an unchanged resource costs no live read.
      if (entry.action === 'keep' && !this.needsUpdate(step, resolveSettings(step.resource.settings, this.lookup).recordable)) return 'done';
      const resolution = await this.resolve(step.resource);
      if (resolution.missing.length > 0) {
        throw new Error(`its settings refer to ${resolution.missing.map((m) => `\${${m}}`).join(', ')}, which no resource provides`);
      }
      return await this.put(step, resolution.resolved, resolution.recordable);
    } catch (err) {
      return this.fail(step, err);
    }
  }

  /** A skipped step says why, unless it is a keep, which would have changed nothing anyway. */
  skipped(step: Step, why: string): void {
    if (step.entry.action === 'keep' && step.number === 0) return;
    this.event(step, 'skipped', `not started: ${why}`);
  }

  /**
   * A keep can still need an update when a dependency's outputs changed in this run (a new endpoint, say). When
   * only the resource's description changed (summary, dependencies), the record is refreshed without a driver call.
   */
  private needsUpdate(step: Step, recordable: JsonObject): boolean {
    const rec = this.env.recorder.state.resources[step.resource.id];
    if (rec && jsonEqual(rec.resource.settings, recordable)) {
      const fresh = { ...step.resource, settings: recordable };
      if (!jsonEqual(rec.resource as unknown as JsonValue, fresh as unknown as JsonValue)) {
        void this.env.recorder.record((s) => {
          const r = s.resources[step.resource.id];
          if (r) r.resource = fresh;
        }, null);
      }
      return false;
    }
    step.number = ++this.total;
    return true;
  }

  private async put(step: Step, resolved: JsonObject, recordable: JsonObject): Promise<NodeOutcome> {
    const { entry, resource } = step;
    const { driver, recorder, signal, retry } = this.env;
    const action = entry.action === 'create' || entry.replace ? 'create' : 'update';
    this.event(step, 'start', `${entry.replace ? 'replacing' : VERB[entry.action === 'keep' ? 'update' : entry.action]} ${label(resource)}${entry.adopt ? ' (adopting the existing object)' : ''}`);
    const previous = recorder.state.resources[resource.id];
    void recorder.record(
      (s) => {
        s.resources[resource.id] = {
          ...(previous ?? blankRecord({ ...resource, settings: recordable })),
          status: 'pending',
          lastAction: entry.action === 'keep' ? 'update' : entry.action,
          updatedAt: new Date().toISOString(),
        };
      },
      { event: 'step-start', resourceId: resource.id, action: entry.action },
    );
    const ctx = this.context(step);
    if (entry.replace && previous) {
      ctx.progress(`deleting the previous ${label(previous.resource)}`);
      await withRetry(() => driver.delete(previous.resource, ctx), retry, signal, (e) => this.retrying(step, e));
    }
    const target: ResolvedResource = { ...resource, resolved };
    let outputs = await withRetry(() => (action === 'create' ? driver.create(target, ctx) : driver.update(target, ctx)), retry, signal, (e) => this.retrying(step, e));
    await withRetry(() => driver.waitReady(target, ctx), retry, signal, (e) => this.retrying(step, e));
    // An output that exists only once the object is ready (a load balancer's address) and that others refer to is
    // read back now, so state records it and the next plan can resolve the reference.
    if ([...(this.env.referenced?.get(resource.id) ?? [])].some((a) => !(a in outputs))) {
      const live = await withRetry(() => driver.read(resource, signal), retry, signal, (e) => this.retrying(step, e));
      if (live) outputs = { ...live.outputs, ...outputs };
    }
    this.remember(resource.id, outputs);
    void recorder.record(
      (s) => {
        s.resources[resource.id] = {
          resource: { ...resource, settings: recordable },
          status: 'ready',
          lastAction: entry.action === 'keep' ? 'update' : entry.action,
          outputs: publicOutputs(outputs),
          secretOutputs: Object.keys(outputs).filter((k) => outputs[k].secret).sort(),
          updatedAt: new Date().toISOString(),
          error: null,
          origin: entry.adopt && entry.foreign ? 'adopted' : (previous?.origin ?? 'created'),
        };
      },
      { event: 'step-done', resourceId: resource.id, action: entry.action },
    );
    this.event(step, 'done', `${label(resource)} ${action === 'create' ? (entry.adopt ? 'adopted' : 'created') : 'updated'}`);
    return 'done';
  }

  private async remove(step: Step): Promise<NodeOutcome> {
    const { resource, entry } = step;
    const { driver, recorder, signal, retry } = this.env;
    if (entry.leave) {
      // Adopted from outside the tool: it is someone else's, so it stays; only the record goes.
      this.event(step, 'start', `forgetting ${label(resource)} (adopted: left in place)`);
      this.outputs.delete(resource.id);
      void recorder.record(
        (s) => {
          delete s.resources[resource.id];
        },
        { event: 'step-done', resourceId: resource.id, action: 'delete', message: 'adopted: left in place' },
      );
      this.event(step, 'done', `${label(resource)} left in place`);
      return 'done';
    }
    this.event(step, 'start', `deleting ${label(resource)}${resource.stateful ? ' (holds data)' : ''}`);
    void recorder.record(
      (s) => {
        const r = s.resources[resource.id];
        if (r) Object.assign(r, { status: 'pending', lastAction: 'delete', updatedAt: new Date().toISOString() });
      },
      { event: 'step-start', resourceId: resource.id, action: 'delete' },
    );
    await withRetry(() => driver.delete(resource, this.context(step)), retry, signal, (e) => this.retrying(step, e));
    this.outputs.delete(resource.id);
    void recorder.record(
      (s) => {
        delete s.resources[resource.id];
      },
      { event: 'step-done', resourceId: resource.id, action: 'delete' },
    );
    this.event(step, 'done', `${label(resource)} deleted`);
    return 'done';
  }

  private fail(step: Step, err: unknown): NodeOutcome {
    const { resource, entry } = step;
    const cancelled = this.env.signal.aborted;
    const error = this.env.redactor.redact(cancelled ? `cancelled (${describeError(err)})` : describeError(err));
    if (step.number === 0) step.number = ++this.total;
    this.failures.push({ id: resource.id, error });
    // A cancelled step may or may not have reached the provider: 'pending' makes the next plan check and finish it.
    void this.env.recorder.record(
      (s) => {
        const r = (s.resources[resource.id] ??= blankRecord(resource));
        r.status = cancelled ? 'pending' : 'failed';
        r.lastAction = entry.action === 'keep' ? 'update' : entry.action;
        r.error = cancelled ? null : error;
        r.updatedAt = new Date().toISOString();
      },
      { event: 'step-failed', resourceId: resource.id, action: entry.action, message: error },
    );
    this.event(step, 'failed', `${label(resource)}: ${error}`);
    return 'failed';
  }

  /** Resolves the resource's references, reading live outputs first for any this run does not hold (secret ones). */
  private async resolve(resource: DesiredResource): Promise<ReturnType<typeof resolveSettings>> {
    const unknown = outputRefs(resource.settings).filter((r) => this.outputs.get(r.id)?.[r.attribute] === undefined);
    await Promise.all([...new Set(unknown.map((r) => r.id))].map((id) => this.readOutputs(id)));
    return resolveSettings(resource.settings, this.lookup);
  }

  private readonly lookup: OutputLookup = (id, attribute) => {
    const out = this.outputs.get(id)?.[attribute];
    return out ? { value: out.value, secret: out.secret === true } : undefined;
  };

  private readOutputs(id: string): Promise<void> {
    let read = this.liveReads.get(id);
    if (!read) {
      read = (async () => {
        const resource = this.env.resourceOf(id);
        if (!resource) return;
        const live = await withRetry(() => this.env.driver.read(resource, this.env.signal), this.env.retry, this.env.signal);
        if (live) this.remember(id, { ...live.outputs, ...this.outputs.get(id) });
      })();
      this.liveReads.set(id, read);
    }
    return read;
  }

  private remember(id: string, outputs: Outputs): void {
    for (const o of Object.values(outputs)) if (o.secret) this.env.redactor.add(o.value);
    this.outputs.set(id, outputs);
  }

  private context(step: Step): StepContext {
    const confirmed = this.env.confirmed;
    return {
      signal: this.env.signal,
      progress: (message) => this.event(step, 'progress', message),
      ...(confirmed?.ids.has(step.resource.id) && { confirmedDataLoss: { finalSnapshot: confirmed.finalSnapshot } }),
    };
  }

  private retrying(step: Step, err: Error): void {
    this.event(step, 'progress', `retrying after a transient error: ${err.message}`);
  }

  private event(step: Step, phase: ProgressPhase, message: string): void {
    try {
      this.env.emit({
        step: step.number, total: this.total, resourceId: step.resource.id, action: step.entry.action, phase,
        message: this.env.redactor.redact(message), at: new Date().toISOString(),
      });
    } catch {
      // A broken listener must not break the apply: the state and the journal still record everything.
    }
  }
}

/** "StatefulSet encore-postgres-users": names alone are ambiguous (a Secret, a Service and a StatefulSet share one). */
function label(resource: DesiredResource): string {
  return `${resource.providerType.split('/').pop() ?? resource.kind} ${resource.name}`;
}

function publicOutputs(outputs: Outputs): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(outputs).filter(([, o]) => !o.secret).map(([k, o]) => [k, o.value]));
}

function blankRecord(resource: DesiredResource): ResourceState {
  return { resource, status: 'pending', lastAction: null, outputs: {}, secretOutputs: [], updatedAt: new Date().toISOString(), error: null };
}
