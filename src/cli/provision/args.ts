/** Flags of plan, apply, destroy and unlock: `--name value` or `--name=value`, booleans, and one optional DIR. */

export interface FlagSpec {
  values: string[];
  booleans: string[];
}

export type Parsed = { ok: true; values: Record<string, string>; flags: Set<string>; dir: string | undefined } | { ok: false; error: string };

export function parseArgs(args: string[], spec: FlagSpec): Parsed {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2));
    if (spec.booleans.includes(name) && eq < 0) {
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) return { ok: false, error: `--${name} needs a value` };
      values[name] = value;
    } else {
      return { ok: false, error: `unknown option ${arg}` };
    }
  }
  if (positional.length > 1) return { ok: false, error: `unexpected ${positional.slice(1).join(' ')}` };
  return { ok: true, values, flags, dir: positional[0] };
}
