// The GCP test bed for integration tests: the token server, Application Default Credentials in a temporary gcloud
// folder (an external_account file whose STS exchange goes to the token server, so no transporter is needed and the
// provider loads ADC as it would in CI), and the fakes the test asks for, each reached through gcloud's own endpoint
// overrides (`[api_endpoint_overrides]` of the active configuration). The gRPC fakes serve TLS and accept only the
// access tokens the token server issued, so the provider's clients connect as to Google, with call credentials.
import './tls';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GcpApi } from '../../src/provisioning/providers/gcp/connection';
import { testTls } from './tls';
import { startTokenServer, type TokenServer } from './tokenServer';

export const TEST_PROJECT = 'encore-test';
export const TEST_PROJECT_NUMBER = '123456789012';
export const TEST_REGION = 'europe-west1';
export const FEDERATED_SUBJECT = 'ci@encore-test.example';

export interface GcpFake {
  start(options?: object): Promise<unknown>;
  stop(): Promise<void>;
  port: number;
}

export interface GcpTestbed {
  tokens: TokenServer;
  /** The temporary gcloud folder (CLOUDSDK_CONFIG). */
  config: string;
  accepted(token: string): boolean;
  /** Starts a gRPC fake over TLS and points `api` at it. */
  grpc<F extends GcpFake>(api: GcpApi, fake: F): Promise<F>;
  /** Points `api` at a plain-HTTP endpoint (a REST fake, pstest, fake-gcs-server). */
  http(api: GcpApi, hostPort: string): void;
  stop(): Promise<void>;
}

export async function startGcpTestbed(): Promise<GcpTestbed> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const noProxy = (process.env.NO_PROXY ?? process.env.no_proxy ?? '').split(',').filter(Boolean);
  for (const host of ['127.0.0.1', 'localhost']) if (!noProxy.includes(host)) noProxy.push(host);
  process.env.NO_PROXY = process.env.no_proxy = noProxy.join(',');
  for (const key of Object.keys(process.env)) if (/^(CLOUDSDK_|GOOGLE_|GCLOUD_|PUBSUB_EMULATOR|STORAGE_EMULATOR)/.test(key)) delete process.env[key];
  const tokens = await startTokenServer();
  const config = mkdtempSync(path.join(os.tmpdir(), 'encore-gcp-bed-'));
  mkdirSync(path.join(config, 'configurations'), { recursive: true });
  const audience = `//iam.googleapis.com/projects/${TEST_PROJECT_NUMBER}/locations/global/workloadIdentityPools/ci/providers/github`;
  const subjectToken = `subject-${Math.random().toString(36).slice(2)}`;
  tokens.addSubjectToken(subjectToken, FEDERATED_SUBJECT, audience);
  const subjectFile = path.join(config, 'subject-token');
  writeFileSync(subjectFile, subjectToken, { mode: 0o600 });
  const adcFile = path.join(config, 'external-account.json');
  writeFileSync(adcFile, JSON.stringify({
    type: 'external_account', audience, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: `${tokens.url}/v1/token`, credential_source: { file: subjectFile },
  }), { mode: 0o600 });
  const overrides = new Map<GcpApi, string>();
  const writeConfig = () => {
    const lines = ['[core]', `project = ${TEST_PROJECT}`, '[compute]', `region = ${TEST_REGION}`, '[api_endpoint_overrides]', ...[...overrides].map(([api, url]) => `${api} = ${url}`)];
    writeFileSync(path.join(config, 'configurations', 'config_default'), `${lines.join('\n')}\n`);
  };
  writeConfig();
  writeFileSync(path.join(config, 'active_config'), 'default');
  process.env.CLOUDSDK_CONFIG = config;
  process.env.GOOGLE_APPLICATION_CREDENTIALS = adcFile;
  const started: GcpFake[] = [];
  const accepted = (token: string) => tokens.validate(token) !== null;
  return {
    tokens,
    config,
    accepted,
    async grpc(api, fake) {
      await fake.start({ tls: testTls, authorize: accepted });
      started.push(fake);
      // The certificate names localhost; TLS's server name may not be an IP address.
      overrides.set(api, `https://localhost:${fake.port}/`);
      writeConfig();
      return fake;
    },
    http(api, hostPort) {
      overrides.set(api, `http://${hostPort}/`);
      writeConfig();
    },
    async stop() {
      await Promise.allSettled(started.map((f) => f.stop()));
      await tokens.stop();
      rmSync(config, { recursive: true, force: true });
    },
  };
}
