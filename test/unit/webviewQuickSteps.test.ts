// The keyboard-only path's steps follow the choices made so far.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quickSteps, stepField } from '../../src/extension/form/quickSteps';
import type { FormDraft } from '../../src/model/messages';

const draft: FormDraft = {
  name: '', type: 'development', trigger: 'push', branch: 'main', provider: 'kubernetes',
  awsProfile: '', awsRegion: '', gcpProject: '', gcpRegion: '', kubeContext: '', kubeNamespace: '', awsCluster: '', gcpCluster: '', gcpAutopilot: false, imageMirror: '', imageReplacements: [], sizing: [],
};

test('the steps follow the trigger, the provider and the type', () => {
  assert.deepEqual(quickSteps(draft, false), ['name', 'type', 'trigger', 'branch', 'provider', 'kubeContext', 'kubeNamespace', 'confirm']);
  assert.deepEqual(quickSteps({ ...draft, trigger: 'manual', provider: 'aws' }, false), ['name', 'type', 'trigger', 'provider', 'awsProfile', 'awsRegion', 'confirm']);
  assert.deepEqual(quickSteps({ ...draft, type: 'production', provider: 'gcp' }, true), ['name', 'type', 'trigger', 'branch', 'provider', 'gcpProject', 'gcpRegion', 'sizing', 'confirm']);
  // Production with nothing to ask (no model yet, or nothing to size) skips the sizing step.
  assert.deepEqual(quickSteps({ ...draft, type: 'production' }, false).includes('sizing'), false);
  // Development never asks, even when there would be questions.
  assert.equal(quickSteps(draft, true).includes('sizing'), false);
});

test('each settings step is the form field whose problems it shows', () => {
  assert.equal(stepField('awsRegion'), 'awsRegion');
  assert.equal(stepField('name'), 'name');
  assert.equal(stepField('sizing'), undefined);
  assert.equal(stepField('confirm'), undefined);
});
