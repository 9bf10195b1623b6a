/**
 * The desired graph: what one environment needs, as the planner derives it from the app model (DESIGN.md data flow).
 * It is plain JSON, so the engine can diff it against recorded state, the tree and the Create form can show it, and
 * the CLI can print it. It never holds a secret value: generated passwords and secret values are filled in at apply
 * time, and the graph only says where they go.
 */

import type { EnvironmentType } from './environment';

export type ProviderKind = 'aws' | 'gcp' | 'kubernetes';

/** What a resource is, independent of the provider that implements it. */
export type ResourceKind =
  | 'namespace'
  | 'network'
  | 'cluster'
  | 'nodePool'
  | 'registry'
  | 'iamRole'
  | 'databaseServer'
  | 'database'
  | 'cache'
  | 'topic'
  | 'subscription'
  | 'deadLetter'
  | 'bucket'
  | 'secret'
  | 'serviceAccount'
  | 'deployment'
  /** A cluster add-on's workload (EKS's cluster autoscaler, in kube-system): the cluster's, not the app's. */
  | 'clusterAddon'
  | 'service'
  | 'hpa'
  | 'cronJob'
  | 'infraConfig'
  | 'pvc'
  | 'statefulSet';

/** The Encore declaration a resource exists for; null for environment-wide resources (cluster, namespace, …). */
export type SourceKind = 'service' | 'gateway' | 'database' | 'cache' | 'topic' | 'subscription' | 'bucket' | 'secret' | 'cronJob';

export interface SourceRef {
  kind: SourceKind;
  /** The Encore name; for a subscription `<topic>/<subscription>`, since subscription names are unique per topic. */
  name: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface DesiredResource {
  /** Stable and deterministic: the same app and environment always give the same id, e.g. `aws:rds:users`. */
  id: string;
  kind: ResourceKind;
  /**
   * The provider's own type name, so the driver knows what to call: CloudFormation / Cloud Control type names on
   * AWS (`AWS::RDS::DBInstance`), Cloud Asset Inventory asset types on GCP (`sqladmin.googleapis.com/Instance`),
   * `k8s/<apiVersion>/<Kind>` on Kubernetes (`k8s/apps/v1/StatefulSet`), and `postgres/…`, `nsq/…`, `minio/…` for
   * objects created inside a server the environment runs.
   */
  providerType: string;
  /** The cloud or Kubernetes name the resource gets (deterministic, so a re-run after a crash finds it). */
  name: string;
  source: SourceRef | null;
  /** Plain JSON settings the driver applies. Values known only after apply are `${id.attribute}` output refs. */
  settings: JsonObject;
  /** Ids of resources that must exist first. The graph is acyclic and every id is in the graph. */
  dependsOn: string[];
  /** Holds data people would lose (databases, volumes, buckets, queues, secret values): destroy needs a typed confirmation. */
  stateful: boolean;
  /** A short label for the tree, e.g. "users DB → RDS PostgreSQL db.m5.large, 7-day backups". */
  summary: string;
}

export interface DesiredGraph {
  environment: string;
  provider: ProviderKind;
  type: EnvironmentType;
  /** The Kubernetes namespace the app's workloads run in. */
  namespace: string;
  resources: DesiredResource[];
  /** Things in the app the planner could not map, said plainly (e.g. a cron interval Kubernetes cannot express). */
  warnings: string[];
}

/** Which resource stands for an Encore declaration in the tree and the CodeLens, in order of preference. */
const PRIMARY_KINDS: ResourceKind[] = ['databaseServer', 'cache', 'statefulSet', 'topic', 'subscription', 'bucket', 'deployment', 'cronJob', 'secret'];

/**
 * The resource that implements an Encore declaration ("users DB → RDS PostgreSQL …" rather than its Secret or PVC),
 * or null when the environment does not provision it (e.g. a database no service uses).
 */
export function primaryResource(graph: Pick<DesiredGraph, 'resources'>, source: SourceRef): DesiredResource | null {
  const mine = graph.resources.filter((r) => r.source?.kind === source.kind && r.source.name === source.name);
  for (const kind of PRIMARY_KINDS) {
    const found = mine.find((r) => r.kind === kind);
    if (found) return found;
  }
  return mine[0] ?? null;
}

const OUTPUT_REF = /\$\{([^{}]+)\.([A-Za-z][A-Za-z0-9]*)\}/g;

/**
 * A value that exists only after the resource is created (an RDS endpoint, an SNS topic ARN), written into a
 * setting or the infra config as `${id.attribute}`. The engine substitutes it once the resource exists.
 */
export function outputRef(id: string, attribute: string): string {
  return `\${${id}.${attribute}}`;
}

/** Every output ref in a JSON value, in order of appearance, without duplicates. */
export function outputRefs(value: JsonValue): { id: string; attribute: string }[] {
  const seen = new Set<string>();
  const out: { id: string; attribute: string }[] = [];
  const visit = (v: JsonValue): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(OUTPUT_REF)) {
        if (!seen.has(m[0])) {
          seen.add(m[0]);
          out.push({ id: m[1], attribute: m[2] });
        }
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(value);
  return out;
}

/**
 * The resources in an order where each comes after everything it depends on (ties keep graph order, so the result
 * is deterministic). Throws when a dependency is missing or the graph has a cycle, naming the resources involved.
 */
export function dependencyOrder(graph: Pick<DesiredGraph, 'resources'>): DesiredResource[] {
  const byId = new Map(graph.resources.map((r) => [r.id, r]));
  for (const r of graph.resources) {
    for (const d of r.dependsOn) if (!byId.has(d)) throw new Error(`${r.id} depends on ${d}, which is not in the graph`);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const out: DesiredResource[] = [];
  const visit = (r: DesiredResource, path: string[]): void => {
    const s = state.get(r.id);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`dependency cycle: ${[...path.slice(path.indexOf(r.id)), r.id].join(' → ')}`);
    state.set(r.id, 'visiting');
    for (const d of r.dependsOn) visit(byId.get(d) as DesiredResource, [...path, r.id]);
    state.set(r.id, 'done');
    out.push(r);
  };
  for (const r of graph.resources) visit(r, []);
  return out;
}
