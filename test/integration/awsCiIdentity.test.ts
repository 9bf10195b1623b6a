// Deploy on push on AWS, against moto through the real SDK clients and the shim: the CI identity part of the sample
// app's AWS graph (GitHub's OIDC provider, the deploy role, its EKS access entry, and what they stand on: the VPC,
// the cluster, the ECR repository) applied by the engine, then read back with independent calls; a re-plan changes
// nothing; setup-ci writes the workflow naming the role from state; GitHub's OIDC path (AWS_ROLE_ARN +
// AWS_WEB_IDENTITY_TOKEN_FILE through the SDK's fromTokenFile) assumes the role with the right token only; destroy
// removes what it made. An account that already has GitHub's provider: adopted only when confirmed, and left; and
// a provider this environment made that another role came to trust: left too.
//
// Emulator gap, visible: moto's STS accepts any token for any role (asserted below, straight to moto). The shim
// decides AssumeRoleWithWebIdentity as IAM does from the role's trust (test/aws/emulatorGaps.ts, webIdentityTrust.ts),
// without checking the token's signature. moto does not enforce the role's permission policy either, so what the role
// may do is checked on the policy document itself (test/unit/awsPolicies.test.ts).
// Run: npm test -- integration test/integration/awsCiIdentity.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { DescribeAccessEntryCommand, EKSClient, ListAssociatedAccessPoliciesCommand } from '@aws-sdk/client-eks';
import {
  CreateOpenIDConnectProviderCommand, CreateRoleCommand, GetOpenIDConnectProviderCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListOpenIDConnectProvidersCommand, ListRolesCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTokenFile } from '@aws-sdk/credential-providers';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { runDeployCommand } from '../../src/cli/deploy/commands';
import { EXIT } from '../../src/cli/exitCodes';
import type { CliIO } from '../../src/cli/provision/commands';
import type { DesiredGraph } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import type { ProgressEvent } from '../../src/model/plan';
import { MIN_ENCORE_VERSION } from '../../src/provisioning/deploy/encoreCli';
import { deployWorkflow, workflowPath } from '../../src/provisioning/deploy/workflow';
import { apply, destroy, isEngineError, planChanges } from '../../src/provisioning/engine';
import { AWS_CI_IDENTITY, desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { openAwsConnection } from '../../src/provisioning/providers/aws/connection';
import type { ComposedDriver } from '../../src/provisioning/providers/compose';
import { AwsDriver } from '../../src/provisioning/providers/aws/driver';
import { awsStateBackend } from '../../src/provisioning/providers/aws/module';
import { githubTrust } from '../../src/provisioning/providers/aws/driver/policies';
import { runActionlint } from '../../scripts/actionlint.mjs';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { deployer } from '../aws/sampleEnvironment';
import { githubToken } from '../aws/webIdentityTrust';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- policy documents are untyped JSON

const repo = path.join(__dirname, '..', '..');
const GITHUB = 'token.actions.githubusercontent.com';
const PROVIDER_ARN = `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/${GITHUB}`;
const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } };
const CI_IDS: string[] = [AWS_CI_IDENTITY.oidcProviderId, AWS_CI_IDENTITY.roleId, AWS_CI_IDENTITY.accessEntryId];

let bed: AwsTestbed;
let tmp: string;
let app: string;
const secrets = new Map<string, { secretAccessKey: string }>();

/** The CI identity and everything it stands on (its dependencies, transitively), from the app's full graph. */
function ciGraph(full: DesiredGraph): DesiredGraph {
  const keep = new Set<string>();
  const visit = (id: string) => {
    if (keep.has(id)) return;
    keep.add(id);
    for (const d of full.resources.find((r) => r.id === id)!.dependsOn) visit(d);
  };
  CI_IDS.forEach(visit);
  return { ...full, resources: full.resources.filter((r) => keep.has(r.id)) };
}

function io(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false, ask: () => Promise.reject(new Error('no questions')), signal: new AbortController().signal, stdout: () => out, stderr: () => err };
}

before(async () => {
  bed = await startAwsTestbed();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'aws-ci-'));
  // The sample app in its own repository whose origin is on GitHub: the role's trust names acme/shop.
  app = path.join(tmp, 'shop');
  cpSync(path.join(repo, 'examples', 'sample-app'), app, { recursive: true });
  writeFileSync(path.join(app, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
  const gitEnv = { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: app, env: gitEnv });
  execFileSync('git', ['remote', 'add', 'origin', 'git@github.com:acme/shop.git'], { cwd: app, env: gitEnv });
});
afterEach(async () => bed.afterEach());
after(async () => {
  await bed?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The account's OIDC providers for GitHub's issuer (the EKS cluster has one of its own for IRSA). */
async function githubProviders(iam: IAMClient): Promise<string[]> {
  return ((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map((p) => p.Arn!).filter((arn) => arn.endsWith(`/${GITHUB}`));
}

/**
 * The AWS driver alone: the graph here has no in-cluster half, and the composed driver's preflight would reach the
 * cluster's API server (moto's EKS endpoint leads nowhere). State goes where the provider module puts it.
 */
async function awsOnly(): Promise<{ driver: AwsDriver; dispose(): Promise<void> }> {
  const driver = new AwsDriver({ environment: 'prod', connection: await openAwsConnection({ profile: 'shop' }), pollIntervalMs: 30, deleteTimeoutMs: 60_000 });
  return { driver, dispose: () => driver.dispose() };
}

const model = () => new AppAnalyzer(app).analyze();
const clientConfig = (credentials: { accessKeyId: string; secretAccessKey: string }) => ({ region: TEST_REGION, endpoint: bed.endpoint, credentials });

test('apply makes the OIDC provider, the deploy role and its access entry; they read back; setup-ci names the role; only the right token assumes it; destroy removes them', { timeout: 300_000 }, async () => {
  const me = await deployer(bed, secrets);
  const graph = ciGraph(desiredGraph(model(), env, { appId: 'sample-app', ciRepository: 'acme/shop' }));
  assert.deepEqual(graph.resources.map((r) => r.id).sort(), ['aws:ci-access-entry', 'aws:ci-role', 'aws:ecr', 'aws:eks', 'aws:github-oidc', 'aws:vpc']);
  const roleName = graph.resources.find((r) => r.id === AWS_CI_IDENTITY.roleId)!.name;
  const cluster = graph.resources.find((r) => r.id === 'aws:eks')!.name;
  const opened = await awsOnly();
  const backend = await awsStateBackend(opened.driver, 'prod');
  const iam = new IAMClient(clientConfig(me.credentials));
  const eks = new EKSClient(clientConfig(me.credentials));
  const sts = new STSClient(clientConfig(me.credentials));
  try {
    // Before an apply there is no role to name: setup-ci says so, and writes nothing.
    const early = io();
    assert.equal(await runDeployCommand('setup-ci', ['--env', 'prod', app], early), EXIT.applyFirst, early.stdout());
    assert.match(early.stderr(), /has no deploy role yet: apply it first \(its plan makes the role that acme\/shop may assume\)/);

    const applied = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    assert.deepEqual(applied.plan.foreignAdoptions, [], 'nothing to adopt in an account without the provider');

    // --- read back, independently of the driver ---
    assert.deepEqual(await githubProviders(iam), [PROVIDER_ARN], "one GitHub provider (beside the cluster's own IRSA issuer)");
    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER_ARN }));
    assert.deepEqual(provider.ClientIDList, ['sts.amazonaws.com']);
    assert.equal(provider.Tags?.find((t) => t.Key === 'encore.dev/env')?.Value, 'prod', 'made by this environment (so destroy may remove it)');

    const role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!;
    const trust = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)) as Any;
    assert.deepEqual(trust, JSON.parse(JSON.stringify(githubTrust({ oidcProviderArn: PROVIDER_ARN, repository: 'acme/shop', branch: 'main', environment: 'prod' }))));
    assert.deepEqual(trust.Statement[0].Condition.StringEquals, {
      [`${GITHUB}:aud`]: 'sts.amazonaws.com',
      [`${GITHUB}:sub`]: ['repo:acme/shop:ref:refs/heads/main', 'repo:acme/shop:environment:prod'],
    });
    const access = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'encore-access' }))).PolicyDocument!)) as Any;
    const stateBucket = `encore-state-${MOTO_ACCOUNT}-${TEST_REGION}`;
    assert.deepEqual(access.Statement.map((s: Any) => [s.Sid, s.Resource]), [
      ['RegistryToken', '*'],
      ['PushAppImage', `arn:aws:ecr:${TEST_REGION}:${MOTO_ACCOUNT}:repository/${graph.resources.find((r) => r.id === 'aws:ecr')!.name}`],
      ['DescribeCluster', `arn:aws:eks:${TEST_REGION}:${MOTO_ACCOUNT}:cluster/${cluster}`],
      ['StateBucket', `arn:aws:s3:::${stateBucket}`],
      ['StateAndHistory', ['state.json', 'journal.jsonl', 'deploys.json'].map((o) => `arn:aws:s3:::${stateBucket}/environments/prod/${o}`)],
      ['Lock', `arn:aws:s3:::${stateBucket}/environments/prod/lock.json`],
    ], "the app's repository, its cluster, its state: the ARNs moto gave, resolved into the policy");

    const entry = (await eks.send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn: role.Arn }))).accessEntry!;
    assert.equal(entry.principalArn, role.Arn);
    assert.equal(entry.tags?.['encore.dev/env'], 'prod');
    const associated = (await eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn: role.Arn }))).associatedAccessPolicies!;
    assert.deepEqual(associated.map((p) => [p.policyArn, p.accessScope?.type, p.accessScope?.namespaces]), [
      ['arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy', 'namespace', ['prod']],
    ], 'edit rights in the environment namespace only');

    const again = await planChanges(graph, await backend.load(), opened.driver);
    assert.deepEqual(again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${e.action} ${JSON.stringify(e.changes)}`), [], 'a re-plan changes nothing');

    // --- setup-ci: the workflow names the role the apply made (from state), and passes actionlint ---
    const written = io();
    assert.equal(await runDeployCommand('setup-ci', ['--env', 'prod', app], written), EXIT.ok, written.stderr());
    const file = path.join(app, workflowPath('prod'));
    const expected = await deployWorkflow({ environment: 'prod', branch: 'main', appPath: '.', encoreVersion: MIN_ENCORE_VERSION, cloud: { kind: 'aws', roleArn: role.Arn!, region: TEST_REGION } });
    assert.equal(readFileSync(file, 'utf8'), expected);
    assert.match(expected, new RegExp(`role-to-assume: ${role.Arn!.replace(/[/.]/g, '\\$&')}\\n`));
    assert.match(written.stdout(), /its trust allows only acme\/shop on main or in the GitHub environment "prod"/);
    assert.match(written.stdout(), /No secret is stored/);
    const lint = await runActionlint([workflowPath('prod')], { cwd: app });
    assert.deepEqual(lint, { code: 0, output: '' });

    // --- GitHub's OIDC path: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, through the SDK's fromTokenFile ---
    const home = bed.awsHome({});
    const assume = async (claims: Record<string, unknown>, endpoint = bed.endpoint) => {
      const token = home.file(`token-${Math.random().toString(36).slice(2)}.jwt`, githubToken(claims));
      home.use({ AWS_ROLE_ARN: role.Arn, AWS_WEB_IDENTITY_TOKEN_FILE: token, AWS_ROLE_SESSION_NAME: 'encore-deploy-prod', AWS_ENDPOINT_URL: endpoint, AWS_REGION: TEST_REGION });
      const credentials = await fromTokenFile({ clientConfig: { region: TEST_REGION } })();
      const client = new STSClient({ region: TEST_REGION, endpoint, credentials });
      try {
        return (await client.send(new GetCallerIdentityCommand({}))).Arn;
      } finally {
        client.destroy();
      }
    };
    const aud = 'sts.amazonaws.com';
    assert.equal(await assume({ aud, sub: 'repo:acme/shop:environment:prod' }), `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/${roleName}/encore-deploy-prod`, "the workflow's job assumes the role");
    assert.equal(await assume({ aud, sub: 'repo:acme/shop:ref:refs/heads/main' }), `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/${roleName}/encore-deploy-prod`);
    for (const [why, claims, error] of [
      ["a fork's run", { aud, sub: 'repo:mallory/shop:ref:refs/heads/main' }, /AccessDenied|Not authorized/],
      ['another branch', { aud, sub: 'repo:acme/shop:ref:refs/heads/feature' }, /Not authorized/],
      ['a pull request', { aud, sub: 'repo:acme/shop:pull_request' }, /Not authorized/],
      ['the wrong audience', { aud: 'https://github.com/acme', sub: 'repo:acme/shop:environment:prod' }, /Incorrect token audience/],
      ['an expired token', { aud, sub: 'repo:acme/shop:environment:prod', exp: Math.floor(Date.now() / 1000) - 60 }, /expired/i],
    ] as const) {
      await assert.rejects(assume(claims), (err: Error) => error.test(err.message), `refused: ${why}`);
    }
    // The gap the shim closes: moto itself lets a fork's token in (if this fails, moto now checks the trust itself).
    assert.equal(await assume({ aud, sub: 'repo:mallory/shop:ref:refs/heads/main' }, bed.motoEndpoint), `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/${roleName}/encore-deploy-prod`, "moto's STS accepts any token");
    // --- a deploy in CI, as the role: the cluster found by the name in state, never by listing the account's clusters ---
    // (the role may describe its own cluster only; moto does not enforce the role's policy, so the calls are checked)
    const ciToken = home.file('ci.jwt', githubToken({ aud, sub: 'repo:acme/shop:environment:prod' }));
    home.use({ AWS_ROLE_ARN: role.Arn, AWS_WEB_IDENTITY_TOKEN_FILE: ciToken, AWS_ROLE_SESSION_NAME: 'encore-deploy-prod', AWS_ENDPOINT_URL: bed.endpoint, AWS_REGION: TEST_REGION });
    const ci = await (await providerModule('aws')).open(env, { appRoot: app, timing: { pollIntervalMs: 30 } });
    try {
      const signal = new AbortController().signal;
      assert.equal((await ci.identity(signal)).principal, `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/${roleName}/encore-deploy-prod`, 'the CI acts as the deploy role');
      const seen = bed.shim.callsTo('eks').length;
      await (ci.driver as ComposedDriver).clusterClient(signal);
      assert.deepEqual(bed.shim.callsTo('eks').slice(seen).map((c) => `${c.action} ${c.resource ?? ''}`), [`DescribeCluster ${cluster}`]);
      assert.ok(bed.shim.callsTo('s3', 'GetObject').some((c) => c.path.endsWith('/environments/prod/state.json')), 'the name came from state');
    } finally {
      await ci.dispose();
    }

    // Back to the developer for the destroy.
    bed.awsHome({ config: `[profile shop]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`, credentials: `[shop]\naws_access_key_id = ${me.credentials.accessKeyId}\naws_secret_access_key = ${me.credentials.secretAccessKey}\n` }).use();

    // --- destroy: the provider goes too, since this environment made it and no other role trusts it ---
    const gone = await destroy('prod', 'aws', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.deepEqual(await githubProviders(iam), []);
    assert.deepEqual(((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName).filter((n) => n === roleName), []);
  } finally {
    for (const c of [iam, eks, sts]) c.destroy();
    await opened.dispose();
  }
});

test("an account's own GitHub OIDC provider is adopted only when confirmed, gets STS's audience, and is left on destroy", { timeout: 300_000 }, async () => {
  const me = await deployer(bed, secrets);
  const iam = new IAMClient(clientConfig(me.credentials));
  const theirs = await iam.send(new CreateOpenIDConnectProviderCommand({ Url: `https://${GITHUB}`, ClientIDList: ['https://github.com/acme'], ThumbprintList: ['6938fd4d98bab03faadb97b34396831e3780aea1'] }));
  assert.equal(theirs.OpenIDConnectProviderArn, PROVIDER_ARN);
  const graph = ciGraph(desiredGraph(model(), env, { appId: 'sample-app', ciRepository: 'acme/shop' }));
  const opened = await awsOnly();
  const backend = await awsStateBackend(opened.driver, 'prod');
  try {
    await assert.rejects(apply(graph, { backend, driver: opened.driver }), (err: unknown) => isEngineError(err) && err.code === 'adoption-required' && /AWS::IAM::OIDCProvider token\.actions\.githubusercontent\.com/.test(err.message));
    assert.deepEqual((await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER_ARN }))).ClientIDList, ['https://github.com/acme'], 'nothing changed before the adoption was confirmed');

    const applied = await apply(graph, { backend, driver: opened.driver, adopt: [AWS_CI_IDENTITY.oidcProviderId], retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    assert.deepEqual(applied.plan.foreignAdoptions, [AWS_CI_IDENTITY.oidcProviderId]);
    const adopted = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER_ARN }));
    assert.deepEqual([...adopted.ClientIDList!].sort(), ['https://github.com/acme', 'sts.amazonaws.com'], "STS's audience added, the account's own kept");
    assert.deepEqual(adopted.Tags ?? [], [], 'not tagged: it never becomes this environment\'s');
    assert.deepEqual(await githubProviders(iam), [PROVIDER_ARN], 'no second provider');
    const roleName = graph.resources.find((r) => r.id === AWS_CI_IDENTITY.roleId)!.name;
    const role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!;
    assert.equal((JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)) as Any).Statement[0].Principal.Federated, PROVIDER_ARN, "the role trusts the account's provider");

    const gone = await destroy('prod', 'aws', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.ok(gone.plan.entries.some((e) => e.id === AWS_CI_IDENTITY.oidcProviderId && e.leave), 'destroy plans to leave it');
    const left = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER_ARN }));
    assert.ok(left.ClientIDList?.includes('https://github.com/acme'), "the account's provider is still there");
    await assert.rejects(iam.send(new GetRoleCommand({ RoleName: roleName })), /NoSuchEntity|cannot be found/, 'the role is gone');
  } finally {
    iam.destroy();
    await opened.dispose();
  }
});

test('a GitHub OIDC provider this environment made stays on destroy while another role still trusts it', { timeout: 300_000 }, async () => {
  const me = await deployer(bed, secrets);
  const iam = new IAMClient(clientConfig(me.credentials));
  const graph = ciGraph(desiredGraph(model(), env, { appId: 'sample-app', ciRepository: 'acme/shop' }));
  const opened = await awsOnly();
  const backend = await awsStateBackend(opened.driver, 'prod');
  try {
    const applied = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    // Another project's role in the account came to trust the same provider.
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: PROVIDER_ARN }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${GITHUB}:sub`]: 'repo:acme/other:ref:refs/heads/main' } } }] };
    await iam.send(new CreateRoleCommand({ RoleName: 'other-project-deploy', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const events: ProgressEvent[] = [];
    const gone = await destroy('prod', 'aws', { backend, driver: opened.driver, confirm: 'prod', onProgress: (e) => events.push(e), retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.deepEqual(await githubProviders(iam), [PROVIDER_ARN], 'the provider stays');
    assert.ok(events.some((e) => /the GitHub OIDC provider stays: other-project-deploy still trusts it/.test(e.message)), JSON.stringify(events.map((e) => e.message)));
    await assert.rejects(iam.send(new GetRoleCommand({ RoleName: graph.resources.find((r) => r.id === AWS_CI_IDENTITY.roleId)!.name })), /NoSuchEntity|cannot be found/, "this environment's role is gone");
  } finally {
    iam.destroy();
    await opened.dispose();
  }
});
