/**
 * The contract between the provisioning engine and a provider driver (Kubernetes, AWS, GCP). The engine owns the
 * order, the parallelism, the state, the lock, the journal and the progress events; a driver only knows how to read,
 * create, update, delete and wait for one resource of its provider. Keeping drivers that small is what lets every
 * provider get crash safety, resume and cancellation the same way.
 *
 * Rules every driver follows:
 * - **Idempotent.** Names are deterministic (`DesiredResource.name`), so `create` that finds its object already
 *   there adopts it (and updates it to the desired settings) instead of failing; `delete` of an object that is
 *   already gone succeeds. A re-run after a crash at any point therefore converges.
 * - **Cancellable.** Every call takes an AbortSignal; a driver passes it on to its HTTP calls and stops waiting when
 *   it fires, throwing the signal's reason (an AbortError).
 * - **No secrets in outputs unless flagged.** Any output that holds a secret (a generated password, a key) carries
 *   `secret: true`; the engine then keeps it in memory only for resolving `${id.attribute}` references in the same
 *   run, and never writes it to state, the journal, logs or progress events.
 * - **Errors say what happened and what to do** (DESIGN.md), as a DriverError with a code the engine can branch on.
 */

import type { DesiredResource, JsonObject, JsonValue, ProviderKind } from './desiredGraph';
import type { Environment } from './environment';
import type { StateBackend } from './state';

/** One output attribute of a resource, e.g. `{ value: 'orders.abc.eu-west-1.rds.amazonaws.com' }`. */
export interface OutputValue {
  value: JsonValue;
  /** The value is a secret: used in memory for references, never recorded or shown. */
  secret?: boolean;
}

/** Attribute name → value; these are what `${id.attribute}` references in other resources' settings resolve to. */
export type Outputs = Record<string, OutputValue>;

/** The live state of an object, as the provider reports it. */
export interface ObjectStatus {
  state: 'ready' | 'pending' | 'failed';
  /** Why it is not ready, in words a person can act on, e.g. "PVC pending: no default StorageClass". */
  reason?: string;
}

/** What a live read found. */
export interface LiveObject {
  /**
   * The provider's identity of this exact object (a Kubernetes uid, an ARN, a self link). Recorded in state, so an
   * object deleted and re-created outside the tool under the same name is noticed as drift.
   */
  externalId: string;
  /**
   * The managed fields as the provider has them now, in the vocabulary of `DesiredResource.settings` (only the
   * fields the driver manages, normalised so they compare equal to what it applied: `0.5` vs `500m` is no change).
   * Must never contain a secret value.
   */
  observed: JsonObject;
  outputs: Outputs;
  status: ObjectStatus;
  /** The object's version (resourceVersion, etag), for logs and optimistic writes by the driver itself. */
  version?: string;
  /**
   * The object carries this environment's mark (the labels, tags or field manager the driver writes), so this tool
   * made it: a run that stopped before recording it left it, and it is taken back silently. An object without the
   * mark was made by someone else, and is adopted only when the user confirms it.
   */
  ours: boolean;
}

/** One field that differs, addressed by a dotted path into the settings (`resources.requests.cpu`, `ports.0.port`). */
export interface FieldChange {
  path: string;
  /** Absent when the field is new. */
  before?: JsonValue;
  /** Absent when the field is removed. */
  after?: JsonValue;
  /** The new value contains a `${id.attribute}` reference that is only known once its resource is applied. */
  knownAfterApply?: boolean;
  /** The value is secret: before and after are left out, only the fact of a change is shown. */
  sensitive?: boolean;
}

/** What the engine hands to every driver call that changes something. */
export interface StepContext {
  /** Fires when the user cancels or the engine stops (a failure elsewhere does not abort running steps). */
  signal: AbortSignal;
  /**
   * A short progress line for this resource ("waiting for 1/1 replicas", "PVC bound"). The engine turns it into a
   * progress event; it must not contain secrets.
   */
  progress(message: string): void;
  /**
   * Set on the delete of a resource that holds data (a delete, or the first half of a replace) once the user typed
   * the confirmation: only then may a driver lift a deletion protection. `finalSnapshot` false: the confirmation
   * declined the final snapshot.
   */
  confirmedDataLoss?: { finalSnapshot: boolean };
}

/** A resource with every `${id.attribute}` reference in its settings replaced by the value it stands for. */
export interface ResolvedResource extends DesiredResource {
  /** `settings` with references resolved; secret outputs are substituted here too, which is why this is never recorded. */
  resolved: JsonObject;
}

export interface ProviderDriver {
  readonly kind: ProviderKind;
  /** Where it acts, for messages and the lock holder: "Kubernetes context kind-dev, namespace shop-staging". */
  readonly target: string;
  /**
   * Checks that the provider can be reached with the user's credentials before anything is read or changed (the
   * kubeconfig context exists, its exec plugin is on PATH, the API answers). Throws DriverError 'unavailable' or
   * 'forbidden' with what to do.
   */
  preflight(signal: AbortSignal): Promise<void>;
  /** Whether this driver handles a provider type (`k8s/apps/v1/StatefulSet`, `postgres/Database`). */
  supports(providerType: string): boolean;
  /**
   * Reads the live object, or null when it does not exist. Used for drift detection, for adoption, and to recover
   * secret outputs on a resumed run (the engine never stored them). Never changes anything.
   */
  read(resource: DesiredResource, signal: AbortSignal): Promise<LiveObject | null>;
  /**
   * Creates the object with the resolved settings, or adopts and updates it when it already exists. Returns its
   * outputs. Does not wait for readiness: the engine calls `waitReady` next.
   */
  create(resource: ResolvedResource, ctx: StepContext): Promise<Outputs>;
  /** Brings an existing object to the resolved settings (server-side apply, modify calls); returns its outputs. */
  update(resource: ResolvedResource, ctx: StepContext): Promise<Outputs>;
  /**
   * Deletes the object and waits until it is gone; an object that is already gone is success. `resource` may come
   * from recorded state (a resource no longer in the app), so `settings` are what was last applied.
   */
  delete(resource: DesiredResource, ctx: StepContext): Promise<void>;
  /**
   * Waits until the object is usable (rollout complete, PVC bound, database accepting connections), reporting
   * progress. The driver owns the timeout per type and fails with DriverError 'not-ready' whose message says why
   * ("PVC pending: no default StorageClass", "ImagePullBackOff for postgres:16").
   */
  waitReady(resource: ResolvedResource, ctx: StepContext): Promise<void>;
  /**
   * App secrets (`secret("Name")`) hold values a person types in, per environment (src/provisioning/appSecrets.ts):
   * whether `resource`'s value is set ('missing' while the resource itself is not provisioned), and storing a new
   * one. The value goes to the provider's store only: never to state, progress or an error message. Providers
   * without such resources leave both out.
   */
  secretValueStatus?(resource: DesiredResource, signal: AbortSignal): Promise<'set' | 'unset' | 'missing'>;
  setSecretValue?(resource: DesiredResource, value: string, signal: AbortSignal): Promise<void>;
  /**
   * The fields that differ between `desired.resolved` and the live object, with the driver's own normalisation:
   * `before` is the live value, `after` the desired one, `sensitive` set for fields that hold secrets. Pure and
   * synchronous. The engine uses it two ways: desired vs live gives what an update will change, and the settings
   * recorded at the last apply vs live tells whether the object drifted (changed outside the tool). Fields whose
   * desired value still holds a `${id.attribute}` reference are ignored by the engine.
   */
  diff(desired: ResolvedResource, live: LiveObject): FieldChange[];
  /** Releases connections and watches; called once when the engine is done with the driver. */
  dispose?(): Promise<void>;
}

export type DriverErrorCode =
  /** The provider cannot be reached or is not set up (no context, missing exec plugin, no network). */
  | 'unavailable'
  /** The credentials lack a permission; the message names it. */
  | 'forbidden'
  /** The provider rejected the settings (a 422 with field causes): retrying will not help. */
  | 'invalid'
  /** Someone else owns or changed the object (a field-manager conflict). */
  | 'conflict'
  /** The object did not become ready in time, with the reason. */
  | 'not-ready'
  /** A provider type this driver does not handle. */
  | 'unsupported'
  /** A failure worth retrying as is (a 500, a 429, a dropped connection): the engine retries with backoff. */
  | 'transient';

/** A driver failure with a code to branch on (no instanceof across bundles) and the cause kept for the logs. */
export class DriverError extends Error {
  readonly code: DriverErrorCode;
  readonly resourceId: string | undefined;

  constructor(code: DriverErrorCode, message: string, options: { resourceId?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'DriverError';
    this.code = code;
    this.resourceId = options.resourceId;
  }
}

export function isDriverError(err: unknown): err is DriverError {
  return err instanceof Error && err.name === 'DriverError' && typeof (err as DriverError).code === 'string';
}

/** How long a driver waits and how often it polls; the defaults suit real clouds, tests shorten them. */
export interface DriverTiming {
  /** Overrides the readiness timeout of every kind (milliseconds). */
  readyTimeoutMs?: number;
  /** How long delete waits for an object to be gone. */
  deleteTimeoutMs?: number;
  pollIntervalMs?: number;
  /** How long one API request may go unanswered before it is abandoned and retried. */
  requestTimeoutMs?: number;
}

/** What a provider may ask the user while it connects; each front end answers in its own UI. */
export interface ProviderPrompts {
  /** A one-time code for an MFA device (an AWS role profile's `mfa_serial`); undefined when the user cancels. */
  mfaCode?(question: { profile: string; serial: string }): Promise<string | undefined>;
}

export interface ProviderOpenOptions {
  appRoot: string;
  /** The process environment and home folder credentials are found from (tests point them at temp folders). */
  env?: Record<string, string | undefined>;
  homedir?: string;
  /** A kubeconfig file instead of KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  timing?: DriverTiming;
  prompts?: ProviderPrompts;
}

/** Who acts on the environment, shown before anything is created (the form, the top of a plan, the status bar). */
export interface ProviderIdentity {
  /** The principal: an IAM ARN, a Google account, a Kubernetes user. */
  principal: string;
  /** Where: "AWS account 123456789012 in eu-west-1", "GCP project shop-prod", "cluster https://… (context kind-dev)". */
  scope: string;
  /** How the credentials were found ("profile shop (SSO)", "kubeconfig user kind-dev"), when that helps. */
  source?: string;
}

/** "alice (AWS account 123 in eu-west-1, profile shop)": the identity in one line. */
export function describeIdentity(identity: ProviderIdentity): string {
  return `${identity.principal} (${identity.scope}${identity.source ? `, ${identity.source}` : ''})`;
}

/** A provider opened for one environment: its driver, where its state lives, and who acts. */
export interface OpenedEnvironment {
  readonly driver: ProviderDriver;
  /** The environment's state backend (kept with the environment, mirrored to the local copy); made on first use. */
  state(): Promise<StateBackend>;
  /** Who acts (asks the provider: a Kubernetes SelfSubjectReview, STS GetCallerIdentity, …). */
  identity(signal: AbortSignal): Promise<ProviderIdentity>;
  /** Closes the connections; called once. */
  dispose(): Promise<void>;
  /** What a deploy needs of the environment beyond the driver; absent for a provider that cannot deploy yet. */
  deployTarget?(): DeployTarget;
}

/** A Deployment's rollout as a deploy reports it. */
export interface RolloutResult {
  name: string;
  result: 'done' | 'failed' | 'timeout' | 'superseded' | 'missing';
  /** kubectl's words, and the pods' reasons for one that did not roll out. */
  message: string;
}

/**
 * The provider's part of a deploy (src/session/deploy.ts): the deploy history kept where the state is, with
 * optimistic concurrency, the deploy's annotations on a workload, and the rollout watch.
 */
export interface DeployTarget {
  /** Where the history is kept, for messages. */
  readonly historyLocation: string;
  /** The stored history document (undefined: none yet) and a version token for saveHistory. */
  loadHistory(signal: AbortSignal): Promise<{ doc: unknown; version: string | null }>;
  /** Writes the document only if it is still at `expected`; false when someone wrote in between (read again). */
  saveHistory(doc: unknown, expected: string | null, signal: AbortSignal): Promise<boolean>;
  /** The deploy annotations each workload has now (by name), to find an interrupted deploy. */
  workloadAnnotations(names: readonly string[], signal: AbortSignal): Promise<Record<string, Record<string, string>>>;
  /** Sets annotations on a workload under the deploy's own field manager (an apply of infrastructure keeps them). */
  annotate(name: string, annotations: Record<string, string>, signal: AbortSignal): Promise<void>;
  /** Watches the workloads until each rolled out, failed or the time is up. */
  watchRollout(
    names: readonly string[],
    options: { timeoutMs: number; pollMs?: number; signal: AbortSignal; expectImages: Record<string, string>; onProgress?: (name: string, message: string) => void },
  ): Promise<{ ok: boolean; summary: string; deployments: RolloutResult[] }>;
  /**
   * The provider's own registry (ECR, Artifact Registry): its host and one short-lived credential for it, for the
   * `repository` the environment's state records. Absent: the registry is the environment's setting, with the user's
   * Docker credentials.
   */
  registryCredential?(signal: AbortSignal, repository: string): Promise<{ registry: string; credential: { username: string; password: string } }>;
  /** A kubeconfig for the environment's CI identity (deploy on push), to store as a repository secret; never a file. */
  ciKubeconfig?(signal: AbortSignal): Promise<{ kubeconfig: string; expiresAt: string }>;
}

/**
 * What each provider folder (`src/provisioning/providers/<kind>/`) exports, and `providers/index.ts` lists by kind:
 * opening an environment connects nothing yet (the driver connects on its first call, preflight), so a provider
 * whose credentials are missing fails there, with what to do.
 */
export interface ProviderModule {
  readonly kind: ProviderKind;
  open(env: Environment, options: ProviderOpenOptions): Promise<OpenedEnvironment>;
  /** A read-only backend over the local copy of the last state seen: nothing reaches the provider. */
  offlineState(env: Environment, options: { appRoot: string }): StateBackend;
}
