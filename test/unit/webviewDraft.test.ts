// The form's host-side logic: draft ↔ environment, validation as the user types (the store's own rules), the sizing
// questions and the live preview, on the sample app's real model and the real planner.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { draftFromEnvironment, environmentFromDraft, evaluateDraft, newDraft, toFieldProblem } from '../../src/extension/form/draft';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import type { ModelState } from '../../src/extension/tree/treeData';
import type { Environment } from '../../src/model/environment';
import type { FormDraft, FormOptions } from '../../src/model/messages';

const model = new AppAnalyzer(path.join(__dirname, '..', '..', 'examples', 'sample-app')).analyze();
const ready: ModelState = { kind: 'ready', model };
const graphFor = cachedGraphs(() => undefined);

const noOptions: FormOptions = {
  awsProfiles: [], awsRegions: [], gcpProjects: [], gcpRegions: [], kubeContexts: [], eksClusters: [], gkeClusters: [], branches: [],
  notes: { aws: [], gcp: [], kubernetes: [], git: [] },
  suggested: { awsRegion: '', gcpRegion: '' },
  productImages: [],
};

const evaluate = (draft: FormDraft, otherNames: string[] = [], original?: Environment, state: ModelState = ready) =>
  evaluateDraft({ draft, otherNames, model: state, graphFor, ...(original && { original }) });
const fields = (draft: FormDraft, otherNames: string[] = []) => Object.fromEntries(evaluate(draft, otherNames).problems.map((p) => [p.field, p.message]));

const staging: Environment = {
  name: 'staging',
  type: 'development',
  deploy: { trigger: 'push', branch: 'main' },
  provider: { kind: 'kubernetes', context: 'kind-dev', namespace: 'shop-staging' },
};
const prod: Environment = {
  name: 'prod',
  type: 'production',
  deploy: { trigger: 'manual' },
  provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' },
  sizing: { databases: { users: { cpu: 4, memoryGiB: 16, diskGiB: 50 } } },
};
const gcp: Environment = { name: 'eu', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1' } };

test('a new draft starts on what the machine is set up for: the current context, branch, profile and region', () => {
  const options: FormOptions = {
    ...noOptions,
    awsProfiles: [{ value: 'shop' }],
    kubeContexts: [{ value: 'kind-dev' }, { value: 'prod' }],
    branches: [{ value: 'develop', description: 'current' }, { value: 'main' }],
    suggested: { awsRegion: 'eu-west-1', gcpRegion: 'europe-west1' },
  };
  const d = newDraft(options);
  assert.deepEqual([d.provider, d.kubeContext, d.branch, d.awsProfile, d.awsRegion, d.gcpRegion], ['kubernetes', 'kind-dev', 'develop', 'shop', 'eu-west-1', 'europe-west1']);
  assert.equal(newDraft({ ...options, kubeContexts: [] }).provider, 'aws');
  const bare = newDraft(noOptions);
  assert.deepEqual([bare.provider, bare.branch, bare.name, bare.type, bare.trigger], ['aws', 'main', '', 'development', 'push']);
});

test('Edit: an environment becomes a draft and back unchanged, for every provider', () => {
  for (const env of [staging, prod, gcp]) {
    const d = draftFromEnvironment(env);
    // With no questions (no model), the stored sizing is kept as it is.
    assert.deepEqual(environmentFromDraft(d, [], env), env, env.name);
    assert.deepEqual(evaluate(d, ['other'], env).problems, [], env.name);
  }
});

test('Edit keeps the provider settings the form has no field for (registry, base image, Autopilot), unless the provider changes', () => {
  const kube: Environment = { ...staging, provider: { kind: 'kubernetes', context: 'kind-dev', registry: 'ghcr.io/acme/shop', baseImage: 'node:22-slim' } };
  const autopilot: Environment = { ...gcp, provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1', autopilot: true } };
  for (const env of [kube, autopilot]) assert.deepEqual(environmentFromDraft(draftFromEnvironment(env), [], env), env, env.name);
  // An edited context keeps the registry; a switch to AWS takes none of the Kubernetes settings along.
  const moved = environmentFromDraft({ ...draftFromEnvironment(kube), kubeContext: 'prod' }, [], kube);
  assert.deepEqual(moved.provider, { kind: 'kubernetes', context: 'prod', registry: 'ghcr.io/acme/shop', baseImage: 'node:22-slim' });
  const switched = environmentFromDraft({ ...draftFromEnvironment(kube), provider: 'aws', awsRegion: 'eu-west-1' }, [], kube);
  assert.deepEqual(switched.provider, { kind: 'aws', region: 'eu-west-1' });
});

test('the name is checked as typed: a DNS label, unique, and a plain message when empty', () => {
  const d = { ...draftFromEnvironment(staging) };
  assert.match(fields({ ...d, name: 'Staging_1' }).name, /^Must be a DNS label/);
  assert.match(fields({ ...d, name: 'staging-' }).name, /^Must be a DNS label/);
  assert.match(fields({ ...d, name: 'a'.repeat(64) }).name, /at most 63 characters/);
  assert.equal(fields({ ...d, name: 'staging' }, ['staging']).name, 'An environment named "staging" already exists');
  assert.equal(fields({ ...d, name: '   ' }).name, 'Enter a name for the environment.');
  assert.equal(fields({ ...d, name: 'staging-2' }).name, undefined);
});

test('each provider\'s settings are checked in place, and only the chosen provider\'s', () => {
  const d = draftFromEnvironment(staging);
  const aws = { ...d, provider: 'aws' as const };
  assert.equal(fields(aws).awsRegion, 'Choose the AWS region.');
  assert.match(fields({ ...aws, awsRegion: 'Ireland' }).awsRegion, /^Must be an AWS region such as eu-west-1/);
  assert.deepEqual(fields({ ...aws, awsRegion: 'eu-west-1' }), {});
  const g = { ...d, provider: 'gcp' as const, gcpRegion: 'europe-west1' };
  assert.equal(fields(g).gcpProject, 'Choose or type the GCP project id.');
  assert.match(fields({ ...g, gcpProject: 'x' }).gcpProject, /GCP project id/);
  assert.match(fields({ ...d, kubeNamespace: '-bad' }).kubeNamespace, /Kubernetes namespace/);
  assert.equal(fields({ ...d, kubeContext: '' }).kubeContext, 'Choose the kubeconfig context.');
  assert.equal(fields({ ...d, branch: '' }).branch, 'Choose the branch whose pushes deploy.');
  // A manual deploy has no branch to check.
  assert.deepEqual(fields({ ...d, trigger: 'manual', branch: '' }), {});
  // Optional settings left empty are left out of the file.
  assert.deepEqual(environmentFromDraft({ ...aws, awsRegion: 'eu-west-1', awsProfile: ' ' }, []).provider, { kind: 'aws', region: 'eu-west-1' });
  assert.deepEqual(environmentFromDraft({ ...d, kubeNamespace: '' }, []).provider, { kind: 'kubernetes', context: 'kind-dev' });
});

test('the image mirror field writes images.mirror beside the per-image replacements, and is checked in place', () => {
  const replace = { 'postgres:16': 'reg.example.com/pg:16' };
  const original: Environment = { ...staging, images: { mirror: 'old.example.com/m', replace } };
  const d = draftFromEnvironment(original);
  assert.equal(d.imageMirror, 'old.example.com/m');
  assert.deepEqual(environmentFromDraft({ ...d, imageMirror: ' 127.0.0.1:15000/mirror ' }, [], original).images, { mirror: '127.0.0.1:15000/mirror', replace });
  assert.deepEqual(environmentFromDraft({ ...d, imageMirror: '' }, [], original).images, { replace });
  assert.equal(environmentFromDraft({ ...draftFromEnvironment(staging), imageMirror: '' }, [], staging).images, undefined);
  assert.match(fields({ ...draftFromEnvironment(staging), imageMirror: 'mycorp' }).imageMirror, /^Is not a registry mirror: it must start with a registry host/);
  assert.deepEqual(fields({ ...draftFromEnvironment(staging), imageMirror: 'registry.example.com/mirror' }), {});
});

test('the per-image replacements: the file\'s as rows and back, edited, removed, and each row checked beside its inputs', () => {
  const replace = { 'postgres:16': 'reg.example.com/pg:16', 'nsqio/nsq:v1.3.0': 'reg.example.com/nsq:1.3' };
  const original: Environment = { ...staging, images: { mirror: '127.0.0.1:15000/mirror', replace } };
  const d = draftFromEnvironment(original);
  assert.deepEqual(d.imageReplacements, [{ from: 'postgres:16', to: 'reg.example.com/pg:16' }, { from: 'nsqio/nsq:v1.3.0', to: 'reg.example.com/nsq:1.3' }]);
  assert.deepEqual(environmentFromDraft(d, [], original).images, original.images);
  assert.deepEqual(fields(d), {});
  // Trimmed; a removed row is gone from the file; no rows and no mirror: no images at all.
  const edited = { ...d, imageReplacements: [{ from: ' postgres:16 ', to: ' reg.example.com/pg:16.4 ' }] };
  assert.deepEqual(environmentFromDraft(edited, [], original).images, { mirror: '127.0.0.1:15000/mirror', replace: { 'postgres:16': 'reg.example.com/pg:16.4' } });
  assert.equal(environmentFromDraft({ ...d, imageMirror: '', imageReplacements: [] }, [], original).images, undefined);
  // A new environment gets rows from the form alone.
  const fresh: FormDraft = { ...newDraft(noOptions), name: 'local', provider: 'kubernetes', kubeContext: 'encore-local', imageReplacements: [{ from: 'registry.k8s.io/pause:3.10', to: '127.0.0.1:15000/encore/placeholder:1' }] };
  assert.deepEqual(environmentFromDraft(fresh, []).images, { replace: { 'registry.k8s.io/pause:3.10': '127.0.0.1:15000/encore/placeholder:1' } });
  assert.deepEqual(fields(fresh), {});

  const rows = (...r: [string, string][]): FormDraft => ({ ...d, imageReplacements: r.map(([from, to]) => ({ from, to })) });
  // Missing halves, an image the product never runs, a repeated image, a replacement that is the image itself.
  assert.deepEqual(fields(rows(['', ''])), { 'imageReplace:0:from': 'Choose the image to replace, or remove this row.' });
  assert.deepEqual(fields(rows(['', 'reg.example.com/x:1'])), { 'imageReplace:0:from': 'Choose the image to replace.' });
  assert.deepEqual(fields(rows(['redis:7.2', ''])), { 'imageReplace:0:to': 'Enter the image to pull instead of redis:7.2, e.g. registry.example.com/redis:7.2.' });
  assert.match(fields(rows(['postgres:15', 'reg.example.com/pg:15']))['imageReplace:0:from']!, /^"postgres:15" is not an image Encore Environments runs, so replacing it changes nothing \(the images are: postgres:16, /);
  assert.deepEqual(fields(rows(['redis:7.2', 'a.example.com/r:1'], ['redis:7.2', 'b.example.com/r:1'])), { 'imageReplace:1:from': 'redis:7.2 is already replaced in row 1: keep one row for it.' });
  assert.deepEqual(fields(rows(['redis:7.2', 'redis:7.2'])), { 'imageReplace:0:to': 'This is the image itself: remove the row to pull it as it is.' });
  // The store's grammar, beside the row's replacement (this key has a slash, escaped in the problem's pointer).
  assert.match(fields(rows(['redis:7.2', 'ok.example.com/r:1'], ['nsqio/nsq:v1.3.0', 'http://reg.example.com/nsq']))['imageReplace:1:to']!, /is not an image reference: it starts with a URL scheme/);
  assert.match(fields(rows(['minio/minio:RELEASE.2025-04-22T22-12-26Z', 'reg.example.com/MinIO:1']))['imageReplace:0:to']!, /has uppercase letters/);
  // "__proto__" typed as an image stays a plain key and is reported, never written onto a prototype.
  const proto = environmentFromDraft(rows(['__proto__', 'reg.example.com/x:1']), [], original);
  assert.deepEqual(Object.keys(proto.images!.replace!), ['__proto__']);
  assert.match(fields(rows(['__proto__', 'reg.example.com/x:1']))['imageReplace:0:from']!, /is not an image Encore Environments runs/);
});

test('Production asks the sizing questions, checks the answers, and writes every answer (defaults where empty)', () => {
  const d: FormDraft = { ...draftFromEnvironment(prod), sizing: [] };
  const e = evaluate(d);
  // Two databases × 3, one cache × 2, four services × 2.
  assert.equal(e.sizing.length, 16);
  assert.ok(e.sizing.some((q) => q.resource === 'users' && q.field === 'cpu' && q.defaultValue === 2 && q.max === 64));
  assert.deepEqual(e.env.sizing?.databases?.users, { cpu: 2, memoryGiB: 8, diskGiB: 20 });
  assert.deepEqual(e.env.sizing?.services?.orders, { minInstances: 2, maxInstances: 10 });
  assert.deepEqual(e.env.sizing?.caches?.notifications, { memoryGiB: 5, replicas: 1 });

  const answered = (value: string, field: 'cpu' | 'maxInstances' = 'cpu'): FormDraft => ({
    ...d,
    sizing: [field === 'cpu' ? { group: 'databases', resource: 'users', field, value } : { group: 'services', resource: 'orders', field, value }],
  });
  assert.equal(fields(answered('100'))['sizing:databases/users/cpu'], 'Enter a value from 1 to 64 vCPU.');
  assert.equal(fields(answered('2.5'))['sizing:databases/users/cpu'], 'Enter a whole number.');
  assert.equal(fields(answered('two'))['sizing:databases/users/cpu'], 'Enter a number.');
  assert.equal(fields(answered('1', 'maxInstances'))['sizing:services/orders/maxInstances'], 'Must be at least minInstances (2)');
  const four = evaluate(answered('4'));
  assert.deepEqual(four.problems, []);
  assert.equal(four.env.sizing?.databases?.users?.cpu, 4);
  // The preview follows the answer at once.
  const users = four.preview.state === 'ok' ? four.preview.groups.find((g) => g.label === 'users') : undefined;
  assert.ok(users?.resources.some((r) => r.label === 'RDS PostgreSQL db.m5.xlarge, 7-day backups'), JSON.stringify(users));
  // Development asks nothing and writes no sizing.
  const dev = evaluate({ ...d, type: 'development', provider: 'kubernetes', kubeContext: 'kind-dev' });
  assert.deepEqual([dev.sizing.length, dev.env.sizing], [0, undefined]);
});

test('Edit shows the stored answers and keeps answers for resources the app no longer needs', () => {
  const stored: Environment = { ...prod, sizing: { databases: { users: { cpu: 4, memoryGiB: 16, diskGiB: 50 }, gone: { cpu: 8 } } } };
  const d = draftFromEnvironment(stored);
  assert.ok(d.sizing.some((a) => a.resource === 'users' && a.field === 'diskGiB' && a.value === '50'));
  const e = evaluate(d, [], stored);
  assert.deepEqual(e.env.sizing?.databases?.users, { cpu: 4, memoryGiB: 16, diskGiB: 50 });
  assert.deepEqual(e.env.sizing?.databases?.gone, { cpu: 8 });
});

test('the preview groups the planner\'s resources by declaration, or says why there is none', () => {
  const e = evaluate({ ...draftFromEnvironment(staging), name: '' });
  assert.equal(e.preview.state, 'ok');
  if (e.preview.state !== 'ok') return;
  assert.equal(e.preview.groups[0].label, 'Shared infrastructure');
  const users = e.preview.groups.find((g) => g.label === 'users');
  assert.equal(users?.description, 'database · StatefulSet postgres:16');
  assert.ok(users?.resources.some((r) => r.label === 'StatefulSet postgres:16, 10 GiB PVC'));
  assert.ok(users?.resources.some((r) => r.label === 'PVC data-encore-postgres-users-0, 10 GiB' && r.stateful));
  assert.equal(e.preview.resourceCount, e.preview.groups.reduce((n, g) => n + g.resources.length, 0));
  assert.equal(e.summary, 'Development · Kubernetes kind-dev · push to main');

  const d = draftFromEnvironment(staging);
  assert.match(unavailable(evaluate(d, [], undefined, { kind: 'pending' }).preview), /still analysing/);
  assert.match(unavailable(evaluate(d, [], undefined, { kind: 'go', message: 'Go apps are not analysed' }).preview), /Go apps/);
  assert.match(unavailable(evaluate(d, [], undefined, { kind: 'unavailable', message: 'The server stopped.' }).preview), /Restart/);
  // Without a model there are no sizing questions, and the form still validates.
  assert.deepEqual(evaluate({ ...d, name: 'Bad' }, [], undefined, { kind: 'pending' }).problems.map((p) => p.field), ['name']);
});

test('store problems land on the field they are about', () => {
  const d = draftFromEnvironment(prod);
  const at = (path: string, draft = d) => toFieldProblem({ path, message: 'x' }, draft).field;
  assert.equal(at('/name'), 'name');
  assert.equal(at('/deploy/branch'), 'branch');
  assert.equal(at('/deploy'), 'branch');
  assert.equal(at('/provider/region'), 'awsRegion');
  assert.equal(at('/provider/region', { ...d, provider: 'gcp' }), 'gcpRegion');
  assert.equal(at('/provider/profile'), 'awsProfile');
  assert.equal(at('/provider'), 'provider');
  assert.equal(at('/sizing/databases/users/cpu'), 'sizing:databases/users/cpu');
  assert.equal(at('/something/else'), 'form');
  assert.equal(toFieldProblem({ path: '/name', message: 'must be x' }, d).message, 'Must be x');
});

function unavailable(p: { state: string; message?: string }): string {
  assert.equal(p.state, 'unavailable');
  return p.message ?? '';
}

test('the cluster choice: a new cluster, or an existing EKS / GKE cluster, through Edit and back; Autopilot only for a new GKE cluster', () => {
  const eks: Environment = { ...prod, provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop', cluster: { name: 'shared-platform' } } };
  const gke: Environment = { ...gcp, provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1', cluster: { name: 'shared', location: 'europe-west1-b' } } };
  for (const env of [eks, gke]) assert.deepEqual(environmentFromDraft(draftFromEnvironment(env), [], env), env, env.name);
  assert.equal(draftFromEnvironment(eks).awsCluster, 'shared-platform');
  assert.equal(draftFromEnvironment(gke).gcpCluster, 'europe-west1-b/shared');
  // Back to a new cluster: the setting goes.
  assert.deepEqual(environmentFromDraft({ ...draftFromEnvironment(eks), awsCluster: '' }, [], eks).provider, { kind: 'aws', region: 'eu-west-1', profile: 'shop' });
  // Autopilot from the form, and not with an existing cluster (which is what it is).
  const gcpDraft = draftFromEnvironment(gcp);
  assert.deepEqual(environmentFromDraft({ ...gcpDraft, gcpAutopilot: true }, [], gcp).provider, { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1', autopilot: true });
  assert.deepEqual(environmentFromDraft({ ...gcpDraft, gcpAutopilot: true, gcpCluster: 'europe-west1/shared' }, [], gcp).provider, {
    kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1', cluster: { name: 'shared', location: 'europe-west1' },
  });
  // A malformed choice points at the field.
  assert.match(fields({ ...draftFromEnvironment(eks), awsCluster: 'not a name' }).awsCluster ?? '', /must match pattern|Must/i);
  assert.ok(fields({ ...draftFromEnvironment(gke), gcpCluster: 'shared' }).gcpCluster, 'a GKE cluster without its location');
});

test("the form offers the kubeconfig's EKS and GKE clusters, each once", async () => {
  const { toFormOptions } = await import('../../src/extension/form/options');
  const ctx = (name: string, cluster: string) => ({ name, file: '/k', cluster, current: false, problems: [] });
  const o = toFormOptions(
    { profiles: [], problems: [] } as never,
    { projects: [], problems: [] } as never,
    {
      files: ['/k'], problems: [], contexts: [
        ctx('arn:aws:eks:eu-west-1:123456789012:cluster/shared-platform', 'arn:aws:eks:eu-west-1:123456789012:cluster/shared-platform'),
        ctx('platform', 'arn:aws:eks:eu-west-1:123456789012:cluster/shared-platform'),
        ctx('gke_shop-prod-123_europe-west1-b_shared', 'gke_shop-prod-123_europe-west1-b_shared'),
        ctx('kind-dev', 'kind-dev'),
      ],
    },
    { folder: '/', isRepo: false, branches: [], problems: [] } as never,
  );
  assert.deepEqual(o.eksClusters, [{ value: 'eu-west-1/shared-platform', description: 'context arn:aws:eks:eu-west-1:123456789012:cluster/shared-platform · account 123456789012' }]);
  assert.deepEqual(o.gkeClusters, [{ value: 'shop-prod-123/europe-west1-b/shared', description: 'context gke_shop-prod-123_europe-west1-b_shared' }]);
});
