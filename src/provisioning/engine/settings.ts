/**
 * `${id.attribute}` references in settings: resolving them from outputs, and the form of the settings that may be
 * recorded. A reference to a secret output is substituted for the driver but kept as the reference in what is
 * recorded, so a secret never reaches state through a setting that embeds it (a connection string, say).
 */

import type { JsonObject, JsonValue } from '../../model/desiredGraph';

/** What a reference resolves to; undefined when the output is not known (yet). */
export type OutputLookup = (id: string, attribute: string) => { value: JsonValue; secret: boolean } | undefined;

export interface Resolution {
  /** For the driver: every known reference substituted. */
  resolved: JsonObject;
  /** For state and plans: like `resolved`, except strings that took a secret keep their `${…}` reference. */
  recordable: JsonObject;
  /** References that could not be resolved, as `id.attribute`. */
  missing: string[];
}

// One reference, the same syntax the planner writes (desiredGraph.ts outputRef); the attribute is an identifier.
const REF = /\$\{([^{}]+)\.([A-Za-z][A-Za-z0-9]*)\}/g;
const WHOLE_REF = /^\$\{([^{}]+)\.([A-Za-z][A-Za-z0-9]*)\}$/;

export function resolveSettings(settings: JsonObject, lookup: OutputLookup): Resolution {
  const missing = new Set<string>();
  const visit = (v: JsonValue): { resolved: JsonValue; recordable: JsonValue } => {
    if (typeof v === 'string') return resolveString(v, lookup, missing);
    // A part without references is returned as it is, not copied: most settings have none, and plans resolve
    // every resource's settings.
    if (Array.isArray(v)) {
      const parts = v.map(visit);
      if (parts.every((p, i) => p.resolved === v[i] && p.recordable === v[i])) return { resolved: v, recordable: v };
      return { resolved: parts.map((p) => p.resolved), recordable: parts.map((p) => p.recordable) };
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      const parts = entries.map(([, child]) => visit(child));
      if (parts.every((p, i) => p.resolved === entries[i][1] && p.recordable === entries[i][1])) return { resolved: v, recordable: v };
      const resolved: JsonObject = {};
      const recordable: JsonObject = {};
      entries.forEach(([k], i) => {
        resolved[k] = parts[i].resolved;
        recordable[k] = parts[i].recordable;
      });
      return { resolved, recordable };
    }
    return { resolved: v, recordable: v };
  };
  const out = visit(settings) as { resolved: JsonObject; recordable: JsonObject };
  return { ...out, missing: [...missing] };
}

function resolveString(s: string, lookup: OutputLookup, missing: Set<string>): { resolved: JsonValue; recordable: JsonValue } {
  if (!s.includes('${')) return { resolved: s, recordable: s };
  // A string that is exactly one reference takes the output's own JSON type (a port number stays a number).
  const whole = WHOLE_REF.exec(s);
  if (whole) {
    const found = lookup(whole[1], whole[2]);
    if (!found) {
      missing.add(`${whole[1]}.${whole[2]}`);
      return { resolved: s, recordable: s };
    }
    return { resolved: found.value, recordable: found.secret ? s : found.value };
  }
  // Each reference is substituted on its own: a secret one stays `${…}` in the recordable form, the others take
  // their values, so a change of a non-secret part (a host) still shows while the secret never lands in state.
  const render = (forRecord: boolean): string =>
    s.replace(REF, (ref, id: string, attribute: string) => {
      const found = lookup(id, attribute);
      if (!found) {
        missing.add(`${id}.${attribute}`);
        return ref;
      }
      if (forRecord && found.secret) return ref;
      return typeof found.value === 'string' ? found.value : JSON.stringify(found.value);
    });
  return { resolved: render(false), recordable: render(true) };
}

/** True when a value still holds a reference (unknown until its resource is applied, or a secret left out). */
export function hasReference(v: JsonValue | undefined): boolean {
  if (typeof v === 'string') return v.includes('${') && new RegExp(REF.source).test(v);
  if (Array.isArray(v)) return v.some(hasReference);
  if (v !== null && typeof v === 'object') return Object.values(v).some(hasReference);
  return false;
}
