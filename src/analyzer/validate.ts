// Encore's value rules: resource names, duration strings, cron expressions and API paths, with Encore's messages.

/** Validates a kebab-case (buckets) or snake_case (metrics) resource name; returns Encore's sub-message or null. */
export function nameProblem(name: string, style: 'kebab' | 'snake'): string | null {
  const sep = style === 'kebab' ? '-' : '_';
  if (name.length < 1 || name.length > 63) return `name must be between 1 and 63 characters long (got ${name.length})`;
  if (!/[a-z]/.test(name[0])) return `name must start with a lowercase letter (got '${name[0]}')`;
  const last = name[name.length - 1];
  if (!/[a-z0-9]/.test(last)) return `name must end with a lowercase letter or digit (got '${last}')`;
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (!/[a-z0-9]/.test(c) && c !== sep) {
      const what = style === 'kebab' ? 'dashes' : 'underscores';
      return `name must only contain lowercase letters, numbers, and ${what} (got '${c}' at position ${i})`;
    }
  }
  if (style === 'snake' && name.startsWith('e_')) return `name must not start with reserved prefix 'e_' (got '${name}')`;
  return null;
}

/** The warning for a resource name that is a built-in JavaScript property name (see model/reservedNames). */
export function builtinNameWarning(what: string, name: string): string {
  return `${what} name '${name}' is a built-in JavaScript property name: Encore's TypeScript parser accepts it, but JavaScript ` +
    'code that looks resources up by name in plain objects mistakes it for the built-in property; choose another name';
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration string such as "10s", "500ms", "1h30m" or "1h 30m" into milliseconds; null when invalid. */
export function parseDuration(text: string): number | null {
  const re = /\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)\s*/y;
  let total = 0;
  let matched = false;
  re.lastIndex = 0;
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) return null;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    matched = true;
  }
  return matched ? total : null;
}

const CRON_FIELDS: [string, number, number][] = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];
const CRON_NAMES: Record<number, string[]> = {
  3: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  4: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
};

/** Checks a 5-field cron expression; returns a problem or null. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    return 'invalid cron expression: must have exactly 5 fields (minute, hour, day of month, month, day of week), e.g. "* * * * *".';
  }
  for (const [i, field] of fields.entries()) {
    const [label, min, max] = CRON_FIELDS[i];
    for (const part of field.split(',')) {
      const m = /^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/i.exec(part);
      if (!m) return `invalid cron expression: invalid ${label} field '${field}'`;
      if (m[2] !== undefined && Number(m[2]) === 0) return `invalid cron expression: step must be positive in '${field}'`;
      if (m[1] === '*') continue;
      for (const value of m[1].split('-')) {
        const names = CRON_NAMES[i];
        const n = /^\d+$/.test(value) ? Number(value) : names ? names.indexOf(value.toLowerCase()) + (i === 3 ? 1 : 0) : NaN;
        if (!Number.isInteger(n) || n < min || n > max || (names && !/^\d+$/.test(value) && !names.includes(value.toLowerCase()))) {
          return `invalid cron expression: ${label} value '${value}' is out of range ${min}-${max}`;
        }
      }
    }
  }
  return null;
}

export type PathSegment = { type: 'literal' | 'param' | 'wildcard' | 'fallback'; value: string };

/** Parses an API path the way Encore does; returns the segments or Encore's error message. */
export function parseApiPath(path: string): { segments: PathSegment[] } | { error: string } {
  if (path === '') return { error: 'empty path' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || path.startsWith('//')) {
    return { error: 'path cannot contain url scheme / authority / hostname' };
  }
  if (!path.startsWith('/')) return { error: "path must start with '/'" };
  if (path.includes('?')) return { error: "path cannot contain query parameters (the '?' character)" };
  if (path.includes('#')) return { error: "path cannot contain url fragment (the '#' character)" };
  if (path === '/') return { segments: [] };
  const parts = path.slice(1).split('/');
  const segments: PathSegment[] = [];
  for (const [i, part] of parts.entries()) {
    if (part === '') return { error: 'path cannot contain empty path segment' };
    const last = i === parts.length - 1;
    const sigil = part[0];
    if (sigil === ':' || sigil === '*' || sigil === '!') {
      const name = part.slice(1);
      if (name === '') return { error: 'path parameters must have a name' };
      if (sigil === '*' && !last) return { error: 'wildcard segment must be at the end of the path' };
      if (sigil === '!' && !last) return { error: 'fallback segment must be at the end of the path' };
      segments.push({ type: sigil === ':' ? 'param' : sigil === '*' ? 'wildcard' : 'fallback', value: name });
    } else {
      segments.push({ type: 'literal', value: part });
    }
  }
  return { segments };
}

/** The routing shape of a path: two endpoints of one service conflict when a method and this shape are the same. */
export function routeShape(segments: PathSegment[]): string {
  return segments.map((s) => (s.type === 'literal' ? `/${s.value}` : s.type === 'param' ? '/:' : '/*')).join('') || '/';
}
