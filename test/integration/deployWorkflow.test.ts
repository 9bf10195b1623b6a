// The generated "Deploy on Push" workflows pass actionlint v1.7.12 (built from the Go module proxy into the cache by
// scripts/actionlint.mjs), which knows the inputs of actions/checkout, actions/setup-node,
// aws-actions/configure-aws-credentials and google-github-actions/auth; a deliberately broken copy fails it, so the check is known to bite.
// Run: node --import tsx --test test/integration/deployWorkflow.test.ts
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { deployWorkflow, workflowPath } from '../../src/provisioning/deploy/workflow';
import { runActionlint } from '../../scripts/actionlint.mjs';
import { AWS_INPUT, GCP_INPUT, KUBE_INPUT } from '../deploy/workflowInputs';

const repo = mkdtempSync(path.join(os.tmpdir(), 'deploy-workflow-'));
after(() => rmSync(repo, { recursive: true, force: true }));

function write(relative: string, text: string): string {
  const file = path.join(repo, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return relative;
}

test('the AWS, the GCP and the Kubernetes workflows pass actionlint', async () => {
  const files: string[] = [];
  for (const input of [AWS_INPUT, GCP_INPUT, KUBE_INPUT]) files.push(write(workflowPath(input.environment), await deployWorkflow(input)));
  const { code, output } = await runActionlint(files, { cwd: repo });
  assert.equal(output, '');
  assert.equal(code, 0);
});

test('actionlint does catch a broken workflow (a misspelt input, a permission that does not exist)', async () => {
  const broken = (await deployWorkflow(AWS_INPUT)).replace('role-to-assume:', 'role-to-asume:').replace('id-token: write', 'id-tokens: write');
  const file = write('.github/workflows/encore-deploy-broken.yml', broken);
  const { code, output } = await runActionlint([file], { cwd: repo });
  assert.equal(code, 1, output);
  assert.match(output, /role-to-asume/);
  assert.match(output, /id-tokens/);
});

test('actionlint knows the inputs of google-github-actions/auth: a misspelt one fails', async () => {
  const broken = (await deployWorkflow(GCP_INPUT)).replace('workload_identity_provider:', 'workload_identity_providr:');
  const file = write('.github/workflows/encore-deploy-broken-gcp.yml', broken);
  const { code, output } = await runActionlint([file], { cwd: repo });
  assert.equal(code, 1, output);
  assert.match(output, /workload_identity_providr/);
});
