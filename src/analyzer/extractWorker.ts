// A worker thread of a parallel extraction (./parallelExtraction.ts): extracts the files it was given (workerData)
// and posts their results back in the same order. Bundled as an entry of its own (dist/cli/extractWorker.mjs).
import module from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { ExtractionJob, ExtractionResult } from './analysis';

module.enableCompileCache?.();

const { jobs, root } = workerData as { jobs: ExtractionJob[]; root: string };
// Loaded after the compile cache is on: TypeScript is most of what this thread compiles.
void import('./extract').then(({ extractFile }) => {
  const results = jobs.map(({ file, text }): ExtractionResult => {
    const probes: ExtractionResult['probes'] = [];
    return { facts: extractFile(file, text, root, probes), probes };
  });
  parentPort!.postMessage(results);
});
