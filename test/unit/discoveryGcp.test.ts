// GCP discovery on realistic files: user ADC from "gcloud auth application-default login", a service-account key
// in GOOGLE_APPLICATION_CREDENTIALS, impersonation, gcloud configurations, and the ways each can be missing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { discoverGcp } from '../../src/provisioning/providers/gcp/discovery';
import { GCP_REGIONS } from '../../src/provisioning/providers/regions';
import schema from '../../schemas/encore.environments.schema.json';

function home(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'discovery-gcp-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const USER_ADC = {
  account: '',
  client_id: '764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com',
  client_secret: 'd-FL95Q19q7MQmFpd7hHD0Ty',
  quota_project_id: 'shop-dev-4711',
  refresh_token: '1//0gEXAMPLEREFRESHTOKEN',
  type: 'authorized_user',
  universe_domain: 'googleapis.com',
};

const SA_KEY = {
  type: 'service_account',
  project_id: 'shop-prod-123',
  private_key_id: 'abcdef1234567890',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
  client_email: 'deployer@shop-prod-123.iam.gserviceaccount.com',
  client_id: '112233445566778899',
  token_uri: 'https://oauth2.googleapis.com/token',
};

function gcloudConfig(dir: string, active: string, text: string): string {
  write(path.join(dir, '.config', 'gcloud', 'active_config'), `${active}\n`);
  return write(path.join(dir, '.config', 'gcloud', 'configurations', `config_${active}`), text);
}

test('user ADC plus the active gcloud configuration: project, account and region, each with its source', async () => {
  const dir = home();
  const adc = write(path.join(dir, '.config', 'gcloud', 'application_default_credentials.json'), JSON.stringify(USER_ADC, null, 2));
  const config = gcloudConfig(dir, 'work', '[core]\naccount = jane@shop.example\nproject = shop-staging-42\ndisable_usage_reporting = True\n\n[compute]\nregion = europe-west1\nzone = europe-west1-b\n');
  write(path.join(dir, '.config', 'gcloud', 'configurations', 'config_default'), '[core]\nproject = old-project-1\n');
  const found = await discoverGcp({ homedir: dir, env: {} });
  assert.deepEqual(found, {
    adc: { file: adc, type: 'authorized_user' },
    gcloud: { configFile: config, activeConfig: 'work', account: 'jane@shop.example', project: 'shop-staging-42', region: 'europe-west1' },
    projects: [
      { value: 'shop-staging-42', source: 'gcloud-config', from: config },
      { value: 'shop-dev-4711', source: 'adc-quota-project', from: adc },
    ],
    account: { value: 'jane@shop.example', source: 'gcloud-config', from: config },
    region: { value: 'europe-west1', source: 'gcloud-config', from: config },
    problems: [],
  });
  const text = JSON.stringify(found);
  for (const secret of [USER_ADC.client_secret, USER_ADC.refresh_token]) assert.ok(!text.includes(secret));
});

test('a service-account key in GOOGLE_APPLICATION_CREDENTIALS gives the project and the account, and no key', async () => {
  const dir = home();
  const key = write(path.join(dir, 'keys', 'deployer.json'), JSON.stringify(SA_KEY));
  const found = await discoverGcp({ homedir: dir, env: { GOOGLE_APPLICATION_CREDENTIALS: key } });
  assert.deepEqual(found.adc, { file: key, type: 'service_account', account: 'deployer@shop-prod-123.iam.gserviceaccount.com' });
  assert.deepEqual(found.projects, [{ value: 'shop-prod-123', source: 'adc-service-account', from: key }]);
  assert.deepEqual(found.account, { value: 'deployer@shop-prod-123.iam.gserviceaccount.com', source: 'adc-service-account', from: key });
  assert.equal(found.gcloud, undefined);
  assert.equal(found.region, undefined);
  assert.deepEqual(found.problems, [], 'no gcloud is fine when a key is used');
  assert.ok(!JSON.stringify(found).includes('PRIVATE KEY'));
});

test('environment variables come first, and CLOUDSDK_* pick the gcloud folder, configuration and region', async () => {
  const dir = home();
  write(path.join(dir, '.config', 'gcloud', 'application_default_credentials.json'), JSON.stringify(SA_KEY));
  const gcloudDir = path.join(dir, 'custom-gcloud');
  const config = write(path.join(gcloudDir, 'configurations', 'config_ci'), '[core]\nproject = ci-project-9\n[compute]\nregion = us-central1\n');
  const found = await discoverGcp({
    homedir: dir,
    env: { GOOGLE_CLOUD_PROJECT: 'from-env-1', CLOUDSDK_CONFIG: gcloudDir, CLOUDSDK_ACTIVE_CONFIG_NAME: 'ci', CLOUDSDK_COMPUTE_REGION: 'asia-east1' },
  });
  assert.deepEqual(
    found.projects.map((p) => [p.value, p.source, p.from]),
    [
      ['from-env-1', 'environment', 'GOOGLE_CLOUD_PROJECT'],
      ['shop-prod-123', 'adc-service-account', path.join(dir, '.config', 'gcloud', 'application_default_credentials.json')],
      ['ci-project-9', 'gcloud-config', config],
    ],
  );
  assert.deepEqual(found.region, { value: 'asia-east1', source: 'environment', from: 'CLOUDSDK_COMPUTE_REGION' });
  assert.equal(found.gcloud?.region, 'us-central1');
});

test('impersonation ADC names the impersonated service account', async () => {
  const dir = home();
  const adc = write(
    path.join(dir, '.config', 'gcloud', 'application_default_credentials.json'),
    JSON.stringify({
      type: 'impersonated_service_account',
      service_account_impersonation_url:
        'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/deployer@shop-prod-123.iam.gserviceaccount.com:generateAccessToken',
      source_credentials: USER_ADC,
    }),
  );
  const found = await discoverGcp({ homedir: dir, env: {} });
  assert.deepEqual(found.adc, { file: adc, type: 'impersonated_service_account', account: 'deployer@shop-prod-123.iam.gserviceaccount.com' });
  assert.ok(!JSON.stringify(found).includes(USER_ADC.refresh_token));
});

test('no ADC says to run "gcloud auth application-default login", and no project says how to set one', async () => {
  const dir = home();
  const found = await discoverGcp({ homedir: dir, env: {} });
  assert.equal(found.adc, undefined);
  assert.deepEqual(found.projects, []);
  assert.deepEqual(found.problems, [
    `No Application Default Credentials: ${path.join(dir, '.config', 'gcloud', 'application_default_credentials.json')} does not exist. Run "gcloud auth application-default login". The extension uses Application Default Credentials, not the gcloud CLI login ("gcloud auth login").`,
    'No GCP project found: set one with "gcloud config set project PROJECT_ID", or type the project id.',
  ]);
});

test('a GOOGLE_APPLICATION_CREDENTIALS that points nowhere, a broken ADC file, a missing named configuration', async () => {
  const dir = home();
  const gone = path.join(dir, 'gone.json');
  const missing = await discoverGcp({ homedir: dir, env: { GOOGLE_APPLICATION_CREDENTIALS: gone } });
  assert.match(missing.problems[0], new RegExp(`^GOOGLE_APPLICATION_CREDENTIALS points to ${gone}, which does not exist\\. Fix the variable, or unset it and run "gcloud auth application-default login"`));

  const broken = write(path.join(dir, '.config', 'gcloud', 'application_default_credentials.json'), '{"type": "authorized_user", "refresh_token": "1//0gSECRET"');
  write(path.join(dir, '.config', 'gcloud', 'active_config'), 'vanished\n');
  const found = await discoverGcp({ homedir: dir, env: {} });
  assert.equal(found.adc, undefined);
  assert.equal(found.problems.length, 3, found.problems.join('\n'));
  assert.match(found.problems[0], new RegExp(`^${broken} is not valid JSON, so Application Default Credentials cannot be used`));
  assert.match(found.problems[1], /^the active gcloud configuration "vanished" has no file .*config_vanished; run "gcloud config configurations list"$/);
  assert.ok(!found.problems.join('\n').includes('1//0gSECRET'));

  write(broken, '[1, 2]');
  assert.match((await discoverGcp({ homedir: dir, env: {} })).problems[0], /has no "type", so it is not a credentials file/);
});

test('the GCP region list is well-formed and every id passes the schema', () => {
  const pattern = new RegExp((schema.definitions.environment.properties.provider.oneOf[1].properties as { region: { pattern: string } }).region.pattern);
  assert.ok(GCP_REGIONS.length >= 40);
  assert.equal(new Set(GCP_REGIONS.map((r) => r.id)).size, GCP_REGIONS.length);
  for (const r of GCP_REGIONS) assert.match(r.id, pattern);
  assert.ok(GCP_REGIONS.some((r) => r.id === 'europe-west1' && r.name === 'Belgium'));
});
