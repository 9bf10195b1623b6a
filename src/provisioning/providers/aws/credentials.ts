/**
 * Where an AWS environment's credentials come from: the AWS CLI's chain, resolved with the SDK's own providers
 * (@aws-sdk/credential-providers), loaded only when a connection is opened.
 *
 * - The environment names a profile that the shared files have: that profile, as `aws --profile X` would use it
 *   (static keys, `role_arn` + `source_profile` with an optional `mfa_serial`, `sso_session` / IAM Identity Center,
 *   `credential_process`, `web_identity_token_file`). AWS_ACCESS_KEY_ID in the shell does not override it, so a
 *   stray key of another account cannot redirect an environment that names its profile.
 * - Otherwise, in order: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); the profile AWS_PROFILE
 *   names, or `default`; AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (GitHub Actions OIDC). A named profile that
 *   this machine lacks falls back to the variables, which is how a CI runner without ~/.aws runs the same
 *   environment.
 * - Instance and container metadata are not tried: the product runs with a developer's or a CI job's credentials,
 *   and probing 169.254.169.254 on a laptop only adds a timeout.
 *
 * The credentials live in the returned provider's memory only. Every STS client the providers make (assume-role,
 * web identity) gets the connection's STS endpoint explicitly: the SDK's nested clients would otherwise read the
 * endpoint of AWS_PROFILE's profile, not this one (see endpoints.ts).
 */

import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { AwsError, explainAwsError, type ErrorContext } from './errors';
import type { ProfileKind, SharedConfig } from './sharedConfig';

/** Asks the person for the current code of an MFA device; undefined when they cancel. */
export type MfaCodePrompt = (request: { profile: string; serial: string }) => Promise<string | undefined>;

/** Where the credentials come from, for the UI ("credentials from profile dev (IAM Identity Center)"). */
export type CredentialSource =
  | { kind: 'environment'; variables: string[] }
  | { kind: 'profile'; profile: string; profileKind: ProfileKind; file: string }
  | { kind: 'web-identity'; roleArn: string; tokenFile: string };

export function describeSource(source: CredentialSource): string {
  switch (source.kind) {
    case 'environment':
      return `environment variables (${source.variables.join(', ')})`;
    case 'web-identity':
      return `web identity (AWS_ROLE_ARN ${source.roleArn}, token file ${source.tokenFile})`;
    case 'profile': {
      const how: Record<ProfileKind, string> = {
        'assume-role': 'assumed role', 'web-identity': 'web identity', sso: 'IAM Identity Center', process: 'credential_process',
        'static-keys': 'access keys', login: 'aws login', none: 'no credentials',
      };
      return `profile ${source.profile} (${how[source.profileKind]})`;
    }
  }
}

export interface CredentialChainOptions {
  /** The environment's profile, if it names one. */
  profile?: string;
  config: SharedConfig;
  region: string;
  /** STS endpoint for the assume-role and web-identity calls, SSO endpoint for IAM Identity Center. */
  stsEndpoint?: string;
  ssoEndpoint?: string;
  mfaCode?: MfaCodePrompt;
  errorContext: ErrorContext;
  env?: NodeJS.ProcessEnv;
}

/** Decides the source without reading any secret, or throws an AwsError saying what is missing. */
export function chooseSource(options: Pick<CredentialChainOptions, 'profile' | 'config' | 'env'>): CredentialSource {
  const env = options.env ?? process.env;
  const { config } = options;
  const envKeys = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  const envVariables = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', ...(env.AWS_SESSION_TOKEN ? ['AWS_SESSION_TOKEN'] : [])];
  const webIdentity = env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE
    ? { kind: 'web-identity' as const, roleArn: env.AWS_ROLE_ARN, tokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE }
    : undefined;
  const fileOf = (name: string) => (config.profile(name)?.kind === 'static-keys' ? config.files.credentialsFile : config.files.configFile);
  const fromProfile = (name: string): CredentialSource | undefined => {
    const profile = config.profile(name);
    if (!profile) return undefined;
    if (profile.kind === 'none') {
      throw new AwsError(
        'unavailable',
        `Profile ${name} has no credentials: it sets neither access keys, a role (role_arn), an IAM Identity Center sign-in (sso_session), credential_process nor web_identity_token_file. ` +
        `Run "aws configure sso --profile ${name}" or "aws configure --profile ${name}".`,
        { problem: 'no-credentials' },
      );
    }
    return { kind: 'profile', profile: name, profileKind: profile.kind, file: fileOf(name) };
  };
  const missingProfile = (name: string, namedBy: string) => new AwsError(
    'unavailable',
    `${namedBy} names the AWS profile "${name}", which is in neither ${config.files.configFile} nor ${config.files.credentialsFile}` +
    `${config.profileNames.length ? ` (profiles there: ${config.profileNames.join(', ')})` : ' (no profiles there)'}. ` +
    `Create it with "aws configure sso --profile ${name}", or choose another profile for the environment.`,
    { problem: 'profile-not-found' },
  );

  if (options.profile) {
    const named = fromProfile(options.profile);
    if (named) return named;
    if (envKeys) return { kind: 'environment', variables: envVariables };
    if (webIdentity) return webIdentity;
    throw missingProfile(options.profile, 'The environment');
  }
  if (envKeys) return { kind: 'environment', variables: envVariables };
  if (env.AWS_PROFILE) {
    const named = fromProfile(env.AWS_PROFILE);
    if (named) return named;
    if (!webIdentity) throw missingProfile(env.AWS_PROFILE, 'AWS_PROFILE');
  }
  const fallback = fromProfile('default');
  if (fallback) return fallback;
  if (webIdentity) return webIdentity;
  throw new AwsError(
    'unavailable',
    `No AWS credentials were found: no profile is named, AWS_ACCESS_KEY_ID is not set, and ${config.files.configFile} and ${config.files.credentialsFile} have no default profile. ` +
    'Run "aws configure sso" (IAM Identity Center) or "aws configure" (access keys), or name a profile in the environment.',
    { problem: 'no-credentials' },
  );
}

const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * The provider for `source`: memoized (one MFA prompt, one SSO read for every client), refreshed five minutes
 * before temporary credentials expire, and throwing AwsErrors that say what to do.
 */
export async function credentialProvider(source: CredentialSource, options: CredentialChainOptions): Promise<AwsCredentialIdentityProvider> {
  const [{ fromEnv, fromIni, fromTokenFile }, { getDefaultRoleAssumer, getDefaultRoleAssumerWithWebIdentity }, { memoize }] = await Promise.all([
    import('@aws-sdk/credential-providers'),
    import('@aws-sdk/client-sts'),
    import('@smithy/core/config'),
  ]);
  const stsConfig = {
    region: options.region,
    ignoreConfiguredEndpointUrls: true,
    ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
  };
  const roleAssumer = getDefaultRoleAssumer(stsConfig);
  const roleAssumerWithWebIdentity = getDefaultRoleAssumerWithWebIdentity(stsConfig);
  let base: AwsCredentialIdentityProvider;
  switch (source.kind) {
    case 'environment':
      base = fromEnv();
      break;
    case 'web-identity':
      base = fromTokenFile({ roleArn: source.roleArn, webIdentityTokenFile: source.tokenFile, roleAssumerWithWebIdentity });
      break;
    case 'profile': {
      const profile = source.profile;
      base = fromIni({
        profile,
        configFilepath: options.config.files.configFile,
        filepath: options.config.files.credentialsFile,
        ignoreCache: true,
        roleAssumer,
        roleAssumerWithWebIdentity,
        // Used for the IAM Identity Center portal client (GetRoleCredentials).
        clientConfig: { ignoreConfiguredEndpointUrls: true, ...(options.ssoEndpoint ? { endpoint: options.ssoEndpoint } : {}) },
        mfaCodeProvider: async (serial: string) => {
          const code = options.mfaCode ? await options.mfaCode({ profile, serial }) : undefined;
          if (!code) {
            throw new AwsError(
              'unavailable',
              `Profile ${profile} assumes a role that needs a code from the MFA device ${serial}, and ${options.mfaCode ? 'none was entered' : 'there is no way to ask for one here'}. Run it again and enter the current code.`,
              { problem: 'mfa-required' },
            );
          }
          return code.trim();
        },
      });
      break;
    }
  }
  const needsRefresh = (c: AwsCredentialIdentity) => c.expiration !== undefined;
  const expiring = (c: AwsCredentialIdentity) => c.expiration !== undefined && c.expiration.getTime() - Date.now() < REFRESH_BEFORE_MS;
  const memoized = memoize(base, expiring, needsRefresh);
  return async (identityProperties) => {
    try {
      return await memoized(identityProperties);
    } catch (err) {
      const sso = source.kind === 'profile' && source.profileKind === 'sso' ? options.config.profile(source.profile) : undefined;
      const ssoLogin = sso ? await ssoLoginState(sso.ssoSession ?? sso.ssoStartUrl) : undefined;
      throw await explainAwsError(err, { ...options.errorContext, ssoLogin });
    }
  };
}

/**
 * Whether the cached IAM Identity Center sign-in (`~/.aws/sso/cache/<sha1 of the session name or start URL>.json`,
 * where the CLI and the SDK keep it) is there and unexpired. Only its expiry is read.
 */
export async function ssoLoginState(cacheKey: string | undefined): Promise<'missing' | 'expired' | 'valid'> {
  if (!cacheKey) return 'missing';
  const { getSSOTokenFromFile } = await import('@smithy/core/config');
  let expiresAt: string | undefined;
  try {
    expiresAt = (await getSSOTokenFromFile(cacheKey)).expiresAt;
  } catch {
    return 'missing';
  }
  const at = expiresAt ? Date.parse(expiresAt) : Number.NaN;
  return Number.isNaN(at) ? 'missing' : at <= Date.now() ? 'expired' : 'valid';
}
