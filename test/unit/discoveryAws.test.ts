// AWS profile discovery on realistic shared config and credentials files (SSO sessions, legacy SSO, roles with
// source_profile and credential_source, credential_process, web identity, static keys), and the INI rules under it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { discoverAwsProfiles } from '../../src/provisioning/providers/aws/discovery';
import { parseIni } from '../../src/provisioning/providers/ini';
import { AWS_REGIONS } from '../../src/provisioning/providers/regions';
import type { AwsProfile } from '../../src/model/discovery';
import schema from '../../schemas/encore.environments.schema.json';

const home = mkdtempSync(path.join(os.tmpdir(), 'discovery-aws-'));
after(() => rmSync(home, { recursive: true, force: true }));
mkdirSync(path.join(home, '.aws'));
const configFile = path.join(home, '.aws', 'config');
const credentialsFile = path.join(home, '.aws', 'credentials');

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SESSION = 'FwoGZXIvYXdzEJr//////////wEaDEXAMPLETOKEN';

writeFileSync(
  configFile,
  `# Jane's AWS config
[default]
region = eu-west-1
output = json

[profile dev.admin]
sso_session = acme
sso_account_id = 111122223333
sso_role_name = AdministratorAccess
region = eu-central-1

[sso-session acme]
sso_start_url = https://acme.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile legacy-sso]
sso_start_url = https://acme.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = ReadOnly

[profile sso-no-session]
sso_session = nope
sso_account_id = 111122223333
sso_role_name = ReadOnly

[profile sso-sign-in-only]
sso_session = acme

[profile prod-deployer]
role_arn = arn:aws:iam::444455556666:role/Deployer
source_profile = default
mfa_serial = arn:aws:iam::111122223333:mfa/jane
region = us-east-1   ; where prod lives

[profile ci]
role_arn = arn:aws:iam::444455556666:role/CI
credential_source = Ec2InstanceMetadata

[profile ci-typo]
role_arn = arn:aws:iam::444455556666:role/CI
credential_source = Ec2Metadata

[profile orphan-role]
role_arn = arn:aws:iam::444455556666:role/Orphan

[profile chained]
role_arn = arn:aws:iam::444455556666:role/Chained
source_profile = orphan-role

[profile loop-a]
role_arn = arn:aws:iam::444455556666:role/A
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::444455556666:role/B
source_profile = loop-a

[profile vault]
credential_process = /usr/local/bin/aws-vault exec work --json
region = us-west-2

[profile eks-pod]
role_arn = arn:aws:iam::444455556666:role/Pod
web_identity_token_file = /var/run/secrets/eks.amazonaws.com/serviceaccount/token

[profile region-only]
region = ap-southeast-2

[profile s3tuned]
s3 =
  max_concurrent_requests = 20
  multipart_threshold = 64MB
region = eu-north-1

[work]
region = eu-west-2

[services local-s3]
s3 =
  endpoint_url = http://localhost:9000
`,
);

writeFileSync(
  credentialsFile,
  `[default]
aws_access_key_id = ${KEY_ID}
aws_secret_access_key = ${SECRET}

[temp]
aws_access_key_id = ASIAIOSFODNN7EXAMPLE
aws_secret_access_key = ${SECRET}
aws_session_token = ${SESSION}

[half]
aws_access_key_id = ${KEY_ID}

[s3tuned]
AWS_ACCESS_KEY_ID=${KEY_ID}
AWS_SECRET_ACCESS_KEY=${SECRET}

pasted by mistake ${SECRET}
`,
);

const byName = (profiles: AwsProfile[]) => new Map(profiles.map((p) => [p.name, p]));

test('every profile of both files, with its kind, region and sources; [sso-session] and [services] are not profiles', async () => {
  const found = await discoverAwsProfiles({ homedir: home, env: {} });
  assert.equal(found.configFile, configFile);
  assert.equal(found.credentialsFile, credentialsFile);
  const summary = found.profiles.map((p) => [p.name, p.kind, p.region ?? '-', p.skipped ? 'skipped' : 'usable']);
  assert.deepEqual(summary, [
    ['default', 'static-keys', 'eu-west-1', 'usable'],
    ['dev.admin', 'sso', 'eu-central-1', 'usable'],
    ['legacy-sso', 'sso', '-', 'usable'],
    ['sso-no-session', 'sso', '-', 'skipped'],
    ['sso-sign-in-only', 'sso', '-', 'skipped'],
    ['prod-deployer', 'role', 'us-east-1', 'usable'],
    ['ci', 'role', '-', 'usable'],
    ['ci-typo', 'role', '-', 'skipped'],
    ['orphan-role', 'role', '-', 'skipped'],
    ['chained', 'role', '-', 'skipped'],
    ['loop-a', 'role', '-', 'skipped'],
    ['loop-b', 'role', '-', 'skipped'],
    ['vault', 'process', 'us-west-2', 'usable'],
    ['eks-pod', 'web-identity', '-', 'usable'],
    ['region-only', 'unknown', 'ap-southeast-2', 'skipped'],
    ['s3tuned', 'static-keys', 'eu-north-1', 'usable'],
    ['temp', 'static-keys', '-', 'usable'],
    ['half', 'static-keys', '-', 'skipped'],
  ]);
  const p = byName(found.profiles);
  assert.deepEqual(p.get('default')?.sources, [configFile, credentialsFile]);
  assert.deepEqual(p.get('temp')?.sources, [credentialsFile]);
  assert.equal(p.get('temp')?.hasSessionToken, true);
  assert.equal(p.get('default')?.hasSessionToken, false);
  assert.equal(p.get('dev.admin')?.ssoSession, 'acme');
  assert.equal(p.get('prod-deployer')?.sourceProfile, 'default');
  assert.equal(p.get('ci')?.credentialSource, 'Ec2InstanceMetadata');
  assert.equal(p.get('default')?.active, true);
  assert.equal(found.profiles.filter((x) => x.active).length, 1);
});

test('a skipped profile says exactly why', async () => {
  const p = byName((await discoverAwsProfiles({ homedir: home, env: {} })).profiles);
  assert.equal(p.get('sso-no-session')?.skipped, 'its sso_session "nope" has no [sso-session nope] section in the config file');
  assert.equal(p.get('sso-sign-in-only')?.skipped, 'it lacks sso_account_id and sso_role_name: it can sign in but names no account role to use');
  assert.equal(p.get('ci-typo')?.skipped, 'credential_source "Ec2Metadata" is not one of Environment, Ec2InstanceMetadata, EcsContainer');
  assert.equal(p.get('orphan-role')?.skipped, 'role_arn without source_profile or credential_source: there are no credentials to assume the role with');
  assert.equal(
    p.get('chained')?.skipped,
    'its source_profile "orphan-role" cannot be used: role_arn without source_profile or credential_source: there are no credentials to assume the role with',
  );
  assert.match(p.get('loop-a')?.skipped ?? '', /chain loops: loop-a → loop-b → loop-a/);
  assert.match(p.get('region-only')?.skipped ?? '', /^no credentials:/);
  assert.equal(p.get('half')?.skipped, 'aws_access_key_id without aws_secret_access_key');
});

test('problems name the file and line of what is not understood, and never echo its text', async () => {
  const found = await discoverAwsProfiles({ homedir: home, env: {} });
  const lineOf = (file: string, start: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith(start)) + 1;
  assert.deepEqual(found.problems, [
    `${configFile} line ${lineOf(configFile, '[work]')}: [work] is not read as a profile; in the config file write [profile work]`,
    `${credentialsFile}: line ${lineOf(credentialsFile, 'pasted by mistake')} is neither a [section] nor a "key = value" line`,
  ]);
});

test('no key material leaves discovery: not in profiles, not in problems', async () => {
  const text = JSON.stringify(await discoverAwsProfiles({ homedir: home, env: {} }));
  for (const secret of [SECRET, KEY_ID, SESSION, 'ASIAIOSFODNN7EXAMPLE']) assert.ok(!text.includes(secret), secret);
});

test('AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE (with ~) and AWS_PROFILE are honoured', async () => {
  const other = path.join(home, 'elsewhere');
  mkdirSync(other, { recursive: true });
  writeFileSync(path.join(other, 'cfg'), '[profile team]\nregion = us-east-2\ncredential_process = /opt/bin/creds\n');
  writeFileSync(path.join(other, 'creds'), '[solo]\naws_access_key_id = A\naws_secret_access_key = B\n');
  const found = await discoverAwsProfiles({
    homedir: home,
    env: { AWS_CONFIG_FILE: path.join(other, 'cfg'), AWS_SHARED_CREDENTIALS_FILE: '~/elsewhere/creds', AWS_PROFILE: 'team' },
  });
  assert.equal(found.credentialsFile, path.join(other, 'creds'));
  assert.deepEqual(
    found.profiles.map((p) => [p.name, p.kind, p.active]),
    [
      ['team', 'process', true],
      ['solo', 'static-keys', false],
    ],
  );
  assert.deepEqual(found.problems, []);
});

test('only a config file is fine; no files at all is one clear problem', async () => {
  const onlyConfig = mkdtempSync(path.join(os.tmpdir(), 'discovery-aws-only-'));
  after(() => rmSync(onlyConfig, { recursive: true, force: true }));
  mkdirSync(path.join(onlyConfig, '.aws'));
  writeFileSync(path.join(onlyConfig, '.aws', 'config'), '[profile sso]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n');
  const found = await discoverAwsProfiles({ homedir: onlyConfig, env: {} });
  assert.deepEqual(found.problems, []);
  assert.deepEqual(found.profiles.map((p) => [p.name, p.kind, p.skipped]), [['sso', 'sso', undefined]]);

  const empty = mkdtempSync(path.join(os.tmpdir(), 'discovery-aws-none-'));
  after(() => rmSync(empty, { recursive: true, force: true }));
  const none = await discoverAwsProfiles({ homedir: empty, env: {} });
  assert.deepEqual(none.profiles, []);
  assert.equal(none.problems.length, 1);
  assert.match(none.problems[0], /^no AWS profiles: neither .* nor .* exists\. Run "aws configure sso"/);
});

test('a profile that is its own source_profile works only when it holds keys', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'discovery-aws-self-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'config'), '[profile self]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = self\n[profile self-nokeys]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = self-nokeys\n');
  writeFileSync(path.join(dir, 'credentials'), '[self]\naws_access_key_id = A\naws_secret_access_key = B\n');
  const found = await discoverAwsProfiles({ homedir: dir, env: { AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials') } });
  assert.deepEqual(found.profiles.map((p) => [p.name, p.kind, p.skipped]), [
    ['self', 'role', undefined],
    ['self-nokeys', 'role', 'it is its own source_profile but has no access keys'],
  ]);
});

test('the INI reader: dots in section names, continuation lines, lowercase keys, comments, repeated sections', () => {
  const ini = parseIni('\uFEFF; top\n[profile a.b]\nRegion = eu-west-1 # Ireland\nurl = http://x/#frag\ns3 =\n  k = 1\n  j = 2\n[profile a.b]\noutput: json\n\n[x]\n');
  assert.deepEqual(ini.problems, []);
  const section = ini.sections.get('profile a.b');
  assert.equal(section?.line, 2);
  assert.deepEqual(Object.fromEntries(section?.values ?? []), { region: 'eu-west-1', url: 'http://x/#frag', s3: 'k = 1\nj = 2', output: 'json' });
  assert.deepEqual([...ini.sections.keys()], ['profile a.b', 'x']);
  assert.deepEqual(parseIni('key = 1\n[s]\n= v\n').problems, [
    { line: 1, message: 'line 1 sets a key before any [section]' },
    { line: 3, message: 'line 3 is neither a [section] nor a "key = value" line' },
  ]);
});

test('the AWS region list is well-formed and every id passes the schema', () => {
  const pattern = new RegExp((schema.definitions.environment.properties.provider.oneOf[0].properties as { region: { pattern: string } }).region.pattern);
  assert.ok(AWS_REGIONS.length >= 30);
  assert.equal(new Set(AWS_REGIONS.map((r) => r.id)).size, AWS_REGIONS.length);
  for (const r of AWS_REGIONS) {
    assert.match(r.id, pattern);
    assert.ok(r.name.length > 0);
  }
  assert.ok(AWS_REGIONS.some((r) => r.id === 'eu-west-1' && r.name === 'Europe (Ireland)'));
});
