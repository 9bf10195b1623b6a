// What one file contributes to the app, computed from that file alone, so that an edit re-extracts only the file
// it touched. link.ts joins the facts of all files into the AppModel.
import path from 'node:path';
import type { Diagnostic, EndpointKind, EvictionPolicy, Range, DeliveryGuarantee, MetricKind } from '../model/appModel';

export type ResourceData =
  | { kind: 'service' }
  | {
      kind: 'api';
      endpointKind: EndpointKind;
      /** Explicit methods (upper case, `*` expanded), or null for Encore's default. */
      methods: string[] | null;
      /** Explicit path, or null for the default `/<service>.<name>`. */
      path: string | null;
      pathRange: Range | null;
      /** The routing shape of an explicit path (see validate.routeShape). */
      routeShape: string | null;
      expose: boolean;
      auth: boolean;
    }
  | { kind: 'gateway'; authHandlerRef: Ref | null }
  | { kind: 'authHandler' }
  | { kind: 'database'; migrationsDir: string | null; migrationsRange: Range | null; source: MigrationSource }
  | { kind: 'topic'; deliveryGuarantee: DeliveryGuarantee; orderingAttribute: string | null }
  | {
      kind: 'subscription';
      topicRef: Ref | null;
      ackDeadlineMs: number;
      messageRetentionMs: number;
      minBackoffMs: number;
      maxBackoffMs: number;
      maxRetries: number;
      maxConcurrency: number | null;
    }
  | { kind: 'cronJob'; title: string | null; schedule: string | null; endpointRef: Ref | null }
  | { kind: 'cache'; evictionPolicy: EvictionPolicy }
  | { kind: 'keyspace'; className: string; keyPattern: string | null; clusterRef: Ref | null }
  | { kind: 'bucket'; public: boolean; versioned: boolean }
  | { kind: 'secret' }
  | { kind: 'metric'; metricKind: MetricKind }
  | { kind: 'named'; target: 'database' | 'bucket' | 'cache' };

export type MigrationSource = 'default' | 'prisma' | 'drizzle' | 'drizzle/v1';

/** A reference by identifier to another resource (a topic, an endpoint, a cluster, an auth handler). */
export interface Ref {
  local: string;
  range: Range;
}

export interface ResourceFact {
  data: ResourceData;
  /** The resource's name argument; null when it is invalid (a diagnostic says why) or the kind has none. */
  name: string | null;
  /** The variable the resource is bound to, or null when anonymous. */
  bind: string | null;
  exported: boolean;
  defaultExport: boolean;
  /** The `new X(...)` / `x(...)` expression. */
  range: Range;
  /** The name argument, for name-related diagnostics. */
  nameRange: Range;
}

export type UsageKind = 'method' | 'template' | 'field' | 'callArg' | 'ctorArg' | 'callee' | 'other';

/** A use of an identifier that may stand for a resource: a local bind, or a name imported from a relative module. */
export interface UsageFact {
  local: string;
  kind: UsageKind;
  /** For `x.member(...)` and `x.member`, the member name. */
  member: string | null;
  /** For `x.ref<A & B>()`, the names in the type argument. */
  typeNames: string[];
  range: Range;
}

export interface ImportFact {
  /** The module specifier as written (relative, e.g. "./db"). */
  specifier: string;
  /** The exported name imported, or 'default'. */
  imported: string;
}

export interface FileFacts {
  file: string;
  /** The file's directory. */
  dir: string;
  /** Names imported from relative modules, by local name. */
  imports: Map<string, ImportFact>;
  resources: ResourceFact[];
  usages: UsageFact[];
  /** Diagnostics decided by this file alone. */
  diagnostics: Diagnostic[];
  /** True for a file named encore.service.ts. */
  serviceFile: boolean;
}

export function emptyFacts(file: string): FileFacts {
  return {
    file,
    dir: path.dirname(file),
    imports: new Map(),
    resources: [],
    usages: [],
    diagnostics: [],
    serviceFile: path.basename(file) === 'encore.service.ts',
  };
}

/** The facts of a file that cannot be analysed: nothing but one error at its start saying why. */
export function problemFacts(file: string, message: string): FileFacts {
  const start = { line: 0, character: 0 };
  return { ...emptyFacts(file), diagnostics: [{ file, severity: 'error', range: { start, end: start }, message }] };
}
