// Application Default Credentials end to end with google-auth-library: temporary gcloud config folders and
// credential files, tokens exchanged with the test token server on 127.0.0.1 (test/gcp/tokenServer.ts), never
// with Google. Each credential type the provider accepts, the chain's order, and the refusals users meet.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { after, afterEach, before, describe, test } from 'node:test';
import { discoverAdc, loadAdc, projectDefaults } from '../../src/provisioning/providers/gcp/adc';
import { AdcMissingError, GcpCredentialsError } from '../../src/provisioning/providers/gcp/errors';
import type { GcloudEnvironment } from '../../src/provisioning/providers/gcp/gcloudConfig';
import { describeIdentity } from '../../src/provisioning/providers/gcp/identity';
import { gkeTokenValidator, tokenInfoValidator } from '../gcp/gkeTokenValidator';
import { localTransporter, watchConnections, type ConnectionWatch } from '../gcp/localGoogle';
import { startTokenServer, type TokenServer } from '../gcp/tokenServer';

let tokens: TokenServer;
let watch: ConnectionWatch;
let home: string;
const savedEnv = { ...process.env };

/** A fresh HOME with nothing in it, and the variables the chain reads, isolated from the machine's own. */
function environment(env: NodeJS.ProcessEnv = {}): GcloudEnvironment {
  const dir = mkdtempSync(path.join(home, 'home-'));
  return { env: { ...env }, homedir: dir, platform: 'linux' };
}

const ADC_VARIABLES = ['GOOGLE_APPLICATION_CREDENTIALS', 'CLOUDSDK_CONFIG', 'CLOUDSDK_ACTIVE_CONFIG_NAME', 'HOME'];

/** google-auth-library reads this process's environment: make it the test's (HOME too, for ~/.config/gcloud). */
function activate(environment: GcloudEnvironment): void {
  for (const name of ADC_VARIABLES) delete process.env[name];
  Object.assign(process.env, { HOME: environment.homedir }, environment.env);
}

function gcloudDir(environment: GcloudEnvironment, { activeConfig, properties }: { activeConfig?: string; properties?: Record<string, string> } = {}): string {
  const dir = environment.env.CLOUDSDK_CONFIG ?? path.join(environment.homedir, '.config', 'gcloud');
  mkdirSync(path.join(dir, 'configurations'), { recursive: true });
  if (activeConfig) writeFileSync(path.join(dir, 'active_config'), `${activeConfig}\n`);
  if (properties) writeFileSync(path.join(dir, 'configurations', `config_${activeConfig ?? 'default'}`), Object.values(properties).join('\n'));
  return dir;
}

function writeJson(file: string, json: unknown): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(json, null, 2), { mode: 0o600 });
  return file;
}

function serviceAccountKey(email: string, projectId: string): { json: Record<string, string>; privateKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = randomBytes(20).toString('hex');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  tokens.addServiceAccount({ email, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId });
  return {
    privateKey: privatePem,
    json: {
      type: 'service_account', project_id: projectId, private_key_id: keyId, private_key: privatePem, client_email: email,
      client_id: '1234567890', auth_uri: 'https://accounts.google.com/o/oauth2/auth', token_uri: `${tokens.url}/token`,
    },
  };
}

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'encore-gcp-adc-'));
  tokens = await startTokenServer();
  watch = watchConnections();
  // The metadata server is probed only where a test says so, and then at the token server.
  process.env.METADATA_SERVER_DETECTION = 'none';
  delete process.env.GCE_METADATA_HOST;
  for (const name of ['GOOGLE_APPLICATION_CREDENTIALS', 'CLOUDSDK_CONFIG', 'GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'CLOUDSDK_CORE_PROJECT', 'GOOGLE_CLOUD_QUOTA_PROJECT']) delete process.env[name];
});

afterEach(() => {
  for (const name of ADC_VARIABLES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

after(async () => {
  watch.stop();
  await tokens.stop();
  rmSync(home, { recursive: true, force: true });
  process.env = savedEnv;
});

describe('Application Default Credentials', () => {
  test('a user login from the gcloud folder: the email shown comes from the id token, the project and region from the active configuration', async () => {
    const env = environment({ CLOUDSDK_CONFIG: path.join(home, `cfg-${randomBytes(3).toString('hex')}`) });
    const dir = gcloudDir(env, {
      activeConfig: 'work',
      properties: { core: '[core]\naccount = someone-else@example.com\nproject = acme-prod', compute: '[compute]\nregion = europe-west1\nzone = europe-west1-b' },
    });
    const user = tokens.addUser({ email: 'dev@example.com' });
    writeJson(path.join(dir, 'application_default_credentials.json'), {
      type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken, quota_project_id: 'acme-billing',
    });

    activate(env);
    const adc = await loadAdc({ transporter: localTransporter(tokens.url) });
    assert.equal(adc.description.type, 'authorized_user');
    assert.equal(adc.description.origin, 'gcloud');
    assert.equal(adc.description.quotaProjectId, 'acme-billing');
    assert.ok(!JSON.stringify(adc.description).includes(user.refreshToken) && !JSON.stringify(adc.description).includes(user.clientSecret), 'the description holds no secret');

    const identity = await describeIdentity(adc);
    assert.deepEqual({ kind: identity.kind, email: identity.email, member: identity.member }, { kind: 'user', email: 'dev@example.com', member: 'user:dev@example.com' });
    assert.match(identity.label, /dev@example\.com \(gcloud application-default login\)/);

    const { token } = await adc.client.getAccessToken();
    assert.deepEqual(tokens.validate(token!), { email: 'dev@example.com', kind: 'user', scope: tokens.validate(token!)!.scope });
    assert.ok(tokens.requests.some((r) => r.path === '/token' && r.grantType === 'refresh_token'));

    const defaults = projectDefaults(adc.description, env);
    assert.deepEqual(defaults.project, { value: 'acme-prod', from: 'gcloud configuration "work" (core/project)' });
    assert.deepEqual(defaults.region, { value: 'europe-west1', from: 'gcloud configuration "work" (compute/region)' });
    assert.equal(defaults.gcloudAccount, 'someone-else@example.com', 'gcloud\'s own login is reported apart from the ADC account');
    assert.equal(defaults.configuration, 'work');
  });

  test('a user login without an id token: the email comes from the tokeninfo endpoint', async () => {
    const env = environment();
    const dir = gcloudDir(env);
    const user = tokens.addUser({ email: 'no-openid@example.com', idToken: false });
    writeJson(path.join(dir, 'application_default_credentials.json'), { type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken });
    activate(env);
    const adc = await loadAdc({ transporter: localTransporter(tokens.url) });
    const before = tokens.requests.filter((r) => r.path === '/tokeninfo').length;
    assert.equal((await describeIdentity(adc)).email, 'no-openid@example.com');
    assert.equal(tokens.requests.filter((r) => r.path === '/tokeninfo').length, before + 1);
  });

  test('GOOGLE_APPLICATION_CREDENTIALS wins over the gcloud file: a service account key made for the test', async () => {
    const env = environment();
    const dir = gcloudDir(env);
    const user = tokens.addUser({ email: 'ignored@example.com' });
    writeJson(path.join(dir, 'application_default_credentials.json'), { type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken });
    const email = 'deployer@acme-ci.iam.gserviceaccount.com';
    const { json, privateKey } = serviceAccountKey(email, 'acme-ci');
    env.env.GOOGLE_APPLICATION_CREDENTIALS = writeJson(path.join(env.homedir, 'keys', 'sa.json'), json);

    const before = tokens.requests.length;
    activate(env);
    const adc = await loadAdc({ transporter: localTransporter(tokens.url) });
    assert.equal(adc.description.origin, 'GOOGLE_APPLICATION_CREDENTIALS');
    assert.equal(adc.description.type, 'service_account');
    const identity = await describeIdentity(adc);
    assert.deepEqual({ kind: identity.kind, email: identity.email, member: identity.member }, { kind: 'service-account', email, member: `serviceAccount:${email}` });
    assert.equal(tokens.requests.length, before, 'a key\'s identity is read from the file, with no request');
    assert.equal(projectDefaults(adc.description, env).project?.value, 'acme-ci');
    assert.ok(!inspect(adc.description).includes(privateKey.slice(40, 80)), 'the private key is not in the description');

    // A token for the Kubernetes connection or the registry: the jwt-bearer grant, the assertion signed by the key.
    const { token } = await adc.client.getAccessToken();
    assert.equal(tokens.validate(token!)?.email, email);
    assert.ok(tokens.requests.slice(before).some((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer'));
    // A Google API call sends the same token (cloud-platform scope: no self-signed JWT per API).
    const headers = await adc.client.getRequestHeaders('https://container.googleapis.com/');
    assert.equal(headers.get('authorization'), `Bearer ${token!}`);
  });

  test('an external account (workload identity federation, as CI uses): a file-sourced subject token exchanged at the local STS, then impersonation', async () => {
    const env = environment();
    gcloudDir(env);
    const audience = '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/acme';
    const subjectToken = `eyJ${randomBytes(30).toString('base64url')}`;
    const subjectFile = path.join(env.homedir, 'oidc-token');
    writeFileSync(subjectFile, subjectToken, { mode: 0o600 });
    tokens.addSubjectToken(subjectToken, 'repo:acme/app:ref:refs/heads/main', audience);
    const ciAccount = 'ci-deploy@acme-prod.iam.gserviceaccount.com';
    const externalAccount = {
      type: 'external_account', audience, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: `${tokens.url}/v1/token`, credential_source: { file: subjectFile },
    };

    env.env.GOOGLE_APPLICATION_CREDENTIALS = writeJson(path.join(env.homedir, 'federated.json'), externalAccount);
    activate(env);
    const federated = await loadAdc({ transporter: localTransporter(tokens.url) });
    assert.equal(federated.description.subjectTokenSource, `file ${subjectFile}`);
    const federatedIdentity = await describeIdentity(federated);
    assert.equal(federatedIdentity.kind, 'federated');
    assert.equal(federatedIdentity.member, 'principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/*');
    const { token: federatedToken } = await federated.client.getAccessToken();
    assert.deepEqual(tokens.validate(federatedToken!)?.kind, 'federated');

    env.env.GOOGLE_APPLICATION_CREDENTIALS = writeJson(path.join(env.homedir, 'impersonating.json'), {
      ...externalAccount,
      service_account_impersonation_url: `${tokens.url}/v1/projects/-/serviceAccounts/${ciAccount}:generateAccessToken`,
    });
    activate(env);
    const impersonating = await loadAdc({ transporter: localTransporter(tokens.url) });
    const identity = await describeIdentity(impersonating);
    assert.deepEqual({ kind: identity.kind, email: identity.email }, { kind: 'service-account', email: ciAccount });
    assert.match(identity.label, /workload identity federation/);
    const { token } = await impersonating.client.getAccessToken();
    assert.deepEqual(tokens.validate(token!)?.email, ciAccount);
    assert.ok(tokens.requests.some((r) => r.path.endsWith(`${ciAccount}:generateAccessToken`)));
  });

  test('the metadata server when no file is found (GCE_METADATA_HOST at the token server)', async () => {
    const env = environment();
    tokens.setMetadata({ email: 'runner@acme-ci.iam.gserviceaccount.com', projectId: 'acme-ci' });
    process.env.GCE_METADATA_HOST = `127.0.0.1:${tokens.port}`;
    delete process.env.METADATA_SERVER_DETECTION;
    try {
      activate(env);
      const adc = await loadAdc();
      assert.deepEqual(adc.description, { type: 'metadata', origin: 'metadata' });
      const identity = await describeIdentity(adc);
      assert.equal(identity.email, 'runner@acme-ci.iam.gserviceaccount.com');
      assert.match(identity.label, /the metadata server/);
      const { token } = await adc.client.getAccessToken();
      assert.equal(tokens.validate(token!)?.kind, 'metadata');
    } finally {
      process.env.METADATA_SERVER_DETECTION = 'none';
      delete process.env.GCE_METADATA_HOST;
    }
  });

  test('none at all: the message says to run gcloud auth application-default login, and why gcloud auth login is not it', async () => {
    const env = environment();
    gcloudDir(env);
    await assert.rejects(discoverAdc({ environment: env }), (err: unknown) => {
      assert.ok(err instanceof AdcMissingError);
      assert.equal(err.problem, 'adc-missing');
      assert.equal(err.driverCode, 'unavailable');
      assert.match(err.message, /Run `gcloud auth application-default login`/);
      assert.match(err.message, /`gcloud auth login` is not enough: it logs in only the gcloud CLI/);
      assert.match(err.message, /application_default_credentials\.json/);
      return true;
    });
  });

  test('GOOGLE_APPLICATION_CREDENTIALS naming a missing file is an error, not a reason to use another login', async () => {
    const env = environment({ GOOGLE_APPLICATION_CREDENTIALS: path.join(home, 'nope.json') });
    const dir = gcloudDir(env);
    const user = tokens.addUser({ email: 'fallback@example.com' });
    writeJson(path.join(dir, 'application_default_credentials.json'), { type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken });
    await assert.rejects(discoverAdc({ environment: env }), (err: unknown) => {
      assert.ok(err instanceof GcpCredentialsError);
      assert.equal(err.problem, 'adc-unreadable');
      assert.match(err.message, /GOOGLE_APPLICATION_CREDENTIALS points at .*nope\.json, but it does not exist/);
      return true;
    });
  });

  test('a revoked login (invalid_grant) asks to log in again, and the error carries no secret however it is printed', async () => {
    const env = environment();
    const dir = gcloudDir(env);
    const user = tokens.addUser({ email: 'gone@example.com' });
    writeJson(path.join(dir, 'application_default_credentials.json'), { type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken });
    tokens.revoke(user.refreshToken);
    activate(env);
    const adc = await loadAdc({ transporter: localTransporter(tokens.url) });
    await assert.rejects(describeIdentity(adc), (err: unknown) => {
      assert.ok(err instanceof GcpCredentialsError);
      assert.equal(err.problem, 'reauth-required');
      assert.match(err.message, /expired or were revoked .*invalid_grant.*gcloud auth application-default login/);
      const printed = `${inspect(err, { depth: 20, showHidden: true })}\n${JSON.stringify(err)}\n${String(err.stack)}`;
      for (const secret of [user.refreshToken, user.clientSecret]) assert.ok(!printed.includes(secret), 'no refresh token or client secret in the error, its causes or its stack');
      return true;
    });
  });

  test('a token endpoint that cannot be reached is reported as such, not as bad credentials', async () => {
    const env = environment();
    const dir = gcloudDir(env);
    const user = tokens.addUser({ email: 'offline@example.com' });
    writeJson(path.join(dir, 'application_default_credentials.json'), { type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken });
    const closed = await startTokenServer();
    await closed.stop();
    activate(env);
    const adc = await loadAdc({ transporter: localTransporter(closed.url) });
    await assert.rejects(describeIdentity(adc), (err: unknown) => {
      assert.ok(err instanceof GcpCredentialsError);
      assert.equal(err.problem, 'unreachable');
      assert.match(err.message, /Could not check the credentials from gcloud application-default login: .*Check the network connection/);
      assert.ok(!inspect(err, { depth: 20 }).includes(user.refreshToken));
      return true;
    });
  });

  test('a broken key file is refused without quoting it', async () => {
    const env = environment();
    const file = path.join(env.homedir, 'broken.json');
    writeFileSync(file, '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIsecret');
    env.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    await assert.rejects(discoverAdc({ environment: env }), (err: unknown) => {
      assert.ok(err instanceof GcpCredentialsError);
      assert.match(err.message, /is not valid JSON/);
      assert.ok(!inspect(err, { depth: 20 }).includes('MIIsecret'));
      return true;
    });
  });

  test('the GKE token validators (for the test kube-apiserver\'s token webhook) accept exactly the ADC tokens the token server issued', async () => {
    const env = environment();
    const dir = gcloudDir(env);
    const user = tokens.addUser({ email: 'kube-user@example.com' });
    writeJson(path.join(dir, 'application_default_credentials.json'), { type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken });
    activate(env);
    const adc = await loadAdc({ transporter: localTransporter(tokens.url) });
    const { token } = await adc.client.getAccessToken();
    const expected = { username: 'kube-user@example.com', uid: 'kube-user@example.com', groups: ['system:authenticated'] };
    assert.deepEqual(gkeTokenValidator(tokens)(token!), expected);
    assert.deepEqual(await tokenInfoValidator(tokens.url)(token!), expected);
    assert.equal(gkeTokenValidator(tokens)('ya29.made-up'), null);
    assert.equal(await tokenInfoValidator(tokens.url)('ya29.made-up'), null);
  });

  test('nothing reaches Google: the transporter refuses every other address, and every connection of this file stayed on loopback', async () => {
    const transporter = localTransporter(tokens.url);
    await assert.rejects(transporter.request({ url: 'https://container.googleapis.com/v1/projects/p/locations/-/clusters' }), /refused a request to https:\/\/container\.googleapis\.com/);
    assert.deepEqual(transporter.refused, ['https://container.googleapis.com']);
    assert.ok(watch.events.some((e) => e.startsWith('connect 127.0.0.1:')), 'the watch sees connections');
    assert.deepEqual(watch.offMachine(), []);
  });
});
