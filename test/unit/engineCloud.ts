/**
 * A small, real, in-memory cloud for the engine's tests, and a ProviderDriver over it. Not a mock of an SDK: objects
 * are stored by (provider type, name), get a uid, keep generated secrets across adoption, take time (latency per
 * call, abortable), and can be made to fail per resource id and operation, to not become ready with a reason, or to
 * drift (changed or deleted "outside the tool"). With a file, the cloud persists every change at once, so a child
 * process killed mid-apply leaves exactly what a real cloud would, and the next process sees it.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DesiredResource, JsonObject, JsonValue } from '../../src/model/desiredGraph';
import { DriverError, type FieldChange, type LiveObject, type Outputs, type ProviderDriver, type ResolvedResource, type StepContext } from '../../src/model/providerApi';
import { diffJson } from '../../src/provisioning/engine/diff';
import type { ProviderRegistry } from '../../src/provisioning/providers';
import { LocalFileBackend } from '../../src/provisioning/state/localFile';

export interface CloudObject {
  uid: string;
  providerType: string;
  name: string;
  settings: JsonObject;
  /** Generated secret values (passwords), kept when the object is adopted or updated. */
  secrets: Record<string, string>;
  /** Made by the driver (this tool's mark), not by someone else. */
  ours?: boolean;
}

interface CloudData {
  objects: Record<string, CloudObject>;
  counter: number;
}

export type Op = 'read' | 'create' | 'update' | 'delete' | 'waitReady';

export interface Injected {
  op: Op;
  /** How many calls fail before calls succeed again (Infinity: always). */
  times: number;
  error: () => Error;
}

export class MemoryCloud {
  private data: CloudData = { objects: {}, counter: 0 };
  private secrets: string[] | null = null;
  latencyMs: Partial<Record<Op, number>> = {};
  /** Per resource id: failures to inject. */
  readonly failures = new Map<string, Injected[]>();
  /** Per resource id: waitReady never returns until aborted. */
  readonly hang = new Set<string>();
  /** Every call, in order of start, with start and end times (ms since the cloud was made). */
  readonly calls: { op: Op; id: string; start: number; end: number }[] = [];
  private readonly born = Date.now();
  private activeMutations = 0;
  /** The most create/update/delete calls in flight at once. */
  maxActiveMutations = 0;

  constructor(private readonly file?: string) {
    if (file) {
      try {
        this.data = JSON.parse(readFileSync(file, 'utf8')) as CloudData;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  objects(): CloudObject[] {
    return Object.values(this.data.objects).sort((a, b) => key(a.providerType, a.name).localeCompare(key(b.providerType, b.name)));
  }

  get(providerType: string, name: string): CloudObject | undefined {
    return this.data.objects[key(providerType, name)];
  }

  /** Someone edits the object by hand. */
  driftSet(providerType: string, name: string, field: string, value: JsonValue): void {
    const o = this.must(providerType, name);
    o.settings = { ...o.settings, [field]: value };
    this.persist();
  }

  /** Someone deletes the object by hand. */
  deleteOutside(providerType: string, name: string): void {
    this.must(providerType, name);
    delete this.data.objects[key(providerType, name)];
    this.persist();
  }

  /** Someone creates the object by hand, or (`ours`) an earlier run of this tool did, without recording it. */
  putOutside(providerType: string, name: string, settings: JsonObject, options: { ours?: boolean } = {}): void {
    this.data.objects[key(providerType, name)] = { uid: this.uid(), providerType, name, settings, secrets: {}, ours: options.ours ?? false };
    this.persist();
  }

  failOn(id: string, op: Op, error: () => Error, times = Infinity): void {
    this.failures.set(id, [...(this.failures.get(id) ?? []), { op, times, error }]);
  }

  async call<T>(op: Op, id: string, signal: AbortSignal, body: () => T): Promise<T> {
    const mutation = op === 'create' || op === 'update' || op === 'delete';
    const start = Date.now() - this.born;
    if (mutation) this.maxActiveMutations = Math.max(this.maxActiveMutations, ++this.activeMutations);
    try {
      await delay(this.latencyMs[op] ?? 0, signal);
      if (op === 'waitReady' && this.hang.has(id)) await delay(1e9, signal);
      const injected = (this.failures.get(id) ?? []).find((f) => f.op === op && f.times > 0);
      if (injected) {
        injected.times--;
        throw injected.error();
      }
      return body();
    } finally {
      if (mutation) this.activeMutations--;
      this.calls.push({ op, id, start, end: Date.now() - this.born });
    }
  }

  upsert(providerType: string, name: string, settings: JsonObject, generate: string[]): CloudObject {
    const k = key(providerType, name);
    const existing = this.data.objects[k];
    const secrets = { ...(existing?.secrets ?? {}) };
    for (const g of generate) secrets[g] ??= randomBytes(12).toString('hex');
    // Written by the driver: it carries the mark from now on (an adopted object gets it too, as a real driver labels it).
    const o: CloudObject = { uid: existing?.uid ?? this.uid(), providerType, name, settings, secrets, ours: true };
    this.data.objects[k] = o;
    this.persist();
    return o;
  }

  remove(providerType: string, name: string): void {
    delete this.data.objects[key(providerType, name)];
    this.persist();
  }

  /** Every secret the cloud holds, so the driver keeps them out of what it reports as observed. */
  allSecrets(): string[] {
    // Cached between changes: a read per resource would otherwise make a large plan quadratic in this stand-in.
    return (this.secrets ??= Object.values(this.data.objects).flatMap((o) => Object.values(o.secrets)));
  }

  private must(providerType: string, name: string): CloudObject {
    const o = this.get(providerType, name);
    if (!o) throw new Error(`no ${providerType} ${name} in the cloud`);
    return o;
  }

  private uid(): string {
    return `uid-${++this.data.counter}`;
  }

  private persist(): void {
    this.secrets = null;
    if (!this.file) return;
    const temp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(temp, JSON.stringify(this.data));
    renameSync(temp, this.file);
  }
}

/** The provider types this cloud serves: anything under `mem/` and the Kubernetes-like types of the planner. */
export class MemoryDriver implements ProviderDriver {
  readonly kind = 'kubernetes' as const;
  readonly target = 'the in-memory test cloud';
  preflightError: Error | undefined;

  constructor(readonly cloud: MemoryCloud) {}

  async preflight(): Promise<void> {
    if (this.preflightError) throw this.preflightError;
  }

  supports(providerType: string): boolean {
    return !providerType.startsWith('unsupported/');
  }

  read(resource: DesiredResource, signal: AbortSignal): Promise<LiveObject | null> {
    return this.cloud.call('read', resource.id, signal, () => {
      const o = this.cloud.get(resource.providerType, resource.name);
      return o ? live(o, this.cloud.allSecrets()) : null;
    });
  }

  create(resource: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    // Idempotent: an existing object with this name is adopted and brought to the settings.
    return this.cloud.call('create', resource.id, ctx.signal, () => outputs(this.cloud.upsert(resource.providerType, resource.name, resource.resolved, generated(resource))));
  }

  update(resource: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return this.cloud.call('update', resource.id, ctx.signal, () => outputs(this.cloud.upsert(resource.providerType, resource.name, resource.resolved, generated(resource))));
  }

  delete(resource: DesiredResource, ctx: StepContext): Promise<void> {
    return this.cloud.call('delete', resource.id, ctx.signal, () => this.cloud.remove(resource.providerType, resource.name));
  }

  waitReady(resource: ResolvedResource, ctx: StepContext): Promise<void> {
    return this.cloud.call('waitReady', resource.id, ctx.signal, () => {
      ctx.progress(`${resource.name} is ready`);
    });
  }

  diff(desired: ResolvedResource, liveObject: LiveObject): FieldChange[] {
    return diffJson(liveObject.observed, desired.resolved);
  }
}

/** Keys of `{ keys: { password: { generate: 'password' } } }` settings (the planner's generated secrets). */
function generated(resource: DesiredResource): string[] {
  const keys = resource.settings.keys;
  if (!keys || typeof keys !== 'object' || Array.isArray(keys)) return [];
  return Object.entries(keys).filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v) && 'generate' in v).map(([k]) => k);
}

function outputs(o: CloudObject): Outputs {
  const out: Outputs = { uid: { value: o.uid }, host: { value: `${o.name}.internal` } };
  for (const [k, v] of Object.entries(o.secrets)) out[k] = { value: v, secret: true };
  return out;
}

// A driver must never report a secret in `observed` (providerApi.ts): values that embed one are masked, as a real
// driver reports a secretKeyRef rather than the value.
function live(o: CloudObject, secrets: string[]): LiveObject {
  const mask = (v: JsonValue): JsonValue =>
    typeof v === 'string' ? (secrets.some((s) => v.includes(s)) ? '(secret)' : v)
    : Array.isArray(v) ? v.map(mask)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)]))
    : v;
  return { externalId: o.uid, observed: mask(o.settings) as JsonObject, outputs: outputs(o), status: { state: 'ready' }, ours: o.ours !== false };
}

function key(providerType: string, name: string): string {
  return `${providerType}|${name}`;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function transient(message = 'HTTP 500 from the API server'): () => Error {
  return () => new DriverError('transient', message);
}

/**
 * A provider module over the in-memory cloud, for the session and the front ends' tests: every environment, of any
 * provider kind, is applied to `cloud`, with state in the app's local folder (.encore/state/<env>/).
 */
export function memoryProvider(cloud: MemoryCloud, options: { onOpen?: (driver: MemoryDriver) => void } = {}): ProviderRegistry {
  return async (kind) => ({
    kind,
    async open(env, { appRoot }) {
      const driver = new MemoryDriver(cloud);
      options.onOpen?.(driver);
      return {
        driver,
        state: async () => LocalFileBackend.forApp(appRoot, env.name),
        identity: async () => ({ principal: 'tester', scope: 'the in-memory test cloud' }),
        dispose: async () => undefined,
      };
    },
    offlineState: (env, { appRoot }) => LocalFileBackend.forApp(appRoot, env.name),
  });
}
