/**
 * Sizing questions and their defaults. Encore once asked, for Production only and only the first time a resource
 * appeared, how big it should be (../shared/notes/encore-provisioning.md §2); today it applies defaults. We ask the
 * same way and store the answers in the environments file (`Environment.sizing`). Development never asks: it runs
 * on fixed small sizes (`DEVELOPMENT_SIZES`), and answers in a Development environment are not read.
 */

import type { AppModel } from '../../model/appModel';
import type { Environment, ProviderSettings } from '../../model/environment';
import { environmentNeeds } from './needs';
import { dict, own, setOwn } from '../../model/records';

export interface DatabaseSize {
  cpu: number;
  memoryGiB: number;
  diskGiB: number;
}

export interface CacheSize {
  memoryGiB: number;
  replicas: number;
}

export interface ServiceScale {
  minInstances: number;
  maxInstances: number;
}

/** The sizes the planner uses: every needed resource, answers merged over defaults. */
export interface EffectiveSizing {
  databases: Record<string, DatabaseSize>;
  caches: Record<string, CacheSize>;
  services: Record<string, ServiceScale>;
  /** Hand-edited answers outside the allowed range, and what was used instead. */
  adjustments: string[];
}

export type SizingGroup = 'databases' | 'caches' | 'services';
export type SizingField = 'cpu' | 'memoryGiB' | 'diskGiB' | 'replicas' | 'minInstances' | 'maxInstances';

export interface SizingQuestion {
  resource: { kind: 'database' | 'cache' | 'service'; name: string };
  /** Where the answer goes in `Environment.sizing`: `sizing[group][resource.name][field]`. */
  group: SizingGroup;
  field: SizingField;
  label: string;
  default: number;
  min: number;
  max: number;
  integer: boolean;
  unit: 'vCPU' | 'GiB' | 'replicas' | 'instances';
}

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  integer: boolean;
  unit: SizingQuestion['unit'];
}

/**
 * The ranges follow what the managed services offer: the largest RDS class in our table is 64 vCPU / 512 GiB
 * (db.r5.16xlarge), Memorystore stops at 300 GB, ElastiCache and Memorystore allow up to 5 read replicas, and RDS
 * storage starts at 20 GiB for gp3 (we allow 10, Cloud SQL's minimum, and round up on AWS).
 */
const FIELDS: Record<SizingGroup, Partial<Record<SizingField, FieldSpec>>> = {
  databases: {
    cpu: { label: 'vCPUs', min: 1, max: 64, integer: true, unit: 'vCPU' },
    memoryGiB: { label: 'memory', min: 1, max: 512, integer: false, unit: 'GiB' },
    diskGiB: { label: 'initial disk', min: 10, max: 16384, integer: true, unit: 'GiB' },
  },
  caches: {
    memoryGiB: { label: 'memory', min: 1, max: 300, integer: false, unit: 'GiB' },
    replicas: { label: 'read replicas', min: 0, max: 5, integer: true, unit: 'replicas' },
  },
  services: {
    minInstances: { label: 'minimum instances', min: 1, max: 100, integer: true, unit: 'instances' },
    maxInstances: { label: 'maximum instances', min: 1, max: 100, integer: true, unit: 'instances' },
  },
};

/**
 * Encore-equivalent Production defaults (notes §1.4). Databases: RDS starts at db.m5.large (2 vCPU / 8 GiB); Cloud
 * SQL at the smallest autoscaling-capable shape, 1 vCPU / 3.75 GiB; an in-cluster Postgres has no Encore
 * equivalent, so it gets 1 vCPU / 4 GiB, which fits on common nodes. 20 GiB of disk is RDS's gp3 minimum. Caches:
 * 5 GiB and one read replica (Memorystore's documented default; on AWS it maps to cache.m6g.large, Encore's
 * ElastiCache default). Services: Encore does not document compute defaults; two instances so a Production service
 * survives losing a node or a zone (the network spans two zones), and at most ten to bound the cost.
 */
export function productionDefaults(provider: ProviderSettings['kind']): { database: DatabaseSize; cache: CacheSize; service: ServiceScale } {
  const database =
    provider === 'aws'
      ? { cpu: 2, memoryGiB: 8, diskGiB: 20 }
      : provider === 'gcp'
        ? { cpu: 1, memoryGiB: 3.75, diskGiB: 20 }
        : { cpu: 1, memoryGiB: 4, diskGiB: 20 };
  return { database, cache: { memoryGiB: 5, replicas: 1 }, service: { minInstances: 2, maxInstances: 10 } };
}

/**
 * Development: small, fixed, one replica of everything (DESIGN.md "Environment types"). The CPU is a request, not
 * a limit: the sample app's whole Development environment fits a 2-CPU node (kind's and minikube's default).
 */
export const DEVELOPMENT_SIZES = {
  database: { cpu: 0.25, memoryGiB: 1, diskGiB: 10 } satisfies DatabaseSize,
  cache: { memoryGiB: 0.5, replicas: 0 } satisfies CacheSize,
  service: { minInstances: 1, maxInstances: 1 } satisfies ServiceScale,
};

/** The questions still open: Production only, and only for needed resources with no answer at all yet. */
export function sizingQuestions(model: AppModel, env: Environment): SizingQuestion[] {
  if (env.type !== 'production') return [];
  const needs = environmentNeeds(model);
  const defaults = productionDefaults(env.provider.kind);
  const answers = env.sizing ?? {};
  const out: SizingQuestion[] = [];
  const ask = <T extends object>(group: SizingGroup, kind: SizingQuestion['resource']['kind'], name: string, values: T) => {
    if (own(answers[group] as Record<string, unknown> | undefined, name) !== undefined) return;
    for (const [field, value] of Object.entries(values) as [SizingField, number][]) {
      const spec = FIELDS[group][field] as FieldSpec;
      out.push({ resource: { kind, name }, group, field, label: `${name} ${kind}: ${spec.label}`, default: value, min: spec.min, max: spec.max, integer: spec.integer, unit: spec.unit });
    }
  };
  for (const d of needs.databases) ask('databases', 'database', d.name, defaults.database);
  for (const c of needs.caches) ask('caches', 'cache', c.name, defaults.cache);
  for (const s of needs.services) ask('services', 'service', s.name, defaults.service);
  return out;
}

/** The environment with these answers recorded (`sizing[group][resource][field]`), leaving every other answer as it was. */
export function withSizingAnswers(env: Environment, answers: { question: Pick<SizingQuestion, 'group' | 'resource' | 'field'>; value: number }[]): Environment {
  type Answers = Record<string, Partial<Record<SizingField, number>>>;
  const sizing = structuredClone(env.sizing ?? {}) as Partial<Record<SizingGroup, Answers>>;
  for (const { question: q, value } of answers) {
    const group = (sizing[q.group] ??= {});
    // Resource names are the app's (a database may be called `__proto__`): own properties only.
    const resource = own(group, q.resource.name) ?? {};
    setOwn(group, q.resource.name, { ...resource, [q.field]: value });
  }
  return { ...env, sizing: sizing as Environment['sizing'] };
}

/** Why an answer is not acceptable, or null when it is; for the form's validation as the user types. */
export function checkSizingAnswer(q: Pick<SizingQuestion, 'min' | 'max' | 'integer' | 'unit'>, value: number): string | null {
  if (!Number.isFinite(value)) return 'Enter a number.';
  if (q.integer && !Number.isInteger(value)) return 'Enter a whole number.';
  if (value < q.min || value > q.max) return `Enter a value from ${q.min} to ${q.max} ${q.unit}.`;
  return null;
}

/** Every needed resource's size: the answers merged over the defaults, clamped into range. */
export function effectiveSizing(model: AppModel, env: Environment): EffectiveSizing {
  const needs = environmentNeeds(model);
  const out: EffectiveSizing = { databases: dict(), caches: dict(), services: dict(), adjustments: [] };
  const production = env.type === 'production';
  const defaults = production
    ? productionDefaults(env.provider.kind)
    : { database: DEVELOPMENT_SIZES.database, cache: DEVELOPMENT_SIZES.cache, service: DEVELOPMENT_SIZES.service };
  const merge = <T extends object>(group: SizingGroup, name: string, base: T): T => {
    const answer = production ? (own(env.sizing?.[group] as Record<string, Partial<T>> | undefined, name)) : undefined;
    const result = { ...base };
    for (const [field, value] of Object.entries(answer ?? {}) as [SizingField, number][]) {
      const spec = FIELDS[group][field];
      if (!spec || typeof value !== 'number') continue;
      const clamped = clamp(spec, value);
      if (clamped !== value) out.adjustments.push(`${group}.${name}.${field} = ${value} is not allowed (${rangeText(spec)}); using ${clamped}.`);
      (result as Record<string, number>)[field] = clamped;
    }
    return result;
  };
  for (const d of needs.databases) out.databases[d.name] = merge('databases', d.name, defaults.database);
  for (const c of needs.caches) out.caches[c.name] = merge('caches', c.name, defaults.cache);
  for (const s of needs.services) {
    const scale = merge('services', s.name, defaults.service);
    if (scale.maxInstances < scale.minInstances) {
      out.adjustments.push(`services.${s.name}: maxInstances ${scale.maxInstances} is below minInstances ${scale.minInstances}; using ${scale.minInstances} for both.`);
      scale.maxInstances = scale.minInstances;
    }
    out.services[s.name] = scale;
  }
  return out;
}

function clamp(spec: FieldSpec, value: number): number {
  const v = spec.integer ? Math.ceil(value) : value;
  return Math.min(spec.max, Math.max(spec.min, v));
}

function rangeText(spec: FieldSpec): string {
  return `${spec.min}–${spec.max} ${spec.unit}${spec.integer ? ', whole numbers' : ''}`;
}
