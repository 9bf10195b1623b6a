// Random mutations of source text for the analyzer fuzz test (analyzerFuzz.test.ts). Each mutation is a pure
// function of a seeded Prng and the text, so a seed and an index replay the same mutated file.
import { Prng } from '../prng';

export interface Mutation {
  text: string;
  /** What was done, precisely enough to redo it by hand (offsets are UTF-16 code units). */
  description: string;
}

type Mutator = (rng: Prng, text: string, corpus: readonly string[]) => Mutation;

/** Tokens that upset parsers in interesting ways, and fragments of the Encore forms the analyzer looks for. */
export const TOKENS: readonly string[] = [
  '{', '}', '(', ')', '[', ']', '"', "'", '`', '${', '<', '>', ',', ';', ':', '=>', '=', '.', '..', '...', '?',
  '/*', '*/', '//', '\\', '@', '#', '!', '\n', '\r\n', '\r', '\t', ' ',
  'new SQLDatabase(', 'new SQLDatabase("x", {', 'SQLDatabase.named(', 'export const', 'export default', 'api(', 'api.raw(',
  'api.static({', 'api.streamOut<', 'new Topic<', 'new Subscription(', 'new CronJob(', 'new CacheCluster(',
  'new StringKeyspace<', 'new StructKeyspace<', 'new Bucket("', 'Bucket.named(', '.ref<Uploader>()', 'secret(',
  'new Counter("', 'new Gateway({', 'authHandler<', 'new Service("', 'export default new Service("x");',
  'import { api } from "encore.dev/api";\n', 'import { SQLDatabase } from "encore.dev/storage/sqldb";\n',
  'import * as api from "encore.dev/api";\n', 'migrations: "../up"', 'every: "61s"', 'schedule: "* *"',
  'path: "/a/*b/c"', 'method: "*"', 'method: ["*", "GET"]', 'evictionPolicy: "lru"', '{ ...spread }', '{ handler }',
  'deliveryGuarantee: "maybe"', 'bodyLimit: 1 / 3', '1e309', '-0x', 'NaN', '0n', 'null', 'undefined', 'async', 'await',
  'function', 'class', 'enum', 'type X =', 'declare', 'namespace', 'satisfies', 'as const', '!.', '?.',
  'é', 'ß', '中文', '😀', '𝔘', '\u200b', '\ufeff', '\u2028', '\u2029', '\ud800', '\udc00', 'Ω\u0301',
  '\u0000', '\u0007', '\u001b[31m',
];

const IDENTIFIERS = ['someValue', 'x', 'SQLDatabase', 'Topic', 'api', 'secret', 'undefined', 'NaN', 'ident_1', 'ñame'];
const NUMBERS = ['-1', '0', '1.5', '1e999', '0x10', '9007199254740993', '1_000', '-0', '3 / 0', '7 % 2', '2 ** 64'];

function lines(text: string): string[] {
  return text.split('\n');
}

function offset(rng: Prng, text: string): number {
  return rng.int(0, text.length);
}

/** A string quoted for a description, with everything outside printable ASCII escaped, so the report is exact. */
function show(s: string): string {
  const shown = s.length > 60 ? `${s.slice(0, 40)}…(${s.length} chars)` : s;
  return JSON.stringify(shown).replace(/[^\x20-\x7e]/g, (c) => (c === '…' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

const deleteRange: Mutator = (rng, text) => {
  if (text.length === 0) return { text, description: 'delete nothing (empty text)' };
  const start = offset(rng, text);
  const length = rng.chance(0.7) ? rng.int(1, 8) : rng.int(1, Math.max(1, Math.min(400, text.length - start)));
  return { text: text.slice(0, start) + text.slice(start + length), description: `delete ${length} chars at ${start}` };
};

const duplicateLine: Mutator = (rng, text) => {
  const ls = lines(text);
  const i = rng.int(0, ls.length - 1);
  ls.splice(i, 0, ls[i]);
  return { text: ls.join('\n'), description: `duplicate line ${i + 1}` };
};

const deleteLine: Mutator = (rng, text) => {
  const ls = lines(text);
  const i = rng.int(0, ls.length - 1);
  ls.splice(i, 1);
  return { text: ls.join('\n'), description: `delete line ${i + 1}` };
};

const swapLines: Mutator = (rng, text) => {
  const ls = lines(text);
  const i = rng.int(0, ls.length - 1);
  const j = rng.int(0, ls.length - 1);
  [ls[i], ls[j]] = [ls[j], ls[i]];
  return { text: ls.join('\n'), description: `swap lines ${i + 1} and ${j + 1}` };
};

const insertToken: Mutator = (rng, text) => {
  const at = offset(rng, text);
  const token = rng.pick(TOKENS);
  const times = rng.chance(0.85) ? 1 : rng.int(2, 50);
  const inserted = token.repeat(times);
  return { text: text.slice(0, at) + inserted + text.slice(at), description: `insert ${show(token)}×${times} at ${at}` };
};

const insertLongString: Mutator = (rng, text) => {
  const at = offset(rng, text);
  const length = rng.pick([1_000, 20_000, 100_000]);
  const quote = rng.pick(['"', '`', '']);
  const body = rng.pick(['a', 'ab ', '/', '\\"', '{', '😀']).repeat(Math.ceil(length / 2)).slice(0, length);
  const inserted = `${quote}${body}${quote}`;
  return { text: text.slice(0, at) + inserted + text.slice(at), description: `insert a ${length}-char ${quote || 'bare'} string at ${at}` };
};

const deepNesting: Mutator = (rng, text) => {
  const at = offset(rng, text);
  const depth = rng.pick([50, 500, 2000]);
  const [open, close] = rng.pick([['(', ')'], ['{', '}'], ['[', ']'], ['<', '>']]);
  const closed = rng.chance(0.5);
  const inserted = open.repeat(depth) + (closed ? close.repeat(depth) : '');
  return { text: text.slice(0, at) + inserted + text.slice(at), description: `insert ${depth} nested ${open}${closed ? close : ''} at ${at}` };
};

const truncate: Mutator = (rng, text) => {
  const at = offset(rng, text);
  return { text: text.slice(0, at), description: `truncate at ${at}` };
};

const emptyFile: Mutator = (_rng, _text) => ({ text: '', description: 'empty the file' });

const stringLiteralRe = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g;

const replaceStringLiteral: Mutator = (rng, text) => {
  const literals = [...text.matchAll(stringLiteralRe)];
  if (literals.length === 0) return insertToken(rng, text, []);
  const m = rng.pick(literals);
  const start = m.index ?? 0;
  const inner = m[0].slice(1, -1);
  const replacement = rng.pick([
    rng.pick(IDENTIFIERS),
    `\`${inner}\``,
    `\`${inner}\${x}\``,
    '""',
    `"${inner}${inner}"`,
    `"${inner.toUpperCase()}"`,
    `"${inner.replace(/-/g, '_')}"`,
    `"../${inner}"`,
    `"/${inner}"`,
    `${m[0]} + "x"`,
    rng.pick(NUMBERS),
    `"${'x'.repeat(70)}"`,
    `"${inner}\u0000"`,
  ]);
  return {
    text: text.slice(0, start) + replacement + text.slice(start + m[0].length),
    description: `replace the string literal ${show(m[0])} at ${start} with ${show(replacement)}`,
  };
};

const replaceNumber: Mutator = (rng, text) => {
  const numbers = [...text.matchAll(/\b\d+\b/g)];
  if (numbers.length === 0) return insertToken(rng, text, []);
  const m = rng.pick(numbers);
  const start = m.index ?? 0;
  const replacement = rng.pick(NUMBERS);
  return {
    text: text.slice(0, start) + replacement + text.slice(start + m[0].length),
    description: `replace the number ${m[0]} at ${start} with ${replacement}`,
  };
};

const replaceIdentifier: Mutator = (rng, text) => {
  const words = [...text.matchAll(/\b[A-Za-z_$][\w$]*\b/g)];
  if (words.length === 0) return insertToken(rng, text, []);
  const m = rng.pick(words);
  const start = m.index ?? 0;
  const replacement = rng.pick([...IDENTIFIERS, `${m[0]}.${m[0]}`, `${m[0]}()`, `new ${m[0]}`, '']);
  return {
    text: text.slice(0, start) + replacement + text.slice(start + m[0].length),
    description: `replace the word ${show(m[0])} at ${start} with ${show(replacement)}`,
  };
};

const copyRange: Mutator = (rng, text) => {
  if (text.length === 0) return insertToken(rng, text, []);
  const from = offset(rng, text);
  const length = rng.int(1, Math.min(300, text.length - from + 1));
  const to = offset(rng, text);
  const chunk = text.slice(from, from + length);
  return { text: text.slice(0, to) + chunk + text.slice(to), description: `copy ${length} chars from ${from} to ${to}` };
};

const replaceChar: Mutator = (rng, text) => {
  if (text.length === 0) return insertToken(rng, text, []);
  const at = rng.int(0, text.length - 1);
  const c = rng.pick(['"', '{', '}', '(', ')', ';', '\n', ' ', 'x', '0', '\u0000', '\ud83d', '\u2028', '`']);
  return { text: text.slice(0, at) + c + text.slice(at + 1), description: `replace the char at ${at} with ${show(c)}` };
};

const wrapInFunction: Mutator = (rng, text) => {
  const ls = lines(text);
  const i = rng.int(0, ls.length - 1);
  const j = rng.int(i, Math.min(ls.length - 1, i + 12));
  const [open, close] = rng.pick([
    ['function wrapped() {', '}'],
    ['const f = () => {', '};'],
    ['if (true) {', '}'],
    ['class Wrapped { m() {', '} }'],
    ['namespace Wrapped {', '}'],
    ['/*', '*/'],
  ]);
  ls.splice(j + 1, 0, close);
  ls.splice(i, 0, open);
  return { text: ls.join('\n'), description: `wrap lines ${i + 1}-${j + 1} in ${show(open)}…${show(close)}` };
};

const duplicateFile: Mutator = (_rng, text) => ({ text: `${text}\n${text}`, description: 'duplicate the whole file' });

/** A line of another fixture file, inserted here: declarations meet the wrong imports, names collide. */
const spliceFromCorpus: Mutator = (rng, text, corpus) => {
  if (corpus.length === 0) return duplicateLine(rng, text, corpus);
  const source = rng.pick(corpus);
  const sourceLines = lines(source);
  const from = rng.int(0, sourceLines.length - 1);
  const count = rng.int(1, 8);
  const chunk = sourceLines.slice(from, from + count);
  const ls = lines(text);
  const at = rng.int(0, ls.length);
  ls.splice(at, 0, ...chunk);
  return { text: ls.join('\n'), description: `insert ${chunk.length} lines of another fixture file at line ${at + 1}: ${show(chunk.join('\n'))}` };
};

const crlf: Mutator = (rng, text) =>
  rng.chance(0.5)
    ? { text: text.replace(/\n/g, '\r\n'), description: 'turn every \\n into \\r\\n' }
    : { text: text.replace(/\n/g, '\r'), description: 'turn every \\n into \\r' };

const MUTATORS: [Mutator, number][] = [
  [deleteRange, 12],
  [duplicateLine, 6],
  [deleteLine, 6],
  [swapLines, 6],
  [insertToken, 20],
  [insertLongString, 2],
  [deepNesting, 2],
  [truncate, 5],
  [emptyFile, 1],
  [replaceStringLiteral, 12],
  [replaceNumber, 3],
  [replaceIdentifier, 8],
  [copyRange, 5],
  [replaceChar, 5],
  [wrapInFunction, 4],
  [duplicateFile, 1],
  [spliceFromCorpus, 6],
  [crlf, 1],
];
const TOTAL_WEIGHT = MUTATORS.reduce((n, [, w]) => n + w, 0);

/** Applies one to three random mutations to `text`. `corpus` holds other fixture files to splice lines from. */
export function mutate(rng: Prng, text: string, corpus: readonly string[]): Mutation {
  const steps = rng.chance(0.6) ? 1 : rng.int(2, 3);
  const done: string[] = [];
  for (let i = 0; i < steps; i++) {
    let pick = rng.next() * TOTAL_WEIGHT;
    let mutator = MUTATORS[0][0];
    for (const [m, w] of MUTATORS) {
      if (pick < w) {
        mutator = m;
        break;
      }
      pick -= w;
    }
    const result = mutator(rng, text, corpus);
    text = result.text;
    done.push(result.description);
  }
  return { text, description: done.join('; then ') };
}
