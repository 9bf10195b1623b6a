/**
 * The AWS CLI's shared files (`~/.aws/config`, `~/.aws/credentials`, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE),
 * read with the SDK's own parser so a profile means here what it means to the SDK's credential providers. Only what
 * the provider needs to decide things is exposed (region, endpoints, what kind of credentials a profile has); key
 * material is never copied out of the parsed files.
 */

import os from 'node:os';
import path from 'node:path';

/** The files read, as the SDK resolves them (a leading `~/` is the home folder). */
export interface AwsFiles {
  configFile: string;
  credentialsFile: string;
}

export function awsFiles(env: NodeJS.ProcessEnv = process.env, homedir = os.homedir()): AwsFiles {
  const expand = (file: string) => (file.startsWith('~/') ? path.join(homedir, file.slice(2)) : file);
  return {
    configFile: expand(env.AWS_CONFIG_FILE || path.join(homedir, '.aws', 'config')),
    credentialsFile: expand(env.AWS_SHARED_CREDENTIALS_FILE || path.join(homedir, '.aws', 'credentials')),
  };
}

/** How a profile gets its credentials, in the order the SDK's ini provider tries them. */
export type ProfileKind =
  | 'assume-role'
  | 'web-identity'
  | 'sso'
  | 'process'
  | 'static-keys'
  | 'login'
  | 'none';

/** A profile's settings that are not secrets: no key, secret or session token ever gets here. */
export interface ProfileSettings {
  name: string;
  kind: ProfileKind;
  region?: string;
  endpointUrl?: string;
  /** The `[services X]` section the profile names, by service key (`eks`, `secrets_manager`) → endpoint URL. */
  serviceEndpoints: Map<string, string>;
  /** The profile names a `services` section that the config file does not have (the SDK refuses that too). */
  missingServicesSection?: string;
  ignoreConfiguredEndpointUrls: boolean;
  ssoSession?: string;
  /** A legacy IAM Identity Center profile (no sso_session) keys its cached login by the start URL. */
  ssoStartUrl?: string;
  roleArn?: string;
  sourceProfile?: string;
  mfaSerial?: string;
}

export interface SharedConfig {
  files: AwsFiles;
  /** Names of every profile in either file. */
  profileNames: string[];
  profile(name: string): ProfileSettings | undefined;
}

type Section = Record<string, string | undefined>;

function kindOf(values: Section): ProfileKind {
  if (values.role_arn && (values.source_profile || values.credential_source)) return 'assume-role';
  if (values.role_arn && values.web_identity_token_file) return 'web-identity';
  if (values.sso_session || values.sso_start_url || values.sso_account_id || values.sso_role_name) return 'sso';
  if (values.credential_process) return 'process';
  if (values.aws_access_key_id && values.aws_secret_access_key) return 'static-keys';
  if (values.login_session) return 'login';
  return 'none';
}

const own = (object: Record<string, Section>, key: string): Section | undefined => (Object.hasOwn(object, key) ? object[key] : undefined);

/**
 * Reads both files afresh (no SDK cache, so an `aws configure` in between is seen). A file that does not exist counts
 * as empty, as it does for the SDK.
 */
export async function readSharedConfig(env: NodeJS.ProcessEnv = process.env, homedir = os.homedir()): Promise<SharedConfig> {
  const files = awsFiles(env, homedir);
  const { loadSharedConfigFiles } = await import('@smithy/core/config');
  const { configFile, credentialsFile } = await loadSharedConfigFiles({
    configFilepath: files.configFile,
    filepath: files.credentialsFile,
    ignoreCache: true,
  });
  // The parser keys sections as `services.X` and `sso-session.X`; everything else is a profile.
  const isProfileKey = (key: string) => !key.startsWith('services.') && !key.startsWith('sso-session.');
  const profileNames = [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)].filter(isProfileKey))].sort();
  return {
    files,
    profileNames,
    profile(name) {
      const fromConfig = own(configFile, name);
      const fromCredentials = own(credentialsFile, name);
      if (!fromConfig && !fromCredentials) return undefined;
      // Credentials-file values win, as in the SDK's parseKnownFiles.
      const values: Section = { ...fromConfig, ...fromCredentials };
      const serviceEndpoints = new Map<string, string>();
      const servicesSection = values.services ? own(configFile, `services.${values.services}`) : undefined;
      for (const [key, value] of Object.entries(servicesSection ?? {})) {
        const match = /^(.+)\.endpoint_url$/.exec(key);
        if (match && value) serviceEndpoints.set(match[1], value);
      }
      return {
        name,
        kind: kindOf(values),
        region: values.region || undefined,
        endpointUrl: values.endpoint_url || undefined,
        serviceEndpoints,
        missingServicesSection: values.services && !servicesSection ? values.services : undefined,
        ignoreConfiguredEndpointUrls: values.ignore_configured_endpoint_urls?.toLowerCase() === 'true',
        ssoSession: values.sso_session || undefined,
        ssoStartUrl: values.sso_start_url || undefined,
        roleArn: values.role_arn || undefined,
        sourceProfile: values.source_profile || undefined,
        mfaSerial: values.mfa_serial || undefined,
      };
    },
  };
}
