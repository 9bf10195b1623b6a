/**
 * The Kubernetes state backend (DESIGN.md "State", model/state.ts): the environment's state lives with the
 * environment, in its namespace, so whoever can reach the cluster sees the same state and the same lock.
 *
 * - State: a Secret `encore-environments-state` with `state.json` (the snapshot) and `journal.jsonl` (the newest
 *   journal entries that fit beside it: a Secret holds 1 MiB). Optimistic concurrency is the Secret's
 *   resourceVersion: a replace with a stale one is a 409, which is the engine's 'conflict'. A Secret rather than a
 *   ConfigMap because state records names and addresses of everything the environment has, behind the same RBAC as
 *   its credentials (it never holds a secret value itself: the engine leaves those out).
 * - Lock: a coordination.k8s.io/v1 Lease `encore-environments-lock`, holderIdentity `user@host:pid`, the full holder
 *   (with its per-acquisition token) in an annotation, renewed while held. A holder that stopped renewing for a whole
 *   lease duration, or whose process is gone on this host, is gone: only then can its lock be broken without force.
 *
 * The namespace is created when the first lock or state write needs it; the graph's namespace resource adopts it.
 * When the environment is destroyed its namespace goes, and the state with it: a later load finds no state.
 */

import { randomUUID } from 'node:crypto';
import { StateError, type BreakLockOptions, type EnvState, type HeldLock, type JournalEntry, type LoadedState, type LockHolder, type StateBackend, type StateVersion } from '../../../model/state';
import { brokenLockMessage, holdLease, judgeHolder, lockedText, type HolderVerdict } from '../../state/lease';
import { parseJournal, parseState } from '../../state/parse';
import type { KubeClient, KubeObject } from './client';
import { KubeApiError } from './errors';
import { LABEL, MANAGED_BY, labelValue } from './manifests/common';
import { microTime, parseMicroTime } from './microTime';

export const STATE_SECRET = 'encore-environments-state';
export const LOCK_LEASE = 'encore-environments-lock';
const HOLDER_ANNOTATION = 'encore.dev/lock-holder';
/** What state and journal may take of a Secret's 1 MiB, leaving room for metadata. */
const SECRET_BUDGET = 900 * 1024;
/** The version `commit` returns once the environment's namespace, and so its state, is gone after a destroy. */
export const STATE_GONE: StateVersion = 'gone';

export interface KubernetesStateOptions {
  /** How long a lock stays valid without renewal (default 30 s); it is renewed every third of that. */
  leaseDurationSeconds?: number;
}

interface StateSecret extends KubeObject {
  data?: Record<string, string>;
}

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string };
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined) => (text ? Buffer.from(text, 'base64').toString('utf8') : '');

export class KubernetesStateBackend implements StateBackend {
  readonly location: string;
  private readonly leaseSeconds: number;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
    private readonly environment: string,
    options: KubernetesStateOptions = {},
  ) {
    this.location = `Secret ${STATE_SECRET} in namespace ${namespace} (${client.label})`;
    this.leaseSeconds = options.leaseDurationSeconds ?? 30;
  }

  private labels(): Record<string, string> {
    return { [LABEL.managedBy]: MANAGED_BY, [LABEL.environment]: labelValue(this.environment) };
  }

  async load(): Promise<LoadedState> {
    const secret = await this.io('read the state', () => this.client.find<StateSecret>('v1', 'Secret', this.namespace, STATE_SECRET));
    if (!secret?.data?.['state.json']) return { state: null, version: null };
    return { state: parseState(unb64(secret.data['state.json']), this.location), version: secret.metadata.resourceVersion ?? null };
  }

  async readJournal(): Promise<JournalEntry[]> {
    const secret = await this.io('read the journal', () => this.client.find<StateSecret>('v1', 'Secret', this.namespace, STATE_SECRET));
    return parseJournal(unb64(secret?.data?.['journal.jsonl']));
  }

  async commit(state: EnvState, journal: JournalEntry[], expected: StateVersion | null): Promise<StateVersion> {
    const stateText = `${JSON.stringify(state, null, 2)}\n`;
    if (Buffer.byteLength(stateText) > SECRET_BUDGET) {
      throw new StateError('io', `the state of ${this.environment} is ${Buffer.byteLength(stateText)} bytes, more than a Kubernetes Secret holds (${SECRET_BUDGET}); nothing was written`);
    }
    // Every object of the environment lives in its namespace, the state included: once a destroy has deleted the
    // namespace, whatever that run still records (its last steps, its operation record) has gone with it.
    const destroying = Object.keys(state.resources).length === 0 || state.lastOperation?.kind === 'destroy';
    if (expected === STATE_GONE && destroying) return STATE_GONE;
    const live = await this.io('read the state', () => this.client.find<StateSecret>('v1', 'Secret', this.namespace, STATE_SECRET));
    if (!live) {
      if (expected !== null && expected !== STATE_GONE) {
        if (destroying && (await this.namespaceGoing())) return STATE_GONE; // deleted with everything in it, the state included
        throw new StateError('conflict', `${this.location} was deleted since it was read (expected version ${expected}); nothing was written`);
      }
      const body = this.secret(stateText, trimJournal(journal, stateText));
      try {
        const created = await this.createInNamespace(body);
        return created.metadata.resourceVersion ?? '';
      } catch (err) {
        if (err instanceof KubeApiError && err.code === 409) throw new StateError('conflict', `another run wrote ${this.location} first; nothing was written`, { cause: err });
        if (destroying && namespaceGone(err)) return STATE_GONE;
        throw this.ioError('write the state', err);
      }
    }
    if (live.metadata.resourceVersion !== expected) {
      throw new StateError('conflict', `${this.location} was changed by another run since it was read (expected version ${expected ?? 'none'}, found ${live.metadata.resourceVersion}); nothing was written`);
    }
    const entries = trimJournal([...parseJournal(unb64(live.data?.['journal.jsonl'])), ...journal], stateText);
    const body = this.secret(stateText, entries);
    body.metadata.resourceVersion = expected ?? undefined;
    try {
      const replaced = await this.client.replace(body);
      return replaced.metadata.resourceVersion ?? '';
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409) {
        throw new StateError('conflict', `${this.location} was changed by another run since it was read (expected version ${expected}); nothing was written`, { cause: err });
      }
      if (destroying && namespaceGone(err)) return STATE_GONE;
      throw this.ioError('write the state', err);
    }
  }

  /** The namespace is gone or being deleted. */
  private async namespaceGoing(): Promise<boolean> {
    const ns = await this.io('read the namespace', () => this.client.find<KubeObject & { status?: { phase?: string } }>('v1', 'Namespace', undefined, this.namespace));
    return !ns || ns.status?.phase === 'Terminating' || Boolean(ns.metadata.deletionTimestamp);
  }

  private secret(stateText: string, journal: JournalEntry[]): StateSecret {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: STATE_SECRET, namespace: this.namespace, labels: this.labels(), annotations: { 'encore.dev/summary': `state of environment ${this.environment}` } },
      type: 'Opaque',
      data: { 'state.json': b64(stateText), 'journal.jsonl': b64(journal.map((e) => `${JSON.stringify(e)}\n`).join('')) },
    };
  }

  /** Creates an object, and the namespace first when it does not exist yet. */
  private async createInNamespace<T extends KubeObject>(body: T): Promise<T> {
    try {
      return await this.client.create<T>(body);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 404)) throw err;
      try {
        await this.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace, labels: this.labels() } });
      } catch (nsErr) {
        if (!(nsErr instanceof KubeApiError && nsErr.code === 409)) throw nsErr;
      }
      return this.client.create<T>(body);
    }
  }

  // --- the lock ---

  async acquireLock(holder: Omit<LockHolder, 'token'>): Promise<HeldLock> {
    const full: LockHolder = { ...holder, token: randomUUID() };
    const now = microTime(new Date());
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: LOCK_LEASE, namespace: this.namespace, labels: this.labels(), annotations: { [HOLDER_ANNOTATION]: JSON.stringify(full) } },
      spec: { holderIdentity: `${holder.user}@${holder.host}:${holder.pid}`, leaseDurationSeconds: this.leaseSeconds, acquireTime: now, renewTime: now },
    };
    try {
      const existing = await this.client.find<Lease>('coordination.k8s.io/v1', 'Lease', this.namespace, LOCK_LEASE);
      if (existing?.spec?.holderIdentity) throw await this.lockedError(existing);
      if (existing) await this.client.replace<Lease>({ ...lease, metadata: { ...lease.metadata, resourceVersion: existing.metadata.resourceVersion } });
      else await this.createInNamespace(lease);
    } catch (err) {
      if (err instanceof StateError) throw err;
      if (err instanceof KubeApiError && err.code === 409) {
        // Someone took it between our read and our write.
        const winner = await this.client.find<Lease>('coordination.k8s.io/v1', 'Lease', this.namespace, LOCK_LEASE).catch(() => null);
        if (winner?.spec?.holderIdentity) throw await this.lockedError(winner);
      }
      throw this.ioError('take the lock', err);
    }
    return this.hold(full);
  }

  /** Renews the Lease every third of its duration while held (holdLease); a lease we cannot keep fires `lost`. */
  private hold(holder: LockHolder): HeldLock {
    return holdLease(holder, {
      environment: this.environment,
      leaseSeconds: this.leaseSeconds,
      renew: async () => {
        const live = await this.client.find<Lease>('coordination.k8s.io/v1', 'Lease', this.namespace, LOCK_LEASE);
        // A destroy's namespace takes the Lease with it; a namespace being deleted admits no new Lease, so nobody
        // else can hold the lock: still ours.
        if (!live) return this.namespaceGoing();
        if (holderOf(live)?.token !== holder.token) return false;
        await this.client.replace<Lease>({ ...live, spec: { ...live.spec, renewTime: microTime(new Date()) } });
        return true;
      },
      release: async () => {
        try {
          const live = await this.client.find<Lease>('coordination.k8s.io/v1', 'Lease', this.namespace, LOCK_LEASE);
          if (!live || holderOf(live)?.token !== holder.token) return; // not ours any more: nothing to release
          await this.client.delete('coordination.k8s.io/v1', 'Lease', this.namespace, LOCK_LEASE, { resourceVersion: live.metadata.resourceVersion });
        } catch (err) {
          // A namespace deleted by a destroy takes the Lease with it.
          if (err instanceof KubeApiError && (err.code === 404 || err.code === 409)) return;
          throw this.ioError('release the lock', err);
        }
      },
    });
  }

  async inspectLock(): Promise<HolderVerdict | null> {
    const lease = await this.io('read the lock', () => this.client.find<Lease>('coordination.k8s.io/v1', 'Lease', this.namespace, LOCK_LEASE));
    return lease?.spec?.holderIdentity ? seen(lease) : null;
  }

  async breakLock(options: BreakLockOptions): Promise<LockHolder | null> {
    const lease = await this.io('read the lock', () => this.client.find<Lease>('coordination.k8s.io/v1', 'Lease', this.namespace, LOCK_LEASE));
    if (!lease?.spec?.holderIdentity) return null;
    const s = seen(lease);
    if (!s.gone && !options.force) {
      throw new StateError('locked', `${lockedText(this.environment, s)} It was left in place; force it only if you know that run has stopped.`, { holder: s.holder });
    }
    try {
      await this.client.delete('coordination.k8s.io/v1', 'Lease', this.namespace, LOCK_LEASE, { resourceVersion: lease.metadata.resourceVersion });
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409) throw new StateError('conflict', `the lock of ${this.environment} changed while it was being broken (its holder renewed it); nothing was broken`, { cause: err });
      throw this.ioError('break the lock', err);
    }
    await this.noteBroken(s).catch(() => undefined);
    return s.holder;
  }

  /** Records the broken lock in the journal, as the local backend does; best effort, the lock is already gone. */
  private async noteBroken(s: HolderVerdict): Promise<void> {
    const { state, version } = await this.load();
    if (!state || !version) return;
    await this.commit(state, [{ at: new Date().toISOString(), operation: 'unlock', serial: state.serial, event: 'lock-broken', message: brokenLockMessage(s) }], version);
  }

  private async lockedError(lease: Lease): Promise<StateError> {
    const s = seen(lease);
    return new StateError('locked', lockedText(this.environment, s), { holder: s.holder });
  }

  private async io<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.ioError(what, err);
    }
  }

  private ioError(what: string, err: unknown): StateError {
    if (err instanceof StateError) return err;
    return new StateError('io', `could not ${what} of ${this.environment} (${this.location}): ${(err as Error).message}`, { cause: err });
  }
}

/** The write failed because the namespace is being deleted or is gone: after a destroy, the state goes with it. */
function namespaceGone(err: unknown): boolean {
  return err instanceof KubeApiError && ((err.code === 403 && /being terminated/.test(err.message)) || (err.code === 404 && /namespaces? "[^"]+" not found/.test(err.message)));
}

function holderOf(lease: Lease): LockHolder | null {
  try {
    const h = JSON.parse(lease.metadata.annotations?.[HOLDER_ANNOTATION] ?? '') as LockHolder;
    return typeof h.token === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** The holder and whether it is gone (judgeHolder): its Lease expired, or its process no longer runs on this host. */
function seen(lease: Lease): HolderVerdict {
  const holder = holderOf(lease) ?? parseIdentity(lease.spec?.holderIdentity ?? '', lease.spec?.acquireTime);
  return judgeHolder(holder, parseMicroTime(lease.spec?.renewTime ?? lease.spec?.acquireTime), lease.spec?.leaseDurationSeconds ?? 30, 'Lease');
}

function parseIdentity(identity: string, acquired: string | undefined): LockHolder {
  const m = /^(.*)@(.*):(\d+)$/.exec(identity);
  return { user: m?.[1] ?? identity, host: m?.[2] ?? 'unknown host', pid: Number(m?.[3] ?? 0), startedAt: acquired ?? 'an unknown time', operation: 'apply', token: '' };
}

/** The newest journal entries that fit in the Secret beside the state. */
function trimJournal(entries: JournalEntry[], stateText: string): JournalEntry[] {
  let budget = SECRET_BUDGET - Buffer.byteLength(stateText);
  const kept: JournalEntry[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const size = Buffer.byteLength(JSON.stringify(entries[i])) + 1;
    if (size > budget) break;
    budget -= size;
    kept.push(entries[i]!);
  }
  return kept.reverse();
}
