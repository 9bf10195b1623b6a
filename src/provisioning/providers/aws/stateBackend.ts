/**
 * The AWS state backend (DESIGN.md "State", model/state.ts): the environment's state lives in the account it
 * describes, in a bucket the tool creates per account and region (`encore-state-<account>-<region>`: versioned, so
 * every earlier state can be recovered; encrypted; public access blocked; tagged), one folder per environment:
 *
 * - `environments/<env>/state.json`: the snapshot. Optimistic concurrency is S3's conditional write: a commit
 *   sends `If-Match: <the ETag it read>`, or `If-None-Match: *` when nothing was stored; another run's write in
 *   between is a 412, which is the engine's 'conflict'. The ETag is the version.
 * - `environments/<env>/journal.jsonl`: the journal, appended after the snapshot with the same conditional writes
 *   (a crash between the two loses journal lines, never state).
 * - `environments/<env>/deploys.json`: the deploy history (aws/deployTarget.ts), with the same conditional writes.
 * - `environments/<env>/lock.json`: the lock, an object created with `If-None-Match: *` holding the holder (user,
 *   host, pid, start time, operation, a per-acquisition token) and when it was last renewed. It is renewed every
 *   third of its lease with `If-Match`; the same break rules as the Kubernetes Lease: a holder whose process is gone
 *   on this host, or whose lock was not renewed for a whole lease duration, is gone; anything else needs force.
 */

import { randomUUID } from 'node:crypto';
import { StateError, type BreakLockOptions, type EnvState, type HeldLock, type JournalEntry, type LoadedState, type LockHolder, type StateBackend, type StateVersion } from '../../../model/state';
import { brokenLockMessage, holdLease, judgeHolder, lockedText, unreadableHolder, type HolderVerdict } from '../../state/lease';
import { parseJournal, parseState } from '../../state/parse';
import { awsCode, asTagList, isCode, MANAGED_BY, TAG, type AwsContext } from './driver/common';
import { isAwsError } from './errors';

const s3Sdk = () => import('@aws-sdk/client-s3');

export interface S3StateOptions {
  /** How long a lock stays valid without renewal (default 30 s); it is renewed every third of that. */
  leaseDurationSeconds?: number;
  /** The bucket; default `encore-state-<account>-<region>`. */
  bucket?: string;
}

interface LockBody {
  holder: LockHolder;
  renewedAt: string;
  leaseDurationSeconds: number;
}

export function stateBucketName(account: string, region: string): string {
  return `encore-state-${account}-${region}`;
}

/** A failed write whose precondition did not hold (412), or whose If-Match named an object that is gone. */
function preconditionFailed(err: unknown): boolean {
  if (isCode(err, 'PreconditionFailed', 'ConditionalRequestConflict')) return true;
  const cause = isAwsError(err) ? (err.cause as { $metadata?: { httpStatusCode?: number } } | undefined) : undefined;
  return cause?.$metadata?.httpStatusCode === 412 || cause?.$metadata?.httpStatusCode === 409;
}

const missing = (err: unknown) => isCode(err, 'NoSuchKey', 'NoSuchBucket', 'NotFound');

export class S3StateBackend implements StateBackend {
  readonly location: string;
  private readonly leaseSeconds: number;
  private readonly prefix: string;
  private bucketReady: Promise<void> | null = null;

  constructor(
    private readonly c: AwsContext,
    readonly bucket: string,
    private readonly environment: string,
    options: S3StateOptions = {},
  ) {
    this.prefix = `environments/${environment}/`;
    this.location = `s3://${bucket}/${this.prefix}state.json (${c.region})`;
    this.leaseSeconds = options.leaseDurationSeconds ?? 30;
  }

  private key(name: 'state.json' | 'journal.jsonl' | 'lock.json' | 'deploys.json'): string {
    return `${this.prefix}${name}`;
  }

  /** Makes the state bucket on first write: versioned, encrypted, public access blocked, tagged. */
  private ensureBucket(signal: AbortSignal): Promise<void> {
    this.bucketReady ??= (async () => {
      const sdk = await s3Sdk();
      const send = <O extends object>(cmd: Parameters<typeof this.c.clients.send<'S3', O>>[1]) => this.c.clients.send<'S3', O>('S3', cmd, signal);
      try {
        await send(new sdk.HeadBucketCommand({ Bucket: this.bucket }));
        return;
      } catch (err) {
        if (!isCode(err, 'NotFound', 'NoSuchBucket')) throw err;
      }
      try {
        await send(new sdk.CreateBucketCommand({
          Bucket: this.bucket, ObjectOwnership: 'BucketOwnerEnforced',
          ...(this.c.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: this.c.region as 'eu-west-1' } }),
        }));
      } catch (err) {
        if (!isCode(err, 'BucketAlreadyOwnedByYou')) throw err;
      }
      await send(new sdk.PutPublicAccessBlockCommand({
        Bucket: this.bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      }));
      await send(new sdk.PutBucketEncryptionCommand({ Bucket: this.bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
      await send(new sdk.PutBucketVersioningCommand({ Bucket: this.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      await send(new sdk.PutBucketTaggingCommand({ Bucket: this.bucket, Tagging: { TagSet: asTagList({ [TAG.managedBy]: MANAGED_BY, 'encore.dev/purpose': 'environment state' }) } }));
    })().catch((err) => {
      this.bucketReady = null;
      throw err;
    });
    return this.bucketReady;
  }

  /** The object's text and ETag, or null when it (or the bucket) does not exist. */
  private async get(key: string, signal: AbortSignal): Promise<{ text: string; etag: string } | null> {
    const { GetObjectCommand } = await s3Sdk();
    try {
      const got = await this.c.clients.send('S3', new GetObjectCommand({ Bucket: this.bucket, Key: key }), signal);
      return { text: (await got.Body?.transformToString('utf8')) ?? '', etag: got.ETag ?? '' };
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  /** A conditional write: `expected` null means "only if absent". Returns the new ETag, or null when the condition failed. */
  private async put(key: string, body: string, expected: string | null, signal: AbortSignal): Promise<string | null> {
    const { PutObjectCommand } = await s3Sdk();
    try {
      const put = await this.c.clients.send('S3', new PutObjectCommand({
        Bucket: this.bucket, Key: key, Body: body, ContentType: key.endsWith('.json') ? 'application/json' : 'application/x-ndjson',
        ...(expected === null ? { IfNoneMatch: '*' } : { IfMatch: expected }),
      }), signal);
      return put.ETag ?? '';
    } catch (err) {
      if (preconditionFailed(err) || (expected !== null && missing(err))) return null;
      throw err;
    }
  }

  async load(): Promise<LoadedState> {
    const found = await this.io('read the state', (signal) => this.get(this.key('state.json'), signal));
    if (!found) return { state: null, version: null };
    return { state: parseState(found.text, this.location), version: found.etag };
  }

  async readJournal(): Promise<JournalEntry[]> {
    const found = await this.io('read the journal', (signal) => this.get(this.key('journal.jsonl'), signal));
    return parseJournal(found?.text ?? '');
  }

  async commit(state: EnvState, journal: JournalEntry[], expected: StateVersion | null): Promise<StateVersion> {
    const version = await this.io('write the state', async (signal) => {
      await this.ensureBucket(signal);
      return this.put(this.key('state.json'), `${JSON.stringify(state, null, 2)}\n`, expected, signal);
    });
    if (version === null) {
      throw new StateError('conflict', `${this.location} was changed by another run since it was read (expected ${expected === null ? 'no state yet' : `version ${expected}`}); nothing was written`);
    }
    if (journal.length > 0) await this.io('append to the journal', (signal) => this.append(journal, signal));
    return version;
  }

  /** Appends to the journal object; a concurrent append is retried on the newer object. */
  private async append(entries: JournalEntry[], signal: AbortSignal): Promise<void> {
    const lines = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(this.key('journal.jsonl'), signal);
      if ((await this.put(this.key('journal.jsonl'), (current?.text ?? '') + lines, current?.etag ?? null, signal)) !== null) return;
    }
    throw new StateError('conflict', `the journal of ${this.environment} kept changing while it was appended to`);
  }

  // --- the deploy history, beside the state ---

  /** Where the deploy history is kept, for messages. */
  get historyLocation(): string {
    return `s3://${this.bucket}/${this.key('deploys.json')} (${this.c.region})`;
  }

  /** The deploy history's text and ETag, or null when none is stored yet. */
  async readHistory(signal: AbortSignal): Promise<{ text: string; etag: string } | null> {
    return this.io('read the deploy history', () => this.get(this.key('deploys.json'), signal));
  }

  /** Writes the deploy history if it is still at `expected` (null: only if absent); the new ETag, or null when not. */
  async writeHistory(text: string, expected: string | null, signal: AbortSignal): Promise<string | null> {
    return this.io('write the deploy history', async () => {
      await this.ensureBucket(signal);
      return this.put(this.key('deploys.json'), text, expected, signal);
    });
  }

  // --- the lock ---

  async acquireLock(holder: Omit<LockHolder, 'token'>): Promise<HeldLock> {
    const full: LockHolder = { ...holder, token: randomUUID() };
    const body: LockBody = { holder: full, renewedAt: new Date().toISOString(), leaseDurationSeconds: this.leaseSeconds };
    const etag = await this.io('take the lock', async (signal) => {
      await this.ensureBucket(signal);
      return this.put(this.key('lock.json'), JSON.stringify(body), null, signal);
    });
    if (etag === null) {
      const current = await this.inspectLock();
      if (current) throw new StateError('locked', lockedText(this.environment, current), { holder: current.holder });
      throw new StateError('conflict', `the lock of ${this.environment} changed while it was being taken; try again`);
    }
    return this.hold(full, etag);
  }

  private hold(holder: LockHolder, firstEtag: string): HeldLock {
    const never = new AbortController().signal;
    let etag = firstEtag;
    return holdLease(holder, {
      environment: this.environment,
      leaseSeconds: this.leaseSeconds,
      renew: async () => {
        const next = await this.put(this.key('lock.json'), JSON.stringify({ holder, renewedAt: new Date().toISOString(), leaseDurationSeconds: this.leaseSeconds } satisfies LockBody), etag, never);
        if (next === null) return false;
        etag = next;
        return true;
      },
      release: () =>
        this.io('release the lock', async (signal) => {
          const current = await this.get(this.key('lock.json'), signal);
          if (!current || parseLock(current.text)?.holder.token !== holder.token) return; // not ours any more
          await this.remove(this.key('lock.json'), current.etag, signal);
        }),
    });
  }

  /** A conditional delete; false when the object changed meanwhile. */
  private async remove(key: string, etag: string, signal: AbortSignal): Promise<boolean> {
    const { DeleteObjectCommand } = await s3Sdk();
    try {
      await this.c.clients.send('S3', new DeleteObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: etag }), signal);
      return true;
    } catch (err) {
      if (missing(err)) return true;
      if (preconditionFailed(err)) return false;
      throw err;
    }
  }

  async inspectLock(): Promise<HolderVerdict | null> {
    const current = await this.io('read the lock', (signal) => this.get(this.key('lock.json'), signal));
    if (!current) return null;
    return seen(parseLock(current.text), current.text);
  }

  async breakLock(options: BreakLockOptions): Promise<LockHolder | null> {
    const current = await this.io('read the lock', (signal) => this.get(this.key('lock.json'), signal));
    if (!current) return null;
    const s = seen(parseLock(current.text), current.text);
    if (!s.gone && !options.force) {
      throw new StateError('locked', `${lockedText(this.environment, s)} It was left in place; force it only if you know that run has stopped.`, { holder: s.holder });
    }
    const removed = await this.io('break the lock', (signal) => this.remove(this.key('lock.json'), current.etag, signal));
    if (!removed) throw new StateError('conflict', `the lock of ${this.environment} changed while it was being broken (its holder renewed it); nothing was broken`);
    await this.noteBroken(s).catch(() => undefined);
    return s.holder;
  }

  private async noteBroken(s: HolderVerdict): Promise<void> {
    const { state } = await this.load();
    await this.io('append to the journal', (signal) => this.append([{
      at: new Date().toISOString(), operation: 'unlock', serial: state?.serial ?? 0, event: 'lock-broken', message: brokenLockMessage(s),
    }], signal));
  }

  private async io<T>(what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await run(new AbortController().signal);
    } catch (err) {
      if (err instanceof StateError) throw err;
      throw new StateError('io', `could not ${what} of ${this.environment} (${this.location}): ${(err as Error).message}${awsCode(err) ? '' : ''}`, { cause: err });
    }
  }
}

function parseLock(text: string): LockBody | null {
  try {
    const body = JSON.parse(text) as LockBody;
    return typeof body?.holder?.token === 'string' ? body : null;
  } catch {
    return null;
  }
}

/** The holder and whether it is gone (judgeHolder's rules, those of the Kubernetes Lease). */
function seen(body: LockBody | null, text: string): HolderVerdict {
  if (!body) return unreadableHolder(text);
  return judgeHolder(body.holder, Date.parse(body.renewedAt), body.leaseDurationSeconds ?? 30, 'lock');
}
