/**
 * What every AWS resource handler shares: the SDK clients of the environment's connection (made on first use), the
 * tags that mark an object as this environment's, polling with cancellation between polls, and the small JSON
 * helpers the handlers read settings with.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { DesiredResource, JsonObject, JsonValue } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type StepContext } from '../../../../model/providerApi';
import type { CloudHandler } from '../../cloudHandler';
import type { MiddlewareStack } from '@smithy/types';
import type { AwsConnection } from '../connection';
import { isAwsError } from '../errors';
import type { AwsServiceId } from '../services';

/** The tags every object the driver makes carries: the mark `LiveObject.ours` is read from. */
export const TAG = {
  managedBy: 'encore.dev/managed-by',
  environment: 'encore.dev/env',
  resource: 'encore.dev/resource',
} as const;
export const MANAGED_BY = 'encore-environments';

export interface AwsTiming {
  readyTimeoutMs?: number;
  deleteTimeoutMs?: number;
  pollIntervalMs?: number;
}

/** The environment a handler acts in. */
export interface AwsContext {
  connection: AwsConnection;
  clients: AwsClients;
  environment: string;
  region: string;
  timing: AwsTiming;
  /** The account id (STS GetCallerIdentity, asked once). */
  account(signal: AbortSignal): Promise<string>;
  /** The caller's ARN (STS), for access entries. */
  callerArn(signal: AbortSignal): Promise<string>;
  /** Cloud names of resources by graph id, learnt from reads and creates (the node group's cluster). */
  names: Map<string, string>;
}

/** One AWS resource type: what the driver does for it. */
export type Handler = CloudHandler<AwsContext>;

type ClientOf = {
  EC2: import('@aws-sdk/client-ec2').EC2Client;
  EKS: import('@aws-sdk/client-eks').EKSClient;
  IAM: import('@aws-sdk/client-iam').IAMClient;
  RDS: import('@aws-sdk/client-rds').RDSClient;
  ElastiCache: import('@aws-sdk/client-elasticache').ElastiCacheClient;
  SNS: import('@aws-sdk/client-sns').SNSClient;
  SQS: import('@aws-sdk/client-sqs').SQSClient;
  S3: import('@aws-sdk/client-s3').S3Client;
  'Secrets Manager': import('@aws-sdk/client-secrets-manager').SecretsManagerClient;
  ECR: import('@aws-sdk/client-ecr').ECRClient;
  STS: import('@aws-sdk/client-sts').STSClient;
};

const LOADERS: { [K in keyof ClientOf]: () => Promise<new (config: object) => ClientOf[K]> } = {
  EC2: async () => (await import('@aws-sdk/client-ec2')).EC2Client,
  EKS: async () => (await import('@aws-sdk/client-eks')).EKSClient,
  IAM: async () => (await import('@aws-sdk/client-iam')).IAMClient,
  RDS: async () => (await import('@aws-sdk/client-rds')).RDSClient,
  ElastiCache: async () => (await import('@aws-sdk/client-elasticache')).ElastiCacheClient,
  SNS: async () => (await import('@aws-sdk/client-sns')).SNSClient,
  SQS: async () => (await import('@aws-sdk/client-sqs')).SQSClient,
  S3: async () => (await import('@aws-sdk/client-s3')).S3Client,
  'Secrets Manager': async () => (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient,
  ECR: async () => (await import('@aws-sdk/client-ecr')).ECRClient,
  STS: async () => (await import('@aws-sdk/client-sts')).STSClient,
};

/** The connection's SDK clients, each loaded and made on first use, and every call through the error translation. */
export class AwsClients {
  private readonly made = new Map<string, Promise<unknown>>();

  constructor(private readonly connection: AwsConnection) {}

  client<K extends keyof ClientOf>(id: K): Promise<ClientOf[K]> {
    let c = this.made.get(id) as Promise<ClientOf[K]> | undefined;
    if (!c) {
      c = LOADERS[id]().then((Ctor) => new Ctor(this.connection.clientConfig(id as AwsServiceId)));
      this.made.set(id, c);
    }
    return c;
  }

  /** Sends one command with the signal; failures come out as AwsError (a cancellation as itself). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's own Command type parameters
  async send<K extends keyof ClientOf, O extends object>(id: K, command: { readonly input: object; readonly middlewareStack: MiddlewareStack<any, O> }, signal: AbortSignal): Promise<O> {
    const client = (await this.client(id)) as unknown as { send(c: object, o: { abortSignal: AbortSignal }): Promise<O> };
    signal.throwIfAborted();
    const operation = command.constructor.name.replace(/Command$/, '');
    return this.connection.call(id as AwsServiceId, operation, () => client.send(command, { abortSignal: signal }));
  }

  destroy(): void {
    for (const c of this.made.values()) void c.then((client) => (client as { destroy(): void }).destroy()).catch(() => undefined);
    this.made.clear();
  }
}

/** The AWS error code of a failure the connection translated, if any. */
export function awsCode(err: unknown): string | undefined {
  return isAwsError(err) ? err.awsCode : undefined;
}

export function isCode(err: unknown, ...codes: string[]): boolean {
  const code = awsCode(err);
  return code !== undefined && codes.includes(code);
}

/** The tags of a resource as a record. */
export function tagsFor(r: Pick<DesiredResource, 'id'>, c: Pick<AwsContext, 'environment'>, extra: Record<string, string> = {}): Record<string, string> {
  return { [TAG.managedBy]: MANAGED_BY, [TAG.environment]: c.environment, [TAG.resource]: r.id, ...extra };
}

export const asTagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
export const asLowerTagList = (tags: Record<string, string>) => Object.entries(tags).map(([key, value]) => ({ key, value }));

/** Whether tags (in any of the SDKs' shapes) carry this environment's mark for this resource. */
export function marked(tags: Record<string, string | undefined> | undefined, r: Pick<DesiredResource, 'id'>, c: Pick<AwsContext, 'environment'>): boolean {
  return tags?.[TAG.managedBy] === MANAGED_BY && tags?.[TAG.environment] === c.environment && tags?.[TAG.resource] === r.id;
}

export function tagRecord(list: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));
}

/** Waits until `check` says done, polling with the signal honoured between polls. */
export async function poll<T>(
  c: AwsContext,
  step: Pick<StepContext, 'signal' | 'progress'>,
  what: string,
  check: () => Promise<{ done: true; value: T } | { done: false; state: string }>,
  options: { timeoutMs: number; resourceId: string; failed?: (state: string) => boolean },
): Promise<T> {
  const started = Date.now();
  const timeout = c.timing.readyTimeoutMs ?? options.timeoutMs;
  const interval = c.timing.pollIntervalMs ?? 10_000;
  let last = '';
  for (;;) {
    step.signal.throwIfAborted();
    const result = await check();
    if (result.done) return result.value;
    if (options.failed?.(result.state)) throw new DriverError('not-ready', `${what}: it is ${result.state}`, { resourceId: options.resourceId });
    const waited = Math.round((Date.now() - started) / 1000);
    if (result.state !== last || waited % 60 === 0) step.progress(`${what}: ${result.state} (${waited} s)`);
    last = result.state;
    if (Date.now() - started > timeout) {
      throw new DriverError('not-ready', `${what}: still ${result.state} after ${Math.round(timeout / 1000)} s`, { resourceId: options.resourceId });
    }
    await sleep(interval, undefined, { signal: step.signal });
  }
}

/**
 * Runs a create that names an IAM role made moments ago: IAM is eventually consistent, and EKS refuses a role it
 * cannot assume yet ("InvalidParameterException … role"), so the call is tried again for up to a minute.
 */
export async function afterRolePropagation<T>(step: Pick<StepContext, 'signal' | 'progress'>, run: () => Promise<T>, budgetMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await run();
    } catch (err) {
      const propagating = isCode(err, 'InvalidParameterException') && /role|assume/i.test((err as Error).message);
      if (!propagating || Date.now() - started > budgetMs) throw err;
      step.progress('waiting for the new IAM role to propagate');
      await sleep(5_000, undefined, { signal: step.signal });
    }
  }
}

export function str(o: JsonObject, key: string, id: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.includes('${')) throw new DriverError('invalid', `${id}: setting "${key}" is not a resolved string (${JSON.stringify(v)})`, { resourceId: id });
  return v;
}

export function num(o: JsonObject, key: string, id: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new DriverError('invalid', `${id}: setting "${key}" is not a number (${JSON.stringify(v)})`, { resourceId: id });
  return v;
}

export function bool(o: JsonObject, key: string): boolean {
  return o[key] === true;
}

export function strings(o: JsonObject, key: string, id: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new DriverError('invalid', `${id}: setting "${key}" is not a list of strings (${JSON.stringify(v)})`, { resourceId: id });
  return v as string[];
}

export function objectAt(o: JsonObject, key: string): JsonObject {
  const v = o[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/** The value at a dotted path. */
export function at(o: JsonObject, path: string): JsonValue | undefined {
  let v: JsonValue | undefined = o;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = v[part];
  }
  return v;
}

/** An object holding only the given dotted paths of `o` (those that are present). */
export function pick(o: JsonObject, paths: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const path of paths) {
    const v = at(o, path);
    if (v === undefined) continue;
    const parts = path.split('.');
    let target = out;
    for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as JsonObject;
    target[parts[parts.length - 1]!] = v;
  }
  return out;
}

export const out = (value: JsonValue, secret = false) => (secret ? { value, secret: true } : { value });

export function readyStatus(state: string, ready: string[], failed: string[] = []): LiveObject['status'] {
  if (ready.includes(state)) return { state: 'ready' };
  if (failed.includes(state)) return { state: 'failed', reason: `it is ${state}` };
  return { state: 'pending', reason: `it is ${state}` };
}
