// The webview boundary: every message in both directions is checked, and anything unknown or malformed is dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeDropped,
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
  kubeNamespace: '',
  imageMirror: '',
  imageReplacements: [{ from: 'postgres:16', to: 'registry.example.com/pg:16' }],
  sizing: [{ group: 'databases', resource: 'users', field: 'cpu', value: '2' }],
};

const options: FormOptions = {
  awsProfiles: [{ value: 'shop', description: 'SSO · eu-west-1 · active' }],
  awsRegions: [{ value: 'eu-west-1', description: 'Europe (Ireland)' }],
  gcpProjects: [],
  gcpRegions: [{ value: 'europe-west1' }],
  kubeContexts: [{ value: 'kind-dev' }],
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
});

test('a dropped message is described by its type only, never by its content', () => {
  assert.equal(describeDropped({ type: 'change', draft: { name: 'AKIAABCDEFGHIJKLMNOP' } }), 'a malformed or unknown "change" message');
  assert.equal(describeDropped(['secret']), 'a message that is not an object with a type (array)');
  assert.doesNotMatch(describeDropped({ type: 'x'.repeat(500) }), /x{41}/);
});
