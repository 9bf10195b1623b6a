// The "Deploy on Push" workflow: byte for byte the expected files (test/fixtures/deploy/), the rules the issue sets
// (triggers, permissions, concurrency, environment, OIDC, pinned Encore), and inputs that are refused because they
// would not be safe in a workflow. actionlint checks the same files in test/integration/deployWorkflow.test.ts.
// Run: node --import tsx --test test/unit/deployWorkflow.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { deployWorkflow, kubeconfigSecretName, workflowPath, WorkflowInputError, type WorkflowInput } from '../../src/provisioning/deploy/workflow';
import { AWS_INPUT, GCP_INPUT, KUBE_INPUT } from '../deploy/workflowInputs';

const fixtures = path.join(__dirname, '..', 'fixtures', 'deploy');

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML

test('the workflows match the expected files byte for byte', async () => {
  assert.equal(await deployWorkflow(AWS_INPUT), readFileSync(path.join(fixtures, 'encore-deploy-production.yml'), 'utf8'));
  assert.equal(await deployWorkflow(KUBE_INPUT), readFileSync(path.join(fixtures, 'encore-deploy-staging.yml'), 'utf8'));
  assert.equal(await deployWorkflow(GCP_INPUT), readFileSync(path.join(fixtures, 'encore-deploy-prod.yml'), 'utf8'));
  assert.equal(workflowPath('production'), '.github/workflows/encore-deploy-production.yml');
});

test('on push to the branch and on dispatch; id-token write and contents read only; one deploy at a time, never cancelled', async () => {
  for (const input of [AWS_INPUT, KUBE_INPUT, GCP_INPUT]) {
    const wf = parse(await deployWorkflow(input)) as Any;
    assert.deepEqual(Object.keys(wf.on).sort(), ['push', 'workflow_dispatch']);
    assert.deepEqual(Object.keys(wf.on.push), ['branches']);
    assert.deepEqual(wf.permissions, { 'id-token': 'write', contents: 'read' });
    assert.deepEqual(wf.concurrency, { group: `encore-deploy-${input.environment}`, 'cancel-in-progress': false });
    assert.deepEqual(Object.keys(wf.jobs), ['deploy']);
    const job = wf.jobs.deploy;
    assert.equal(job.environment, input.environment);
    assert.equal(job.permissions, undefined, 'a job must not widen the permissions');
    const steps = job.steps as Any[];
    assert.equal(steps[0].uses, 'actions/checkout@v6');
    assert.equal(steps[0].with['persist-credentials'], false);
    assert.equal(steps[1].uses, 'actions/setup-node@v6');
    const install = steps.find((s) => /^Install Encore/.test(s.name))!;
    assert.equal(install.env.ENCORE_VERSION, '1.58.6');
    const deploy = steps.find((s) => s.id === 'deploy')!;
    assert.equal(deploy.run, `npx --no-install encore-env deploy --env ${input.environment} --ci`);
  }
  // The branch is a literal, not a pattern: + is escaped.
  assert.deepEqual((parse(await deployWorkflow(KUBE_INPUT)) as Any).on.push.branches, ['release/v2\\+next']);
});

test('AWS: the deploy role is assumed by OIDC, with no stored keys', async () => {
  const steps = (parse(await deployWorkflow(AWS_INPUT)) as Any).jobs.deploy.steps as Any[];
  const aws = steps.find((s) => s.uses === 'aws-actions/configure-aws-credentials@v6')!;
  assert.deepEqual(aws.with, { 'role-to-assume': AWS_INPUT.cloud.kind === 'aws' && AWS_INPUT.cloud.roleArn, 'aws-region': 'eu-west-1', 'role-session-name': 'encore-deploy-production' });
  assert.ok(!/secrets\./.test(await deployWorkflow(AWS_INPUT)), 'the AWS workflow reads a repository secret');
});

test('GCP: the deploy service account by Workload Identity Federation from the job\'s OIDC token, with no stored key', async () => {
  const text = await deployWorkflow(GCP_INPUT);
  const steps = (parse(text) as Any).jobs.deploy.steps as Any[];
  const auth = steps.findIndex((s) => s.uses === 'google-github-actions/auth@v3');
  assert.ok(auth > 0, 'the auth step is there');
  assert.deepEqual(steps[auth].with, {
    workload_identity_provider: 'projects/123456789012/locations/global/workloadIdentityPools/encore-prod/providers/github',
    service_account: 'encore-deploy-prod@encore-test.iam.gserviceaccount.com',
  });
  assert.ok(auth < steps.findIndex((s) => s.id === 'deploy'), 'credentials before the deploy');
  assert.ok(!/secrets\.|credentials_json/.test(text), 'the GCP workflow reads a repository secret or a key');
});

test('Kubernetes: the kubeconfig comes from a repository secret through env, written 0600 outside the checkout', async () => {
  const text = await deployWorkflow(KUBE_INPUT);
  const steps = (parse(text) as Any).jobs.deploy.steps as Any[];
  const kube = steps.find((s) => /kubeconfig/.test(s.name))!;
  assert.deepEqual(kube.env, { KUBECONFIG_CONTENT: '${{ secrets.ENCORE_KUBECONFIG_STAGING }}' });
  assert.match(kube.run, /umask 077/);
  assert.match(kube.run, /"\$RUNNER_TEMP\/kube\/config"/);
  // The secret is never expanded inside a script.
  assert.ok(!(steps as Any[]).some((s) => typeof s.run === 'string' && s.run.includes('${{')), 'an expression is expanded in a run script');
  assert.equal(kubeconfigSecretName('my-env-2'), 'ENCORE_KUBECONFIG_MY_ENV_2');
  assert.match(await deployWorkflow({ ...KUBE_INPUT, cloud: { kind: 'kubernetes', kubeconfigSecret: 'CUSTOM_KUBE' } }), /secrets\.CUSTOM_KUBE/);
});

test('inputs that are not safe in a workflow are refused, saying which and why', async () => {
  const bad: [Partial<WorkflowInput>, RegExp][] = [
    [{ environment: 'Prod' }, /"Prod" is not an environment name/],
    [{ environment: 'x; rm -rf /' }, /not an environment name/],
    [{ branch: 'feat x' }, /"feat x" is not a branch name: it has a space/],
    [{ branch: 'a..b' }, /has \.\./],
    [{ branch: '-main' }, /starts with -/],
    [{ branch: 'x.lock' }, /\.lock/],
    [{ branch: '' }, /empty/],
    [{ branch: 'main*' }, /\*/],
    [{ appPath: '../other' }, /relative to the repository's top/],
    [{ appPath: '/abs' }, /relative/],
    [{ appPath: 'apps//x' }, /relative/],
    [{ appPath: '' }, /relative/],
    [{ encoreVersion: 'latest' }, /"latest" is not an Encore version/],
    [{ nodeVersion: '22.1' }, /Node\.js major version/],
    [{ cloud: { kind: 'aws', roleArn: 'arn:aws:iam::123:role/x', region: 'eu-west-1' } }, /not an IAM role ARN/],
    [{ cloud: { kind: 'aws', roleArn: 'arn:aws:iam::123456789012:role/x', region: 'Europe' } }, /not an AWS region/],
    [{ cloud: { kind: 'kubernetes', kubeconfigSecret: 'lower' } }, /not a GitHub secret name/],
    [{ cloud: { kind: 'gcp', workloadIdentityProvider: 'github', serviceAccount: 'encore-deploy-prod@shop-prod-1.iam.gserviceaccount.com' } }, /"github" is not a Workload Identity Federation provider/],
    [{ cloud: { kind: 'gcp', workloadIdentityProvider: 'projects/1/locations/global/workloadIdentityPools/pool-1/providers/gh\nx', serviceAccount: 'encore-deploy-prod@shop-prod-1.iam.gserviceaccount.com' } }, /not a Workload Identity Federation provider/],
    [{ cloud: { kind: 'gcp', workloadIdentityProvider: GCP_INPUT.cloud.kind === 'gcp' ? GCP_INPUT.cloud.workloadIdentityProvider : '', serviceAccount: 'deploy@gmail.com' } }, /"deploy@gmail\.com" is not a service account email/],
  ];
  for (const [change, why] of bad) {
    await assert.rejects(() => deployWorkflow({ ...AWS_INPUT, ...change }), (err: Error) => err instanceof WorkflowInputError && why.test(err.message), JSON.stringify(change));
  }
  await assert.doesNotReject(() => deployWorkflow({ ...AWS_INPUT, cloud: { kind: 'aws', roleArn: 'arn:aws-cn:iam::123456789012:role/path/to/deploy', region: 'cn-north-1' } }));
});
