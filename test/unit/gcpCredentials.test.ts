// The pure parts of the GCP credentials layer: gcloud's properties files, what a credential file says about
// itself, and how Google's refusals are explained. The error shapes are the ones Google's clients produce (gax's
// GoogleError fields, gaxios's response data), written out here; the fakes' tests check the clients produce them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { after, describe, test } from 'node:test';
import { describeCredentialJson, impersonationTarget, projectDefaults } from '../../src/provisioning/providers/gcp/adc';
import { explainGcpError, GcpCredentialsError, scrub } from '../../src/provisioning/providers/gcp/errors';
import { activeGcloudConfiguration, gcloudAdcFile, gcloudConfigDir, parseProperties } from '../../src/provisioning/providers/gcp/gcloudConfig';
import { emailFromIdToken } from '../../src/provisioning/providers/gcp/identity';
import { enableApiCommand, roleForPermission } from '../../src/provisioning/providers/gcp/permissions';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'encore-gcp-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('importing the GCP credential and client modules loads no Google library (they are imported on first use)', () => {
  // A CommonJS load, whose module cache shows everything the modules pulled in.
  const load = createRequire(__filename);
  for (const module of ['adc', 'clients', 'errors', 'gcloudConfig', 'iamRest', 'identity', 'permissions']) load(`../../src/provisioning/providers/gcp/${module}`);
  const loaded = Object.keys(load.cache).filter((file) => /node_modules[\\/](google-auth-library|google-gax|@google-cloud|@grpc)[\\/]/.test(file));
  assert.deepEqual(loaded, []);
});

describe('gcloud configuration', () => {
  test('the config folder: CLOUDSDK_CONFIG, else APPDATA on Windows, else ~/.config/gcloud', () => {
    assert.equal(gcloudConfigDir({ env: { CLOUDSDK_CONFIG: '/x/cfg' }, homedir: '/home/u', platform: 'linux' }), '/x/cfg');
    assert.equal(gcloudConfigDir({ env: {}, homedir: '/home/u', platform: 'linux' }), '/home/u/.config/gcloud');
    assert.equal(gcloudConfigDir({ env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, homedir: 'C:\\Users\\u', platform: 'win32' }), path.join('C:\\Users\\u\\AppData\\Roaming', 'gcloud'));
    assert.equal(gcloudAdcFile({ env: {}, homedir: '/home/u', platform: 'darwin' }), '/home/u/.config/gcloud/application_default_credentials.json');
  });

  test('properties: sections, keys, comments, both separators', () => {
    const properties = parseProperties('# comment\n[core]\naccount = a@example.com\nproject=p-1\n; other\n[compute]\nregion: us-central1\nnot a property\n');
    assert.deepEqual([...properties], [['core/account', 'a@example.com'], ['core/project', 'p-1'], ['compute/region', 'us-central1']]);
  });

  test('the active configuration: the variable, else active_config, else default; CLOUDSDK_* variables override properties', () => {
    const dir = path.join(tmp, 'gcloud');
    mkdirSync(path.join(dir, 'configurations'), { recursive: true });
    writeFileSync(path.join(dir, 'active_config'), 'work\n');
    writeFileSync(path.join(dir, 'configurations', 'config_work'), '[core]\nproject = from-work\n[compute]\nzone = asia-east1-c\n');
    writeFileSync(path.join(dir, 'configurations', 'config_home'), '[core]\nproject = from-home\n');
    const base = { homedir: '/nowhere', platform: 'linux' as const };

    const work = activeGcloudConfiguration({ ...base, env: { CLOUDSDK_CONFIG: dir } });
    assert.deepEqual([work.name, work.nameFrom, work.get('core/project')?.value], ['work', 'active_config', 'from-work']);
    const home = activeGcloudConfiguration({ ...base, env: { CLOUDSDK_CONFIG: dir, CLOUDSDK_ACTIVE_CONFIG_NAME: 'home' } });
    assert.deepEqual([home.name, home.nameFrom, home.get('core/project')?.value], ['home', 'CLOUDSDK_ACTIVE_CONFIG_NAME', 'from-home']);
    const overridden = activeGcloudConfiguration({ ...base, env: { CLOUDSDK_CONFIG: dir, CLOUDSDK_CORE_PROJECT: 'from-env' } });
    assert.deepEqual(overridden.get('core/project'), { value: 'from-env', from: 'CLOUDSDK_CORE_PROJECT' });
    const fresh = activeGcloudConfiguration({ ...base, env: { CLOUDSDK_CONFIG: path.join(tmp, 'none') } });
    assert.deepEqual([fresh.name, fresh.nameFrom, fresh.get('core/project')], ['default', 'default', undefined]);

    // The region comes from compute/region, else the zone without its letter; GOOGLE_CLOUD_PROJECT beats gcloud.
    const defaults = projectDefaults(undefined, { ...base, env: { CLOUDSDK_CONFIG: dir } });
    assert.deepEqual(defaults.region?.value, 'asia-east1');
    assert.match(defaults.region!.from, /without the zone letter/);
    assert.deepEqual(projectDefaults(undefined, { ...base, env: { CLOUDSDK_CONFIG: dir, GOOGLE_CLOUD_PROJECT: 'env-project' } }).project, { value: 'env-project', from: 'GOOGLE_CLOUD_PROJECT' });
    // With no gcloud project, a key's project, then the ADC quota project.
    const none = { ...base, env: { CLOUDSDK_CONFIG: path.join(tmp, 'none') } };
    assert.equal(projectDefaults({ type: 'service_account', origin: 'GOOGLE_APPLICATION_CREDENTIALS', keyProjectId: 'key-project', quotaProjectId: 'quota' }, none).project?.value, 'key-project');
    assert.equal(projectDefaults({ type: 'authorized_user', origin: 'gcloud', quotaProjectId: 'quota' }, none).project?.value, 'quota');
  });
});

describe('credential files', () => {
  test('each type says what it is and whose, and never carries a secret', () => {
    const user = describeCredentialJson({ type: 'authorized_user', client_id: 'id', client_secret: 'GOCSPX-secret', refresh_token: '1//refresh', quota_project_id: 'q' }, 'gcloud', '/f');
    assert.deepEqual(user, { type: 'authorized_user', origin: 'gcloud', file: '/f', quotaProjectId: 'q' });
    const key = describeCredentialJson({ type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----x', project_id: 'p' }, 'GOOGLE_APPLICATION_CREDENTIALS', '/k');
    assert.deepEqual(key, { type: 'service_account', origin: 'GOOGLE_APPLICATION_CREDENTIALS', file: '/k', serviceAccountEmail: 'sa@p.iam.gserviceaccount.com', keyProjectId: 'p' });
    const federated = describeCredentialJson({
      type: 'external_account', audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/providers/p',
      credential_source: { url: 'http://169.254.169.254/token?x=secret', headers: { Authorization: 'Bearer abc' } },
      service_account_impersonation_url: 'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/ci%40p.iam.gserviceaccount.com:generateAccessToken',
    }, 'GOOGLE_APPLICATION_CREDENTIALS', '/e');
    assert.equal(federated.serviceAccountEmail, 'ci@p.iam.gserviceaccount.com');
    assert.equal(federated.subjectTokenSource, 'url http://169.254.169.254', 'the URL\'s origin only: its query may hold a secret');
    assert.ok(!JSON.stringify(federated).includes('Bearer'));
    assert.equal(impersonationTarget('https://example.com/nothing'), undefined);
  });

  test('a key without its private key, or a file of another kind, is refused with what to do', () => {
    assert.throws(() => describeCredentialJson({ type: 'service_account', client_email: 'x' }, 'GOOGLE_APPLICATION_CREDENTIALS', '/k'), /lacks client_email or private_key. Create a new key/);
    assert.throws(() => describeCredentialJson({ type: 'gdch_service_account' }, 'GOOGLE_APPLICATION_CREDENTIALS', '/g'), /of type "gdch_service_account", which is not a Google Cloud credential this extension can use/);
  });

  test('the email of an id token', () => {
    const payload = Buffer.from(JSON.stringify({ email: 'u@example.com' })).toString('base64url');
    assert.equal(emailFromIdToken(`h.${payload}.s`), 'u@example.com');
    assert.equal(emailFromIdToken('not-a-jwt'), undefined);
    assert.equal(emailFromIdToken(undefined), undefined);
  });
});

describe('explaining refusals', () => {
  test('a disabled API (gax over gRPC: reason and ErrorInfo metadata) names the API and the command that enables it', () => {
    const err = Object.assign(new Error('7 PERMISSION_DENIED: Kubernetes Engine API has not been used in project 123 before or it is disabled.'), {
      code: 7, reason: 'SERVICE_DISABLED', domain: 'googleapis.com',
      errorInfoMetadata: { service: 'container.googleapis.com', consumer: 'projects/123', serviceTitle: 'Kubernetes Engine API' },
    });
    const explained = explainGcpError(err, { project: 'acme-prod', doing: 'creating GKE cluster encore-prod' });
    assert.ok(explained instanceof GcpCredentialsError);
    assert.equal(explained.problem, 'api-disabled');
    assert.equal(explained.message, 'Kubernetes Engine API (container.googleapis.com) is not enabled in project acme-prod (creating GKE cluster encore-prod). Enable it with `gcloud services enable container.googleapis.com --project acme-prod`, wait a minute for it to take effect, and try again.');
    assert.deepEqual(explained.details, { api: 'container.googleapis.com', project: 'acme-prod', command: 'gcloud services enable container.googleapis.com --project acme-prod' });
    assert.equal(explained.driverCode, 'unavailable');
  });

  test('a disabled API known only by its text (a REST error body through gaxios)', () => {
    const message = 'Cloud SQL Admin API has not been used in project 42 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/sqladmin.googleapis.com/overview?project=42 then retry.';
    const err = Object.assign(new Error(message), { response: { status: 403, data: { error: { code: 403, message, status: 'PERMISSION_DENIED' } } } });
    const explained = explainGcpError(err);
    assert.equal(explained?.problem, 'api-disabled');
    assert.equal(explained?.details.command, 'gcloud services enable sqladmin.googleapis.com --project 42');
  });

  test('a missing permission names it and the role that grants it, with the grant command when the member is known', () => {
    const err = Object.assign(new Error("7 PERMISSION_DENIED: Permission 'redis.instances.create' denied on resource 'projects/acme/locations/europe-west1' (or it may not exist)."), {
      code: 7, reason: 'IAM_PERMISSION_DENIED', errorInfoMetadata: { permission: 'redis.instances.create', resource: 'projects/acme/locations/europe-west1' },
    });
    const explained = explainGcpError(err, { project: 'acme', member: 'user:dev@example.com' });
    assert.equal(explained?.problem, 'permission-denied');
    assert.equal(explained?.driverCode, 'forbidden');
    assert.equal(
      explained?.message,
      'user:dev@example.com lacks the permission redis.instances.create on projects/acme/locations/europe-west1. The role roles/redis.admin grants it. A project owner can run `gcloud projects add-iam-policy-binding acme --member=user:dev@example.com --role=roles/redis.admin`.',
    );
    // Only the text: the permission is read from it.
    const textOnly = explainGcpError(Object.assign(new Error("Permission 'iam.serviceAccounts.actAs' denied on resource 'projects/-/serviceAccounts/n@p.iam.gserviceaccount.com' (or it may not exist)."), { code: 7 }));
    assert.equal(textOnly?.details.role, 'roles/iam.serviceAccountUser');
    // No permission named at all: still a permission problem, with the text.
    assert.match(explainGcpError(Object.assign(new Error('The caller does not have permission'), { code: 7 }))!.message, /Google refused the request: The caller does not have permission/);
  });

  test('the role table: the narrowest predefined role, and a labelled guess for a permission it lacks', () => {
    assert.deepEqual(roleForPermission('container.clusters.create'), { role: 'roles/container.clusterAdmin', known: true });
    assert.deepEqual(roleForPermission('container.clusters.get'), { role: 'roles/container.clusterViewer', known: true }, 'reading an existing cluster needs only the viewer');
    assert.deepEqual(roleForPermission('cloudsql.instances.update'), { role: 'roles/cloudsql.admin', known: true });
    assert.deepEqual(roleForPermission('secretmanager.versions.access'), { role: 'roles/secretmanager.secretAccessor', known: true });
    assert.deepEqual(roleForPermission('resourcemanager.projects.setIamPolicy'), { role: 'roles/resourcemanager.projectIamAdmin', known: true });
    assert.deepEqual(roleForPermission('run.services.create'), { role: 'roles/run.admin', known: false });
    assert.equal(enableApiCommand('redis.googleapis.com', undefined), 'gcloud services enable redis.googleapis.com');
  });

  test('expired or revoked credentials (invalid_grant from the token endpoint) ask for the right fix per credential type', () => {
    const refused = () => Object.assign(new Error('invalid_grant'), { response: { status: 400, data: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } } });
    assert.match(explainGcpError(refused())!.message, /have expired or were revoked \(Google answered invalid_grant\). Log in again with `gcloud auth application-default login`/);
    assert.match(explainGcpError(refused(), { credentialType: 'service_account' })!.message, /service account key: it was deleted or disabled/);
    assert.match(explainGcpError(refused(), { credentialType: 'external_account' })!.message, /Security Token Service refused the workload identity federation credentials/);
    assert.equal(explainGcpError(new Error('reauth related error (invalid_rapt)'))?.problem, 'reauth-required');
    assert.equal(explainGcpError(Object.assign(new Error('16 UNAUTHENTICATED: Request had invalid authentication credentials.'), { code: 16 }))?.problem, 'unauthenticated');
    assert.equal(explainGcpError(Object.assign(new Error('invalid_token'), { response: { status: 400, data: { error: 'invalid_token', error_description: 'Invalid Value' } } }))?.problem, 'unauthenticated', 'tokeninfo refusing the token');
  });

  test('anything else is not explained here', () => {
    assert.equal(explainGcpError(Object.assign(new Error('5 NOT_FOUND: Cluster "x" not found.'), { code: 5 })), undefined);
    assert.equal(explainGcpError(new Error('socket hang up')), undefined);
  });

  test('causes keep name, code and message, never the request: no token, refresh token or client secret survives', () => {
    const secretBody = 'grant_type=refresh_token&refresh_token=1%2F%2Fsecret&client_secret=GOCSPX-hidden';
    const gaxiosLike = Object.assign(new Error('request to /token failed: invalid_grant'), {
      name: 'GaxiosError', code: '400',
      config: { headers: { Authorization: 'Bearer ya29.secret-token' }, body: secretBody },
      response: { status: 400, data: { error: 'invalid_grant' } },
    });
    const explained = explainGcpError(gaxiosLike)!;
    const printed = inspect(explained, { depth: 20, showHidden: true });
    for (const secret of ['ya29.secret-token', '1%2F%2Fsecret', 'GOCSPX-hidden']) assert.ok(!printed.includes(secret), `${secret} must not be printed`);
    const cause = explained.cause as Error & { code?: string };
    assert.deepEqual([cause.name, cause.code, cause.message], ['GaxiosError', '400', 'request to /token failed: invalid_grant']);
  });

  test('scrub cuts tokens, refresh tokens, client secrets, JWTs and keys out of text', () => {
    assert.equal(
      scrub('a ya29.AbC-1_x b 1//0gRefresh c GOCSPX-xyz d eyJhbGc.eyJzdWIi.c2ln e Bearer abc.def f -----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY----- g'),
      'a [token] b [refresh token] c [client secret] d [jwt] e Bearer [token] f [key] g',
    );
  });
});
