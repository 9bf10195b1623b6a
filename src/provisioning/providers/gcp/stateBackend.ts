/**
 * The GCP state backend (DESIGN.md "State", model/state.ts), the twin of the AWS one: the environment's state lives in
 * the project it describes, in a bucket the tool creates per project and region (`encore-state-<project>-<region>`:
 * object versioning, so earlier states can be recovered, the last 100 versions of each object kept; uniform
 * bucket-level access, so only IAM governs it; public access prevention enforced; labelled), one folder per
 * environment:
 *
 * - `environments/<env>/state.json`: the snapshot. Optimistic concurrency is GCS's generation precondition: a commit
 *   sends `ifGenerationMatch: <the generation it read>`, or `ifGenerationMatch: 0` ("only if absent") when nothing was
 *   stored; another run's write in between is a 412, which is the engine's 'conflict'. The generation is the version.
 * - `environments/<env>/journal.jsonl`: the journal, appended after the snapshot with the same preconditions (a crash
 *   between the two loses journal lines, never state).
 * - `environments/<env>/lock.json`: the lock, an object created with `ifGenerationMatch: 0` holding the holder (user,
 *   host, pid, start time, operation, a per-acquisition token), the Google account that took it, and when it was last
 *   renewed. Renewed every third of its lease with `ifGenerationMatch`; the break rules are the Kubernetes Lease's
 *   (state/lease.ts): a holder whose process is gone on this host, or whose lock was not renewed for a whole lease
 *   duration, is gone; anything else needs force.
 *
 * An upload to GCS is atomic (an object is the whole body or absent), so a run killed mid-write leaves the previous
 * generation in place. A write that the client retried after it had landed comes back 412: it is recognised by
 * its metadata (the write's own id).
 *
 * Wiring (for the GCP module.ts): `gcpStateBackend({ storage | authClient + apiEndpoint, projectId, region,
 * environment, account })` is the remote backend; `gcpMirroredState(remote, appRoot, environment)` puts it behind the
 * local mirror (and moves an earlier local state into it), and `gcpOfflineState(...)` is the read-only mirror for
 * `plan --offline` and the tree's statuses at start, as awsProvider.open / offlineState do.
 */

import { createHash, randomUUID } from 'node:crypto';
import type { Bucket, CreateBucketRequest, File, Storage as StorageClient, StorageOptions } from '@google-cloud/storage';
import { StateError, type BreakLockOptions, type EnvState, type HeldLock, type JournalEntry, type LoadedState, type LockHolder, type StateBackend, type StateVersion } from '../../../model/state';
import { brokenLockMessage, holdLease, judgeHolder, lockedText, unreadableHolder, type HolderVerdict } from '../../state/lease';
import { LocalFileBackend } from '../../state/localFile';
import { MigratingBackend, MirroredBackend, MirrorReader, mirrorFile } from '../../state/mirror';
import { parseJournal, parseState } from '../../state/parse';

export const MANAGED_BY_LABEL = { 'managed-by': 'encore-environments', purpose: 'environment-state' } as const;
/** Noncurrent versions kept per object: enough to go back a few applies (each step commits), bounded in storage. */
const VERSIONS_KEPT = 100;

export interface GcsStateOptions {
  /** A Storage client to use as it is; or, to make one, `authClient` (ADC) and optionally `apiEndpoint`. */
  storage?: StorageClient;
  authClient?: StorageOptions['authClient'];
  /** A custom endpoint (a fake, a private endpoint); requests to it still carry the auth client's token. */
  apiEndpoint?: string;
  projectId: string;
  /** The bucket's location: the environment's region. */
  region: string;
  environment: string;
  /** The Google account taking the lock (from ADC), recorded in the lock beside the holder. */
  account?: string;
  /** The bucket; default stateBucketName(projectId, region). */
  bucket?: string;
  /** How long a lock stays valid without renewal (default 30 s); it is renewed every third of that. */
  leaseDurationSeconds?: number;
}

interface LockBody {
  holder: LockHolder;
  account?: string;
  renewedAt: string;
  leaseDurationSeconds: number;
}

/**
 * `encore-state-<project>-<region>`. Bucket names are global and at most 63 characters: a longer one keeps the
 * region and a hash of the whole project id, so two projects never share a name.
 */
export function stateBucketName(projectId: string, region: string): string {
  const name = `encore-state-${projectId}-${region}`.toLowerCase();
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(projectId).digest('hex').slice(0, 8);
  const room = 63 - 'encore-state-'.length - region.length - hash.length - 2;
  return `encore-state-${projectId.slice(0, Math.max(0, room)).replace(/[-_.]+$/, '')}-${hash}-${region}`.toLowerCase();
}

/** What the state bucket is created with (the body of buckets.insert), kept apart so a unit test can assert it. */
export function stateBucketMetadata(region: string): CreateBucketRequest {
  return {
    location: region.toUpperCase(),
    storageClass: 'STANDARD',
    versioning: { enabled: true },
    iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' },
    labels: { ...MANAGED_BY_LABEL },
    lifecycle: { rule: [{ action: { type: 'Delete' }, condition: { numNewerVersions: VERSIONS_KEPT, isLive: false } }] },
  };
}

const codeOf = (err: unknown): number | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** The remote backend, on a Storage client made from the options when none is given. */
export async function gcpStateBackend(options: GcsStateOptions): Promise<GcsStateBackend> {
  let storage = options.storage;
  if (!storage) {
    const { Storage } = await import('@google-cloud/storage');
    storage = new Storage({
      projectId: options.projectId, authClient: options.authClient,
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint, useAuthWithCustomEndpoint: true } : {}),
    });
  }
  return new GcsStateBackend(storage, options);
}

/** The remote backend behind the local copy (plan --offline), moving a state an earlier version kept locally into it. */
export function gcpMirroredState(remote: StateBackend, appRoot: string, environment: string): StateBackend {
  return new MirroredBackend(new MigratingBackend(remote, LocalFileBackend.forApp(appRoot, environment)), mirrorFile(appRoot, environment));
}

/** The read-only backend for when GCP is not reached: the local copy of the state. */
export function gcpOfflineState(environment: string, projectId: string, region: string, appRoot: string): StateBackend {
  const source = `the GCS state bucket ${stateBucketName(projectId, region)} of project ${projectId}`;
  return new MirrorReader(mirrorFile(appRoot, environment), { environment, source, legacy: LocalFileBackend.forApp(appRoot, environment) });
}

/** The objects of an environment's folder in the state bucket. */
type ObjectName = 'state.json' | 'journal.jsonl' | 'lock.json' | 'deploys.json';

export class GcsStateBackend implements StateBackend {
  readonly location: string;
  readonly bucketName: string;
  private readonly bucket: Bucket;
  private readonly leaseSeconds: number;
  private readonly prefix: string;
  private readonly environment: string;
  private bucketReady: Promise<void> | null = null;

  constructor(
    private readonly storage: StorageClient,
    private readonly options: GcsStateOptions,
  ) {
    this.environment = options.environment;
    this.bucketName = options.bucket ?? stateBucketName(options.projectId, options.region);
    this.bucket = storage.bucket(this.bucketName);
    this.prefix = `environments/${options.environment}/`;
    this.location = `gs://${this.bucketName}/${this.prefix}state.json (project ${options.projectId})`;
    this.leaseSeconds = options.leaseDurationSeconds ?? 30;
  }

  private file(name: ObjectName, generation?: string): File {
    return this.bucket.file(`${this.prefix}${name}`, generation ? { generation: Number(generation) } : {});
  }

  /** Makes the state bucket on first write (stateBucketMetadata); one that exists is used as it is. */
  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      let exists: boolean;
      try {
        [exists] = await this.bucket.exists();
      } catch (err) {
        // 403: the bucket is there, but this identity may use only its own objects in it (deploy on push's service
        // account holds objectUser on the environment's prefix, not storage.buckets.get).
        if (codeOf(err) === 403) return;
        throw err;
      }
      if (exists) return;
      try {
        await this.storage.createBucket(this.bucketName, stateBucketMetadata(this.options.region));
      } catch (err) {
        if (codeOf(err) !== 409) throw err;
        // Created meanwhile by another run of this project, or a name another project holds (names are global).
        try {
          await this.bucket.getMetadata();
        } catch (inner) {
          if (codeOf(inner) === 403) {
            throw new Error(`the bucket name ${this.bucketName} is taken by another project; name another state bucket for this environment`, { cause: inner });
          }
          throw inner;
        }
      }
    })().catch((err) => {
      this.bucketReady = null;
      throw err;
    });
    return this.bucketReady;
  }

  /** The object's text and generation, or null when it (or the bucket) does not exist. */
  private async get(name: ObjectName): Promise<{ text: string; generation: string } | null> {
    // The body of the generation the metadata named: a write in between cannot pair one object's body with another's number.
    for (let attempt = 0; attempt < 3; attempt++) {
      let generation: string;
      try {
        const [metadata] = await this.file(name).getMetadata();
        generation = String(metadata.generation);
      } catch (err) {
        if (codeOf(err) === 404) return null;
        throw err;
      }
      try {
        const [body] = await this.file(name, generation).download();
        return { text: body.toString('utf8'), generation };
      } catch (err) {
        // That generation was replaced and is gone: read the newer one.
        if (codeOf(err) !== 404) throw err;
      }
    }
    throw new StateError('conflict', `${this.prefix}${name} kept changing while it was read`);
  }

  /** A conditional write: `expected` null means "only if absent". Returns the new generation, or null when the precondition failed. */
  private async put(name: ObjectName, body: string, expected: string | null): Promise<string | null> {
    const file = this.file(name);
    const writeId = randomUUID();
    try {
      await file.save(body, {
        resumable: false,
        contentType: name.endsWith('.json') ? 'application/json' : 'application/x-ndjson',
        metadata: { metadata: { environment: this.environment, writeId } },
        preconditionOpts: { ifGenerationMatch: expected === null ? 0 : Number(expected) },
      });
      return String(file.metadata.generation);
    } catch (err) {
      if (codeOf(err) !== 412) throw err;
      // A retried upload whose first try landed is refused by its own precondition: the write's id tells.
      try {
        const [now] = await this.file(name).getMetadata();
        return now.metadata?.writeId === writeId ? String(now.generation) : null;
      } catch (inner) {
        if (codeOf(inner) === 404) return null;
        throw inner;
      }
    }
  }

  /** A conditional delete; false when the object changed meanwhile. */
  private async remove(name: 'lock.json', generation: string): Promise<boolean> {
    try {
      await this.file(name).delete({ ifGenerationMatch: Number(generation) });
      return true;
    } catch (err) {
      if (codeOf(err) === 404) return true;
      if (codeOf(err) === 412) return false;
      throw err;
    }
  }

  /** Where the deploy history is kept, for messages. */
  get historyLocation(): string {
    return `gs://${this.bucketName}/${this.prefix}deploys.json (project ${this.options.projectId})`;
  }

  /** The deploy history's text and generation, or null when none is stored yet. */
  async readHistory(): Promise<{ text: string; generation: string } | null> {
    return this.io('read the deploy history', () => this.get('deploys.json'));
  }

  /** Writes the deploy history if it is still at generation `expected` (null: only if absent); the new generation, or null when not. */
  async writeHistory(text: string, expected: string | null): Promise<string | null> {
    return this.io('write the deploy history', async () => {
      await this.ensureBucket();
      return this.put('deploys.json', text, expected);
    });
  }

  async load(): Promise<LoadedState> {
    const found = await this.io('read the state', () => this.get('state.json'));
    if (!found) return { state: null, version: null };
    return { state: parseState(found.text, this.location), version: found.generation };
  }

  async readJournal(): Promise<JournalEntry[]> {
    const found = await this.io('read the journal', () => this.get('journal.jsonl'));
    return parseJournal(found?.text ?? '');
  }

  async commit(state: EnvState, journal: JournalEntry[], expected: StateVersion | null): Promise<StateVersion> {
    const version = await this.io('write the state', async () => {
      await this.ensureBucket();
      return this.put('state.json', `${JSON.stringify(state, null, 2)}\n`, expected);
    });
    if (version === null) {
      throw new StateError('conflict', `${this.location} was changed by another run since it was read (expected ${expected === null ? 'no state yet' : `generation ${expected}`}); nothing was written`);
    }
    if (journal.length > 0) await this.io('append to the journal', () => this.append(journal));
    return version;
  }

  /** Appends to the journal object; a concurrent append is retried on the newer generation. */
  private async append(entries: JournalEntry[]): Promise<void> {
    const lines = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get('journal.jsonl');
      if ((await this.put('journal.jsonl', (current?.text ?? '') + lines, current?.generation ?? null)) !== null) return;
    }
    throw new StateError('conflict', `the journal of ${this.environment} kept changing while it was appended to`);
  }

  // --- the lock ---

  private lockBody(holder: LockHolder): string {
    const body: LockBody = { holder, ...(this.options.account ? { account: this.options.account } : {}), renewedAt: new Date().toISOString(), leaseDurationSeconds: this.leaseSeconds };
    return JSON.stringify(body);
  }

  async acquireLock(holder: Omit<LockHolder, 'token'>): Promise<HeldLock> {
    const full: LockHolder = { ...holder, token: randomUUID() };
    const generation = await this.io('take the lock', async () => {
      await this.ensureBucket();
      return this.put('lock.json', this.lockBody(full), null);
    });
    if (generation === null) {
      const current = await this.inspectLock();
      if (current) throw new StateError('locked', lockedText(this.environment, current), { holder: current.holder });
      throw new StateError('conflict', `the lock of ${this.environment} changed while it was being taken; try again`);
    }
    let held = generation;
    return holdLease(full, {
      environment: this.environment,
      leaseSeconds: this.leaseSeconds,
      renew: async () => {
        const next = await this.put('lock.json', this.lockBody(full), held);
        if (next === null) return false;
        held = next;
        return true;
      },
      release: () =>
        this.io('release the lock', async () => {
          const current = await this.get('lock.json');
          if (!current || parseLock(current.text)?.holder.token !== full.token) return; // not ours any more
          await this.remove('lock.json', current.generation);
        }),
    });
  }

  async inspectLock(): Promise<HolderVerdict | null> {
    const current = await this.io('read the lock', () => this.get('lock.json'));
    return current ? seen(current.text) : null;
  }

  async breakLock(options: BreakLockOptions): Promise<LockHolder | null> {
    const current = await this.io('read the lock', () => this.get('lock.json'));
    if (!current) return null;
    const s = seen(current.text);
    if (!s.gone && !options.force) {
      throw new StateError('locked', `${lockedText(this.environment, s)} It was left in place; force it only if you know that run has stopped.`, { holder: s.holder });
    }
    const removed = await this.io('break the lock', () => this.remove('lock.json', current.generation));
    if (!removed) throw new StateError('conflict', `the lock of ${this.environment} changed while it was being broken (its holder renewed it); nothing was broken`);
    await this.noteBroken(s).catch(() => undefined);
    return s.holder;
  }

  private async noteBroken(s: HolderVerdict): Promise<void> {
    const { state } = await this.load();
    await this.io('append to the journal', () => this.append([{ at: new Date().toISOString(), operation: 'unlock', serial: state?.serial ?? 0, event: 'lock-broken', message: brokenLockMessage(s) }]));
  }

  private async io<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof StateError) throw err;
      const code = codeOf(err);
      const advice = code === 403 ? ` (the account needs roles/storage.admin on project ${this.options.projectId} to create the state bucket, or roles/storage.objectAdmin on ${this.bucketName} to use it)` : '';
      throw new StateError('io', `could not ${what} of ${this.environment} (${this.location}): ${(err as Error).message}${advice}`, { cause: err });
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
function seen(text: string): HolderVerdict {
  const body = parseLock(text);
  if (!body) return unreadableHolder(text);
  const verdict = judgeHolder(body.holder, Date.parse(body.renewedAt), body.leaseDurationSeconds ?? 30, 'lock');
  // The Google account says who it is when the user name on a CI runner does not.
  return body.account ? { ...verdict, holder: { ...verdict.holder, user: `${body.holder.user} (${body.account})` } } : verdict;
}
