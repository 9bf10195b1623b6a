// Extraction of many files spread over the machine's cores: per-file parsing is independent, so a cold analysis
// gives shares of its files to worker threads (./extractWorker.ts) and extracts one share on this thread; linking
// stays on this thread. A worker that cannot start or fails leaves its share to this thread: only speed is lost.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExtractBatch, ExtractionJob, ExtractionResult } from './analysis';

/** Files per thread below which another thread costs more (starting it, loading TypeScript) than it saves. */
const MIN_FILES_PER_THREAD = 150;

/** The worker's script beside the bundle that holds this module (an entry point or one of its chunks); null unbundled. */
export function bundledWorkerScript(dir: string = __dirname): string | null {
  for (const candidate of [path.join(dir, 'extractWorker.mjs'), path.join(dir, '..', 'extractWorker.mjs')]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** An ExtractBatch that uses up to `threads` threads (this one included) when `workerScript` is given. */
export function parallelExtraction(workerScript: string | null, threads = extractionThreads()): ExtractBatch {
  return async (jobs, root) => {
    const count = workerScript === null ? 1 : Math.max(1, Math.min(threads, Math.floor(jobs.length / MIN_FILES_PER_THREAD)));
    const [own, ...others] = shares(jobs, count);
    // Workers start first, so that they load TypeScript while this thread does too.
    const fromWorkers = others.map((share) => inWorker(workerScript!, share, root).catch(() => null));
    const results = await inThisThread(own, root);
    for (const [i, pending] of fromWorkers.entries()) results.push(...((await pending) ?? (await inThisThread(others[i], root))));
    return results;
  };
}

/**
 * Threads for a cold extraction: the idle cores but one, which V8's own threads of this one need (its garbage
 * collector's and its optimising compiler's: `tsc` uses 9.2 s of CPU in 6.0 s here). On two idle cores a worker made a
 * cold analysis of the generated 100-service app slower, 1,554 → 1,807 ms (median of 9, issue 13): so one thread there.
 */
export function extractionThreads(idle = idleCores()): number {
  return Math.max(1, idle - 1);
}

/**
 * The cores no other thread keeps busy, at least one: by the threads runnable right now where the system says
 * (othersRunnable), else by the load average (none on Windows: all cores). A worker pays for its own start,
 * TypeScript's load and its own JIT warm-up: on a machine already busy it only slows the run down, as measured here.
 * The load average trails by a minute: a build that just ended, or the runs of a benchmark one after the other, would
 * keep every run on one thread.
 */
export function idleCores(cores = os.availableParallelism(), busy = othersRunnable() ?? os.loadavg()[0]): number {
  return Math.max(1, Math.min(cores, Math.floor(cores + 0.5 - busy)));
}

/** Linux's count of threads runnable now (the 4th field of /proc/loadavg), less this one; null where there is none. */
export function othersRunnable(loadavg: () => string = () => readFileSync('/proc/loadavg', 'latin1')): number | null {
  let text: string;
  try {
    text = loadavg();
  } catch {
    return null;
  }
  const running = /^\S+ \S+ \S+ (\d+)\/\d+ /.exec(text);
  return running ? Math.max(0, Number(running[1]) - 1) : null;
}

/** `count` runs of consecutive jobs, about even in text length; their concatenation is `jobs`. */
function shares(jobs: ExtractionJob[], count: number): ExtractionJob[][] {
  const total = jobs.reduce((sum, j) => sum + j.text.length, 0);
  const out: ExtractionJob[][] = [[]];
  let sum = 0;
  for (const job of jobs) {
    if (out.length < count && sum >= (total * out.length) / count && out[out.length - 1].length > 0) out.push([]);
    out[out.length - 1].push(job);
    sum += job.text.length;
  }
  return out;
}

async function inThisThread(jobs: ExtractionJob[], root: string): Promise<ExtractionResult[]> {
  if (jobs.length === 0) return [];
  const { extractFile } = await import('./extract');
  return jobs.map(({ file, text }) => {
    const probes: ExtractionResult['probes'] = [];
    return { facts: extractFile(file, text, root, probes), probes };
  });
}

async function inWorker(script: string, jobs: ExtractionJob[], root: string): Promise<ExtractionResult[]> {
  // Loaded here: a run with nothing to extract does not even load the module.
  const { Worker } = await import('node:worker_threads');
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData: { jobs, root } });
    worker.once('message', (results: ExtractionResult[]) => {
      if (Array.isArray(results) && results.length === jobs.length) resolve(results);
      else reject(new Error('a worker gave a wrong number of results'));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`an extraction worker exited with ${code}`)));
  });
}
