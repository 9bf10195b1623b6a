// The dependency scheduler on its own: order, the concurrency bound, failure propagation, stopping, cycles.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDag, type DagNode } from '../../src/provisioning/engine';

const node = (id: string, ...deps: string[]): DagNode => ({ id, deps });
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a node starts only after all its dependencies are done, and never more than the bound run at once', async () => {
  const nodes = [node('root'), ...Array.from({ length: 10 }, (_, i) => node(`leaf${i}`, 'root')), node('last', ...Array.from({ length: 10 }, (_, i) => `leaf${i}`))];
  const finished = new Set<string>();
  let running = 0;
  let max = 0;
  const result = await runDag(nodes, {
    concurrency: 3,
    mayStart: () => true,
    run: async (n) => {
      for (const d of n.deps) assert.ok(finished.has(d), `${n.id} started before ${d} finished`);
      max = Math.max(max, ++running);
      await tick(5);
      running--;
      finished.add(n.id);
      return 'done';
    },
    skipped: () => assert.fail('nothing is skipped'),
  });
  assert.equal(max, 3);
  assert.equal(result.maxConcurrent, 3);
  assert.equal(result.done.length, 12);
  assert.equal(result.done.at(-1), 'last');
});

test('a failure skips its dependents and theirs, while independent nodes still run', async () => {
  const skipped: [string, string][] = [];
  const result = await runDag([node('a'), node('b', 'a'), node('c', 'b'), node('x'), node('y', 'x')], {
    concurrency: 4,
    mayStart: () => true,
    run: async (n) => {
      if (n.id === 'a') throw new Error('boom');
      return 'done';
    },
    skipped: (n, why) => skipped.push([n.id, why]),
  });
  assert.deepEqual(result.failed, ['a']);
  assert.deepEqual(result.done.sort(), ['x', 'y']);
  assert.deepEqual(skipped, [['b', 'a failed'], ['c', 'b did not run']]);
});

test('once mayStart says no, running nodes finish and nothing else starts', async () => {
  let stop = false;
  const started: string[] = [];
  const result = await runDag([node('a'), node('b'), node('c', 'a'), node('d', 'b')], {
    concurrency: 2,
    mayStart: () => !stop,
    run: async (n) => {
      started.push(n.id);
      await tick(1);
      stop = true; // the user cancels while a and b are in flight
      await tick(5);
      return 'done';
    },
    skipped: () => undefined,
  });
  assert.deepEqual(started.sort(), ['a', 'b']);
  assert.deepEqual(result.done.sort(), ['a', 'b']);
  assert.deepEqual(result.skipped.sort(), ['c', 'd']);
});

test('nodes caught in a cycle are skipped with the reason instead of hanging', async () => {
  const why = new Map<string, string>();
  const result = await runDag([node('a', 'b'), node('b', 'a'), node('c')], {
    concurrency: 2,
    mayStart: () => true,
    run: async () => 'done',
    skipped: (n, w) => why.set(n.id, w),
  });
  assert.deepEqual(result.done, ['c']);
  assert.equal(why.get('a'), 'dependency cycle');
});

test('dependencies outside the run count as satisfied', async () => {
  const result = await runDag([node('a', 'elsewhere')], { concurrency: 1, mayStart: () => true, run: async () => 'done', skipped: () => undefined });
  assert.deepEqual(result.done, ['a']);
});

test('when slots are short, the start of the longest chain goes first, then the order given', async () => {
  const started: string[] = [];
  const nodes = [node('leaf1'), node('leaf2'), node('cluster'), node('pool', 'cluster'), node('app', 'pool'), node('db')];
  const result = await runDag(nodes, {
    concurrency: 1,
    mayStart: () => true,
    run: async (n) => {
      started.push(n.id);
      return 'done';
    },
    skipped: () => assert.fail('nothing is skipped'),
  });
  assert.equal(result.done.length, 6);
  assert.equal(started[0], 'cluster');
  assert.deepEqual(started.filter((id) => id.startsWith('leaf') || id === 'db'), ['leaf1', 'leaf2', 'db']);
});
