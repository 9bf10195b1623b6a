// Issue 9 item 5: the schema, the store and both sides of the webview share one set of limits (src/model/limits.ts),
// so the form never hangs on "Loading…" or ignores Submit because one side dropped a message the other sent. The
// cases of the issue: a branch or context over 300 characters, over 2,000 local branches, 51 contexts whose exec
// plugin is missing, a name over 200 characters; and the largest environment the file allows, through every message.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { EnvStore } from '../../src/environments/store';
import { draftFromEnvironment, evaluateDraft, newDraft } from '../../src/extension/form/draft';
import { fitHostMessage } from '../../src/extension/form/fitMessage';
import { toFormOptions } from '../../src/extension/form/options';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import type { ModelState } from '../../src/extension/tree/treeData';
import type { Environment } from '../../src/model/environment';
import { FORM_LIMITS, MAX_SIZED_RESOURCES, RESOURCE_NAME_MAX_LENGTH, SETTING_MAX_LENGTH, SIZING_FIELDS_PER_GROUP, withinLength } from '../../src/model/limits';
import { checkHostMessage, checkWebviewMessage, type FormDraft, type HostMessage } from '../../src/model/messages';
import type { AwsProfiles, GcpDiscovery, GitBranches, KubeContext, KubeContexts } from '../../src/model/discovery';
import { scratchApp } from './envStoreFixtures';

const schema = JSON.parse(readFileSync(path.join(__dirname, '../../schemas/encore.environments.schema.json'), 'utf8'));
const graphFor = cachedGraphs(() => undefined);
const noModel: ModelState = { kind: 'pending' };

const aws: AwsProfiles = { configFile: '', credentialsFile: '', profiles: [], problems: [] };
const gcp: GcpDiscovery = { projects: [], problems: [] };
const kube: KubeContexts = { files: [], contexts: [], problems: [] };
const git: GitBranches = { folder: '/app', isRepo: true, branches: ['main'], current: 'main', problems: [] };

/** The host's message as the page receives it: fitted, then through postMessage's JSON, then checked. */
function delivered(message: HostMessage): HostMessage {
  const checked = checkHostMessage(JSON.parse(JSON.stringify(fitHostMessage(message))));
  assert.ok(checked.ok, checked.ok ? '' : `the page would drop it: ${checked.problem}`);
  return checked.message;
}

function evaluationOf(draft: FormDraft, model: ModelState = noModel, original?: Environment): HostMessage {
  const e = evaluateDraft({ draft, otherNames: [], model, graphFor, ...(original && { original }) });
  return { type: 'evaluation', seq: 1, problems: e.problems, sizing: e.sizing, preview: e.preview, summary: e.summary };
}

const schemaAt = (pointer: string) => pointer.split('/').slice(1).reduce((node, key) => node[key], schema);

test('the schema states the limits of limits.ts, and the form fields hold every value the file may', () => {
  const env = '/definitions/environment/properties';
  const provider = `${env}/provider/oneOf`;
  const where: Record<keyof typeof SETTING_MAX_LENGTH, string[]> = {
    name: [`${env}/name`],
    branch: [`${env}/deploy/oneOf/0/properties/branch`],
    region: [`${provider}/0/properties/region`, `${provider}/1/properties/region`, `${provider}/1/properties/cluster/properties/location`],
    profile: [`${provider}/0/properties/profile`],
    project: [`${provider}/1/properties/project`],
    context: [`${provider}/2/properties/context`],
    namespace: [`${provider}/2/properties/namespace`],
    eksCluster: [`${provider}/0/properties/cluster/properties/name`],
    gkeCluster: [`${provider}/1/properties/cluster/properties/name`],
  };
  for (const [setting, pointers] of Object.entries(where)) {
    for (const p of pointers) assert.equal(schemaAt(p).maxLength, SETTING_MAX_LENGTH[setting as keyof typeof SETTING_MAX_LENGTH], p);
  }
  for (const group of ['databases', 'caches', 'services'] as const) {
    const map = schemaAt(`${env}/sizing/properties/${group}`);
    assert.equal(map.maxProperties, MAX_SIZED_RESOURCES, group);
    assert.equal(map.propertyNames.maxLength, RESOURCE_NAME_MAX_LENGTH, group);
    assert.equal(Object.keys(map.additionalProperties.properties).length, SIZING_FIELDS_PER_GROUP[group], group);
  }
  // Every string the schema bounds is bounded by limits.ts: no other maxLength hides in it.
  const lengths: number[] = [];
  JSON.stringify(schema, (k, v) => (k === 'maxLength' && lengths.push(v), v));
  const known = new Set<number>([...Object.values(SETTING_MAX_LENGTH), RESOURCE_NAME_MAX_LENGTH]);
  for (const n of lengths) assert.ok(known.has(n), `maxLength ${n} in the schema is not in limits.ts`);
  // A code point may take two UTF-16 units: a form field holds twice the longest setting.
  assert.ok(FORM_LIMITS.text >= 2 * Math.max(...Object.values(SETTING_MAX_LENGTH)));
  assert.equal(FORM_LIMITS.sizingAnswers, MAX_SIZED_RESOURCES * (3 + 2 + 2));
  assert.ok(new Ajv({ strict: true, allErrors: true, discriminator: true }).compile(schema));
});

test('a branch or context over its limit is a problem in the file at its place, never a form that cannot open', async () => {
  const root = scratchApp('env-limits-');
  const file = path.join(root, 'encore.environments.json');
  const env = (branch: string, context: string): Environment => ({
    name: 'staging', type: 'development', deploy: { trigger: 'push', branch }, provider: { kind: 'kubernetes', context },
  });
  writeFileSync(file, `${JSON.stringify({ environments: [env('b'.repeat(301), 'c'.repeat(301))] }, null, 2)}\n`);
  const loaded = await new EnvStore(root).load();
  assert.equal(loaded.ok, false);
  const messages = loaded.ok ? [] : loaded.errors.map((e) => `${e.line}:${e.column} ${e.path} ${e.message}`);
  assert.deepEqual(messages, [
    '8:19 /environments/0/deploy/branch must be at most 255 characters',
    '12:20 /environments/0/provider/context must be at most 253 characters',
  ]);
  // At the limit, counted as the schema counts (code points: every 😀 is one), it loads, and the form opens on it.
  const longest = env('😀'.repeat(SETTING_MAX_LENGTH.branch), '😀'.repeat(SETTING_MAX_LENGTH.context));
  writeFileSync(file, JSON.stringify({ environments: [longest] }));
  const ok = await new EnvStore(root).load();
  assert.ok(ok.ok, ok.ok ? '' : ok.errors[0].message);
  const draft = draftFromEnvironment(ok.environments[0]);
  const init = delivered({ type: 'init', mode: 'edit', appName: 'shop', originalName: 'staging', draft, options: toFormOptions(aws, gcp, kube, git) });
  assert.deepEqual(init.type === 'init' && init.draft, draft);
  delivered(evaluationOf(draft));
  const change = checkWebviewMessage(JSON.parse(JSON.stringify({ type: 'submit', seq: 2, draft })));
  assert.ok(change.ok);
});

test('the largest environment the file allows fits every message, with all its sizing answers', () => {
  const names = (prefix: string) => Array.from({ length: MAX_SIZED_RESOURCES }, (_, i) => `${prefix}${i}`.padEnd(RESOURCE_NAME_MAX_LENGTH, 'x'));
  const env: Environment = {
    name: `a${'b'.repeat(SETTING_MAX_LENGTH.name - 1)}`,
    type: 'production',
    deploy: { trigger: 'push', branch: '𝔘'.repeat(SETTING_MAX_LENGTH.branch) },
    provider: { kind: 'aws', region: 'eu-west-1', profile: '𝔘'.repeat(SETTING_MAX_LENGTH.profile) },
    sizing: {
      databases: Object.fromEntries(names('d').map((n) => [n, { cpu: 2, memoryGiB: 8, diskGiB: 50 }])),
      caches: Object.fromEntries(names('c').map((n) => [n, { memoryGiB: 1, replicas: 1 }])),
      services: Object.fromEntries(names('s').map((n) => [n, { minInstances: 1, maxInstances: 2 }])),
    },
  };
  const draft = draftFromEnvironment(env);
  assert.equal(draft.sizing.length, FORM_LIMITS.sizingAnswers);
  delivered({ type: 'init', mode: 'edit', appName: 'shop', originalName: env.name, draft, options: toFormOptions(aws, gcp, kube, git) });
  const e = evaluationOf(draft, noModel, env);
  delivered(e);
  assert.ok(checkWebviewMessage(JSON.parse(JSON.stringify({ type: 'change', seq: 3, draft }))).ok);
});

test('thousands of branches and dozens of broken contexts are capped, saying how many more there are', () => {
  const branches = Array.from({ length: 2_345 }, (_, i) => `feature/${i}`);
  const contexts: KubeContext[] = Array.from({ length: 51 }, (_, i) => ({
    name: `eks-${i}`, file: '/home/u/.kube/config', current: i === 0, exec: { command: 'aws', found: false, hint: 'install the AWS CLI v2' },
    problems: [`the exec plugin "aws" is not on PATH: install the AWS CLI v2 (${'long explanation '.repeat(200)})`],
  }));
  const options = toFormOptions(aws, gcp, { ...kube, contexts }, { ...git, branches, current: 'feature/7' });
  assert.equal(options.branches.length, FORM_LIMITS.choices);
  assert.deepEqual(options.branches[0], { value: 'feature/7', description: 'current' });
  assert.equal(options.notes.git[0], `Showing the first ${FORM_LIMITS.choices} branches, and 1,845 more: choose Other… to type one of them.`);
  assert.equal(options.kubeContexts.length, 51);
  assert.equal(options.notes.kubernetes.length, FORM_LIMITS.notes);
  assert.equal(options.notes.kubernetes.at(-1), `…and ${51 - FORM_LIMITS.notes + 1} more notes like these.`);
  for (const note of options.notes.kubernetes) assert.ok(note.length <= FORM_LIMITS.line);
  const init = delivered({ type: 'init', mode: 'create', appName: 'shop', draft: newDraft(options), options });
  assert.equal(init.type === 'init' && init.draft.branch, 'feature/7');
  delivered({ type: 'options', options });
  // A value too long for any form field is not offered (it could not be chosen, nor saved), and a note says so.
  const huge = toFormOptions(aws, gcp, { ...kube, contexts: [{ ...contexts[1], name: 'x'.repeat(FORM_LIMITS.text + 1), problems: [] }] }, git);
  assert.deepEqual(huge.kubeContexts, []);
  assert.deepEqual(huge.notes.kubernetes, [`1 context with names over ${FORM_LIMITS.text} characters is not offered.`]);
});

test('a name over 200 characters reaches the host and gets a problem beside its field; one over the field limit is refused with the reason', () => {
  const draft: FormDraft = { ...newDraft(toFormOptions(aws, gcp, kube, git)), name: 'n'.repeat(250) };
  const change = checkWebviewMessage(JSON.parse(JSON.stringify({ type: 'change', seq: 1, draft })));
  assert.ok(change.ok, change.ok ? '' : change.problem);
  const evaluation = delivered(evaluationOf(draft));
  assert.ok(evaluation.type === 'evaluation' && evaluation.problems.some((p) => p.field === 'name' && p.message === 'Must be at most 63 characters'), JSON.stringify(evaluation));
  const tooLong = checkWebviewMessage({ type: 'submit', seq: 2, draft: { ...draft, name: 'n'.repeat(FORM_LIMITS.text + 1) } });
  assert.deepEqual(tooLong, { ok: false, problem: `a "submit" message: draft.name: longer than ${FORM_LIMITS.text} characters` });
  assert.deepEqual(checkHostMessage({ type: 'submitting', extra: 'AKIAABCDEFGHIJKLMNOP' }), { ok: false, problem: 'a "submitting" message: the message: unknown key "extra"' });
});

test('every host message is fitted within the page limits, whatever the app and the machine hold', () => {
  const many = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
  const long = 'ü'.repeat(50_000);
  const messages: HostMessage[] = [
    {
      type: 'evaluation',
      seq: 1,
      problems: many(3_000, (i) => ({ field: i % 2 ? 'form' : `sizing:databases/${long}/cpu`, message: long })),
      sizing: many(FORM_LIMITS.sizingAnswers + 10, (i) => ({
        group: 'databases', resource: i === 0 ? long : `db${i}`, resourceKind: 'database', field: 'cpu', label: long, defaultValue: 1, min: 1, max: 2, integer: true, unit: long,
      })),
      preview: {
        state: 'ok', resourceCount: 9_999,
        groups: many(300, (g) => ({ label: long, description: long, icon: long, resources: many(g === 0 ? 5_000 : 1, () => ({ label: long, detail: long, stateful: true })) })),
        warnings: many(1_000, () => long),
      },
      summary: long,
    },
    { type: 'evaluation', seq: 2, problems: [], sizing: [], preview: { state: 'unavailable', message: long }, summary: '' },
    { type: 'submitFailed', message: long, problems: many(500, () => ({ field: 'name', message: long })), offerFile: true },
    { type: 'dropped', message: long },
    {
      type: 'evaluation', seq: 3, problems: [], sizing: [], preview: { state: 'unavailable', message: '' }, summary: '',
      cost: { currency: 'USD', monthlyUsd: 1, complete: true, pricesTakenAt: long, source: long, lines: many(2_000, (i) => ({ id: `${i}${long}`, summary: long, monthlyUsd: i, basis: long })) },
    },
    { type: 'identity', key: 'aws|x|y', identity: { state: 'ok', principal: long, scope: long, source: long } },
    { type: 'identity', key: 'aws|x|y', identity: { state: 'failed', message: long } },
    { type: 'init', mode: 'create', appName: long, draft: newDraft(toFormOptions(aws, gcp, kube, git)), options: toFormOptions(aws, gcp, kube, git) },
  ];
  for (const m of messages) delivered(m);
  const fitted = fitHostMessage(messages[0]);
  assert.ok(fitted.type === 'evaluation' && fitted.preview.state === 'ok');
  if (fitted.type !== 'evaluation' || fitted.preview.state !== 'ok') return;
  assert.equal(fitted.problems.at(-1)?.message, `…and ${(3_002 - FORM_LIMITS.problems + 1).toLocaleString('en-US')} more problems.`);
  assert.ok(fitted.problems.some((p) => p.message.startsWith('The database "üüü') && p.message.includes(`longer than ${RESOURCE_NAME_MAX_LENGTH} characters`)));
  assert.equal(fitted.preview.groups[0].resources.at(-1)?.label, `…and ${(5_000 - FORM_LIMITS.previewResources + 1).toLocaleString('en-US')} more`);
  assert.equal(fitted.preview.groups.at(-1)?.label, `…and ${300 - FORM_LIMITS.previewGroups + 1} more groups`);
  assert.equal(fitted.preview.warnings.length, FORM_LIMITS.warnings);
  assert.ok(withinLength(fitted.summary, FORM_LIMITS.message) && fitted.summary.endsWith('…'));
  const costed = fitHostMessage(messages[4]!);
  assert.ok(costed.type === 'evaluation' && costed.cost);
  if (costed.type !== 'evaluation' || !costed.cost) return;
  assert.equal(costed.cost.lines.length, FORM_LIMITS.costLines);
  assert.equal(costed.cost.lines.at(-1)?.basis, `…and ${(2_000 - FORM_LIMITS.costLines + 1).toLocaleString('en-US')} more resources, counted in the total`);
  assert.equal(costed.cost.monthlyUsd, 1, 'the total is the host\'s, not the sum of the lines kept');
});
