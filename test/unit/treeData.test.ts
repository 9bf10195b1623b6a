// The Environments view as data: one node per environment with its settings then its resources (from the real
// planner on the sample app), problem nodes with an action, one group per app, and ids that stay the same across
// rebuilds so expansion survives a refresh.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import { buildTree, itemData, type AppInput, type TreeData, type TreeNode } from '../../src/extension/tree/treeData';
import type { Environment } from '../../src/model/environment';

const root = path.join(__dirname, '..', '..', 'examples', 'sample-app');
const model = new AppAnalyzer(root).analyze();
const graphFor = cachedGraphs(() => undefined);

const staging: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'kind-dev' } };
const prod: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' } };
const file = path.join(root, 'encore.environments.json');

const app = (over: Partial<AppInput> = {}): AppInput => ({
  root,
  description: 'sample-app',
  environments: { ok: true, file, environments: [staging, prod] },
  model: { kind: 'ready', model },
  ...over,
});

const children = (data: TreeData, id = '') => (data.children.get(id) ?? []).map((c) => data.nodes.get(c) as TreeNode);
const labels = (data: TreeData, id = '') => children(data, id).map((n) => itemData(n, (data.children.get(n.id)?.length ?? 0) > 0).label);

test('one app: its environments at the top, each with its settings, then its resources grouped by declaration', () => {
  const data = buildTree([app()], graphFor);
  assert.deepEqual(labels(data), ['staging', 'prod']);
  const [stagingNode, prodNode] = children(data);
  assert.deepEqual(labels(data, prodNode.id).slice(0, 7), ['Type', 'Deploy', 'Provider', 'Region', 'Profile', 'Sizing', 'Shared infrastructure']);
  const prodItem = itemData(prodNode, true);
  assert.equal(prodItem.description, 'Production · AWS eu-west-1 · manual deploy');
  assert.equal(prodItem.icon, 'env:aws-production');
  assert.equal(prodItem.contextValue, 'encore.environment.production');
  assert.equal(itemData(stagingNode, true).icon, 'env:kubernetes-development');

  const users = children(data, prodNode.id).find((n) => n.kind === 'group' && n.group.key === 'database:users');
  assert.ok(users);
  assert.equal(itemData(users, true).description, 'database · RDS PostgreSQL db.m5.large');
  const rds = children(data, users.id).find((n) => n.kind === 'resource' && n.resource.kind === 'databaseServer');
  assert.ok(rds);
  const item = itemData(rds, false);
  assert.equal(item.label, 'RDS PostgreSQL db.m5.large, 7-day backups');
  assert.equal(item.description, 'not provisioned');
  // Markdown, with the app's text escaped: it reads as the summary.
  assert.match(item.tooltip ?? '', /users DB → RDS PostgreSQL db\\\.m5\\\.large/);

  // Every planned resource is in the tree exactly once.
  const resources = [...data.nodes.values()].filter((n) => n.kind === 'resource' && n.id.startsWith(prodNode.id));
  assert.equal(resources.length, graphFor(model, prod).resources.length);
});

test('ids are stable across rebuilds, unique, and every node\'s parent lists it as a child', () => {
  const a = buildTree([app()], graphFor);
  const b = buildTree([app()], cachedGraphs(() => undefined));
  assert.deepEqual([...a.nodes.keys()], [...b.nodes.keys()]);
  for (const [id, parent] of a.parent) assert.ok(a.children.get(parent)?.includes(id), id);
  const all = [...a.children.values()].flat();
  assert.equal(new Set(all).size, all.length);
  assert.equal(all.length, a.nodes.size);
});

test('several apps: one group per app; an app without environments offers Create Environment for itself', () => {
  const other = '/work/other-app';
  const data = buildTree([app(), app({ root: other, description: 'other-app', environments: { ok: true, file: `${other}/${path.basename(file)}`, environments: [] } })], graphFor);
  assert.deepEqual(labels(data), ['sample-app', 'other-app']);
  const [first, second] = children(data);
  assert.deepEqual(labels(data, first.id), ['staging', 'prod']);
  const [notice] = children(data, second.id);
  const item = itemData(notice, false);
  assert.equal(item.label, 'No environments yet: Create Environment…');
  assert.deepEqual(item.action, { kind: 'command', command: 'encore.createEnvironment', title: 'Create Environment', args: [other] });
  // One app with no environments: nothing, so the view's welcome shows.
  assert.deepEqual(labels(buildTree([app({ environments: { ok: true, file, environments: [] } })], graphFor)), []);
});

test('a broken file is an error node that opens it at the error, with one child per problem', () => {
  const errors = [
    { message: 'must be "production" or "development"', path: '/environments/0/type', line: 4, column: 15, offset: 60, length: 10 },
    { message: 'missing "region"', path: '/environments/1/provider', line: 9, column: 19, offset: 140, length: 20 },
  ];
  const data = buildTree([app({ environments: { ok: false, file, errors } })], graphFor);
  const [node] = children(data);
  const item = itemData(node, true);
  assert.equal(item.label, 'Cannot read encore.environments.json');
  assert.equal(item.description, 'line 4, column 15: environments[0].type: must be "production" or "development"');
  assert.deepEqual(item.action, { kind: 'openFile', file, line: 4, column: 15 });
  assert.equal(item.icon, 'severity:error');
  assert.match(item.tooltip ?? '', /line 9, column 19: environments\[1\]\.provider: missing "region"[\s\S]*left as it is/);
  assert.deepEqual(children(data, node.id).map((n) => itemData(n, false).action), [
    { kind: 'openFile', file, line: 4, column: 15 },
    { kind: 'openFile', file, line: 9, column: 19 },
  ]);
});

test('no model yet, a Go app, a failed analysis or a stopped server: the settings, then a node that says why', () => {
  const cases: [AppInput['model'], RegExp, string | undefined][] = [
    [{ kind: 'pending' }, /analysing the app/, undefined],
    [{ kind: 'go', message: 'Go apps are not analysed yet' }, /Go app/, 'vscode.open'],
    [{ kind: 'failed', message: 'analysis failed: boom' }, /Cannot analyse the app/, 'encore.showServerLogs'],
    [{ kind: 'unavailable', message: 'The server stopped.' }, /Resources unknown/, 'encore.restartServer'],
  ];
  for (const [state, label, command] of cases) {
    const data = buildTree([app({ model: state, environments: { ok: true, file, environments: [staging] } })], graphFor);
    const [env] = children(data);
    const kids = children(data, env.id);
    assert.deepEqual(kids.slice(0, 3).map((n) => n.kind), ['setting', 'setting', 'setting']);
    const last = itemData(kids[kids.length - 1], false);
    assert.match(last.label, label);
    const action = last.action;
    assert.equal(action?.kind === 'command' ? action.command : undefined, command);
    assert.equal(itemData(env, true).tooltip?.includes('resources unknown'), true);
  }
});

test('an app with build errors still shows its resources, under a warning', () => {
  const broken = { ...model, diagnostics: [{ ...model.databases[0].declaration, severity: 'error' as const, message: 'x' }] };
  const data = buildTree([app({ model: { kind: 'ready', model: broken }, environments: { ok: true, file, environments: [staging] } })], graphFor);
  const [env] = children(data);
  const warning = children(data, env.id).find((n) => n.kind === 'problem');
  assert.ok(warning);
  assert.equal(itemData(warning, false).label, 'The app has 1 build error');
  assert.ok(children(data, env.id).some((n) => n.kind === 'group'));
});

test('an unreadable encore.app is an error node that opens it', () => {
  const data = buildTree([app({ appError: 'encore.app: expected a JSON object' })], graphFor);
  const [node] = children(data);
  assert.deepEqual(itemData(node, false).action, { kind: 'openFile', file: path.join(root, 'encore.app') });
});

test('the resource that holds an app secret\'s typed value is marked for Set Secret Value, and only it', () => {
  const data = buildTree([app()], graphFor);
  for (const env of children(data)) {
    const marked = [...data.nodes.values()]
      .filter((n) => n.kind === 'resource' && n.id.startsWith(`${env.id}/`) && itemData(n, false).contextValue.endsWith('.appSecret'))
      .map((n) => (n.kind === 'resource' ? `${n.resource.source?.name} ${n.resource.providerType}` : ''));
    // Development on Kubernetes: the Kubernetes Secret; Production on AWS: Secrets Manager (the cluster copies it).
    const where = env.kind === 'environment' && env.env.provider.kind === 'aws' ? 'AWS::SecretsManager::Secret' : 'k8s/v1/Secret';
    assert.deepEqual(marked.sort(), [`EmailApiKey ${where}`, `SessionSigningKey ${where}`]);
  }
});

test('app and environment text in tooltips is escaped: links, images and HTML from the app show as text', () => {
  const hostile = '![x](https://example.invalid/t.png) [click](https://example.invalid) <img src=x> **b** `c`';
  const env = { name: 'prod', type: 'production', deploy: { trigger: 'push', branch: hostile }, provider: { kind: 'kubernetes', context: hostile } } as const;
  const node = { kind: 'environment', id: 'e', root: '/app', env, resourceCount: 1, statusSummary: 'ready' } as unknown as Parameters<typeof itemData>[0];
  const tooltip = itemData(node, true).tooltip ?? '';
  const unescaped = [/(?<!\\)!(?=\\?\[)/, /(?<!\\)\[click/, /(?<!\\)<img/, /(?<!\\)\*\*b/, /(?<!\\)`c/];
  for (const raw of unescaped) assert.ok(!raw.test(tooltip), `${raw} matches in ${tooltip}`);
  assert.match(tooltip, /\\!\\\[x\\\]\\\(https\\:\/\/example\\\.invalid/);
  const resource = {
    kind: 'resource', id: 'r', root: '/app', envName: 'prod', status: 'failed', error: hostile,
    resource: { id: 'k8s:x', kind: 'secret', providerType: 'k8s/v1/Secret', name: 'a`b', source: null, settings: {}, dependsOn: [], stateful: false, summary: hostile },
  } as unknown as Parameters<typeof itemData>[0];
  const text = itemData(resource, false).tooltip ?? '';
  for (const raw of unescaped.slice(0, 3)) assert.ok(!raw.test(text), `${raw} matches in ${text}`);
  assert.ok(text.includes('``a`b``'), 'a name is a code span whose fence outlasts its backticks');
});
