/**
 * Field-level differences between desired settings and observed ones, as dotted paths into the settings
 * (`resources.requests.cpu`, `ports.0.port`). Quantities compare by value; a desired value that still holds a
 * `${id.attribute}` reference is "known after apply"; Secret key specs are marked sensitive (they never hold
 * values here, but a change in them means a secret value changes).
 */

import type { JsonObject, JsonValue } from '../../../model/desiredGraph';
import type { FieldChange } from '../../../model/providerApi';
import { sameQuantity } from './quantity';

const QUANTITY_KEYS = new Set(['cpu', 'memory', 'storage', 'ephemeral-storage']);
const REF = /\$\{[^{}]+\.[A-Za-z][A-Za-z0-9]*\}/;

export function diffSettings(desired: JsonObject, observed: JsonObject, options: { sensitive?: (path: string) => boolean } = {}): FieldChange[] {
  const out: FieldChange[] = [];
  const sensitive = options.sensitive ?? (() => false);
  const walk = (path: string, a: JsonValue | undefined, b: JsonValue | undefined): void => {
    if (equal(path, a, b)) return;
    if (isObject(a) && isObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(path ? `${path}.${key}` : key, a[key], b[key]);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((x, i) => walk(`${path}.${i}`, x, b[i]));
      return;
    }
    const change: FieldChange = { path };
    if (sensitive(path)) change.sensitive = true;
    else {
      if (b !== undefined) change.before = b;
      if (a !== undefined) change.after = a;
    }
    if (a !== undefined && REF.test(JSON.stringify(a))) change.knownAfterApply = true;
    out.push(change);
  };
  walk('', desired, observed);
  return out;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function equal(path: string, a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string' && QUANTITY_KEYS.has(path.split('.').pop() ?? '')) return sameQuantity(a, b);
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => equal(`${path}.${k}`, a[k], b[k]));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(`${path}.${i}`, x, b[i]));
  return false;
}
