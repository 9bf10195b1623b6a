// The process that runs the analyzer for the fuzz test (analyzerFuzz.test.ts), so that a hang can be stopped by
// killing it. It keeps one AppAnalyzer per app root and answers each request with the model and the call's time,
// or with the error the call threw.
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { AppModel } from '../../src/model/appModel';

export type FuzzRequest =
  | { id: number; op: 'open'; root: string }
  | { id: number; op: 'set'; root: string; file: string; text: string }
  | { id: number; op: 'clear'; root: string; file: string };

export type FuzzReply =
  | { id: number; ok: true; ms: number; model: AppModel }
  | { id: number; ok: false; ms: number; error: string };

const analyzers = new Map<string, AppAnalyzer>();

function handle(request: FuzzRequest): AppModel {
  if (request.op === 'open') {
    // A fresh analyzer: the first open of an app, or a new start after a call threw.
    const analyzer = new AppAnalyzer(request.root);
    analyzers.set(request.root, analyzer);
    return analyzer.analyze();
  }
  const analyzer = analyzers.get(request.root);
  if (!analyzer) throw new Error(`no analyzer opened for ${request.root}`);
  return request.op === 'set' ? analyzer.setOverlay(request.file, request.text) : analyzer.clearOverlay(request.file);
}

process.on('message', (request: FuzzRequest) => {
  const start = performance.now();
  let reply: FuzzReply;
  try {
    const model = handle(request);
    reply = { id: request.id, ok: true, ms: performance.now() - start, model };
  } catch (err) {
    reply = { id: request.id, ok: false, ms: performance.now() - start, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  process.send?.(reply);
});
