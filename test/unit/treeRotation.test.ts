// The environment node while a service-auth key rotation is in progress: its context value says so (from the
// recorded state, through LiveStatuses), so the context menu offers Finish Key Rotation then and Rotate
// Service-to-Service Key… otherwise, by package.json's when-clauses, which are evaluated here on the values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { LiveStatuses } from '../../src/extension/provision/liveStatus';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import { buildTree, environmentId, itemData, type AppInput } from '../../src/extension/tree/treeData';
import type { Environment } from '../../src/model/environment';
import { emptyState, type EnvState } from '../../src/model/state';

const repo = path.join(__dirname, '..', '..');
const root = path.join(repo, 'examples', 'sample-app');
const model = new AppAnalyzer(root).analyze();
const graphFor = cachedGraphs(() => undefined);
const staging: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev' } };
const prod: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1' } };
const app: AppInput = { root, description: 'sample-app', environments: { ok: true, file: path.join(root, 'encore.environments.json'), environments: [staging, prod] }, model: { kind: 'ready', model } };
const SECRET = 'k8s:secret:encore-service-auth';

/** The recorded state of an applied environment whose service-auth Secret holds these keys. */
function recorded(env: Environment, keys: string[]): EnvState {
  const state = emptyState(env.name, env.provider.kind);
  for (const r of graphFor(model, env).resources) {
    const resource = structuredClone(r);
    if (r.id === SECRET) resource.settings.keys = Object.fromEntries(keys.map((k) => [k, { generate: 'password', length: 64 }]));
    state.resources[r.id] = { resource, status: 'ready', lastAction: 'create', outputs: {}, secretOutputs: [], updatedAt: 't1', error: null };
  }
  return state;
}

function contextValues(live: LiveStatuses): Record<string, string> {
  const data = buildTree([app], graphFor, (r, e, id) => live.statusOf(r, e, id), { rotating: (r, e) => live.rotating(r, e) });
  return Object.fromEntries([staging, prod].map((e) => [e.name, itemData(data.nodes.get(environmentId(root, e.name))!, true).contextValue]));
}

/** The `viewItem =~ /…/` of a context-menu entry of the Environments view, as a RegExp. */
function viewItemPattern(command: string): RegExp {
  const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const items = (manifest.contributes.menus['view/item/context'] as { command: string; when: string }[]).filter((m) => m.command === command);
  assert.equal(items.length, 1, command);
  const source = /viewItem =~ \/(.+?)\/ /.exec(items[0]!.when)?.[1];
  assert.ok(source, items[0]!.when);
  assert.match(items[0]!.when, /isWorkspaceTrusted/);
  return new RegExp(source);
}

test('the environment node says a rotation is in progress only when its recorded Secret has two keys', () => {
  const live = new LiveStatuses();
  assert.deepEqual(contextValues(live), { staging: 'encore.environment.development', prod: 'encore.environment.production' });
  assert.equal(live.update(root, 'staging', recorded(staging, ['key'])), true);
  assert.deepEqual(contextValues(live), { staging: 'encore.environment.development', prod: 'encore.environment.production' });
  // Started: both keys recorded. The statuses did not change, the rotation did: the view must rebuild.
  assert.equal(live.update(root, 'staging', recorded(staging, ['key', 'key-2'])), true);
  assert.equal(live.rotating(root, 'staging'), true);
  assert.equal(live.rotating(root, 'prod'), false);
  assert.deepEqual(contextValues(live), { staging: 'encore.environment.development.rotating', prod: 'encore.environment.production' });
  const node = buildTree([app], graphFor, undefined, { rotating: () => true }).nodes.get(environmentId(root, 'staging'))!;
  assert.match(itemData(node, true).tooltip!, /key rotation is in progress/);
  // Finished: the new key alone.
  assert.equal(live.update(root, 'staging', recorded(staging, ['key-2'])), true);
  assert.deepEqual(contextValues(live), { staging: 'encore.environment.development', prod: 'encore.environment.production' });
});

test('the context menu: Rotate on an environment with no rotation in progress, Finish only during one; the other commands stay', () => {
  const rotate = viewItemPattern('encore.environment.rotateServiceAuth');
  const finish = viewItemPattern('encore.environment.finishServiceAuthRotation');
  for (const idle of ['encore.environment.development', 'encore.environment.production']) {
    assert.ok(rotate.test(idle) && !finish.test(idle), idle);
  }
  for (const during of ['encore.environment.development.rotating', 'encore.environment.production.rotating']) {
    assert.ok(!rotate.test(during) && finish.test(during), during);
    // Plan, Apply, Deploy… match every environment node, rotating or not.
    assert.ok(/^encore\.environment\b/.test(during));
  }
  for (const other of ['encore.deployments', 'encore.resource.stateful', 'encore.app', 'encore.setting']) {
    assert.ok(!rotate.test(other) && !finish.test(other), other);
  }
});
