/**
 * What every GCP resource handler shares: the clients of the environment's connection (each made on first use),
 * the labels that mark an object as this environment's, and polling of long-running operations with progress and
 * cancellation between polls. The handler shape and the JSON helpers are the AWS driver's.
 */

import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type StepContext } from '../../../../model/providerApi';
import type { CloudHandler } from '../../cloudHandler';
import { loadArtifactRegistry, loadContainer, loadPubSub, loadRedis, loadSecretManager, loadSql, loadStorage } from '../clients';
import type { GcpApi, GcpConnection } from '../connection';
import { IamServiceAccounts } from '../iamRest';

export { at, bool, num, objectAt, out, pick, readyStatus, str, strings } from '../../aws/driver/common';

/** Labels every object the driver makes carries (GCP label keys and values: lowercase, digits, _ and -). */
export const LABEL = {
  managedBy: 'encore-managed-by',
  environment: 'encore-env',
  resource: 'encore-resource',
} as const;
export const MANAGED_BY = 'encore-environments';

export interface GcpTiming {
  readyTimeoutMs?: number;
  deleteTimeoutMs?: number;
  pollIntervalMs?: number;
}

/** A label value: at most 63 lowercase letters, digits, `_` and `-`; a long one keeps a hash of the whole. */
export function labelValue(text: string): string {
  const clean = text.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  if (clean.length <= 63) return clean;
  return `${clean.slice(0, 54)}-${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
}

export function labelsFor(r: Pick<DesiredResource, 'id'>, c: Pick<GcpContext, 'environment'>): Record<string, string> {
  return { [LABEL.managedBy]: MANAGED_BY, [LABEL.environment]: labelValue(c.environment), [LABEL.resource]: labelValue(r.id) };
}

export function marked(labels: Record<string, string> | null | undefined, r: Pick<DesiredResource, 'id'>, c: Pick<GcpContext, 'environment'>): boolean {
  const want = labelsFor(r, c);
  return Object.entries(want).every(([k, v]) => labels?.[k] === v);
}

/** Where labels cannot go (networks, service accounts): the mark in the description. */
export function descriptionMark(r: Pick<DesiredResource, 'id'>, c: Pick<GcpContext, 'environment'>): string {
  return `Managed by ${MANAGED_BY}: environment ${c.environment}, resource ${r.id}`;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the clients' own classes, loaded on demand */
type ClientOf = {
  container: any;
  redis: any;
  secretmanager: any;
  artifactregistry: any;
  sqlInstances: any;
  sqlOperations: any;
  sqlUsers: any;
  pubsub: any;
  storage: any;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

export class GcpClients {
  private readonly made = new Map<string, Promise<unknown>>();
  readonly iam: IamServiceAccounts;

  constructor(private readonly connection: GcpConnection) {
    const iam = connection.endpoint('iam');
    this.iam = new IamServiceAccounts(connection.auth, iam.url);
  }

  private make<K extends keyof ClientOf>(key: K, build: () => Promise<ClientOf[K]>): Promise<ClientOf[K]> {
    let c = this.made.get(key) as Promise<ClientOf[K]> | undefined;
    if (!c) {
      c = build();
      this.made.set(key, c);
    }
    return c;
  }

  get<K extends keyof ClientOf>(key: K): Promise<ClientOf[K]> {
    const o = (api: GcpApi) => this.connection.gapicOptions(api);
    switch (key) {
      case 'container': return this.make(key, async () => new (await loadContainer()).v1.ClusterManagerClient(o('container')));
      case 'redis': return this.make(key, async () => new (await loadRedis()).v1.CloudRedisClient(o('redis')));
      case 'secretmanager': return this.make(key, async () => new (await loadSecretManager()).v1.SecretManagerServiceClient(o('secretmanager')));
      case 'artifactregistry': return this.make(key, async () => new (await loadArtifactRegistry()).v1.ArtifactRegistryClient(o('artifactregistry')));
      case 'sqlInstances': return this.make(key, async () => new (await loadSql()).v1.SqlInstancesServiceClient(o('sql')));
      case 'sqlOperations': return this.make(key, async () => new (await loadSql()).v1.SqlOperationsServiceClient(o('sql')));
      case 'sqlUsers': return this.make(key, async () => new (await loadSql()).v1.SqlUsersServiceClient(o('sql')));
      case 'pubsub': return this.make(key, async () => {
        const e = this.connection.endpoint('pubsub');
        const { PubSub } = await loadPubSub();
        // An http endpoint is an emulator (pstest): no TLS, no credentials, as PUBSUB_EMULATOR_HOST does.
        return e.protocol === 'http'
          ? new PubSub({ projectId: this.connection.project, apiEndpoint: `${e.host}:${e.port}`, emulatorMode: true })
          : new PubSub({ projectId: this.connection.project, authClient: this.connection.auth, apiEndpoint: e.host, port: e.port } as object);
      });
      case 'storage': return this.make(key, async () => {
        const e = this.connection.endpoint('storage');
        const { Storage } = await loadStorage();
        return new Storage({ projectId: this.connection.project, authClient: this.connection.auth, apiEndpoint: e.url } as object);
      });
      default: throw new Error(`unknown client ${String(key)}`);
    }
  }

  async close(): Promise<void> {
    const all = [...this.made.values()];
    this.made.clear();
    await Promise.allSettled(all.map(async (p) => {
      const client = (await p) as { close?: () => Promise<void> };
      await client.close?.();
    }));
  }
}

/** The environment a handler acts in. */
export interface GcpContext {
  connection: GcpConnection;
  clients: GcpClients;
  environment: string;
  project: string;
  region: string;
  timing: GcpTiming;
  /** Cloud names learnt from reads and creates (the cluster's full name for its node pool). */
  names: Map<string, string>;
  /** Calls an API with the signal honoured and errors translated. */
  call<T>(api: GcpApi, operation: string, run: () => Promise<T>, signal: AbortSignal): Promise<T>;
}

/** Waits until `check` says done, polling with the signal honoured between polls. */
export async function poll<T>(
  c: GcpContext,
  step: Pick<StepContext, 'signal' | 'progress'>,
  what: string,
  check: () => Promise<{ done: true; value: T } | { done: false; state: string }>,
  options: { timeoutMs: number; resourceId: string; failed?: (state: string) => string | null },
): Promise<T> {
  const started = Date.now();
  const timeout = c.timing.readyTimeoutMs ?? options.timeoutMs;
  const interval = c.timing.pollIntervalMs ?? 10_000;
  let last = '';
  for (;;) {
    step.signal.throwIfAborted();
    const result = await check();
    if (result.done) return result.value;
    const failure = options.failed?.(result.state);
    if (failure) throw new DriverError('not-ready', `${what}: ${failure}`, { resourceId: options.resourceId });
    const waited = Math.round((Date.now() - started) / 1000);
    if (result.state !== last || waited % 60 === 0) step.progress(`${what}: ${result.state} (${waited} s)`);
    last = result.state;
    if (Date.now() - started > timeout) {
      throw new DriverError('not-ready', `${what}: still ${result.state} after ${Math.round(timeout / 1000)} s`, { resourceId: options.resourceId });
    }
    await sleep(interval, undefined, { signal: step.signal });
  }
}

/** What the provider reads of a google.longrunning.Operation. */
interface LongRunningOperation {
  done?: boolean;
  error?: { code?: number; message?: string } | null;
}

/** A google.longrunning operation (Memorystore, Artifact Registry): polled until done; its error thrown. */
export async function waitOperation(
  c: GcpContext,
  step: Pick<StepContext, 'signal' | 'progress'>,
  api: GcpApi,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- gax's Operation
  client: any,
  name: string,
  what: string,
  resourceId: string,
  timeoutMs: number,
): Promise<void> {
  await poll(c, step, what, async () => {
    const [op] = (await c.call(api, 'GetOperation', () => client.operationsClient.getOperation({ name }), step.signal)) as [LongRunningOperation];
    if (!op.done) return { done: false, state: 'in progress' };
    if (op.error && op.error.code) throw new DriverError('not-ready', `${what}: the operation failed: ${String(op.error.message)}`, { resourceId });
    return { done: true, value: undefined };
  }, { timeoutMs, resourceId });
}

export function plainLabels(labels: unknown): Record<string, string> {
  return labels && typeof labels === 'object' ? Object.fromEntries(Object.entries(labels as Record<string, unknown>).map(([k, v]) => [k, String(v)])) : {};
}

/** One GCP resource type: what the driver does for it (the AWS driver's shape, over a GcpContext). */
export type Handler = CloudHandler<GcpContext>;
