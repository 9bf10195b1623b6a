import { STATE_FORMAT, StateError, type EnvState, type JournalEntry } from '../../model/state';

/**
 * Parses a state snapshot and checks its shape, so a damaged or foreign file is refused with a clear error (and left
 * untouched) instead of being taken for an empty environment, which would make apply create everything again.
 */
export function parseState(text: string, where: string): EnvState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new StateError('corrupt', `${where} is not valid JSON (${(err as Error).message}); it was left untouched. Restore it from a backup or remove it to start over.`, { cause: err });
  }
  const problem = shapeProblem(data);
  if (problem) throw new StateError('corrupt', `${where} is not a state file this version can read: ${problem}; it was left untouched.`);
  return data as EnvState;
}

function shapeProblem(data: unknown): string | null {
  if (!isObject(data)) return 'it is not a JSON object';
  if (data.format !== STATE_FORMAT) return `format ${JSON.stringify(data.format)} (this version reads format ${STATE_FORMAT})`;
  if (typeof data.environment !== 'string') return 'no environment name';
  if (typeof data.provider !== 'string') return 'no provider';
  if (typeof data.serial !== 'number') return 'no serial';
  if (!isObject(data.resources)) return 'no resources object';
  for (const [id, r] of Object.entries(data.resources)) {
    if (!isObject(r) || !isObject(r.resource) || r.resource.id !== id || typeof r.status !== 'string' || !isObject(r.outputs)) {
      return `the record of ${id} is malformed`;
    }
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The journal's JSON lines. A line that does not parse (a torn last line from a crash mid-append) is skipped: what
 * came before it is intact.
 */
export function parseJournal(text: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      // skipped, see above
    }
  }
  return out;
}
