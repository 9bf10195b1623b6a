// Live statuses from recorded state and a plan's drift: what the tree and the lenses show after a plan and after
// every state commit, and the summaries on the environment node and the lens.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { LiveStatuses } from '../../src/extension/provision/liveStatus';
import { lensStatuses } from '../../src/extension/tree/lensStatus';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import { buildTree, itemData, summarize, type TreeNode } from '../../src/extension/tree/treeData';
import type { Environment } from '../../src/model/environment';
import type { Plan, PlanEntry } from '../../src/model/plan';
import { emptyState, type EnvState, type ResourceState } from '../../src/model/state';

const root = path.join(__dirname, '..', '..', 'examples', 'sample-app');
const model = new AppAnalyzer(root).analyze();
const graphFor = cachedGraphs(() => undefined);
const env: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev' } };
const graph = graphFor(model, env);

const record = (id: string, status: ResourceState['status'], updatedAt = 't1', error: string | null = null): ResourceState => {
  const resource = graph.resources.find((r) => r.id === id);
  assert.ok(resource, id);
  return { resource, status, lastAction: 'create', outputs: {}, secretOutputs: [], updatedAt, error };
};

const stateWith = (records: ResourceState[]): EnvState => ({ ...emptyState('staging', 'kubernetes'), resources: Object.fromEntries(records.map((r) => [r.resource.id, r])) });

const driftPlan = (ids: string[]): Plan => ({
  environment: 'staging', provider: 'kubernetes', operation: 'apply', offline: false, stateVersion: null, counts: { create: 0, update: 0, delete: 0, keep: 0 }, statefulDeletes: [], foreignAdoptions: [], notes: [],
  entries: ids.map((id) => ({ id, drifted: true } as PlanEntry)),
});

const [a, b, c] = graph.resources.map((r) => r.id);

test('nothing recorded: not provisioned; recorded: ready, pending, failed with the error', () => {
  assert.ok(a && b && c);
  const live = new LiveStatuses();
  assert.deepEqual(live.statusOf(root, 'staging', a), { status: 'not provisioned' });
  assert.equal(live.update(root, 'staging', null), false, 'nothing recorded before or after: no change to show');
  assert.equal(live.update(root, 'staging', stateWith([record(a, 'ready'), record(b, 'pending'), record(c, 'failed', 't1', 'PVC pending: no default StorageClass')])), true);
  assert.equal(live.update(root, 'staging', stateWith([record(a, 'ready', 't9'), record(b, 'pending'), record(c, 'failed', 't1', 'PVC pending: no default StorageClass')])), false, 'the same statuses');
  assert.deepEqual(live.statusOf(root, 'staging', a), { status: 'ready' });
  assert.deepEqual(live.statusOf(root, 'staging', b), { status: 'pending' });
  assert.deepEqual(live.statusOf(root, 'staging', c), { status: 'failed', error: 'PVC pending: no default StorageClass' });
  assert.deepEqual(live.statusOf(root, 'prod', a), { status: 'not provisioned' }, 'per environment');
});

test("a plan's drift shows on ready resources until an apply records them again", () => {
  assert.ok(a && b);
  const live = new LiveStatuses();
  live.update(root, 'staging', stateWith([record(a, 'ready'), record(b, 'ready')]), driftPlan([a, b]));
  assert.equal(live.statusOf(root, 'staging', a).status, 'drifted');
  // A state commit during apply: a re-recorded, b untouched.
  live.update(root, 'staging', stateWith([record(a, 'ready', 't2'), record(b, 'ready')]));
  assert.equal(live.statusOf(root, 'staging', a).status, 'ready');
  assert.equal(live.statusOf(root, 'staging', b).status, 'drifted');
  live.update(root, 'staging', null);
  assert.equal(live.statusOf(root, 'staging', b).status, 'not provisioned', 'after destroy');
});

test('the tree shows each resource status, coloured icons, and the environment a summary; lenses follow', () => {
  assert.ok(a && b);
  const live = new LiveStatuses();
  live.update(root, 'staging', stateWith([record(a, 'ready'), record(b, 'failed', 't1', 'ImagePullBackOff')]));
  const data = buildTree([{ root, description: 'sample-app', environments: { ok: true, file: 'f', environments: [env] }, model: { kind: 'ready', model } }], graphFor, (r, e, id) => live.statusOf(r, e, id));
  const resources = [...data.nodes.values()].filter((n): n is Extract<TreeNode, { kind: 'resource' }> => n.kind === 'resource');
  const na = resources.find((n) => n.resource.id === a);
  const nb = resources.find((n) => n.resource.id === b);
  assert.ok(na && nb);
  assert.equal(itemData(na, false).description, 'ready');
  assert.equal(itemData(na, false).icon, 'pass');
  assert.equal(itemData(nb, false).icon, 'error');
  assert.match(itemData(nb, false).tooltip ?? '', /status: failed \(ImagePullBackOff\)/);
  const envNode = [...data.nodes.values()].find((n) => n.kind === 'environment');
  assert.ok(envNode);
  assert.match(itemData(envNode, true).tooltip ?? '', new RegExp(`${graph.resources.length} resources, 1 ready, 1 failed, ${graph.resources.length - 2} not provisioned`));

  const db = model.databases[0];
  assert.ok(db);
  const dbIds = graph.resources.filter((r) => r.source?.kind === 'database' && r.source.name === db.name).map((r) => r.id);
  live.update(root, 'staging', stateWith(dbIds.map((id) => record(id, 'ready'))));
  const [lens] = lensStatuses(model, [env], { kind: 'database', name: db.name, file: '', line: 0 }, graphFor, (r, e, id) => live.statusOf(r, e, id));
  assert.match(lens?.title ?? '', / · ready$/);
  assert.match(lens?.tooltip ?? '', new RegExp(`\\(${dbIds.length} resources\\), ${dbIds.length} ready\\.`));
});

test('summaries: most settled first, "not provisioned" alone when nothing is recorded', () => {
  assert.equal(summarize([]), 'not provisioned');
  assert.equal(summarize(['not provisioned', 'not provisioned']), 'not provisioned');
  assert.equal(summarize(['failed', 'ready', 'not provisioned', 'ready', 'drifted']), '2 ready, 1 failed, 1 drifted, 1 not provisioned');
});

test("after a deploy a service's lens says the revision its Deployment runs, from the recorded state's outputs", () => {
  const deployment = graph.resources.find((r) => r.id === 'k8s:deployment:orders');
  assert.ok(deployment);
  const live = new LiveStatuses();
  const deployed = (revision: unknown): ResourceState => ({ ...record(deployment.id, 'ready'), outputs: { deployId: 'd-20261206-220000-abcd', deployRevision: revision } as ResourceState['outputs'] });
  assert.equal(live.update(root, 'staging', stateWith([record(deployment.id, 'ready')])), true);
  assert.deepEqual(live.statusOf(root, 'staging', deployment.id), { status: 'ready' }, 'no deploy yet: no revision');
  assert.equal(live.update(root, 'staging', stateWith([deployed('0123456789abcdef0123456789abcdef01234567-dirty')])), true, 'a new revision is a change to show');
  assert.deepEqual(live.statusOf(root, 'staging', deployment.id), { status: 'ready', revision: '0123456-dirty' });
  const service = { kind: 'service' as const, name: 'orders', file: '', line: 0 };
  const [lens] = lensStatuses(model, [env], service, graphFor, (r, e, id) => live.statusOf(r, e, id));
  assert.equal(lens!.title, 'staging: Deployment · ready · runs 0123456-dirty');
  assert.match(lens!.tooltip, /runs revision 0123456-dirty \(its last deploy\)/);
  // Anything but a commit (a damaged state file) is not shown.
  live.update(root, 'staging', stateWith([deployed('$(rm -rf)')]));
  assert.deepEqual(live.statusOf(root, 'staging', deployment.id), { status: 'ready' });
});
