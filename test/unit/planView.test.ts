// The plan document: a diff grouped by action, changed fields old → new as a red and a green line, data-holding
// deletions in a section of their own in red at the top, unchanged resources only counted, and the empty cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planText } from '../../src/extension/provision/planText';
import type { Plan, PlanEntry } from '../../src/model/plan';

const entry = (over: Partial<PlanEntry>): PlanEntry => ({
  id: 'x', kind: 'service', providerType: 'k8s:Deployment', name: 'x', summary: 'Deployment x', action: 'keep', reason: 'unchanged',
  changes: [], drifted: false, drift: [], stateful: false, adopt: false, foreign: false, leave: false, replace: false, dependsOn: [], ...over,
} as PlanEntry);

const plan = (entries: PlanEntry[], over: Partial<Plan> = {}): Plan => {
  const counts = { create: 0, update: 0, delete: 0, keep: 0 };
  for (const e of entries) counts[e.action]++;
  return {
    environment: 'staging', provider: 'kubernetes', operation: 'apply', offline: false, stateVersion: null, entries, counts,
    statefulDeletes: entries.filter((e) => e.stateful && (e.action === 'delete' || e.replace)).map((e) => e.id), foreignAdoptions: [], notes: [], ...over,
  };
};

test('creates, updates with old → new, deletes and drift each have a section; unchanged ones are counted', () => {
  const text = planText(plan([
    entry({ id: 'svc-api', action: 'create', summary: 'Deployment api', reason: 'new in the app' }),
    entry({ id: 'svc-web', action: 'update', reason: 'replicas changed', changes: [{ path: 'replicas', before: 1, after: 3 }, { path: 'password', sensitive: true }], drifted: true, drift: [{ path: 'image', before: 'a', after: 'b' }] }),
    entry({ id: 'old-cron', action: 'delete', reason: 'no longer used by the app' }),
    entry({ id: 'ns', action: 'keep' }),
  ]), 'kind-dev');
  assert.match(text, /^# Plan for environment "staging" \(kind-dev\)\n# 1 to create, 1 to update, 1 to delete, 1 unchanged\n/);
  assert.match(text, /@@ Create: 1 @@\n\+ svc-api {2}Deployment api\n {4}new in the app/);
  assert.match(text, /@@ Update: 1 @@\n! svc-web {2}Deployment x {2}\[drifted\]\n {4}replicas changed\n- {3}replicas: 1\n\+ {3}replicas: 3\n {4}password: \(sensitive value changes\)/);
  assert.match(text, /@@ Delete: 1 @@\n- old-cron/);
  assert.match(text, /@@ Drifted \(changed outside the tool; recorded → live\): 1 @@\n! svc-web {2}Deployment x\n- {3}image: "a"\n\+ {3}image: "b"/);
  assert.match(text, /@@ Unchanged: 1 @@\n {2}ns\n$/);
  assert.doesNotMatch(text, /Holds data/);
});

test('deletions that lose data come first, in red, with the name to confirm', () => {
  const text = planText(plan([
    entry({ id: 'db', action: 'delete', stateful: true, summary: 'StatefulSet postgres:16', reason: 'no longer used by the app' }),
    entry({ id: 'cache', action: 'update', stateful: true, replace: true, summary: 'Redis', reason: 'name changed' }),
  ]), 'kind-dev');
  const [head] = text.split('@@ Update');
  assert.match(head ?? '', /@@ Holds data and would be deleted: the data is lost \(confirm with the name "staging"\) @@\n- db {2}StatefulSet postgres:16\n- cache {2}Redis {2}\[replaced\]\n/);
});

test('offline and empty plans say so', () => {
  assert.match(planText(plan([], { offline: true }), 'offline'), /offline: planned against recorded state, drift not checked[\s\S]*# No changes: the environment matches the app\.\n$/);
  assert.match(planText(plan([], { operation: 'destroy' }), 'x'), /^# Destroy plan[\s\S]*nothing to destroy\.\n$/);
});

test('long values are cut, values known after apply are marked', () => {
  const text = planText(plan([entry({ action: 'update', changes: [{ path: 'env', before: 'a'.repeat(300), after: '${db.host}', knownAfterApply: true }] })]), 'x');
  assert.match(text, /- {3}env: "a{156}\.\.\.\n\+ {3}env: "\$\{db\.host\}" \(known after apply\)/);
});

test('an AWS plan shows who acts first, then the estimated cost per resource and in total, unknown prices said', () => {
  const cost = {
    currency: 'USD' as const, monthlyUsd: 1234.5, complete: false, pricesTakenAt: '2026-11-02', source: 'the AWS price list API',
    lines: [
      { id: 'aws:eks', summary: 'EKS cluster', monthlyUsd: 73, basis: 'EKS control plane' },
      { id: 'aws:rds:orders', summary: 'RDS orders', monthlyUsd: null, basis: 'unknown price for db.x9.huge' },
    ],
  };
  const text = planText(plan([entry({ id: 'aws:eks', action: 'create' })], { provider: 'aws', cost }), 'AWS account 123456789012 in eu-west-1', 'arn:aws:iam::123456789012:user/alice (AWS account 123456789012 in eu-west-1)');
  const lines = text.split('\n');
  assert.equal(lines[0], '# Acting as arn:aws:iam::123456789012:user/alice (AWS account 123456789012 in eu-west-1)');
  assert.match(text, /^# Estimated cost: about \$1,234\.50 a month plus 1 resource whose price is unknown$/m);
  assert.match(text, /^# {3}\(an estimate: on-demand prices of 2026-11-02, the AWS price list API; usage not included\)$/m);
  assert.match(text, /^# {3} {4}\$73\.00 {2}aws:eks: EKS control plane$/m);
  assert.match(text, /^# {3} {3}unknown {2}aws:rds:orders: unknown price for db\.x9\.huge$/m);
  // A destroy plan has no cost to show.
  assert.doesNotMatch(planText(plan([], { operation: 'destroy', cost }), 'x'), /Estimated cost/);
});

test('a destroy plan says which databases keep a final snapshot, and how to decline it', () => {
  const text = planText(plan([entry({ id: 'aws:rds:orders', action: 'delete', stateful: true, summary: 'RDS orders' })], { environment: 'prod', operation: 'destroy', finalSnapshots: ['aws:rds:orders'] }), 'x');
  assert.match(text, /^# A final snapshot of aws:rds:orders is kept when deleted, unless the confirmation is "prod without snapshot"\.$/m);
});
