/**
 * The application model: what an Encore app declares and uses, as Encore's own parser sees it
 * (../shared/notes/encore-app-model.md). Shared by the analyzer, the language server, the extension, the planner and
 * the CLI. Every declaration carries its location, for diagnostics, CodeLens and hovers.
 */

/** A zero-based position, as in LSP. `character` counts UTF-16 code units. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A place in the app: an absolute file path and a range in it. */
export interface Location {
  file: string;
  range: Range;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic extends Location {
  severity: Severity;
  message: string;
}

export type EndpointKind = 'api' | 'raw' | 'streamIn' | 'streamOut' | 'streamInOut' | 'static';
export type Access = 'public' | 'auth' | 'private';

export interface Service {
  name: string;
  /** The service root, relative to the app root ('' for the app root itself), with '/' separators. */
  root: string;
  /** The `new Service(...)` in encore.service.ts; absent for a service discovered from its endpoints' directory. */
  declaration?: Location;
}

export interface Endpoint {
  service: string;
  name: string;
  kind: EndpointKind;
  /** Upper-case HTTP methods; `*` is expanded to Encore's full list. */
  methods: string[];
  path: string;
  access: Access;
  declaration: Location;
}

export interface Migration {
  filename: string;
  number: number;
  description: string;
}

export interface Database {
  name: string;
  /** The migrations directory relative to the app root, or null when the config has none. */
  migrationsDir: string | null;
  migrations: Migration[];
  /** Services that use the database (sorted). */
  usedBy: string[];
  declaration: Location;
}

export type DeliveryGuarantee = 'at-least-once' | 'exactly-once';

export interface Topic {
  name: string;
  deliveryGuarantee: DeliveryGuarantee;
  orderingAttribute: string | null;
  /** Services that publish (sorted). */
  publishers: string[];
  declaration: Location;
}

export interface RetryPolicy {
  /** Durations in milliseconds. */
  minBackoffMs: number;
  maxBackoffMs: number;
  maxRetries: number;
}

export interface Subscription {
  topic: string;
  name: string;
  service: string;
  ackDeadlineMs: number;
  messageRetentionMs: number;
  retryPolicy: RetryPolicy;
  maxConcurrency: number | null;
  declaration: Location;
}

export interface CronJob {
  name: string;
  title: string;
  /** `every:<minutes>` or `schedule:<5-field cron expression>`, as in Encore's metadata. */
  schedule: string;
  /** The endpoint the job calls, when it resolves. */
  endpoint: { service: string; name: string } | null;
  declaration: Location;
}

export type EvictionPolicy =
  | 'noeviction'
  | 'allkeys-lru'
  | 'allkeys-lfu'
  | 'allkeys-random'
  | 'volatile-lru'
  | 'volatile-lfu'
  | 'volatile-ttl'
  | 'volatile-random';

export interface Keyspace {
  keyPattern: string;
  /** The keyspace class, e.g. StringKeyspace. */
  kind: string;
  /** The service declaring the keyspace, or null outside every service. */
  service: string | null;
  declaration: Location;
}

export interface CacheCluster {
  name: string;
  evictionPolicy: EvictionPolicy;
  keyspaces: Keyspace[];
  /** Services with a keyspace on the cluster or that use it (sorted). */
  usedBy: string[];
  declaration: Location;
}

export type BucketOperation =
  | 'list'
  | 'metadata'
  | 'read'
  | 'write'
  | 'delete'
  | 'public-url'
  | 'signed-upload-url'
  | 'signed-download-url';

export interface Bucket {
  name: string;
  public: boolean;
  versioned: boolean;
  /** Per using service, the sorted operations it performs. */
  usage: Record<string, BucketOperation[]>;
  declaration: Location;
}

export interface Secret {
  name: string;
  /** Services that load the secret (sorted). */
  services: string[];
  declarations: Location[];
}

export interface Gateway {
  name: 'api-gateway';
  service: string | null;
  authHandler: string | null;
  declaration: Location;
}

export interface AuthHandler {
  name: string;
  service: string | null;
  declaration: Location;
}

export type MetricKind = 'counter' | 'gauge';

export interface Metric {
  name: string;
  kind: MetricKind;
  /** Services that use the metric (sorted). */
  services: string[];
  declaration: Location;
}

export interface AppModel {
  /** Absolute path of the app root (the directory holding encore.app). */
  root: string;
  services: Service[];
  endpoints: Endpoint[];
  databases: Database[];
  topics: Topic[];
  subscriptions: Subscription[];
  cronJobs: CronJob[];
  caches: CacheCluster[];
  buckets: Bucket[];
  secrets: Secret[];
  gateway: Gateway | null;
  authHandler: AuthHandler | null;
  metrics: Metric[];
  /** Every diagnostic in the app, sorted by file, then position. */
  diagnostics: Diagnostic[];
}

/** Infrastructure declarations the editor decorates (CodeLens, hover). */
export type DeclarationKind = 'service' | 'database' | 'topic' | 'subscription' | 'cronJob' | 'cache' | 'bucket' | 'secret';

export interface Declaration extends Location {
  kind: DeclarationKind;
  name: string;
}

/** Every infrastructure declaration of the model, in file and position order. */
export function declarations(model: AppModel): Declaration[] {
  const out: Declaration[] = [];
  for (const s of model.services) if (s.declaration) out.push({ kind: 'service', name: s.name, ...s.declaration });
  for (const d of model.databases) out.push({ kind: 'database', name: d.name, ...d.declaration });
  for (const t of model.topics) out.push({ kind: 'topic', name: t.name, ...t.declaration });
  for (const s of model.subscriptions) out.push({ kind: 'subscription', name: s.name, ...s.declaration });
  for (const c of model.cronJobs) out.push({ kind: 'cronJob', name: c.name, ...c.declaration });
  for (const c of model.caches) out.push({ kind: 'cache', name: c.name, ...c.declaration });
  for (const b of model.buckets) out.push({ kind: 'bucket', name: b.name, ...b.declaration });
  for (const s of model.secrets) for (const d of s.declarations) out.push({ kind: 'secret', name: s.name, ...d });
  return out.sort(compareLocations);
}

export function compareLocations(a: Location, b: Location): number {
  return (
    a.file.localeCompare(b.file) ||
    a.range.start.line - b.range.start.line ||
    a.range.start.character - b.range.start.character
  );
}
