import path from 'node:path';
import { parseIni, type IniSection } from '../ini';
import { expandHome, readOptional, resolveEnv, type DiscoveryEnv } from '../../../files/readOptional';
import type { AwsProfile, AwsProfiles } from '../../../model/discovery';

const CREDENTIAL_SOURCES = ['Environment', 'Ec2InstanceMetadata', 'EcsContainer'];

interface RawProfile {
  name: string;
  sources: string[];
  /** Config values overlaid by credentials-file values, as the AWS SDK for JavaScript merges them. */
  values: Map<string, string>;
}

/**
 * Lists the AWS profiles of the shared config and credentials files (honouring AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE), says how each one gets credentials, and explains why a profile cannot be used.
 * Key material is read only to note that it exists: it never leaves this function, not even in a problem text.
 */
export async function discoverAwsProfiles(options: DiscoveryEnv = {}): Promise<AwsProfiles> {
  const { env, homedir } = resolveEnv(options);
  const configFile = expandHome(env.AWS_CONFIG_FILE || path.join(homedir, '.aws', 'config'), homedir);
  const credentialsFile = expandHome(env.AWS_SHARED_CREDENTIALS_FILE || path.join(homedir, '.aws', 'credentials'), homedir);
  const problems: string[] = [];
  const [configText, credentialsText] = await Promise.all([readOptional(configFile, problems), readOptional(credentialsFile, problems)]);
  if (configText === undefined && credentialsText === undefined && problems.length === 0) {
    problems.push(
      `no AWS profiles: neither ${configFile} nor ${credentialsFile} exists. Run "aws configure sso" (IAM Identity Center) or "aws configure" (access keys) to create one.`,
    );
  }

  const raw = new Map<string, RawProfile>();
  const ssoSessions = new Map<string, IniSection>();
  const add = (name: string, file: string, section: IniSection) => {
    const profile: RawProfile = raw.get(name) ?? { name, sources: [], values: new Map() };
    if (!profile.sources.includes(file)) profile.sources.push(file);
    for (const [k, v] of section.values) profile.values.set(k, v);
    raw.set(name, profile);
  };

  if (configText !== undefined) {
    const ini = parseIni(configText);
    problems.push(...ini.problems.map((p) => `${configFile}: ${p.message}`));
    for (const section of ini.sections.values()) {
      const profile = /^profile\s+(.+)$/.exec(section.name);
      const session = /^sso-session\s+(.+)$/.exec(section.name);
      if (section.name === 'default') add('default', configFile, section);
      else if (profile) add(profile[1].trim(), configFile, section);
      else if (session) ssoSessions.set(session[1].trim(), section);
      else if (!/^services\s/.test(section.name)) {
        problems.push(`${configFile} line ${section.line}: [${section.name}] is not read as a profile; in the config file write [profile ${section.name}]`);
      }
    }
  }
  if (credentialsText !== undefined) {
    const ini = parseIni(credentialsText);
    problems.push(...ini.problems.map((p) => `${credentialsFile}: ${p.message}`));
    // Credentials-file values win over config values, as in the SDK: read it second.
    for (const section of ini.sections.values()) add(section.name, credentialsFile, section);
  }

  const active = env.AWS_PROFILE || 'default';
  const profiles = [...raw.values()].map((p) => describe(p, raw, ssoSessions, active));
  return { configFile, credentialsFile, profiles, problems };
}

function describe(p: RawProfile, all: Map<string, RawProfile>, ssoSessions: Map<string, IniSection>, active: string): AwsProfile {
  const v = p.values;
  const profile: AwsProfile = { name: p.name, sources: p.sources, kind: 'unknown', active: p.name === active };
  if (v.get('region')) profile.region = v.get('region');
  const { kind, skipped } = classify(p, all, ssoSessions, [p.name]);
  profile.kind = kind;
  if (skipped) profile.skipped = skipped;
  if (v.has('source_profile')) profile.sourceProfile = v.get('source_profile');
  if (v.has('credential_source')) profile.credentialSource = v.get('credential_source');
  if (v.has('sso_session')) profile.ssoSession = v.get('sso_session');
  if (kind === 'static-keys') profile.hasSessionToken = Boolean(v.get('aws_session_token'));
  return profile;
}

/** How a profile gets credentials, following source_profile chains; `skipped` says why it cannot. */
function classify(
  p: RawProfile,
  all: Map<string, RawProfile>,
  ssoSessions: Map<string, IniSection>,
  chain: string[],
): { kind: AwsProfile['kind']; skipped?: string } {
  const v = p.values;
  const has = (key: string) => Boolean(v.get(key));
  if (has('role_arn')) {
    if (has('web_identity_token_file')) return { kind: 'web-identity' };
    if (has('source_profile') && has('credential_source')) {
      return { kind: 'role', skipped: 'has both source_profile and credential_source; keep only one' };
    }
    const source = v.get('source_profile');
    if (source) {
      const base = all.get(source);
      if (!base) return { kind: 'role', skipped: `its source_profile "${source}" is not defined` };
      // A profile may name itself as its source when it holds the keys that assume the role.
      if (source === p.name) return hasKeys(v) ? { kind: 'role' } : { kind: 'role', skipped: 'it is its own source_profile but has no access keys' };
      if (chain.includes(source)) return { kind: 'role', skipped: `its source_profile chain loops: ${[...chain, source].join(' → ')}` };
      const inner = classify(base, all, ssoSessions, [...chain, source]);
      return inner.skipped ? { kind: 'role', skipped: `its source_profile "${source}" cannot be used: ${inner.skipped}` } : { kind: 'role' };
    }
    const credentialSource = v.get('credential_source');
    if (credentialSource) {
      return CREDENTIAL_SOURCES.includes(credentialSource)
        ? { kind: 'role' }
        : { kind: 'role', skipped: `credential_source "${credentialSource}" is not one of ${CREDENTIAL_SOURCES.join(', ')}` };
    }
    return { kind: 'role', skipped: 'role_arn without source_profile or credential_source: there are no credentials to assume the role with' };
  }
  if (has('sso_session') || has('sso_start_url')) return { kind: 'sso', skipped: ssoProblem(v, ssoSessions) };
  if (has('credential_process')) return { kind: 'process' };
  if (has('aws_access_key_id') || has('aws_secret_access_key')) {
    if (hasKeys(v)) return { kind: 'static-keys' };
    return { kind: 'static-keys', skipped: has('aws_access_key_id') ? 'aws_access_key_id without aws_secret_access_key' : 'aws_secret_access_key without aws_access_key_id' };
  }
  // `aws login` signs a profile in with AWS console credentials and records `login_session` in it.
  if (has('login_session')) return { kind: 'login' };
  return { kind: 'unknown', skipped: 'no credentials: no access keys, SSO settings, role_arn, credential_process or login session (only settings such as region)' };
}

function hasKeys(v: Map<string, string>): boolean {
  return Boolean(v.get('aws_access_key_id') && v.get('aws_secret_access_key'));
}

function ssoProblem(v: Map<string, string>, ssoSessions: Map<string, IniSection>): string | undefined {
  const missing = (keys: string[], from: Map<string, string>) => keys.filter((k) => !from.get(k));
  const roleKeys = missing(['sso_account_id', 'sso_role_name'], v);
  const sessionName = v.get('sso_session');
  if (sessionName) {
    const session = ssoSessions.get(sessionName);
    if (!session) return `its sso_session "${sessionName}" has no [sso-session ${sessionName}] section in the config file`;
    const sessionKeys = missing(['sso_start_url', 'sso_region'], session.values);
    if (sessionKeys.length > 0) return `[sso-session ${sessionName}] lacks ${sessionKeys.join(' and ')}`;
    if (roleKeys.length > 0) return `it lacks ${roleKeys.join(' and ')}: it can sign in but names no account role to use`;
    return undefined;
  }
  const legacy = missing(['sso_start_url', 'sso_region', 'sso_account_id', 'sso_role_name'], v);
  return legacy.length > 0 ? `it lacks ${legacy.join(', ')}` : undefined;
}
