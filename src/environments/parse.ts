import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { EnvironmentsFile } from '../model/environment';
import { pointer, segments, type FileProblem, type Problem } from './problems';
import { validateDocument } from './validate';

export type ParsedEnvironments = { ok: true; document: EnvironmentsFile } | { ok: false; problems: FileProblem[] };

// Keyed by jsonc-parser's error names (its codes are a const enum, which isolated modules cannot read).
const SYNTAX: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'a property name in double quotes is expected here (a trailing comma?)',
  ValueExpected: 'a value is expected here (a trailing comma?)',
  ColonExpected: 'a colon is expected here',
  CommaExpected: 'a comma is expected here',
  CloseBraceExpected: 'a closing brace } is expected here',
  CloseBracketExpected: 'a closing bracket ] is expected here',
  EndOfFileExpected: 'the JSON value ends before this; nothing may follow it',
  // Comments would be lost the next time the store writes the file, so the file is plain JSON.
  InvalidCommentToken: 'comments are not allowed: this is a plain JSON file that Encore rewrites when environments change',
  UnexpectedEndOfComment: 'a comment is not closed',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfNumber: 'a number is cut short',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string (a raw line break or control character?)',
};

/**
 * Parses and validates the text of an environments file. Every problem carries its line and column, so the
 * extension can show it in place; a file with syntax errors is not validated further, its value being a guess.
 */
export function parseEnvironmentsText(raw: string): ParsedEnvironments {
  const text = raw.replace(/^\uFEFF/, '');
  const at = positions(text);
  if (text.trim() === '') {
    return { ok: false, problems: [at({ path: '', message: 'the file is empty; it should hold at least { "environments": [] }' }, 0, 0)] };
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  // One error per place: jsonc-parser reports a cut-off file as both "] expected" and "} expected" at the end.
  const firstAt = errors.filter((e, i) => errors.findIndex((f) => f.offset === e.offset) === i);
  const syntax = firstAt.map((e) => {
    const name = printParseErrorCode(e.error);
    return at({ path: '', message: SYNTAX[name] ?? `syntax error (${name})` }, e.offset, e.length);
  });
  if (root) syntax.push(...duplicateKeys(root).map(([problem, node]) => at(problem, node.offset, node.length)));
  if (!root || syntax.length > 0) return { ok: false, problems: syntax.sort((a, b) => a.offset - b.offset) };
  // The tree has passed a strict parse, so JSON.parse agrees with it, and gives plain objects (getNodeValue's have
  // no prototype, which surprises every consumer).
  const value: unknown = JSON.parse(text);
  const problems = validateDocument(value).map((p) => locate(p, root, at));
  if (problems.length > 0) return { ok: false, problems: problems.sort((a, b) => a.offset - b.offset) };
  return { ok: true, document: value as EnvironmentsFile };
}

/** JSON.parse keeps the last of two equal keys; writing the file back would silently drop the first. */
function duplicateKeys(node: Node, at: (string | number)[] = []): [Problem, Node][] {
  const found: [Problem, Node][] = [];
  const seen = new Set<string>();
  (node.children ?? []).forEach((child, i) => {
    if (node.type === 'object' && child.type === 'property' && child.children?.[0]) {
      const keyNode = child.children[0];
      const key = String(keyNode.value);
      if (seen.has(key)) found.push([{ path: pointer([...at, key]), target: 'key', message: `the key "${key}" appears twice in this object` }, keyNode]);
      seen.add(key);
      if (child.children[1]) found.push(...duplicateKeys(child.children[1], [...at, key]));
    } else if (node.type === 'array') {
      found.push(...duplicateKeys(child, [...at, i]));
    }
  });
  return found;
}

/** Finds where a problem lies in the tree: the key for key problems, else the value, else the nearest ancestor. */
function locate(problem: Problem, root: Node, at: ReturnType<typeof positions>): FileProblem {
  const path = segments(problem.path);
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, path.slice(0, n));
    if (!node) continue;
    const keyNode = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    // A key problem, or a missing key in an object: underline the key that holds it rather than the whole object.
    if (keyNode && (problem.target === 'key' || (n === path.length && node.type === 'object') || n < path.length)) {
      return at(problem, keyNode.offset, keyNode.length);
    }
    return at(problem, node.offset, node.type === 'object' || node.type === 'array' ? 1 : node.length);
  }
  return at(problem, 0, 0);
}

/** Adds 1-based line and column to a problem at `offset`. */
function positions(text: string) {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  return (problem: Problem, offset: number, length: number): FileProblem => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { ...problem, line: lo + 1, column: offset - lineStarts[lo] + 1, offset, length };
  };
}
