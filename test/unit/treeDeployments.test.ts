// The Deployments node of the Environments view as data: one per environment whose provider can deploy (only when
// the view asks for it, so the tree stays as it was without a loader), and its entries from a deploy history: newest
// first, the one that runs now marked, Roll Back offered on earlier succeeded deploys only.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import { buildTree, deployNodes, deploymentsId, itemData, promoteTargets, type AppInput, type TreeNode } from '../../src/extension/tree/treeData';
import type { Environment } from '../../src/model/environment';
import { currentDeploy, type DeployRecord } from '../../src/provisioning/deploy/history';

const root = path.join(__dirname, '..', '..', 'examples', 'sample-app');
const model = new AppAnalyzer(root).analyze();
const graphFor = cachedGraphs(() => undefined);
const staging: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'kind-dev' } };
const prod: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1' } };
const app: AppInput = { root, description: 'sample-app', environments: { ok: true, file: path.join(root, 'encore.environments.json'), environments: [staging, prod] }, model: { kind: 'ready', model } };

const record = (id: string, result: DeployRecord['result'], extra: Partial<DeployRecord> = {}): DeployRecord => ({
  id, environment: 'staging', revision: { commit: 'a'.repeat(40), dirty: false, branch: 'main' },
  image: { repository: '127.0.0.1:5000/shop', digest: `sha256:${'b'.repeat(64)}` },
  infraConfigHash: `sha256:${'c'.repeat(64)}`, appModelHash: `sha256:${'d'.repeat(64)}`,
  by: 'alice', at: '2026-12-06T19:00:00.000Z', trigger: 'manual', result, ...extra,
});

test('a Deployments node under each Kubernetes and AWS environment, only when the view asks for one', () => {
  const without = buildTree([app], graphFor);
  assert.ok(![...without.nodes.values()].some((n) => n.kind === 'deployments'));
  const data = buildTree([app], graphFor, undefined, { deployments: true });
  const nodes = [...data.nodes.values()].filter((n) => n.kind === 'deployments');
  assert.deepEqual(nodes.map((n) => n.id), [deploymentsId(root, 'staging'), deploymentsId(root, 'prod')]);
  assert.equal(data.parent.get(nodes[0]!.id), `env:${root}:staging`);
  const item = itemData(nodes[0]!, true);
  assert.deepEqual([item.label, item.collapsible, item.icon, item.contextValue], ['Deployments', 'collapsed', 'history', 'encore.deployments']);
});

test('entries newest first, the current one marked; Roll Back only on earlier succeeded deploys', () => {
  const parent = buildTree([app], graphFor, undefined, { deployments: true }).nodes.get(deploymentsId(root, 'staging')) as Extract<TreeNode, { kind: 'deployments' }>;
  const records = [
    record('d-20261206-190000-0001', 'succeeded'),
    record('d-20261206-190500-0002', 'failed', { message: 'deployment "users" exceeded its progress deadline' }),
    record('d-20261206-191000-0003', 'succeeded', { trigger: 'rollback', restores: 'd-20261206-190000-0001', revision: { commit: 'e'.repeat(40), dirty: true } }),
  ];
  const nodes = deployNodes(parent, records, currentDeploy(records));
  assert.deepEqual(nodes.map((n) => n.id.split('/').at(-1)), ['d-20261206-191000-0003', 'd-20261206-190500-0002', 'd-20261206-190000-0001']);
  const items = nodes.map((n) => itemData(n, false));
  assert.deepEqual(items.map((i) => i.contextValue), ['encore.deploy.succeeded.current', 'encore.deploy.failed', 'encore.deploy.succeeded']);
  assert.deepEqual(items.map((i) => i.label), ['● eeeeeee-dirty', 'aaaaaaa', 'aaaaaaa']);
  assert.equal(items[0]!.description, '2026-12-06 19:00:00 · rollback · alice · succeeded');
  assert.match(items[0]!.tooltip!, /\(runs now\)/);
  assert.match(items[1]!.tooltip!, /exceeded its progress deadline/);
  assert.deepEqual(items.map((i) => i.icon), ['pass-filled', 'error', 'pass']);
});

test('Promote to… offers the other environments whose provider deploys', () => {
  const k = (name: string): Environment => ({ name, type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev' } });
  const aws: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1' } };
  const gcp: Environment = { name: 'eu', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1' } };
  assert.deepEqual(promoteTargets([k('staging'), k('qa'), aws, gcp], 'staging').map((e) => e.name), ['qa', 'prod', 'eu']);
  assert.deepEqual(promoteTargets([k('staging')], 'staging'), []);
});
