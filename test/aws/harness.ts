// The AWS test bed for integration tests: moto (scripts/moto.mjs) started once per test file, the shim (shim.ts) in
// front of it, and temporary AWS config folders. The real SDK clients reach them only through the standard endpoint
// configuration (AWS_ENDPOINT_URL or a profile's endpoint_url), never an in-process mock.
//
// On start it removes every AWS_* variable of the developer's shell from process.env and points AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE at an empty folder, so no real profile, key or endpoint of the machine can take part,
// and a test that forgets to set an endpoint fails on DNS instead of reaching AWS.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMoto } from '../../scripts/moto.mjs';
import { startShim, type AwsShim } from './shim';

export type { AwsShim };

/** The account moto gives unknown access keys, and the region the tests use. */
export const MOTO_ACCOUNT = '123456789012';
export const TEST_REGION = 'eu-west-1';

export interface AwsTestbed {
  shim: AwsShim;
  /** The shim's URL: what endpoint_url / AWS_ENDPOINT_URL point at. */
  endpoint: string;
  motoEndpoint: string;
  /** Milliseconds moto took to answer /moto-api/, and its resident memory now, in MB. */
  motoReadyMs: number;
  motoRssMb(): number;
  /**
   * A fresh folder with `config` and `credentials` (INI text, written as given) and the variables that select it.
   * `vars` adds or (with undefined) removes variables for the test; `use(...)` puts them into process.env.
   */
  awsHome(files: { config?: string; credentials?: string; extra?: Record<string, string> }): AwsHome;
  /** Fails with "not supported by the emulator: …" if a call of the last test hit an emulator gap; then resets moto and the shim. */
  afterEach(): Promise<void>;
  stop(): Promise<void>;
}

export interface AwsHome {
  dir: string;
  configFile: string;
  credentialsFile: string;
  /** A file in the folder (an SSO cache entry, a web identity token). */
  file(relative: string, contents: string): string;
  /** Sets process.env to the bed's baseline plus these files (HOME is the folder, for ~/.aws/sso/cache) and `vars`, until afterEach(). */
  use(vars?: Record<string, string | undefined>): void;
}

const AWS_VARIABLE = /^AWS_/;

export async function startAwsTestbed(): Promise<AwsTestbed> {
  const noProxy = (process.env.NO_PROXY ?? process.env.no_proxy ?? '').split(',').filter(Boolean);
  for (const host of ['127.0.0.1', 'localhost']) if (!noProxy.includes(host)) noProxy.push(host);
  process.env.NO_PROXY = process.env.no_proxy = noProxy.join(',');
  for (const key of Object.keys(process.env)) if (AWS_VARIABLE.test(key)) delete process.env[key];
  const root = mkdtempSync(path.join(os.tmpdir(), 'encore-aws-test-'));
  const empty = path.join(root, 'empty');
  mkdirSync(empty);
  const baseline: Record<string, string> = {
    AWS_CONFIG_FILE: path.join(empty, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(empty, 'credentials'),
    // The SDK must never try instance metadata (169.254.169.254) from a test.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  Object.assign(process.env, baseline);
  const home = process.env.HOME;

  const moto = await startMoto();
  const shim = await startShim({ motoEndpoint: moto.endpoint });
  let homes = 0;
  return {
    shim,
    endpoint: shim.endpoint,
    motoEndpoint: moto.endpoint,
    motoReadyMs: moto.readyMs,
    motoRssMb: () => Math.round(moto.rssKb() / 1024),
    awsHome({ config = '', credentials = '', extra = {} }) {
      const dir = path.join(root, `home-${++homes}`);
      mkdirSync(dir, { recursive: true });
      const configFile = path.join(dir, 'config');
      const credentialsFile = path.join(dir, 'credentials');
      writeFileSync(configFile, config, { mode: 0o600 });
      writeFileSync(credentialsFile, credentials, { mode: 0o600 });
      for (const [name, contents] of Object.entries(extra)) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        writeFileSync(path.join(dir, name), contents, { mode: 0o600 });
      }
      return {
        dir,
        configFile,
        credentialsFile,
        file(relative, contents) {
          const file = path.join(dir, relative);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, contents, { mode: 0o600 });
          return file;
        },
        use(vars = {}) {
          for (const key of Object.keys(process.env)) if (AWS_VARIABLE.test(key)) delete process.env[key];
          Object.assign(process.env, baseline, { AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: credentialsFile, HOME: dir });
          for (const [key, value] of Object.entries(vars)) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
          }
        },
      };
    },
    async afterEach() {
      try {
        shim.assertAllSupported();
      } finally {
        for (const key of Object.keys(process.env)) if (AWS_VARIABLE.test(key)) delete process.env[key];
        Object.assign(process.env, baseline, { HOME: home });
        shim.reset();
        await moto.reset();
      }
    },
    async stop() {
      await shim.close();
      await moto.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
