// The engine's own overhead: with 50 ms per driver call and no concurrency bound, running the sample app's graph
// takes at most 1.15× its critical path (the longest chain of create + waitReady calls). Printed for the report.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { dependencyOrder } from '../../src/model/desiredGraph';
import { plan } from '../../src/provisioning/planner';
import { scratch } from './engineGraphs';

const LATENCY = 50;

test('apply of the sample app adds at most 15% to the critical path of its graph', async (t) => {
  const model = new AppAnalyzer(path.join(__dirname, '..', '..', 'examples', 'sample-app')).analyze();
  const g = plan(model, { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev' } });
  const finish = new Map<string, number>();
  for (const r of dependencyOrder(g)) finish.set(r.id, Math.max(0, ...r.dependsOn.map((d) => finish.get(d) ?? 0)) + 2 * LATENCY);
  const critical = Math.max(...finish.values());

  const s = scratch();
  try {
    s.cloud.latencyMs = { create: LATENCY, waitReady: LATENCY, read: LATENCY };
    const started = Date.now();
    const { result } = await s.apply(g, { concurrency: g.resources.length });
    const wall = Date.now() - started;
    assert.equal(result.outcome, 'succeeded');
    const steps = s.cloud.calls.filter((c) => c.op !== 'read');
    const execution = Math.max(...steps.map((c) => c.end)) - Math.min(...steps.map((c) => c.start));
    t.diagnostic(`apply of ${g.resources.length} resources at ${LATENCY} ms per call: steps ${execution} ms, critical path ${critical} ms (${(execution / critical).toFixed(2)}×); with planning reads ${wall} ms`);
    assert.ok(execution <= 1.15 * critical, `steps took ${execution} ms for a critical path of ${critical} ms`);
  } finally {
    s.done();
  }
});
