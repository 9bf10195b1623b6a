/**
 * Secrets and the infra config.
 *
 * A Secret's settings name its keys and where each value comes from (planner: inCluster.ts, workloads.ts,
 * secrets.ts, caches.ts):
 * - `{ generate: 'password', length }`: generated once with crypto.randomBytes by the driver, kept in the cluster
 *   Secret only (a re-apply reuses the live value), never in state, logs or events;
 * - `{ setBy: … }` (an app secret) and `{ syncFrom: … }` (copied from a cloud secret store by that cloud's
 *   driver): we never write the key, so a value set later by a person (kubectl, another field manager) is never
 *   overwritten or removed by a re-apply, which only owns the fields it sends;
 * - `{ from: value }`: a value the engine resolved from another resource's output.
 *
 * The infra config (Encore's infra.config.json) goes into a Secret too, mounted into every pod: it holds only
 * `$env` references to secret values, but also every host name of the environment, and a Secret keeps it behind
 * the same RBAC as the credentials.
 */

import { randomBytes } from 'node:crypto';
import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { ANNOTATION, assertResolved, meta, obj, sha256, stableJson, str, type RenderContext } from './common';

export type KeySource =
  | { kind: 'generate'; length: number }
  | { kind: 'external'; note: string }
  | { kind: 'given'; value: string };

/**
 * Each key of a Secret resource and where its value comes from. A read (observe) only needs the kinds: a `from`
 * whose reference a plan has not resolved yet (a cloud output) is fine there, never when writing.
 */
export function secretKeys(r: DesiredResource, options: { requireResolved?: boolean } = {}): Record<string, KeySource> {
  const keys = obj(r.settings, 'keys', r.id);
  const out: Record<string, KeySource> = {};
  for (const [key, spec] of Object.entries(keys)) {
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new Error(`${r.id}: key "${key}" has no source`);
    if (spec.generate === 'password') {
      const length = typeof spec.length === 'number' ? spec.length : 32;
      out[key] = { kind: 'generate', length };
    } else if (typeof spec.setBy === 'string') {
      out[key] = { kind: 'external', note: `set by ${spec.setBy}` };
    } else if (typeof spec.syncFrom === 'string') {
      out[key] = { kind: 'external', note: `copied from ${spec.syncFrom}` };
    } else if (typeof spec.from === 'string') {
      if (options.requireResolved !== false) assertResolved(spec.from, `keys.${key}.from`, r.id);
      out[key] = { kind: 'given', value: spec.from };
    } else {
      throw new Error(`${r.id}: key "${key}" has an unknown source ${JSON.stringify(spec)}`);
    }
  }
  return out;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random password of letters and digits: safe in connection strings, shell scripts and YAML without quoting.
 * Bytes ≥ 248 are dropped (248 = 62 × 4) so every character is equally likely.
 */
export function generatePassword(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/**
 * The values to write for a Secret: live values are kept (a password is generated once, then only read back), a
 * missing generated key gets a new value, and given values are taken as they are now.
 */
export function secretValues(r: DesiredResource, live: Record<string, string> | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, source] of Object.entries(secretKeys(r))) {
    if (source.kind === 'generate') out[key] = live?.[key] ?? generatePassword(source.length);
    else if (source.kind === 'given') out[key] = source.value;
  }
  return out;
}

export function renderSecret(r: DesiredResource, ctx: RenderContext): KubeObject {
  const keys = secretKeys(r);
  const values = ctx.secretValues ?? {};
  const data: Record<string, string> = {};
  const notes: string[] = [];
  for (const [key, source] of Object.entries(keys)) {
    if (source.kind === 'external') {
      notes.push(`${key}: ${source.note}`);
      continue;
    }
    const value = values[key];
    if (value === undefined) throw new Error(`${r.id}: no value for key "${key}" (the driver generates or keeps it before rendering)`);
    data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(r, ctx, { annotations: notes.length > 0 ? { [ANNOTATION.value]: notes.join('; ') } : {} }),
    type: 'Opaque',
    // An empty `data` is left out, so we own no field of a Secret whose values others set.
    ...(Object.keys(data).length > 0 ? { data } : {}),
  };
}

/** The infra config document as written: pretty JSON, so `kubectl get secret -o jsonpath` shows it readably. */
export function infraConfigText(r: DesiredResource): string {
  const document = obj(r.settings, 'document', r.id);
  const text = JSON.stringify(document, null, 2);
  assertResolved(text, 'document', r.id);
  return `${text}\n`;
}

/** The hash a Deployment's pod template carries, so a changed infra config restarts the pods that read it. */
export function infraConfigHash(text: string): string {
  return sha256(text);
}

export function renderInfraConfig(r: DesiredResource, ctx: RenderContext): KubeObject {
  const text = infraConfigText(r);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(r, ctx, { annotations: { [ANNOTATION.infraConfigHash]: infraConfigHash(text) } }),
    type: 'Opaque',
    data: { [str(r.settings, 'key', r.id)]: Buffer.from(text, 'utf8').toString('base64') },
  };
}

export { stableJson };
export type { JsonObject };
