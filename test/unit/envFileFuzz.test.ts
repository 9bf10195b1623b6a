// Fuzz: 1,000 random mutations of environments files (valid files of every provider and style: the demo file, a
// BOM and CRLF file kept by hand, sizing keyed by built-in property names), each written as an app's
// encore.environments.json and given to the store in a child process, as analyzerFuzz.test.ts does with the
// analyzer. Every read path (EnvStore.load, readEnvironments) must answer, never throw, take at most 2 s, leave the
// file byte for byte as it was, and report at most 100 problems, each at a valid line and column of the text. A
// save then adds an environment: on a broken file it must be refused with the file untouched; on a valid one it
// must land as an insertion that keeps every other byte, and read back with every environment.
//
// Reproducible: FUZZ_SEED=<n> picks the seed, FUZZ_COUNT=<n> the number of mutations, FUZZ_ONLY=<i> replays one.
// A failure prints the seed and the command that replays it, and keeps the mutated file in test-results/fuzz/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseTree, type Node } from 'jsonc-parser';
import { MAX_PROBLEMS, type FileProblem } from '../../src/environments/problems';
import { BUILTIN_PROPERTY_NAMES } from '../../src/model/reservedNames';
import { deriveSeed, Prng } from '../prng';
import type { EnvFuzzReply, EnvFuzzRequest } from './envFileFuzzChild';
import { eu, fileText, prod, staging } from './envStoreFixtures';
import { FuzzProcess } from './fuzzProcess';
import { mutate, type Mutation } from './fuzzMutations';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0xe5f11e;
const COUNT = Number(process.env.FUZZ_COUNT ?? 1000);
const ONLY = process.env.FUZZ_ONLY === undefined ? null : Number(process.env.FUZZ_ONLY);
const CALL_BUDGET_MS = 2000;
const HANG_MS = 15_000;
const MAX_FAILURES = 20;
const FILE = 'encore.environments.json';

const repoRoot = path.join(__dirname, '..', '..');
const artifacts = path.join(repoRoot, 'test-results', 'fuzz');
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function corpus(): string[] {
  const names = [...BUILTIN_PROPERTY_NAMES];
  const builtin = {
    environments: [
      { ...prod, sizing: { databases: Object.fromEntries(names.map((n) => [n, { cpu: 2, memoryGiB: 4, diskGiB: 20 }])), services: Object.fromEntries(names.map((n) => [n, { minInstances: 1, maxInstances: 2 }])) } },
    ],
  };
  return [
    fileText([staging, prod, eu]),
    readFileSync(path.join(repoRoot, 'examples', 'demo.environments.json'), 'utf8'),
    `\uFEFF${JSON.stringify({ $schema: './schemas/encore.environments.schema.json', environments: [eu, staging] }, null, '\t').replace(/\n/g, '\r\n')}\r\n`,
    `${JSON.stringify(builtin, null, 4)}\n`,
    '{"environments": []}\n',
  ];
}

// ---- JSON-aware mutations, on top of the text mutations the analyzer fuzz uses ----------------------------------

const VALUES = [
  'null', 'true', '0', '-1', '1e309', '2.5', '""', '"😀"', '[]', '{}', '"AKIAABCDEFGHIJKLMNOP"', '"-----BEGIN RSA PRIVATE KEY-----"',
  `"${'x'.repeat(400)}"`, '{"__proto__": {"cpu": 1}}', '{"constructor": {"minInstances": 1}}', `[${'null,'.repeat(300)}null]`,
  `${'['.repeat(70)}${']'.repeat(70)}`, `${'['.repeat(3_000)}${']'.repeat(3_000)}`, `${'{"a":'.repeat(2_500)}1${'}'.repeat(2_500)}`, `${'['.repeat(12_000)}${']'.repeat(12_000)}`, '{"kind": "kubernetes", "context": "c"}', '{"trigger": "push", "branch": "main"}',
];
const KEYS = [...BUILTIN_PROPERTY_NAMES, 'token', 'password', 'name', 'sizing', 'databases', '$schema', 'environments', 'x'.repeat(250), ''];

function valueNodes(root: Node): Node[] {
  const out: Node[] = [];
  const stack = [root];
  for (let n = stack.pop(); n; n = stack.pop()) {
    if (n.type !== 'property') out.push(n);
    for (const c of n.children ?? []) if (!(n.type === 'property' && c === n.children?.[0])) stack.push(c);
  }
  return out;
}

function jsonMutation(rng: Prng, text: string): Mutation | undefined {
  let root: Node | undefined;
  try {
    root = parseTree(text);
  } catch {
    return undefined; // too deep for the parser here: the text mutations cover it
  }
  if (!root) return undefined;
  const nodes = valueNodes(root);
  const node = rng.pick(nodes);
  const kind = rng.int(0, 3);
  if (kind === 0 || node.type !== 'object') {
    const value = rng.pick(VALUES);
    return { text: text.slice(0, node.offset) + value + text.slice(node.offset + node.length), description: `replace the ${node.type} at ${node.offset} with ${value.slice(0, 40)}` };
  }
  if (kind === 1) {
    const key = rng.pick(KEYS);
    const value = rng.pick(VALUES);
    const inner = node.children && node.children.length > 0 ? ',' : '';
    const insert = `${JSON.stringify(key)}: ${value}${inner}`;
    return { text: text.slice(0, node.offset + 1) + insert + text.slice(node.offset + 1), description: `insert the key ${JSON.stringify(key.slice(0, 40))} at ${node.offset + 1}` };
  }
  if (kind === 2 && node.parent?.type === 'array') {
    const copy = text.slice(node.offset, node.offset + node.length);
    return { text: text.slice(0, node.offset) + copy + ',' + text.slice(node.offset), description: `duplicate the object at ${node.offset}` };
  }
  const props = node.children ?? [];
  if (props.length === 0) return undefined;
  const prop = rng.pick(props);
  const end = prop.offset + prop.length;
  const comma = text[end] === ',' ? 1 : 0;
  return { text: text.slice(0, prop.offset) + text.slice(end + comma), description: `delete the property at ${prop.offset}` };
}

/**
 * The same document in another hand's style: indentation, line ends, a BOM, spaces around the punctuation, one
 * environment per line. It stays valid, so saves are tried on many styles.
 */
function restyle(rng: Prng, text: string): Mutation | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  const indent = rng.pick(['', ' ', '  ', '    ', '\t']);
  const eol = rng.pick(['\n', '\r\n']);
  let out = JSON.stringify(value, null, indent);
  if (rng.chance(0.3) && typeof value === 'object' && value !== null && Array.isArray((value as { environments?: unknown }).environments)) {
    const envs = (value as { environments: unknown[] }).environments;
    out = `{${eol}${indent}"environments": [${envs.map((e) => `${eol}${indent}${indent}${JSON.stringify(e)}`).join(',')}${envs.length ? `${eol}${indent}` : ''}]${eol}}`;
  }
  if (rng.chance(0.3)) out = out.replace(/": /g, '" :  ').replace(/,\n/g, ' ,\n');
  out = out.replace(/\n/g, eol) + (rng.chance(0.8) ? eol : '');
  const bom = rng.chance(0.2) ? '\uFEFF' : '';
  return { text: bom + out, description: `restyle (indent ${JSON.stringify(indent)}, eol ${JSON.stringify(eol)}${bom ? ', BOM' : ''})` };
}

function fuzzText(rng: Prng, base: string, all: readonly string[]): Mutation {
  // A third of the files stay valid in another style, so saves are tried on them.
  if (rng.chance(0.3)) {
    const restyled = restyle(rng, base);
    if (restyled) return restyled;
  }
  const steps: string[] = [];
  let text = base;
  for (let i = 0, n = rng.chance(0.6) ? 1 : rng.int(2, 3); i < n; i++) {
    const json = rng.chance(0.5) ? jsonMutation(rng, text) : undefined;
    const m = json ?? mutate(rng, text, all);
    text = m.text;
    steps.push(m.description);
  }
  return { text, description: steps.join('; then ') };
}

// ---- the checks -------------------------------------------------------------------------------------------------

function positionProblems(text: string, errors: readonly FileProblem[]): string[] {
  const body = text.replace(/^\uFEFF/, '');
  const problems: string[] = [];
  if (errors.length > MAX_PROBLEMS) problems.push(`${errors.length} problems reported, over the cap of ${MAX_PROBLEMS}`);
  for (const e of errors.slice(0, MAX_PROBLEMS + 1)) {
    if (typeof e.message !== 'string' || e.message.trim() === '') problems.push('a problem without a message');
    if (!(e.offset >= 0 && e.length >= 0 && e.offset + e.length <= body.length)) problems.push(`problem "${e.message.slice(0, 60)}" has offset ${e.offset}+${e.length} outside the ${body.length}-char text`);
    const before = body.slice(0, Math.max(0, e.offset));
    const line = before.split('\n').length;
    const column = e.offset - (before.lastIndexOf('\n') + 1) + 1;
    if (e.line !== line || e.column !== column) problems.push(`problem "${e.message.slice(0, 60)}" says line ${e.line} column ${e.column}, its offset is at line ${line} column ${column}`);
  }
  return problems;
}

/** Whether `after` is `before` with one piece inserted, every other byte kept. */
function isInsertion(before: string, after: string): boolean {
  if (after.length <= before.length) return false;
  let p = 0;
  while (p < before.length && before[p] === after[p]) p++;
  let s = 0;
  while (s < before.length - p && before[before.length - 1 - s] === after[after.length - 1 - s]) s++;
  return p + s >= before.length;
}

test('the environments store survives 1,000 random mutations of environments files, and reading never changes them', { timeout: 300_000 }, async () => {
  assert.ok(Number.isInteger(SEED) && Number.isInteger(COUNT), 'FUZZ_SEED and FUZZ_COUNT must be integers');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'encore-env-fuzz-'));
  const target = new FuzzProcess<DistributiveOmit<EnvFuzzRequest, 'id'>, EnvFuzzReply>(path.join(__dirname, 'envFileFuzzChild.ts'), HANG_MS);
  const failures: string[] = [];
  const reported = new Set<string>();
  let repeats = 0;
  let valid = 0;
  const all = corpus();
  try {
    for (let i = 0; i < COUNT; i++) {
      if (ONLY !== null && i !== ONLY) continue;
      if (failures.length >= MAX_FAILURES) break;
      const rng = new Prng(deriveSeed(SEED, i));
      const mutation = fuzzText(rng, rng.pick(all), all);
      const root = path.join(scratch, String(i));
      mkdirSync(root);
      const file = path.join(root, FILE);
      writeFileSync(file, mutation.text);
      const bytes = readFileSync(file);
      const context = `seed ${SEED}, mutation #${i} (${mutation.description.slice(0, 300)})\n    replay: FUZZ_SEED=${SEED} FUZZ_ONLY=${i} node --import tsx --test test/unit/envFileFuzz.test.ts`;
      const problems: string[] = [];
      try {
        const { reply: read } = await target.call({ op: 'read', root });
        if (read.op !== 'read') throw new Error('a reply to another request');
        if (read.thrown) problems.push(`a read path threw: ${read.thrown.split('\n').slice(0, 4).join(' ')}`);
        if (read.ms > CALL_BUDGET_MS) problems.push(`reading took ${Math.round(read.ms)} ms, over the ${CALL_BUDGET_MS} ms budget`);
        if (!readFileSync(file).equals(bytes)) problems.push('reading changed the file');
        problems.push(...positionProblems(mutation.text, read.errors));
        let parses = true;
        try {
          JSON.parse(mutation.text.replace(/^\uFEFF/, ''));
        } catch {
          parses = false;
        }
        if (read.ok && !parses) problems.push('the store accepted a file that is not JSON');
        if (read.ok) valid++;

        const { reply: save } = await target.call({ op: 'save', root, name: `fuzz-added-${i}` });
        if (save.op !== 'save') throw new Error('a reply to another request');
        if (save.thrown) problems.push(`a save threw something else than an EnvStoreError: ${save.thrown.split('\n').slice(0, 4).join(' ')}`);
        const now = readFileSync(file);
        if (!read.ok) {
          if (save.outcome !== 'refused:invalid-file') problems.push(`a save over an invalid file ended ${save.outcome}`);
          if (!now.equals(bytes)) problems.push('a refused save changed the file');
        } else if (save.outcome === 'saved') {
          if (save.environments?.length !== read.environments + 1) problems.push(`after the save the file has ${save.environments?.length} environments, not ${read.environments + 1}`);
          if (!isInsertion(bytes.toString('utf8'), now.toString('utf8'))) problems.push('the save rewrote more than the environment it added');
        } else if (!now.equals(bytes)) {
          problems.push(`a save that ended ${save.outcome} changed the file`);
        }
      } catch (err) {
        problems.push(err instanceof Error ? err.message : String(err));
      }
      const key = (p: string) => p.replace(/\d+/g, '#');
      const fresh = problems.filter((p) => !reported.has(key(p)));
      if (problems.length > 0 && fresh.length === 0) repeats++;
      if (fresh.length > 0) {
        for (const p of fresh) reported.add(key(p));
        mkdirSync(artifacts, { recursive: true });
        const keep = path.join(artifacts, `env-seed-${SEED}-${i}.json`);
        writeFileSync(keep, mutation.text);
        failures.push(`${context}:\n      ${fresh.join('\n      ')}\n    mutated file kept in ${path.relative(repoRoot, keep)}`);
      }
      rmSync(root, { recursive: true, force: true });
    }
  } finally {
    target.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  if (failures.length > 0) assert.fail(`${failures.length} distinct failures (seed ${SEED}), repeated ${repeats} more times:\n\n${failures.join('\n\n')}`);
  // The mutations must reach both kinds of file, or the save checks would test nothing.
  if (ONLY === null && COUNT >= 100) assert.ok(valid > COUNT / 20 && valid < COUNT - COUNT / 20, `${valid} of ${COUNT} mutated files were valid`);
});
