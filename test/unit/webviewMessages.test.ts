// The webview boundary: every message in both directions is checked, and anything unknown or malformed is dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeDropped,
  draftIdentityKey,
  parseHostMessage,
  parseWebviewMessage,
  type FormDraft,
  type FormOptions,
  type HostMessage,
  type WebviewMessage,
} from '../../src/model/messages';

const draft: FormDraft = {
  name: 'staging',
  type: 'development',
  trigger: 'push',
  branch: 'main',
  provider: 'kubernetes',
  awsProfile: '',
  awsRegion: '',
  gcpProject: '',
  gcpRegion: '',
  kubeContext: 'kind-dev',
  kubeNamespace: '', awsCluster: '', gcpCluster: '', gcpAutopilot: false,
  imageMirror: '',
  imageReplacements: [{ from: 'postgres:16', to: 'registry.example.com/pg:16' }],
  sizing: [{ group: 'databases', resource: 'users', field: 'cpu', value: '2' }],
};

const options: FormOptions = {
  awsProfiles: [{ value: 'shop', description: 'SSO · eu-west-1 · active' }],
  awsRegions: [{ value: 'eu-west-1', description: 'Europe (Ireland)' }],
  gcpProjects: [],
  gcpRegions: [{ value: 'europe-west1' }],
  kubeContexts: [{ value: 'kind-dev' }], eksClusters: [], gkeClusters: [],
  branches: [{ value: 'main', description: 'current' }],
  notes: { aws: [], gcp: ['No Application Default Credentials'], kubernetes: [], git: [] },
  suggested: { awsRegion: 'eu-west-1', gcpRegion: '' },
  productImages: [{ value: 'postgres:16', description: 'the databases' }],
};

test('every webview message type is accepted as sent', () => {
  const messages: WebviewMessage[] = [
    { type: 'ready' },
    { type: 'ready', draft },
    { type: 'change', seq: 3, draft },
    { type: 'submit', seq: 4, draft },
    { type: 'cancel' },
    { type: 'refreshOptions' },
    { type: 'openEnvironmentsFile' },
    { type: 'dropped', problem: 'a "evaluation" message: problems: more than 200 items' },
  ];
  for (const m of messages) assert.deepEqual(parseWebviewMessage(JSON.parse(JSON.stringify(m))), m, m.type);
});

test('every host message type is accepted as sent', () => {
  const messages: HostMessage[] = [
    { type: 'init', mode: 'create', appName: 'shop', draft, options },
    { type: 'init', mode: 'edit', appName: 'shop', originalName: 'staging', draft, options },
    { type: 'options', options },
    {
      type: 'evaluation',
      seq: 1,
      problems: [{ field: 'name', message: 'Must be a DNS label' }],
      sizing: [{ group: 'databases', resource: 'users', resourceKind: 'database', field: 'cpu', label: 'users database: vCPUs', defaultValue: 2, min: 1, max: 64, integer: true, unit: 'vCPU' }],
      preview: { state: 'ok', resourceCount: 1, groups: [{ label: 'users', description: 'database', icon: 'database', resources: [{ label: 'RDS', detail: 'AWS::RDS::DBInstance x', stateful: true }] }], warnings: [] },
      summary: 'Production · AWS eu-west-1 · manual deploy',
    },
    { type: 'evaluation', seq: 2, problems: [], sizing: [], preview: { state: 'unavailable', message: 'Go app' }, summary: '' },
    {
      type: 'evaluation', seq: 3, problems: [], sizing: [], preview: { state: 'ok', resourceCount: 0, groups: [], warnings: [] }, summary: '',
      cost: {
        currency: 'USD', monthlyUsd: 73, complete: false, pricesTakenAt: '2026-11-02', source: 'AWS price list',
        lines: [{ id: 'aws:eks', summary: 'EKS cluster', monthlyUsd: 73, basis: 'EKS control plane' }, { id: 'aws:rds:orders', summary: 'RDS', monthlyUsd: null, basis: 'unknown price for db.x9.huge' }],
      },
    },
    { type: 'identity', key: 'aws|shop|eu-west-1', identity: { state: 'checking' } },
    { type: 'identity', key: 'aws|shop|eu-west-1', identity: { state: 'ok', principal: 'arn:aws:iam::123456789012:user/alice', scope: 'AWS account 123456789012 in eu-west-1', source: 'profile shop' } },
    { type: 'identity', key: 'kubernetes|kind-dev', identity: { state: 'ok', principal: 'kubernetes-admin', scope: 'cluster https://127.0.0.1:6443' } },
    { type: 'identity', key: 'aws||eu-west-1', identity: { state: 'failed', message: 'Could not tell who acts: the SSO session expired' } },
    { type: 'submitting' },
    { type: 'submitFailed', message: 'changed underneath', problems: [], offerFile: true },
    { type: 'dropped', message: "The extension could not read the form's last message" },
  ];
  for (const m of messages) assert.deepEqual(parseHostMessage(JSON.parse(JSON.stringify(m))), m, m.type);
});

test('unknown types, extra keys and wrong shapes are dropped, in both directions', () => {
  const bad: unknown[] = [
    undefined,
    null,
    'ready',
    [],
    {},
    { type: 'explode' },
    { type: '__proto__' },
    { type: 'toString' },
    { type: 'ready', extra: 1 },
    { type: 'change', seq: '1', draft },
    { type: 'change', seq: Number.NaN, draft },
    { type: 'change', seq: 1, draft: { ...draft, type: 'staging' } },
    { type: 'change', seq: 1, draft: { ...draft, provider: 'azure' } },
    { type: 'change', seq: 1, draft: { ...draft, name: 42 } },
    { type: 'change', seq: 1, draft: { ...draft, unknown: 'x' } },
    { type: 'change', seq: 1, draft: { ...draft, sizing: [{ group: 'databases', resource: 'users', field: 'password', value: '1' }] } },
    { type: 'submit', seq: 1 },
    { type: 'change', seq: 1, draft: { ...draft, name: 'x'.repeat(100_000) } },
  ];
  for (const value of bad) assert.equal(parseWebviewMessage(value), undefined, JSON.stringify(value)?.slice(0, 80));
  assert.equal(parseHostMessage({ type: 'ready' }), undefined, 'a webview message is not a host message');
  assert.equal(parseHostMessage({ type: 'submitFailed', message: 'x', problems: [] }), undefined);
  assert.equal(parseHostMessage({ type: 'options', options: { ...options, notes: { aws: [] } } }), undefined);
  assert.equal(parseHostMessage({ type: 'evaluation', seq: 1, problems: [], sizing: [], preview: { state: 'maybe' }, summary: '' }), undefined);
  // An identity carries a principal and a scope, nothing else: a credential-shaped key is refused whole.
  assert.equal(parseHostMessage({ type: 'identity', key: 'k', identity: { state: 'ok', principal: 'a', scope: 'b', secretAccessKey: 'x' } }), undefined);
  assert.equal(parseHostMessage({ type: 'identity', key: 'k', identity: { state: 'ok', principal: 'a' } }), undefined);
  assert.equal(parseHostMessage({ type: 'identity', key: 'k', identity: { state: 'unknown' } }), undefined);
  assert.equal(parseHostMessage({ type: 'evaluation', seq: 1, problems: [], sizing: [], preview: { state: 'unavailable', message: '' }, summary: '', cost: { currency: 'EUR', monthlyUsd: 1, complete: true, lines: [], pricesTakenAt: '', source: '' } }), undefined);
  assert.equal(parseHostMessage({ type: 'evaluation', seq: 1, problems: [], sizing: [], preview: { state: 'unavailable', message: '' }, summary: '', cost: { currency: 'USD', monthlyUsd: 1, complete: true, lines: [{ id: 'x', summary: '', monthlyUsd: 'free', basis: '' }], pricesTakenAt: '', source: '' } }), undefined);
});

test('the identity key follows the settings who acts depends on, and only those', () => {
  const aws = { ...draft, provider: 'aws' as const, awsProfile: 'shop', awsRegion: 'eu-west-1' };
  assert.equal(draftIdentityKey(aws), draftIdentityKey({ ...aws, name: 'other', kubeContext: 'x', awsProfile: ' shop ' }));
  assert.notEqual(draftIdentityKey(aws), draftIdentityKey({ ...aws, awsProfile: 'dev' }));
  assert.notEqual(draftIdentityKey(aws), draftIdentityKey({ ...aws, awsRegion: 'us-east-1' }));
  assert.notEqual(draftIdentityKey(aws), draftIdentityKey({ ...aws, provider: 'kubernetes' }));
  assert.notEqual(draftIdentityKey(draft), draftIdentityKey({ ...draft, kubeContext: 'prod' }));
  assert.equal(draftIdentityKey(draft), draftIdentityKey({ ...draft, kubeNamespace: 'other' }));
});

test('a dropped message is described by its type only, never by its content', () => {
  assert.equal(describeDropped({ type: 'change', draft: { name: 'AKIAABCDEFGHIJKLMNOP' } }), 'a malformed or unknown "change" message');
  assert.equal(describeDropped(['secret']), 'a message that is not an object with a type (array)');
  assert.doesNotMatch(describeDropped({ type: 'x'.repeat(500) }), /x{41}/);
});
