// Child process of the analyzer benchmark (test/bench/analyzer.bench.ts), so that each measurement starts with
// nothing loaded and nothing cached. Prints one JSON line on stdout.
//
//   node --import tsx test/bench/analyzer-cold.ts cold <appRoot>
//     loads the analyzer, runs new AppAnalyzer(root).analyze() once, and reports the load and analysis times, the
//     process's RSS right after, and what the model holds.
//   node --import tsx test/bench/analyzer-cold.ts edit <appRoot> <rounds> <file>...
//     analyses the app cold, then for each file alternates setOverlay(file, edited) and setOverlay(file, original)
//     `rounds` times on one AppAnalyzer, checks that every model reflects the text it was given, and reports each
//     call's time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppModel } from '../../src/model/appModel';
import type { SyntheticAppShape } from './synthetic-app';

/** The counts the generated app declares (its shape), plus what the model adds. */
export interface ModelCounts extends Omit<SyntheticAppShape, 'authService'> {
  gateway: boolean;
  authHandler: boolean;
  diagnostics: number;
  /** The first error diagnostics, as "file:line:col message", for a loud failure. */
  errors: string[];
  errorCount: number;
}

export interface ColdResult {
  loadMs: number;
  analyzeMs: number;
  rssMb: number;
  heapUsedMb: number;
  model: ModelCounts;
}

export interface EditResult {
  /** Per edited file (relative to the app root), the time of each setOverlay call in ms. */
  timesMs: Record<string, number[]>;
  rssMb: number;
}

export function countModel(model: AppModel): ModelCounts {
  const errors = model.diagnostics.filter((d) => d.severity === 'error');
  return {
    services: model.services.map((s) => s.name),
    endpoints: model.endpoints.length,
    databases: model.databases.length,
    topics: model.topics.length,
    subscriptions: model.subscriptions.length,
    cronJobs: model.cronJobs.length,
    caches: model.caches.length,
    keyspaces: model.caches.reduce((n, c) => n + c.keyspaces.length, 0),
    buckets: model.buckets.length,
    secrets: model.secrets.length,
    metrics: model.metrics.length,
    gateway: model.gateway !== null,
    authHandler: model.authHandler !== null,
    diagnostics: model.diagnostics.length,
    errors: errors
      .slice(0, 10)
      .map((d) => `${path.relative(model.root, d.file)}:${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`),
    errorCount: errors.length,
  };
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

function cold(root: string): ColdResult {
  const loadStart = performance.now();
  // Loaded here, not at the top, so its load time (ts-morph included) is measured apart from the analysis.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { AppAnalyzer } = require('../../src/analyzer/analyzer') as typeof import('../../src/analyzer/analyzer');
  const start = performance.now();
  const model = new AppAnalyzer(root).analyze();
  const end = performance.now();
  const memory = process.memoryUsage();
  return {
    loadMs: start - loadStart,
    analyzeMs: end - start,
    rssMb: mb(memory.rss),
    heapUsedMb: mb(memory.heapUsed),
    model: countModel(model),
  };
}

/**
 * A small edit and a check that the model saw it. Endpoint files: the path of the first endpoint with a literal path
 * gets one more letter. Other files: a comment line is inserted above the first declaration, which moves every
 * declaration of the file one line down.
 */
interface Edit {
  edited: string;
  check(model: AppModel, edited: boolean): string | null;
}

function planEdit(file: string, original: string): Edit {
  const pathMatch = /path: "(\/[^"]*)"/.exec(original);
  if (path.basename(file) === 'api.ts' && pathMatch) {
    const before = pathMatch[1];
    const after = before.replace(/^\/([^/]+)/, '/$1x');
    const edited = original.replace(`path: "${before}"`, `path: "${after}"`);
    return {
      edited,
      check(model, isEdited) {
        const want = isEdited ? after : before;
        const found = model.endpoints.some((e) => e.declaration.file === file && e.path === want);
        return found ? null : `no endpoint of ${file} has the path ${want} after the edit`;
      },
    };
  }
  const firstDecl = original.indexOf('export const');
  if (firstDecl < 0) throw new Error(`${file} has no "export const" to edit above`);
  const edited = `${original.slice(0, firstDecl)}// edited by the benchmark\n${original.slice(firstDecl)}`;
  const line = original.slice(0, firstDecl).split('\n').length - 1;
  return {
    edited,
    check(model, isEdited) {
      const want = isEdited ? line + 1 : line;
      const decls = [...model.databases.map((d) => d.declaration), ...model.topics.map((t) => t.declaration), ...model.caches.map((c) => c.declaration), ...model.buckets.map((b) => b.declaration)];
      const found = decls.some((d) => d.file === file && d.range.start.line === want);
      return found ? null : `no declaration of ${file} starts on line ${want + 1} after the edit`;
    },
  };
}

function edit(root: string, rounds: number, files: string[]): EditResult {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { AppAnalyzer } = require('../../src/analyzer/analyzer') as typeof import('../../src/analyzer/analyzer');
  const analyzer = new AppAnalyzer(root);
  analyzer.analyze();
  const timesMs: Record<string, number[]> = {};
  for (const rel of files) {
    const file = path.join(root, rel);
    const original = readFileSync(file, 'utf8');
    const plan = planEdit(file, original);
    const times: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const isEdited = round % 2 === 0;
      const start = performance.now();
      const model = analyzer.setOverlay(file, isEdited ? plan.edited : original);
      times.push(performance.now() - start);
      const problem = plan.check(model, isEdited);
      if (problem) throw new Error(`round ${round}: ${problem}`);
    }
    analyzer.clearOverlay(file);
    timesMs[rel] = times;
  }
  return { timesMs, rssMb: mb(process.memoryUsage().rss) };
}

if (require.main === module) {
  const [mode, root, ...rest] = process.argv.slice(2);
  if (mode === 'cold' && root && rest.length === 0) {
    console.log(JSON.stringify(cold(root)));
  } else if (mode === 'edit' && root && rest.length >= 2 && Number.isInteger(Number(rest[0]))) {
    console.log(JSON.stringify(edit(root, Number(rest[0]), rest.slice(1))));
  } else {
    console.error('usage: analyzer-cold.ts cold <appRoot> | edit <appRoot> <rounds> <file>...');
    process.exit(2);
  }
}
