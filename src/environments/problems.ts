/** What is wrong with an environments document or one environment, and where (a JSON pointer, RFC 6901). */
export interface Problem {
  message: string;
  /** JSON pointer into the checked value: `/environments/0/name` for a file, `/name` for a single environment. */
  path: string;
  /** `key` when the key itself is wrong (unknown, or looks like a credential), so an editor underlines the key. */
  target?: 'key';
}

/**
 * A problem found in the file's text. `line` and `column` are 1-based, as people and compilers count them;
 * `offset` and `length` (0-based, in UTF-16 code units of the text without a BOM) let an editor underline the range.
 */
export interface FileProblem extends Problem {
  line: number;
  column: number;
  offset: number;
  length: number;
}

/** Joins pointer segments, escaping `~` and `/` as RFC 6901 says. */
export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Splits a JSON pointer into segments; array indexes come back as numbers, which jsonc-parser needs. */
export function segments(path: string): (string | number)[] {
  if (path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

/** `/environments/1/provider/region` → `environments[1].provider.region`, for messages people read. */
export function humanPath(path: string): string {
  let out = '';
  for (const s of segments(path)) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out === '' ? 'the file' : out;
}

/** One line for a log or a tooltip: `line 3, column 7: environments[0].name: must be a DNS label …`. */
export function formatProblem(p: Problem | FileProblem): string {
  const at = 'line' in p ? `line ${p.line}, column ${p.column}: ` : '';
  const where = p.path === '' ? '' : `${humanPath(p.path)}: `;
  return `${at}${where}${p.message}`;
}

/** At most this many problems are listed; past it, the last one says how many more there are. */
export const MAX_PROBLEMS = 100;

/**
 * The first problems (they are sorted by position), the last of MAX_PROBLEMS saying how many more there are, at the
 * place of the first one left out. Every reader then shows the same bounded list: the CLI, the tree, the log, a save
 * error. A list already capped comes back as it is.
 */
export function capProblems(problems: FileProblem[]): FileProblem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const shown = problems.slice(0, MAX_PROBLEMS - 1);
  const next = problems[shown.length];
  const more = problems.length - shown.length;
  const message = `…and ${more.toLocaleString('en-US')} more problems: fix the ones above first`;
  return [...shown, { path: '', message, line: next.line, column: next.column, offset: next.offset, length: next.length }];
}
