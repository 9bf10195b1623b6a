/**
 * An environment's deploy history: what each deploy was (the record), how a stored history is read (every entry
 * validated; a corrupt one is reported and never trusted), and how an entry is added (append-only, the last 100
 * kept, the same deploy never recorded twice). Pure: where the history is stored (a Kubernetes Secret, S3) is the
 * caller's. Records hold no secrets: digests, hashes, names.
 */

import { createHash } from 'node:crypto';

export const HISTORY_VERSION = 1;
export const HISTORY_LIMIT = 100;

export type DeployTrigger = 'manual' | 'push' | 'ci' | 'rollback' | 'promote';
export type DeployResult = 'succeeded' | 'failed' | 'cancelled';
export const TRIGGERS: readonly DeployTrigger[] = ['manual', 'push', 'ci', 'rollback', 'promote'];
export const RESULTS: readonly DeployResult[] = ['succeeded', 'failed', 'cancelled'];

export interface DeployRecord {
  /** Unique within the history, e.g. `d-20260304-050607-3f9a`. */
  id: string;
  environment: string;
  revision: {
    /** The full commit sha (40 hex digits, or 64 in a SHA-256 repository). */
    commit: string;
    /** The app folder had changes the commit does not. */
    dirty: boolean;
    branch?: string;
  };
  image: {
    /** `registry/repository`, without tag or digest. */
    repository: string;
    digest: string;
  };
  /** `sha256:…` of the infra config the Deployments run with (see contentHash). */
  infraConfigHash: string;
  /** `sha256:…` of the app model the image was built against. */
  appModelHash: string;
  /** Who deployed: the identity of the credentials used (an IAM ARN, a kubeconfig user, a GitHub actor). */
  by: string;
  /** When it started, ISO 8601 UTC. */
  at: string;
  /** When it ended, ISO 8601 UTC. */
  finishedAt?: string;
  trigger: DeployTrigger;
  result: DeployResult;
  /** Why it failed or what cancelled it, in a line. */
  message?: string;
  /** A rollback: the id of the earlier deploy whose image it restores. */
  restores?: string;
  /** A promote: the environment and deploy the image came from. */
  promotedFrom?: { environment: string; deployId: string };
}

export interface StoredHistory {
  version: number;
  /** Oldest first. Kept as stored: an entry that does not validate stays, untouched, and is reported. */
  entries: unknown[];
}

export interface ParsedHistory {
  /** The entries that validate, oldest first. */
  records: DeployRecord[];
  /** One line per entry that does not, with its position and why (these are never used). */
  problems: string[];
}

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}

const SHA256 = /^sha256:[a-f0-9]{64}$/;
const COMMIT = /^(?:[a-f0-9]{40}|[a-f0-9]{64})$/;
const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max && !/[\u0000-\u001f]/.test(v); // eslint-disable-line no-control-regex -- refusing control characters

/** Why `value` is not a deploy record, or undefined when it is one. */
export function recordProblem(value: unknown): string | undefined {
  if (!isObj(value)) return 'not an object';
  const v = value;
  if (typeof v.id !== 'string' || !ID.test(v.id)) return 'id is missing or not a deploy id';
  if (!isText(v.environment, 63)) return 'environment is missing';
  if (!isObj(v.revision)) return 'revision is missing';
  if (typeof v.revision.commit !== 'string' || !COMMIT.test(v.revision.commit)) return 'revision.commit is not a full commit sha';
  if (typeof v.revision.dirty !== 'boolean') return 'revision.dirty is not true or false';
  if (v.revision.branch !== undefined && !isText(v.revision.branch)) return 'revision.branch is not a branch name';
  if (!isObj(v.image)) return 'image is missing';
  if (!isText(v.image.repository) || /[@\s]/.test(v.image.repository)) return 'image.repository is not a repository';
  if (typeof v.image.digest !== 'string' || !SHA256.test(v.image.digest)) return 'image.digest is not a sha256 digest';
  for (const key of ['infraConfigHash', 'appModelHash'] as const) if (typeof v[key] !== 'string' || !SHA256.test(v[key] as string)) return `${key} is not a sha256 hash`;
  if (!isText(v.by)) return 'by is missing';
  if (typeof v.at !== 'string' || !ISO.test(v.at) || Number.isNaN(Date.parse(v.at))) return 'at is not an ISO 8601 UTC time';
  if (v.finishedAt !== undefined && (typeof v.finishedAt !== 'string' || !ISO.test(v.finishedAt) || Date.parse(v.finishedAt) < Date.parse(v.at))) return 'finishedAt is not an ISO 8601 UTC time after at';
  if (!TRIGGERS.includes(v.trigger as DeployTrigger)) return `trigger is not one of ${TRIGGERS.join(', ')}`;
  if (!RESULTS.includes(v.result as DeployResult)) return `result is not one of ${RESULTS.join(', ')}`;
  if (v.message !== undefined && (typeof v.message !== 'string' || v.message.length > 2000)) return 'message is not a line of text';
  const restores = v.restores;
  const from = v.promotedFrom;
  if (v.trigger === 'rollback') {
    if (typeof restores !== 'string' || !ID.test(restores)) return 'a rollback must name the deploy it restores (restores)';
  } else if (restores !== undefined) return `restores is only for rollbacks, not ${v.trigger}`;
  if (v.trigger === 'promote') {
    if (!isObj(from) || !isText(from.environment, 63) || typeof from.deployId !== 'string' || !ID.test(from.deployId)) return 'a promote must name the environment and deploy it promotes (promotedFrom)';
  } else if (from !== undefined) return `promotedFrom is only for promotes, not ${v.trigger}`;
  return undefined;
}

/** A validated copy with only the record's own fields (a stored entry may carry more, from a newer version). */
function toRecord(v: Obj): DeployRecord {
  const r = v as unknown as DeployRecord;
  return {
    id: r.id,
    environment: r.environment,
    revision: { commit: r.revision.commit, dirty: r.revision.dirty, ...(r.revision.branch !== undefined ? { branch: r.revision.branch } : {}) },
    image: { repository: r.image.repository, digest: r.image.digest },
    infraConfigHash: r.infraConfigHash,
    appModelHash: r.appModelHash,
    by: r.by,
    at: r.at,
    ...(r.finishedAt !== undefined ? { finishedAt: r.finishedAt } : {}),
    trigger: r.trigger,
    result: r.result,
    ...(r.message !== undefined ? { message: r.message } : {}),
    ...(r.restores !== undefined ? { restores: r.restores } : {}),
    ...(r.promotedFrom !== undefined ? { promotedFrom: { environment: r.promotedFrom.environment, deployId: r.promotedFrom.deployId } } : {}),
  };
}

/**
 * Checks the stored document's shape; throws a HistoryError when it is not a history at all (then nothing may be
 * written over it). `undefined` (nothing stored yet) is an empty history.
 */
export function storedHistory(doc: unknown): StoredHistory {
  if (doc === undefined) return { version: HISTORY_VERSION, entries: [] };
  if (!isObj(doc) || !Array.isArray(doc.entries)) throw new HistoryError('the stored deploy history is not a history (no "entries" list): it was not changed; move it aside or repair it, then deploy again');
  if (doc.version !== HISTORY_VERSION) {
    throw new HistoryError(`the stored deploy history is version ${JSON.stringify(doc.version)}, and this version of Environments for Encore reads version ${HISTORY_VERSION}: update the extension (or the encore-env CLI), then deploy again`);
  }
  return { version: HISTORY_VERSION, entries: doc.entries };
}

/** Reads a stored history (the parsed JSON): the valid records, and a problem line for each entry that is not. */
export function parseHistory(doc: unknown): ParsedHistory {
  const stored = storedHistory(doc);
  const records: DeployRecord[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  stored.entries.forEach((entry, i) => {
    const problem = recordProblem(entry);
    const id = isObj(entry) && typeof entry.id === 'string' ? entry.id : undefined;
    if (problem) problems.push(`entry ${i + 1}${id && ID.test(id) ? ` (${id})` : ''}: ${problem}`);
    else if (seen.has(id!)) problems.push(`entry ${i + 1} (${id}): the deploy id is recorded twice; only its first entry is used`);
    else {
      seen.add(id!);
      records.push(toRecord(entry as Obj));
    }
  });
  return { records, problems };
}

/**
 * The history with `record` appended, the oldest dropped beyond the last 100. Entries already stored are kept as
 * they are, valid or not. Appending a deploy that is already recorded (a re-run after an interruption) returns the
 * history unchanged (`appended: false`, nothing to write) when the record is the same, and is refused when it
 * differs: history is never rewritten.
 */
export function appendRecord(doc: unknown, record: DeployRecord, limit = HISTORY_LIMIT): { history: StoredHistory; appended: boolean } {
  const problem = recordProblem(record);
  if (problem) throw new HistoryError(`deploy ${record.id ?? '(no id)'} cannot be recorded: ${problem}`);
  const stored = storedHistory(doc);
  const existing = stored.entries.find((e) => isObj(e) && e.id === record.id);
  if (existing !== undefined) {
    if (recordProblem(existing) === undefined && canonicalJson(toRecord(existing as Obj)) === canonicalJson(toRecord(record as unknown as Obj))) return { history: stored, appended: false };
    throw new HistoryError(`deploy ${record.id} is already in the history with different details: history is never rewritten; record the new outcome under a new deploy id`);
  }
  const entries = [...stored.entries, toRecord(record as unknown as Obj)];
  return { history: { version: HISTORY_VERSION, entries: entries.slice(Math.max(0, entries.length - limit)) }, appended: true };
}

/** What the environment runs: the newest succeeded deploy. */
export function currentDeploy(records: readonly DeployRecord[]): DeployRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i]!.result === 'succeeded') return records[i];
  return undefined;
}

/** The earlier succeeded deploys a rollback can choose, newest first, without the current one. */
export function rollbackCandidates(records: readonly DeployRecord[]): DeployRecord[] {
  const current = currentDeploy(records);
  return records.filter((r) => r.result === 'succeeded' && r !== current).reverse();
}

/** A new deploy id: `d-YYYYMMDD-HHMMSS-` and 4 random hex digits (sortable by time, unique enough per environment). */
export function newDeployId(now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `d-${stamp.toLowerCase()}-${Math.floor(random() * 0x10000).toString(16).padStart(4, '0')}`;
}

/** JSON with object keys sorted at every level, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (isObj(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}

/** `sha256:…` of a JSON value's canonical form: the infra config's or the app model's hash in a record. */
export function contentHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}
