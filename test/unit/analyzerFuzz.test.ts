// Fuzz: 1,000 random mutations of the fixture apps' files (examples/sample-app and every TypeScript app under
// test/fixtures), each given to one long-lived AppAnalyzer per app through setOverlay, with clearOverlay now and
// then, as an editor does. Every call must return a model (an object with its arrays) whose diagnostics and
// declarations all have valid ranges in the text the analyzer was given, never throw, and take at most 2 s. The
// analyzer runs in a child process, so a hang is caught and stopped rather than blocking the test run. After every
// 250 mutations every overlay is cleared, and the model must then equal the cold analysis of the files on disk.
//
// Reproducible: FUZZ_SEED=<n> picks the seed (the default is fixed), FUZZ_COUNT=<n> the number of mutations, and
// FUZZ_ONLY=<i> replays mutation i alone on a fresh analyzer. A failure prints the seed and the command that replays
// it, and keeps the mutated file in test-results/fuzz/.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { AppModel, Range } from '../../src/model/appModel';
import { parseEncoreApp } from '../../src/model/encoreApp';
import { deriveSeed, Prng } from '../prng';
import type { FuzzReply, FuzzRequest } from './analyzerFuzzChild';
import { mutate } from './fuzzMutations';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x3e1c0de;
const COUNT = Number(process.env.FUZZ_COUNT ?? 1000);
const ONLY = process.env.FUZZ_ONLY === undefined ? null : Number(process.env.FUZZ_ONLY);
/** Longest a single analyzer call may take. */
const CALL_BUDGET_MS = 2000;
/** After this long without an answer the analyzer is taken to hang, and its process is killed. */
const HANG_MS = 15_000;
const CHECKPOINT_EVERY = 250;
const MAX_FAILURES = 20;

const repoRoot = path.join(__dirname, '..', '..');
const artifacts = path.join(repoRoot, 'test-results', 'fuzz');

interface FixtureApp {
  /** Where the app lives in the repository, relative to its root. */
  name: string;
  /** The scratch copy the analyzer reads. */
  root: string;
  /** The .ts files Encore's walk visits, absolute paths in the copy. */
  files: string[];
  originals: Map<string, string>;
}

test('the analyzer survives 1,000 random mutations of the fixture files', { timeout: 240_000 }, async () => {
  assert.ok(Number.isInteger(SEED) && Number.isInteger(COUNT), 'FUZZ_SEED and FUZZ_COUNT must be integers');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'encore-fuzz-'));
  const analyzer = new AnalyzerProcess();
  const failures: string[] = [];
  // Each problem is listed once: an overlay left open repeats its problem on every later call.
  const reported = new Set<string>();
  let repeats = 0;
  try {
    const apps = fixtureApps().map((source, i) => copyApp(source, path.join(scratch, String(i))));
    const targets = apps.flatMap((app) => app.files.map((file) => ({ app, file })));
    assert.ok(targets.length > 0, 'no fixture files to mutate');
    const corpus = targets.map(({ app, file }) => app.originals.get(file) ?? '');
    const overlays = new Map(apps.map((app) => [app, new Map<string, string>()]));
    const baselines = new Map<FixtureApp, AppModel>();

    const fail = (context: string, problems: string[], text?: { file: string; content: string }, detail = ''): void => {
      // Problems that differ only in numbers (indexes, positions, line counts) count as one.
      const key = (p: string): string => p.replace(/\d+/g, '#');
      const fresh = problems.filter((p) => !reported.has(key(p)));
      if (fresh.length === 0) {
        repeats++;
        return;
      }
      for (const p of fresh) reported.add(key(p));
      let kept = '';
      if (text) {
        mkdirSync(artifacts, { recursive: true });
        const keep = path.join(artifacts, `seed-${SEED}-${failures.length + 1}-${path.basename(text.file)}`);
        writeFileSync(keep, text.content);
        kept = `\n    mutated file kept in ${path.relative(repoRoot, keep)}`;
      }
      const [headline, ...more] = context.split('\n');
      failures.push(`${headline}:\n      ${fresh.slice(0, 8).join('\n      ')}${detail}${kept}${more.map((l) => `\n${l}`).join('')}`);
    };

    for (const app of apps) {
      const { reply } = await analyzer.call({ op: 'open', root: app.root });
      if (!reply.ok) throw new Error(`the analyzer fails on the unmodified fixture app ${app.name}:\n${reply.error}`);
      const problems = checkModel(reply.model, app, new Map());
      if (problems.length > 0) throw new Error(`the cold model of ${app.name} is invalid:\n  ${problems.join('\n  ')}`);
      baselines.set(app, reply.model);
    }

    const reopen = async (app: FixtureApp): Promise<void> => {
      overlays.get(app)?.clear();
      const { reply } = await analyzer.call({ op: 'open', root: app.root });
      if (!reply.ok) throw new Error(`the analyzer fails on ${app.name} again after a fresh start:\n${reply.error}`);
    };

    /** One analyzer call, checked. Returns the model, or null when the analyzer threw (the app was then reopened). */
    const checkedCall = async (request: DistributiveOmit<FuzzRequest, 'id'>, app: FixtureApp, context: string, mutated?: string): Promise<AppModel | null> => {
      const text = mutated !== undefined && request.op === 'set' ? { file: request.file, content: mutated } : undefined;
      let result;
      try {
        result = await analyzer.call(request);
      } catch (err) {
        fail(context, [err instanceof Error ? err.message : String(err)], text);
        throw new StopFuzzing();
      }
      const { reply, wallMs } = result;
      if (!reply.ok) {
        const [message, ...stack] = reply.error.split('\n');
        fail(context, [`${request.op === 'set' ? 'setOverlay' : 'clearOverlay'} threw ${message}${stack[0] ? ` ${stack[0].trim()}` : ''}`], text, `\n        ${stack.slice(1, 7).map((l) => l.trim()).join('\n        ')}`);
        await reopen(app);
        return null;
      }
      if (reply.ms > CALL_BUDGET_MS) fail(context, [`the call took ${Math.round(reply.ms)} ms (${Math.round(wallMs)} ms with the round trip), over the ${CALL_BUDGET_MS} ms budget`], text);
      const problems = checkModel(reply.model, app, overlays.get(app) ?? new Map());
      if (problems.length > 0) fail(context, problems, text);
      return reply.model;
    };

    const checkpoint = async (label: string): Promise<void> => {
      for (const app of apps) {
        const open = overlays.get(app) ?? new Map<string, string>();
        for (const file of [...open.keys()]) {
          open.delete(file);
          const model = await checkedCall({ op: 'clear', root: app.root, file }, app, `${label}, clearing ${app.name}/${path.relative(app.root, file)}`);
          if (!model) break;
        }
        // clearOverlay of a file without an overlay changes nothing and returns the current model.
        const model = await checkedCall({ op: 'clear', root: app.root, file: app.files[0] }, app, `${label}, reading the model of ${app.name}`);
        if (model && !isDeepStrictEqual(model, baselines.get(app))) {
          fail(label, [`with every overlay of ${app.name} cleared the model differs from its cold analysis: ${firstDifference(baselines.get(app), model)}`]);
          await reopen(app);
        }
      }
    };

    try {
      for (let i = 0; i < COUNT; i++) {
        if (ONLY !== null && i !== ONLY) continue;
        if (failures.length >= MAX_FAILURES) break;
        const rng = new Prng(deriveSeed(SEED, i));
        const { app, file } = rng.pick(targets);
        const open = overlays.get(app) ?? new Map<string, string>();
        const rel = `${app.name}/${path.relative(app.root, file)}`;
        // Now and then an editor closes a document: back to the text on disk.
        if (open.size > 0 && rng.chance(0.15)) {
          const closed = rng.pick([...open.keys()].sort());
          open.delete(closed);
          await checkedCall({ op: 'clear', root: app.root, file: closed }, app, `seed ${SEED}, mutation #${i}, clearOverlay of ${app.name}/${path.relative(app.root, closed)}`);
        }
        // Mostly a fresh mutation of the file; sometimes a further mutation of the text already open.
        const stacked = rng.chance(0.25) && open.has(file);
        const base = (stacked ? open.get(file) : app.originals.get(file)) ?? '';
        const mutation = mutate(rng, base, corpus);
        open.set(file, mutation.text);
        const context =
          `seed ${SEED}, mutation #${i} of ${rel} (${mutation.description}${stacked ? ', on the text of an earlier mutation' : ''})` +
          (open.size > 1 ? `, with ${open.size - 1} other overlays open` : '') +
          `\n    replay: FUZZ_SEED=${SEED} FUZZ_ONLY=${i} node --import tsx --test test/unit/analyzerFuzz.test.ts`;
        await checkedCall({ op: 'set', root: app.root, file, text: mutation.text }, app, context, mutation.text);
        if ((i + 1) % CHECKPOINT_EVERY === 0) await checkpoint(`seed ${SEED}, checkpoint after mutation #${i}`);
      }
      await checkpoint(`seed ${SEED}, final checkpoint`);
    } catch (err) {
      if (!(err instanceof StopFuzzing)) throw err;
    }
  } finally {
    analyzer.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    assert.fail(`${failures.length}${failures.length >= MAX_FAILURES ? '+' : ''} distinct failures (seed ${SEED}), repeated ${repeats} more times:\n\n${failures.join('\n\n')}`);
  }
});

class StopFuzzing extends Error {}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The analyzer in a child process: one request at a time, killed when it does not answer within HANG_MS. */
class AnalyzerProcess {
  private child: ChildProcess | null = null;
  private nextId = 0;

  private start(): ChildProcess {
    const child = fork(path.join(__dirname, 'analyzerFuzzChild.ts'), [], {
      cwd: repoRoot,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    return child;
  }

  call(request: DistributiveOmit<FuzzRequest, 'id'>): Promise<{ reply: FuzzReply; wallMs: number }> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (reply: FuzzReply): void => {
        if (reply.id !== id) return;
        done();
        resolve({ reply, wallMs: performance.now() - started });
      };
      const onExit = (code: number | null, signal: string | null): void => {
        done();
        this.child = null;
        reject(new Error(`the analyzer process died during ${request.op} (exit code ${code}, signal ${signal})`));
      };
      const timer = setTimeout(() => {
        done();
        child.kill('SIGKILL');
        this.child = null;
        reject(new Error(`the analyzer did not answer ${request.op} within ${HANG_MS} ms (a hang); its process was killed`));
      }, HANG_MS);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ ...request, id } as FuzzRequest);
    });
  }

  close(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}

/** examples/sample-app and every TypeScript app below test/fixtures. */
function fixtureApps(): string[] {
  const apps = [path.join(repoRoot, 'examples', 'sample-app')];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && !skippedDirectory(entry.name)) walk(full);
      else if (entry.isFile() && entry.name === 'encore.app') {
        const parsed = parseEncoreApp(readFileSync(full, 'utf8'));
        if (parsed.ok && parsed.app.lang === 'typescript') apps.push(dir);
      }
    }
  };
  const fixtures = path.join(repoRoot, 'test', 'fixtures');
  if (existsSync(fixtures)) walk(fixtures);
  return apps.sort();
}

function skippedDirectory(name: string): boolean {
  return name === 'node_modules' || name === 'encore.gen' || name === '__tests__' || name.startsWith('.');
}

function copyApp(source: string, root: string): FixtureApp {
  cpSync(source, root, { recursive: true });
  const files = encoreWalk(root);
  return {
    name: path.relative(repoRoot, source),
    root,
    files,
    originals: new Map(files.map((f) => [f, readFileSync(f, 'utf8')])),
  };
}

/** The .ts files Encore's parser visits (notes/encore-app-model.md, 0.2), leaving nested apps to themselves. */
function encoreWalk(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skippedDirectory(entry.name) && !existsSync(path.join(full, 'encore.app'))) walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.ts') && !/\.(test|spec)\.ts$/.test(entry.name)) {
        out.push(full);
      }
    }
  };
  walk(root);
  return out.sort();
}

const MODEL_ARRAYS = ['services', 'endpoints', 'databases', 'topics', 'subscriptions', 'cronJobs', 'caches', 'buckets', 'secrets', 'metrics', 'diagnostics'] as const;

/** What is wrong with a model the analyzer returned for `app` with `overlays` set; empty when it is valid. */
function checkModel(model: AppModel, app: FixtureApp, overlays: ReadonlyMap<string, string>): string[] {
  if (typeof model !== 'object' || model === null) return [`the model is ${model === null ? 'null' : typeof model}, not an object`];
  const problems: string[] = [];
  if (model.root !== app.root) problems.push(`model.root is ${JSON.stringify(model.root)}, not the app root`);
  for (const key of MODEL_ARRAYS) if (!Array.isArray(model[key])) problems.push(`model.${key} is not an array`);
  for (const key of ['gateway', 'authHandler'] as const) {
    if (model[key] !== null && typeof model[key] !== 'object') problems.push(`model.${key} is neither null nor an object`);
  }
  if (problems.length > 0) return problems;

  const texts = new Map<string, string | null>();
  const textOf = (file: string): string | null => {
    const overlay = overlays.get(file);
    if (overlay !== undefined) return overlay;
    if (!texts.has(file)) texts.set(file, isFile(file) ? readFileSync(file, 'utf8') : null);
    return texts.get(file) ?? null;
  };
  for (const d of model.diagnostics) {
    if (d.severity !== 'error' && d.severity !== 'warning') problems.push(`diagnostic ${JSON.stringify(d.message)} has severity ${JSON.stringify(d.severity)}`);
    if (typeof d.message !== 'string' || d.message.trim() === '') problems.push(`a diagnostic at ${d.file} has no message`);
  }
  // Every location in the model: diagnostics and declarations alike.
  visitLocations(model, 'model', (where, file, range) => {
    if (typeof file !== 'string' || !path.isAbsolute(file)) {
      problems.push(`${where}: file ${JSON.stringify(file)} is not an absolute path`);
      return;
    }
    if (file !== app.root && !file.startsWith(app.root + path.sep)) problems.push(`${where}: file ${file} is outside the app`);
    const problem = rangeProblem(range, textOf(file));
    if (problem) problems.push(`${where} (${path.relative(app.root, file)}): ${problem}`);
  });
  return problems;
}

function visitLocations(value: unknown, where: string, visit: (where: string, file: unknown, range: Range) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => visitLocations(v, `${where}[${i}]`, visit));
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if ('range' in record) {
      const label = typeof record.message === 'string' ? `${where} ${JSON.stringify(record.message)}` : where;
      visit(label, record.file, record.range as Range);
    }
    for (const [key, v] of Object.entries(record)) if (key !== 'range') visitLocations(v, `${where}.${key}`, visit);
  }
}

/** Why `range` is not a valid range in `text` (LSP lines: \n, \r\n or \r; characters in UTF-16 code units). */
function rangeProblem(range: Range, text: string | null): string | null {
  if (typeof range !== 'object' || range === null) return `range is ${JSON.stringify(range)}`;
  const { start, end } = range;
  for (const p of [start, end]) {
    if (typeof p !== 'object' || p === null || !Number.isInteger(p.line) || !Number.isInteger(p.character) || p.line < 0 || p.character < 0) {
      return `position ${JSON.stringify(p)} is not a pair of non-negative integers`;
    }
  }
  if (start.line > end.line || (start.line === end.line && start.character > end.character)) {
    return `start ${fmt(start)} is after end ${fmt(end)}`;
  }
  if (text === null) return null;
  const lines = text.split(/\r\n|\r|\n/);
  for (const p of [start, end]) {
    if (p.line > lines.length) return `position ${fmt(p)} is past the file's ${lines.length} lines`;
    if (p.line < lines.length && p.character > lines[p.line].length) {
      return `position ${fmt(p)} is past the end of line ${p.line + 1}, which has ${lines[p.line].length} characters`;
    }
  }
  return null;
}

const fmt = (p: { line: number; character: number }): string => `${p.line + 1}:${p.character + 1}`;

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A short description of where two models first differ. */
function firstDifference(a: unknown, b: unknown, where = 'model'): string {
  if (isDeepStrictEqual(a, b)) return 'no difference';
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return `${where} was ${JSON.stringify(a)?.slice(0, 300)}, is ${JSON.stringify(b)?.slice(0, 300)}`;
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const x = (a as Record<string, unknown>)[key];
    const y = (b as Record<string, unknown>)[key];
    if (!isDeepStrictEqual(x, y)) return firstDifference(x, y, `${where}.${key}`);
  }
  return `${where} differs`;
}
