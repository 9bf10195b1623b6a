// Endpoint precedence for the environment's own profile (endpoints.ts), and reading the shared files with the SDK's
// parser (sharedConfig.ts): what kind of credentials a profile has, its [services] section, credentials-file values
// winning, and nothing secret in what comes out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { configuredEndpoint } from '../../src/provisioning/providers/aws/endpoints';
import { endpointConfigKey, endpointEnvName } from '../../src/provisioning/providers/aws/services';
import { readSharedConfig, type ProfileSettings } from '../../src/provisioning/providers/aws/sharedConfig';

const profile = (overrides: Partial<ProfileSettings> = {}): ProfileSettings => ({
  name: 'dev', kind: 'static-keys', serviceEndpoints: new Map(), ignoreConfiguredEndpointUrls: false, ...overrides,
});

test('service ids map to the SDK\'s variable and config key names', () => {
  assert.equal(endpointEnvName('Secrets Manager'), 'AWS_ENDPOINT_URL_SECRETS_MANAGER');
  assert.equal(endpointEnvName('ElastiCache'), 'AWS_ENDPOINT_URL_ELASTICACHE');
  assert.equal(endpointConfigKey('Secrets Manager'), 'secrets_manager');
  assert.equal(endpointConfigKey('SSO OIDC'), 'sso_oidc');
});

test('precedence: service variable, AWS_ENDPOINT_URL, the services section, the profile\'s endpoint_url', () => {
  const p = profile({ endpointUrl: 'http://profile:1', serviceEndpoints: new Map([['eks', 'http://section:2']]) });
  const env = { AWS_ENDPOINT_URL_EKS: 'http://eks-var:3', AWS_ENDPOINT_URL: 'http://global-var:4' };
  assert.deepEqual(configuredEndpoint('EKS', p, env), { url: 'http://eks-var:3', from: 'AWS_ENDPOINT_URL_EKS' });
  assert.deepEqual(configuredEndpoint('S3', p, env), { url: 'http://global-var:4', from: 'AWS_ENDPOINT_URL' });
  assert.deepEqual(configuredEndpoint('EKS', p, {}), { url: 'http://section:2', from: 'profile dev services eks.endpoint_url' });
  assert.deepEqual(configuredEndpoint('S3', p, {}), { url: 'http://profile:1', from: 'profile dev endpoint_url' });
  assert.equal(configuredEndpoint('S3', profile(), {}), undefined);
  assert.equal(configuredEndpoint('S3', undefined, {}), undefined);
});

test('ignore_configured_endpoint_urls and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS switch it all off; the variable wins', () => {
  const p = profile({ endpointUrl: 'http://profile:1', ignoreConfiguredEndpointUrls: true });
  assert.equal(configuredEndpoint('S3', p, { AWS_ENDPOINT_URL: 'http://x:1' }), undefined);
  assert.equal(configuredEndpoint('S3', profile({ endpointUrl: 'http://profile:1' }), { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }), undefined);
  assert.deepEqual(configuredEndpoint('S3', p, { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' })?.url, 'http://profile:1');
});

test('a bad endpoint or a missing services section is refused with what to fix', () => {
  assert.throws(() => configuredEndpoint('S3', profile({ endpointUrl: 'localhost:4566' }), {}), /profile dev endpoint_url is "localhost:4566": an endpoint URL starts with http:\/\/ or https:\/\//);
  assert.throws(() => configuredEndpoint('S3', undefined, { AWS_ENDPOINT_URL: 'not a url' }), /AWS_ENDPOINT_URL is "not a url", which is not a URL/);
  assert.throws(() => configuredEndpoint('S3', profile({ missingServicesSection: 'local' }), {}), /no \[services local\] section/);
});

test('the shared files: kinds, the services section, credentials-file values win, no secrets in the settings', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-aws-config-'));
  try {
    writeFileSync(path.join(dir, 'config'), [
      '[default]', 'region = us-east-2',
      '[profile keys]', 'region = eu-west-1', 'services = local',
      '[profile role]', 'role_arn = arn:aws:iam::123456789012:role/r', 'source_profile = keys', 'mfa_serial = arn:aws:iam::123456789012:mfa/me',
      '[profile sso]', 'sso_session = corp', 'sso_account_id = 123456789012', 'sso_role_name = Dev',
      '[profile proc]', 'credential_process = /bin/echo', 'endpoint_url = http://127.0.0.1:4566',
      '[profile web]', 'role_arn = arn:aws:iam::123456789012:role/ci', 'web_identity_token_file = /tmp/t',
      '[profile empty]', 'region = eu-north-1',
      '[services local]', 'eks =', '  endpoint_url = http://127.0.0.1:1', 'secrets_manager =', '  endpoint_url = http://127.0.0.1:2',
      '[sso-session corp]', 'sso_start_url = https://x.awsapps.com/start', 'sso_region = eu-west-1', '',
    ].join('\n'));
    writeFileSync(path.join(dir, 'credentials'), '[keys]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = very-secret\nregion = eu-central-1\n');
    const config = await readSharedConfig({ AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials') }, dir);
    assert.deepEqual(config.profileNames, ['default', 'empty', 'keys', 'proc', 'role', 'sso', 'web']);
    const kinds = Object.fromEntries(config.profileNames.map((n) => [n, config.profile(n)!.kind]));
    assert.deepEqual(kinds, { default: 'none', empty: 'none', keys: 'static-keys', proc: 'process', role: 'assume-role', sso: 'sso', web: 'web-identity' });
    const keys = config.profile('keys')!;
    assert.equal(keys.region, 'eu-central-1', 'the credentials file wins, as in the SDK');
    assert.deepEqual([...keys.serviceEndpoints], [['eks', 'http://127.0.0.1:1'], ['secrets_manager', 'http://127.0.0.1:2']]);
    assert.equal(config.profile('role')!.mfaSerial, 'arn:aws:iam::123456789012:mfa/me');
    assert.equal(config.profile('sso')!.ssoSession, 'corp');
    assert.equal(config.profile('proc')!.endpointUrl, 'http://127.0.0.1:4566');
    assert.equal(config.profile('nope'), undefined);
    assert.equal(config.profile('__proto__'), undefined);
    assert.ok(!JSON.stringify(config.profileNames.map((n) => config.profile(n))).includes('very-secret'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
