/**
 * One AWS connection per environment: the region, the credential provider and each service's endpoint, decided once
 * from the environment's settings, the shell's variables and the shared files. Every SDK client the provider makes
 * is built from `clientConfig(serviceId)`, so all of them agree on where they go and as whom.
 */

import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { chooseSource, credentialProvider, type CredentialSource, type MfaCodePrompt } from './credentials';
import { configuredEndpoint, type ConfiguredEndpoint } from './endpoints';
import { AwsError, explainAwsError, type ErrorContext } from './errors';
import type { AwsServiceId } from './services';
import { readSharedConfig, type ProfileSettings } from './sharedConfig';

export interface AwsConnectionOptions {
  /** The environment's `provider.profile`. */
  profile?: string;
  /** The environment's `provider.region`; when absent, AWS_REGION, AWS_DEFAULT_REGION, then the profile's region. */
  region?: string;
  /** How the front end asks for an MFA code (an input box in VS Code, a prompt on a terminal). */
  mfaCode?: MfaCodePrompt;
  /** Read for decisions only (defaults to process.env); the SDK's providers read process.env themselves. */
  env?: NodeJS.ProcessEnv;
  homedir?: string;
}

/** The configuration every SDK client of the connection is constructed with. */
export interface AwsClientConfig {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** The SDK's own endpoint lookup reads another profile's settings (endpoints.ts): always off. */
  ignoreConfiguredEndpointUrls: true;
  endpoint?: string;
  /** S3 on a configured endpoint (an emulator, an IP address) cannot use bucket-name host names. */
  forcePathStyle?: boolean;
}

export interface AwsConnection {
  /** The profile the credentials come from, if a profile. */
  readonly profile: string | undefined;
  readonly region: string;
  readonly source: CredentialSource;
  readonly credentials: AwsCredentialIdentityProvider;
  endpoint(serviceId: AwsServiceId): ConfiguredEndpoint | undefined;
  clientConfig(serviceId: AwsServiceId): AwsClientConfig;
  /** For explainAwsError: the profile, region and endpoint of a call to `serviceId`. */
  errorContext(serviceId?: AwsServiceId, operation?: string): ErrorContext;
  /** Runs an SDK call; anything it throws comes out as an AwsError (a cancellation as itself). */
  call<T>(serviceId: AwsServiceId, operation: string, run: () => Promise<T>): Promise<T>;
}

function regionFor(options: AwsConnectionOptions, env: NodeJS.ProcessEnv, profile: ProfileSettings | undefined, files: string): string {
  const region = options.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || profile?.region;
  if (region) return region;
  throw new AwsError(
    'invalid',
    `No AWS region is set: the environment has none${profile ? `, profile ${profile.name} has none in ${files}` : ''}, and AWS_REGION is not set. ` +
    'Choose a region for the environment (or run "aws configure set region eu-west-1" for the profile).',
    { problem: 'no-region' },
  );
}

/** Reads the shared files, picks the credential source and region, and builds the provider. Makes no request. */
export async function openAwsConnection(options: AwsConnectionOptions = {}): Promise<AwsConnection> {
  const env = options.env ?? process.env;
  const config = await readSharedConfig(env, options.homedir);
  const source = chooseSource({ profile: options.profile, config, env });
  const profileName = source.kind === 'profile' ? source.profile : undefined;
  // Endpoints and region come from the profile in use; with environment credentials, from the named (or shell's) one.
  const settingsName = profileName ?? options.profile ?? env.AWS_PROFILE ?? 'default';
  const settings = config.profile(settingsName);
  const region = regionFor(options, env, settings, config.files.configFile);

  const endpoints = new Map<AwsServiceId, ConfiguredEndpoint | undefined>();
  const endpoint = (serviceId: AwsServiceId) => {
    if (!endpoints.has(serviceId)) {
      try {
        endpoints.set(serviceId, configuredEndpoint(serviceId, settings, env));
      } catch (err) {
        throw new AwsError('invalid', (err as Error).message, { problem: 'bad-config', cause: err });
      }
    }
    return endpoints.get(serviceId);
  };
  const errorContext = (serviceId?: AwsServiceId, operation?: string): ErrorContext => ({
    profile: profileName,
    ssoProfile: source.kind === 'profile' && source.profileKind === 'sso',
    region,
    service: serviceId,
    operation,
    endpoint: serviceId ? endpoint(serviceId) : undefined,
  });
  const credentials = await credentialProvider(source, {
    profile: profileName,
    config,
    region,
    stsEndpoint: endpoint('STS')?.url,
    ssoEndpoint: endpoint('SSO')?.url,
    mfaCode: options.mfaCode,
    errorContext: errorContext('STS'),
    env,
  });
  return {
    profile: profileName,
    region,
    source,
    credentials,
    endpoint,
    errorContext,
    clientConfig(serviceId) {
      const url = endpoint(serviceId)?.url;
      return {
        region,
        credentials,
        ignoreConfiguredEndpointUrls: true,
        ...(url ? { endpoint: url } : {}),
        ...(url && serviceId === 'S3' ? { forcePathStyle: true } : {}),
      };
    },
    async call(serviceId, operation, run) {
      try {
        return await run();
      } catch (err) {
        if (err instanceof Error && err.name === 'AbortError') throw err;
        throw await explainAwsError(err, errorContext(serviceId, operation));
      }
    },
  };
}
