// The AWS credential chain and identity (src/provisioning/providers/aws/), with temporary AWS config folders, through
// the real SDK providers and clients against moto (behind the shim, whose call log shows where each call went).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { openAwsConnection, type AwsConnectionOptions } from '../../src/provisioning/providers/aws/connection';
import { isAwsError, type AwsError } from '../../src/provisioning/providers/aws/errors';
import { callerIdentity } from '../../src/provisioning/providers/aws/identity';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { githubToken } from '../aws/webIdentityTrust';

let bed: AwsTestbed;
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

before(async () => {
  bed = await startAwsTestbed();
});
afterEach(async () => bed.afterEach());
after(async () => bed?.stop());

const identity = async (options: AwsConnectionOptions) => callerIdentity(await openAwsConnection({ region: TEST_REGION, ...options }));

/** Asserts the promise fails with an AwsError of `problem` whose message never holds a secret. */
async function refused(promise: Promise<unknown>, problem: AwsError['problem'], message?: RegExp): Promise<AwsError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(isAwsError(caught), `expected an AwsError (${problem}), got ${String(caught)}`);
  assert.equal(caught.problem, problem, caught.message);
  if (message) assert.match(caught.message, message);
  for (const secret of [SECRET, 'sso-access-token', 'process-secret', 'web-identity-jwt']) assert.ok(!caught.message.includes(secret), `the message holds a secret: ${caught.message}`);
  return caught;
}

const staticProfile = (name: string) => `[${name}]\naws_access_key_id = ${KEY}\naws_secret_access_key = ${SECRET}\n`;

test('static keys of a named profile, and that profile\'s endpoint_url, with AWS_PROFILE unset', async () => {
  const home = bed.awsHome({ config: `[profile dev]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`, credentials: staticProfile('dev') });
  home.use();
  const who = await identity({ profile: 'dev', region: undefined });
  assert.equal(who.account, MOTO_ACCOUNT);
  assert.equal(who.region, TEST_REGION, 'the region comes from the profile when the environment has none');
  assert.equal(who.source, 'profile dev (access keys)');
  assert.deepEqual(bed.shim.callsTo('sts').map((c) => c.action), ['GetCallerIdentity']);
});

test('environment variables, and AWS_ENDPOINT_URL, when the environment names no profile', async () => {
  bed.awsHome({}).use({ AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_ENDPOINT_URL: bed.endpoint });
  const who = await identity({});
  assert.equal(who.source, 'environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  assert.equal(bed.shim.callsTo('sts', 'GetCallerIdentity').length, 1);
});

test('a named profile wins over AWS_ACCESS_KEY_ID (as aws --profile); a profile this machine lacks falls back to the variables (CI)', async () => {
  const home = bed.awsHome({ config: `[profile dev]\nendpoint_url = ${bed.endpoint}\n`, credentials: staticProfile('dev') });
  home.use({ AWS_ACCESS_KEY_ID: 'AKIAOTHERACCOUNT0000', AWS_SECRET_ACCESS_KEY: 'other', AWS_ENDPOINT_URL: bed.endpoint });
  assert.equal((await identity({ profile: 'dev' })).source, 'profile dev (access keys)');
  assert.equal((await identity({ profile: 'ci-only' })).source, 'environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
});

test('a missing profile says which, where it looked, and what there is', async () => {
  const home = bed.awsHome({ config: `[profile dev]\nregion = ${TEST_REGION}\n`, credentials: staticProfile('dev') });
  home.use();
  const err = await refused(identity({ profile: 'prod' }), 'profile-not-found', /"prod".*profiles there: dev.*aws configure sso --profile prod/);
  assert.ok(err.message.includes(home.configFile) && err.message.includes(home.credentialsFile));
  assert.equal(bed.shim.calls.length, 0);
});

test('role_arn + source_profile: the inner STS call goes to the profile\'s endpoint too', async () => {
  const config = [
    `[profile deploy]\nrole_arn = arn:aws:iam::${MOTO_ACCOUNT}:role/deployer\nsource_profile = base\nrole_session_name = encore-test\nendpoint_url = ${bed.endpoint}\n`,
    `[profile base]\nendpoint_url = ${bed.endpoint}\n`,
  ].join('');
  bed.awsHome({ config, credentials: staticProfile('base') }).use();
  const who = await identity({ profile: 'deploy' });
  assert.equal(who.arn, `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/deployer/encore-test`);
  assert.equal(who.source, 'profile deploy (assumed role)');
  assert.deepEqual(bed.shim.callsTo('sts').map((c) => c.action), ['AssumeRole', 'GetCallerIdentity']);
});

test('role_arn with mfa_serial asks the front end for the code once; no code is a clear refusal', async () => {
  const config = `[profile admin]\nrole_arn = arn:aws:iam::${MOTO_ACCOUNT}:role/admin\nsource_profile = base\nmfa_serial = arn:aws:iam::${MOTO_ACCOUNT}:mfa/alice\nendpoint_url = ${bed.endpoint}\n[profile base]\n`;
  bed.awsHome({ config, credentials: staticProfile('base') }).use();
  const asked: { profile: string; serial: string }[] = [];
  const connection = await openAwsConnection({ profile: 'admin', region: TEST_REGION, mfaCode: async (request) => (asked.push(request), '123456') });
  await Promise.all([callerIdentity(connection), callerIdentity(connection)]);
  assert.deepEqual(asked, [{ profile: 'admin', serial: `arn:aws:iam::${MOTO_ACCOUNT}:mfa/alice` }]);
  assert.equal(bed.shim.callsTo('sts', 'AssumeRole').length, 1);

  await refused(identity({ profile: 'admin', mfaCode: async () => undefined }), 'mfa-required', /MFA device arn:aws:iam::123456789012:mfa\/alice.*none was entered/);
});

const ssoConfig = (endpoint: string) => [
  `[profile sso]\nsso_session = corp\nsso_account_id = ${MOTO_ACCOUNT}\nsso_role_name = Developer\nregion = ${TEST_REGION}\nendpoint_url = ${endpoint}\n`,
  '[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n',
].join('');
/** Where the SDK (and the CLI) cache an sso-session login: ~/.aws/sso/cache/<sha1 of the session name>.json. */
const ssoCacheFile = (session: string) => path.join('.aws', 'sso', 'cache', `${createHash('sha1').update(session).digest('hex')}.json`);

test('IAM Identity Center with no login: the error says so and carries the aws sso login command', async () => {
  bed.awsHome({ config: ssoConfig(bed.endpoint) }).use();
  const err = await refused(identity({ profile: 'sso' }), 'sso-login', /sign-in for profile sso.*was not found.*aws sso login --profile sso/);
  assert.deepEqual(err.action, { kind: 'run-in-terminal', title: 'Sign in (aws sso login)', command: 'aws', args: ['sso', 'login', '--profile', 'sso'] });
  assert.equal(bed.shim.calls.length, 0);
});

test('IAM Identity Center with an expired login: the error says it expired', async () => {
  const home = bed.awsHome({ config: ssoConfig(bed.endpoint) });
  home.file(ssoCacheFile('corp'), JSON.stringify({ accessToken: 'sso-access-token', expiresAt: new Date(Date.now() - 3600_000).toISOString(), region: 'eu-west-1', startUrl: 'https://corp.awsapps.com/start' }));
  home.use();
  const err = await refused(identity({ profile: 'sso' }), 'sso-login', /has expired.*aws sso login --profile sso/);
  assert.equal(err.action?.args.join(' '), 'sso login --profile sso');
});

test('IAM Identity Center with a valid login: the portal\'s role credentials are used', async () => {
  const home = bed.awsHome({ config: ssoConfig(bed.endpoint) });
  home.file(ssoCacheFile('corp'), JSON.stringify({ accessToken: 'sso-access-token', expiresAt: new Date(Date.now() + 3600_000).toISOString(), region: 'eu-west-1', startUrl: 'https://corp.awsapps.com/start' }));
  home.use();
  bed.shim.sso.grant({ accessToken: 'sso-access-token', accountId: MOTO_ACCOUNT, roleName: 'Developer', credentials: { accessKeyId: 'ASIASSOEXAMPLE000000', secretAccessKey: 'sso-secret', sessionToken: 'sso-session' } });
  const who = await identity({ profile: 'sso' });
  assert.equal(who.source, 'profile sso (IAM Identity Center)');
  assert.deepEqual(bed.shim.calls.map((c) => `${c.service} ${c.action} ${c.status}`), ['sso GetRoleCredentials 200', 'sts GetCallerIdentity 200']);
});

test('credential_process', async () => {
  const home = bed.awsHome({});
  const script = home.file('creds.js', `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: '${KEY}', SecretAccessKey: 'process-secret' }));\n`);
  writeFileSync(home.configFile, `[profile proc]\ncredential_process = ${process.execPath} ${script}\nendpoint_url = ${bed.endpoint}\n`);
  home.use();
  const who = await identity({ profile: 'proc' });
  assert.equal(who.source, 'profile proc (credential_process)');
  assert.equal(who.account, MOTO_ACCOUNT);
});

test('web_identity_token_file in a profile, and AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (GitHub OIDC)', async () => {
  // The shim decides the assumption from the role's trust (moto accepts any token): a provider and two roles that trust it.
  const iam = new IAMClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'bootstrap' } });
  const provider = (await iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://token.actions.githubusercontent.com', ClientIDList: ['sts.amazonaws.com'], ThumbprintList: ['6938fd4d98bab03faadb97b34396831e3780aea1'] }))).OpenIDConnectProviderArn!;
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' } } }] });
  for (const name of ['ci', 'gha']) await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  iam.destroy();
  const home = bed.awsHome({});
  const token = home.file('token.jwt', githubToken({ aud: 'sts.amazonaws.com', sub: 'repo:acme/shop:ref:refs/heads/main' }));
  writeFileSync(home.configFile, `[profile oidc]\nrole_arn = arn:aws:iam::${MOTO_ACCOUNT}:role/ci\nweb_identity_token_file = ${token}\nrole_session_name = ci-run\nendpoint_url = ${bed.endpoint}\n`);
  home.use();
  const fromProfile = await identity({ profile: 'oidc' });
  assert.equal(fromProfile.arn, `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/ci/ci-run`);
  assert.equal(fromProfile.source, 'profile oidc (web identity)');

  home.use({ AWS_ROLE_ARN: `arn:aws:iam::${MOTO_ACCOUNT}:role/gha`, AWS_WEB_IDENTITY_TOKEN_FILE: token, AWS_ROLE_SESSION_NAME: 'gha-run', AWS_ENDPOINT_URL: bed.endpoint });
  writeFileSync(home.configFile, '');
  const fromEnv = await identity({});
  assert.match(fromEnv.arn, new RegExp(`^arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/gha/`));
  assert.match(fromEnv.source, /^web identity \(AWS_ROLE_ARN arn:aws:iam::123456789012:role\/gha/);
  assert.deepEqual(bed.shim.callsTo('sts').map((c) => c.action), ['AssumeRoleWithWebIdentity', 'GetCallerIdentity', 'AssumeRoleWithWebIdentity', 'GetCallerIdentity']);
});

test('AWS_ENDPOINT_URL_<SERVICE> and a [services] section point one service elsewhere, as the SDK reads them', async () => {
  const config = `[profile split]\nservices = local\nendpoint_url = http://127.0.0.1:9\n[services local]\nsts =\n  endpoint_url = ${bed.endpoint}\n`;
  bed.awsHome({ config, credentials: staticProfile('split') }).use();
  const connection = await openAwsConnection({ profile: 'split', region: TEST_REGION });
  assert.deepEqual(connection.endpoint('STS'), { url: bed.endpoint, from: 'profile split services sts.endpoint_url' });
  assert.deepEqual(connection.endpoint('EC2'), { url: 'http://127.0.0.1:9', from: 'profile split endpoint_url' });
  await callerIdentity(connection);
  // EC2 goes to the profile's endpoint_url (nothing listens on port 9): refused, and the error says where it went.
  const ec2 = new EC2Client({ ...connection.clientConfig('EC2'), maxAttempts: 1 });
  await refused(connection.call('EC2', 'CreateVpc', () => ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))), 'unreachable', /EC2 CreateVpc could not reach http:\/\/127\.0\.0\.1:9 \(from profile split endpoint_url\): nothing listens there/);

  bed.awsHome({ config, credentials: staticProfile('split') }).use({ AWS_ENDPOINT_URL_EC2: bed.endpoint });
  const overridden = await openAwsConnection({ profile: 'split', region: TEST_REGION });
  assert.deepEqual(overridden.endpoint('EC2'), { url: bed.endpoint, from: 'AWS_ENDPOINT_URL_EC2' });
});

test('with no endpoint configured nothing reaches AWS here: the call fails on DNS, and says so', async () => {
  bed.awsHome({ credentials: staticProfile('real') }).use();
  const connection = await openAwsConnection({ profile: 'real', region: TEST_REGION });
  assert.equal(connection.endpoint('STS'), undefined);
  const err = await refused(callerIdentity(connection), 'unreachable', /could not reach sts\.eu-west-1\.amazonaws\.com: its host name does not resolve/);
  assert.match(err.awsCode ?? '', /ENOTFOUND|EAI_AGAIN/);
  assert.equal(bed.shim.calls.length, 0);
  // A region that does not exist is named as such.
  await refused(identity({ profile: 'real', region: 'eu-wst-1' }), 'unknown-region', /"eu-wst-1" is not an AWS region/);
});

test('no region anywhere is refused before any call', async () => {
  bed.awsHome({ credentials: staticProfile('dev') }).use();
  await refused(openAwsConnection({ profile: 'dev' }), 'no-region', /No AWS region is set/);
});

test('AWS errors explained: expired session, access denied with action and resource, an opt-in region not enabled', async () => {
  bed.awsHome({ config: `[profile dev]\nendpoint_url = ${bed.endpoint}\n`, credentials: staticProfile('dev') }).use();
  bed.shim.addFault({ service: 'sts', action: 'GetCallerIdentity', nth: 1, fault: 'error', error: { status: 400, code: 'ExpiredToken', message: 'The security token included in the request is expired' } });
  await refused(identity({ profile: 'dev' }), 'expired-credentials', /have expired \(ExpiredToken\)/);

  const connection = await openAwsConnection({ profile: 'dev', region: TEST_REGION });
  const denied = 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ec2:CreateVpc on resource: arn:aws:ec2:eu-west-1:123456789012:vpc/* because no identity-based policy allows the ec2:CreateVpc action';
  bed.shim.addFault({ service: 'ec2', action: 'CreateVpc', fault: 'error', error: { status: 403, code: 'UnauthorizedOperation', message: `You are not authorized to perform this operation. ${denied}. Encoded authorization failure message: abc` } });
  const ec2 = new EC2Client(connection.clientConfig('EC2'));
  const err = await refused(connection.call('EC2', 'CreateVpc', () => ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))), 'access-denied');
  assert.deepEqual(err.denied, { action: 'ec2:CreateVpc', resource: 'arn:aws:ec2:eu-west-1:123456789012:vpc/*', principal: 'arn:aws:iam::123456789012:user/dev' });
  assert.match(err.message, /^arn:aws:iam::123456789012:user\/dev is not allowed to do ec2:CreateVpc on arn:aws:ec2:eu-west-1:123456789012:vpc\/\* \(UnauthorizedOperation\)/);
  assert.equal(err.code, 'forbidden');

  bed.shim.addFault({ service: 'sts', fault: 'error', error: { status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' } });
  await refused(identity({ profile: 'dev', region: 'af-south-1' }), 'region-not-enabled', /af-south-1 is an opt-in region/);
  await refused(identity({ profile: 'dev', region: 'eu-west-1' }), 'invalid-credentials', /access key is not valid/);
});
