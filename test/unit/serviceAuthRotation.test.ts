// Service-auth key rotation as the planner and the session see it (the keys themselves are only ever in the
// cluster: test/integration/serviceAuthRotation.test.ts applies it). With two key ids the Secret has both keys, the
// infra config lists both, every workload gets both and the CronJobs sign with the newest; the ids come from the
// recorded Secret's key names, and a start or finish that does not fit the recorded ids is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject } from '../../src/model/desiredGraph';
import { emptyState, type EnvState } from '../../src/model/state';
import { desiredGraph } from '../../src/provisioning/planner';
import { serviceAuthKey, serviceAuthKeyIds } from '../../src/provisioning/planner/constants';
import { isSessionError } from '../../src/session/errors';
import type { Plan, PlanEntry } from '../../src/model/plan';
import { changesBeyond, rotatedKeyIds, rotationResourceIds, serviceAuthKeyIdsOf, serviceAuthRotationInProgress } from '../../src/session/serviceAuth';
import { byId, COMBOS, env, ofKind, sample } from './plannerHelpers';

const SECRET = 'k8s:secret:encore-service-auth';
const authOf = (g: ReturnType<typeof desiredGraph>) => (byId(g, 'k8s:configmap:encore-infra-config').settings.document as JsonObject).auth;

test('key 1 keeps its first names (no change for environments applied before rotation); key N is key-N', () => {
  assert.deepEqual(serviceAuthKey(1), { key: 'key', envVar: 'ENCORE_SERVICE_AUTH_KEY' });
  assert.deepEqual(serviceAuthKey(2), { key: 'key-2', envVar: 'ENCORE_SERVICE_AUTH_KEY_2' });
  assert.deepEqual(serviceAuthKeyIds(['key-3', 'key', 'key-0', 'key-01', 'other', 'key-x']), [1, 3]);
  const plain = desiredGraph(sample, env('kubernetes', 'development'));
  assert.deepEqual(desiredGraph(sample, env('kubernetes', 'development'), { serviceAuthKeyIds: [1] }), plain);
});

for (const [kind, type] of COMBOS) {
  test(`during a rotation on ${kind} ${type}: both keys in the Secret, the infra config and every workload; the CronJobs sign with the newest`, () => {
    const g = desiredGraph(sample, env(kind, type), { serviceAuthKeyIds: [2, 1] });
    const secret = byId(g, SECRET);
    assert.deepEqual(secret.settings.keys, { key: { generate: 'password', length: 64 }, 'key-2': { generate: 'password', length: 64 } });
    assert.match(secret.summary, /keys 1 and 2: a rotation is in progress/);
    assert.deepEqual(authOf(g), [
      { type: 'key', id: 1, key: { $env: 'ENCORE_SERVICE_AUTH_KEY' } },
      { type: 'key', id: 2, key: { $env: 'ENCORE_SERVICE_AUTH_KEY_2' } },
    ]);
    const deployments = ofKind(g, 'deployment');
    assert.ok(deployments.length >= 2);
    for (const d of deployments) {
      const refs = (d.settings.env as JsonObject[]).filter((e) => (e.secretKeyRef as JsonObject | undefined)?.name === 'encore-service-auth');
      assert.deepEqual(refs.map((e) => [e.name, (e.secretKeyRef as JsonObject).key]), [['ENCORE_SERVICE_AUTH_KEY', 'key'], ['ENCORE_SERVICE_AUTH_KEY_2', 'key-2']], d.id);
    }
    const crons = ofKind(g, 'cronJob');
    assert.ok(crons.length > 0);
    for (const c of crons) {
      const sign = (c.settings.request as JsonObject).signWith as JsonObject;
      assert.deepEqual([sign.key, sign.keyId], ['key-2', 2], c.id);
    }
  });
}

test('after a rotation: the new key alone, under its own names', () => {
  const g = desiredGraph(sample, env('kubernetes', 'production'), { serviceAuthKeyIds: [2] });
  assert.deepEqual(Object.keys(byId(g, SECRET).settings.keys as JsonObject), ['key-2']);
  assert.deepEqual(authOf(g), [{ type: 'key', id: 2, key: { $env: 'ENCORE_SERVICE_AUTH_KEY_2' } }]);
  for (const d of ofKind(g, 'deployment')) {
    const names = (d.settings.env as JsonObject[]).map((e) => e.name);
    assert.ok(names.includes('ENCORE_SERVICE_AUTH_KEY_2') && !names.includes('ENCORE_SERVICE_AUTH_KEY'), d.id);
  }
  assert.equal(((byId(g, 'k8s:cronjob:daily-digest').settings.request as JsonObject).signWith as JsonObject).keyId, 2);
});

test('the planner refuses key ids that are not one or two integers from 1 to 2^32-1', () => {
  for (const ids of [[], [1, 2, 3], [0], [1.5], [2 ** 32]]) {
    assert.throws(() => desiredGraph(sample, env('kubernetes', 'development'), { serviceAuthKeyIds: ids }), /the service-auth key ids must be one or two integers/, JSON.stringify(ids));
  }
});

function stateWithKeys(keys: string[] | null): EnvState {
  const g = desiredGraph(sample, env('kubernetes', 'development'));
  const resource = structuredClone(byId(g, SECRET));
  if (keys) resource.settings.keys = Object.fromEntries(keys.map((k) => [k, { generate: 'password', length: 64 }]));
  const state = emptyState('dev', 'kubernetes');
  if (keys) state.resources[SECRET] = { resource, status: 'ready', lastAction: 'create', outputs: {}, secretOutputs: [], updatedAt: 't', error: null };
  return state;
}

test('the key ids come from the recorded Secret\'s key names; two of them mean a rotation is in progress', () => {
  assert.equal(serviceAuthKeyIdsOf(null), undefined);
  assert.equal(serviceAuthKeyIdsOf(stateWithKeys(null)), undefined);
  assert.deepEqual(serviceAuthKeyIdsOf(stateWithKeys(['key'])), [1]);
  assert.deepEqual(serviceAuthKeyIdsOf(stateWithKeys(['key-2', 'key'])), [1, 2]);
  assert.deepEqual(serviceAuthKeyIdsOf(stateWithKeys(['key-7'])), [7]);
  assert.equal(serviceAuthRotationInProgress(stateWithKeys(['key'])), false);
  assert.equal(serviceAuthRotationInProgress(stateWithKeys(['key', 'key-2'])), true);
  assert.equal(serviceAuthRotationInProgress(null), false);
});

test('start adds the next id, finish keeps the newest; a start during a rotation or a finish without one is refused', () => {
  assert.deepEqual(rotatedKeyIds([1], 'start', 'staging'), [1, 2]);
  assert.deepEqual(rotatedKeyIds([7], 'start', 'staging'), [7, 8]);
  assert.deepEqual(rotatedKeyIds([1, 2], 'finish', 'staging'), [2]);
  const refused = (ids: number[], step: 'start' | 'finish', message: RegExp) =>
    assert.throws(() => rotatedKeyIds(ids, step, 'staging'), (err: unknown) => isSessionError(err) && err.code === 'conflict' && message.test(err.message));
  refused([1, 2], 'start', /already in progress in "staging" \(keys 1 and 2\): finish it first/);
  refused([2], 'finish', /no service-auth key rotation is in progress in "staging" \(it has key 2 only\)/);
});

test('what a rotation may change: the Secret, the infra config, the workloads and the CronJobs; anything else in its run is refused', () => {
  const e = env('kubernetes', 'development');
  const before = desiredGraph(sample, e, { serviceAuthKeyIds: [1] });
  const during = desiredGraph(sample, e, { serviceAuthKeyIds: [1, 2] });
  const ids = rotationResourceIds(before, during);
  assert.ok(ids.has(SECRET) && ids.has('k8s:configmap:encore-infra-config') && ids.has('k8s:cronjob:daily-digest'));
  const deployments = ofKind(during, 'deployment').map((d) => d.id);
  for (const d of deployments) assert.ok(ids.has(d), d);
  // Nothing that does not carry the key: no database, no Service, no namespace.
  for (const r of during.resources) {
    if (!['secret', 'infraConfig', 'deployment', 'cronJob'].includes(r.kind)) assert.ok(!ids.has(r.id), r.id);
  }
  // Finishing: the same, but the CronJobs, which already sign with the new key.
  assert.deepEqual([...rotationResourceIds(during, desiredGraph(sample, e, { serviceAuthKeyIds: [2] }))].sort(), [...ids].filter((id) => !id.startsWith('k8s:cronjob:')).sort());
  const entry = (id: string, action: PlanEntry['action']) => ({ id, action } as PlanEntry);
  const plan = (entries: PlanEntry[]) => ({ entries } as Plan);
  assert.deepEqual(changesBeyond(plan([entry(SECRET, 'update'), entry(deployments[0]!, 'update'), entry('k8s:namespace', 'keep')]), ids), []);
  const database = during.resources.find((r) => r.kind === 'database' || r.kind === 'statefulSet')!;
  assert.ok(database, 'the sample app has a database');
  assert.deepEqual(changesBeyond(plan([entry(SECRET, 'update'), entry(database.id, 'update')]), ids), [`  update ${database.id}`]);
});
