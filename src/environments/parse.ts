import { createScanner, findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { EnvironmentsFile } from '../model/environment';
import { capProblems, pointer, segments, type FileProblem, type Problem } from './problems';
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
  // Plain JSON, as its name says: VS Code's JSON mode, the schema tools and Encore's own readers all refuse comments.
  InvalidCommentToken: 'comments are not allowed: encore.environments.json is plain JSON, which other tools read too',
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
  // jsonc-parser, and every walk over the tree after it, recurse once per level: thousands of nested [ would
  // overflow the stack. No valid file comes near the bound, so a deeper one is refused before it is parsed.
  const deep = tooDeep(text);
  if (deep !== undefined) {
    const message = `nested too deeply: more than ${MAX_NESTING} levels of [ and { (a valid environments file needs ${VALID_NESTING})`;
    return { ok: false, problems: [at({ path: '', message }, deep, 1)] };
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  // One error per place: jsonc-parser reports a cut-off file as both "] expected" and "} expected" at the end.
  const offsets = new Set<number>();
  const syntax: FileProblem[] = [];
  for (const e of errors) {
    if (offsets.has(e.offset)) continue;
    offsets.add(e.offset);
    const name = printParseErrorCode(e.error);
    syntax.push(at({ path: '', message: SYNTAX[name] ?? `syntax error (${name})` }, e.offset, e.length));
  }
  if (root) for (const [problem, node] of duplicateKeys(root)) syntax.push(at(problem, node.offset, node.length));
  if (!root || syntax.length > 0) return { ok: false, problems: capProblems(syntax.sort((a, b) => a.offset - b.offset)) };
  // The tree has passed a strict parse, so JSON.parse agrees with it, and gives plain objects (getNodeValue's have
  // no prototype, which surprises every consumer).
  const value: unknown = JSON.parse(text);
  const problems = validateDocument(value).map((p) => locate(p, root, at));
  if (problems.length > 0) return { ok: false, problems: capProblems(problems.sort((a, b) => a.offset - b.offset)) };
  return { ok: true, document: value as EnvironmentsFile };
}

/** The deepest nesting of [ and { the file may have: far above a valid file's, so hand-made mistakes still parse. */
export const MAX_NESTING = 64;
/** root { environments [ environment { sizing { databases { resource { */
const VALID_NESTING = 6;

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot read: its values, as it documents them.
const OPEN_BRACE = 1;
const CLOSE_BRACE = 2;
const OPEN_BRACKET = 3;
const CLOSE_BRACKET = 4;
const EOF = 17;

/** The offset of the first [ or { deeper than MAX_NESTING, found with jsonc-parser's scanner (a loop, not recursion). */
function tooDeep(text: string): number | undefined {
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let kind = scanner.scan(); kind !== EOF; kind = scanner.scan()) {
    if (kind === OPEN_BRACE || kind === OPEN_BRACKET) {
      if (++depth > MAX_NESTING) return scanner.getTokenOffset();
    } else if (kind === CLOSE_BRACE || kind === CLOSE_BRACKET) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

/**
 * JSON.parse keeps the last of two equal keys; writing the file back would silently drop the first. A walk with its
 * own stack, in document order: the tree's depth is bounded (tooDeep), but no walk over user data should rely on that.
 */
function duplicateKeys(root: Node): [Problem, Node][] {
  const found: [Problem, Node][] = [];
  const stack: { node: Node; at: (string | number)[] }[] = [{ node: root, at: [] }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { node, at } = item;
    const seen = new Set<string>();
    const next: { node: Node; at: (string | number)[] }[] = [];
    (node.children ?? []).forEach((child, i) => {
      if (node.type === 'object' && child.type === 'property' && child.children?.[0]) {
        const keyNode = child.children[0];
        const key = String(keyNode.value);
        if (seen.has(key)) found.push([{ path: pointer([...at, key]), target: 'key', message: `the key "${key}" appears twice in this object` }, keyNode]);
        seen.add(key);
        if (child.children[1]) next.push({ node: child.children[1], at: [...at, key] });
      } else if (node.type === 'array') {
        next.push({ node: child, at: [...at, i] });
      }
    });
    // Reversed, so the first child is visited first (a loop: a spread of a huge array overflows the stack too).
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]);
  }
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
