/**
 * What every manifest shares: the labels that mark our objects, the render context, and small helpers.
 *
 * Resource ids (`k8s:deployment:orders`, `nsq:channel:order-placed/notify-customer`) contain `:` and `/`, which a
 * label value may not, and can be longer than 63 characters. So `encore.dev/resource-id` is a label holding a
 * sanitised, length-capped form (for selecting an environment's objects with kubectl), and an annotation of the
 * same name holds the exact id (what the driver matches on).
 */

import { createHash } from 'node:crypto';
import type { DesiredResource, JsonObject, JsonValue } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';

export const MANAGED_BY = 'encore-environments';
export const LABEL = {
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  environment: 'encore.dev/environment',
  resourceId: 'encore.dev/resource-id',
} as const;
export const ANNOTATION = {
  resourceId: 'encore.dev/resource-id',
  summary: 'encore.dev/summary',
  image: 'encore.dev/image',
  hostedServices: 'encore.dev/hosted-services',
  hostedGateways: 'encore.dev/hosted-gateways',
  infraConfigHash: 'encore.dev/infra-config-sha256',
  settings: 'encore.dev/settings',
  value: 'encore.dev/value',
  requires: 'encore.dev/requires',
  title: 'encore.dev/title',
} as const;

export interface RenderContext {
  environment: string;
  namespace: string;
  /** Production on the kubernetes provider: HPAs own the replica counts. */
  production: boolean;
  /** For a Secret: the values of the keys we write (generated, kept from the live Secret, or given). */
  secretValues?: Record<string, string>;
  /** For a Deployment: the hash of the infra config it mounts, so a changed config rolls the pods. */
  infraConfigHash?: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string; optional?: boolean } };
}

/** A label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric; a hash keeps it unique when cut. */
export function labelValue(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9._-]+/g, '.').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (clean === text && clean.length <= 63) return clean;
  const hash = sha256(text).slice(0, 8);
  const head = clean.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '');
  return head ? `${head}-${hash}` : hash;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with sorted keys, so a hash of settings does not depend on key order. */
export function stableJson(value: JsonValue | unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The namespace a namespaced object of the resource lives in: the environment's, unless the planner placed it
 * elsewhere (`settings.namespace`: a cluster add-on in kube-system).
 */
export function resourceNamespace(resource: Pick<DesiredResource, 'settings'>, environmentNamespace: string): string {
  const ns = resource.settings.namespace;
  return typeof ns === 'string' && ns !== '' ? ns : environmentNamespace;
}

/** The labels every object of the environment carries. */
export function baseLabels(resource: Pick<DesiredResource, 'id'>, ctx: Pick<RenderContext, 'environment'>): Record<string, string> {
  return { [LABEL.managedBy]: MANAGED_BY, [LABEL.environment]: labelValue(ctx.environment), [LABEL.resourceId]: labelValue(resource.id) };
}

/** Object metadata: name, namespace (unless cluster-scoped), our labels and the exact resource id. */
export function meta(
  resource: Pick<DesiredResource, 'id' | 'name' | 'summary'>,
  ctx: Pick<RenderContext, 'environment' | 'namespace'>,
  extra: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; clusterScoped?: boolean } = {},
): KubeObject['metadata'] {
  return {
    name: extra.name ?? resource.name,
    ...(extra.clusterScoped ? {} : { namespace: ctx.namespace }),
    labels: { ...(extra.labels ?? {}), ...baseLabels(resource, ctx) },
    annotations: { [ANNOTATION.resourceId]: resource.id, [ANNOTATION.summary]: resource.summary, ...(extra.annotations ?? {}) },
  };
}

/** The labels a workload's pods carry, which its Service selects (`app.kubernetes.io/name`, as the planner says). */
export function podLabels(resource: Pick<DesiredResource, 'id'>, ctx: Pick<RenderContext, 'environment'>, workload: string): Record<string, string> {
  return { [LABEL.name]: workload, ...baseLabels(resource, ctx) };
}

// --- reading settings: the graph is plain JSON, so each renderer checks what it relies on and names the field ---

export function str(settings: JsonObject, key: string, id: string): string {
  const v = settings[key];
  if (typeof v !== 'string' || v === '') throw new Error(`${id}: setting "${key}" must be a non-empty string, got ${JSON.stringify(v)}`);
  assertResolved(v, key, id);
  return v;
}

export function optStr(settings: JsonObject, key: string, id: string): string | null {
  const v = settings[key];
  if (v === undefined || v === null) return null;
  return str(settings, key, id);
}

export function num(settings: JsonObject, key: string, id: string): number {
  const v = settings[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${id}: setting "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function obj(settings: JsonObject, key: string, id: string): JsonObject {
  const v = settings[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${id}: setting "${key}" must be an object, got ${JSON.stringify(v)}`);
  return v;
}

export function strList(settings: JsonObject, key: string, id: string): string[] {
  const v = settings[key] ?? [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${id}: setting "${key}" must be a list of strings, got ${JSON.stringify(v)}`);
  return v as string[];
}

/** A `${id.attribute}` left in a value means the engine did not resolve it: never send that to the cluster. */
export function assertResolved(value: string, key: string, id: string): void {
  if (/\$\{[^{}]+\.[A-Za-z][A-Za-z0-9]*\}/.test(value)) throw new Error(`${id}: setting "${key}" still holds an unresolved reference (${value})`);
}
