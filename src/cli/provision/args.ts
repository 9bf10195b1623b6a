/**
 * Flags of plan, apply, destroy, unlock and secret: `--name value` or `--name=value`, booleans, and one optional
 * DIR. A flag given twice is refused (`apply --env staging --yes --env prod` must not quietly apply prod), and so is
 * anything that starts with `-` and is not a known flag (`-x` is not a folder).
 */

export interface FlagSpec {
  values: string[];
  booleans: string[];
}

export type Parsed = { ok: true; values: Record<string, string>; flags: Set<string>; dir: string | undefined } | { ok: false; error: string };

export function parseArgs(args: string[], spec: FlagSpec): Parsed {
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  const flags = new Set<string>();
  const seen = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) return { ok: false, error: `unknown option ${arg}` };
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (seen.has(name)) return { ok: false, error: `--${name} is given twice; give it once` };
    seen.add(name);
    if (spec.booleans.includes(name) && eq < 0) {
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) return { ok: false, error: `--${name} needs a value` };
      values[name] = value;
    } else {
      return { ok: false, error: `unknown option ${eq >= 0 ? arg.slice(0, eq) : arg}` };
    }
  }
  if (positional.length > 1) return { ok: false, error: `unexpected ${positional.slice(1).join(' ')}` };
  return { ok: true, values, flags, dir: positional[0] };
}

/** A whole number from `min` to `max` written in plain digits (`1e3`, `0x10` and `2.0` are refused). */
export function wholeNumber(text: string, min: number, max: number): number | null {
  if (!/^\d{1,9}$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}
