/**
 * Field-level differences between two JSON settings objects, as dotted paths. This is the engine's own comparison of
 * desired settings against what state recorded (no provider knowledge); a driver's `diff` adds the comparison
 * against live objects with the provider's normalisation.
 */

import type { JsonValue } from '../../model/desiredGraph';
import type { FieldChange } from '../../model/providerApi';
import { hasReference } from './settings';

export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  // Counting keys instead of building their union: plans compare every resource's settings, twice or more.
  // A key whose value is undefined counts as absent, as it would once written as JSON.
  const ao = a as Record<string, JsonValue | undefined>;
  const bo = b as Record<string, JsonValue | undefined>;
  let defined = 0;
  for (const k of Object.keys(ao)) {
    if (ao[k] === undefined) continue;
    defined++;
    if (!jsonEqual(ao[k], bo[k])) return false;
  }
  for (const k of Object.keys(bo)) if (bo[k] !== undefined) defined--;
  return defined === 0;
}

/** The changes from `before` to `after`. Arrays of equal length compare per index; otherwise as one value. */
export function diffJson(before: JsonValue | undefined, after: JsonValue | undefined, path = ''): FieldChange[] {
  if (jsonEqual(before, after)) return [];
  if (isObject(before) && isObject(after)) {
    const out: FieldChange[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) out.push(...diffJson(before[k], after[k], join(path, k)));
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => diffJson(b, after[i], join(path, String(i))));
  }
  const change: FieldChange = { path: path || '(all)' };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  if (hasReference(after)) change.knownAfterApply = true;
  return [change];
}

/**
 * The two change lists merged by path: `primary` wins where both speak of a field (a live diff knows the value the
 * update really changes), `secondary` adds fields the first did not mention.
 */
export function mergeChanges(primary: FieldChange[], secondary: FieldChange[]): FieldChange[] {
  const seen = new Set(primary.map((c) => c.path));
  return [...primary, ...secondary.filter((c) => !seen.has(c.path))].sort((a, b) => a.path.localeCompare(b.path));
}

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
