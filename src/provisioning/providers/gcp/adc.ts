/**
 * Application Default Credentials in Google's order: the file `GOOGLE_APPLICATION_CREDENTIALS` names, the gcloud ADC
 * file (`gcloud auth application-default login`), then the metadata server (on Google Cloud, and in CI runners that
 * have one). Discovery reads the file only to say what kind of credential it is and whose (never a secret leaves this
 * module: no key, refresh token or client secret is kept in what it returns). Loading hands the file to
 * google-auth-library, imported only when credentials are first needed.
 */

import { readFileSync, statSync } from 'node:fs';
import type { AuthClient, gaxios } from 'google-auth-library';
import { activeGcloudConfiguration, defaultGcloudEnvironment, gcloudAdcFile, type GcloudEnvironment } from './gcloudConfig';
import { AdcMissingError, GcpCredentialsError } from './errors';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export type CredentialType =
  | 'authorized_user'
  | 'service_account'
  | 'external_account'
  | 'external_account_authorized_user'
  | 'impersonated_service_account'
  | 'metadata';

/** What the credentials are, for the form, the plan header and the status bar. Holds nothing secret. */
export interface AdcDescription {
  type: CredentialType;
  /** Where they were found: the variable, the gcloud file, or the metadata server. */
  origin: 'GOOGLE_APPLICATION_CREDENTIALS' | 'gcloud' | 'metadata';
  /** The credential file, when there is one. */
  file?: string;
  /** The service account acting, when the file says: a key's client_email, or an impersonation target. */
  serviceAccountEmail?: string;
  /** The project a service account key belongs to. */
  keyProjectId?: string;
  /** The quota (billing) project set with `gcloud auth application-default set-quota-project`. */
  quotaProjectId?: string;
  /** For workload identity federation: the provider's audience (//iam.googleapis.com/projects/N/…/providers/P). */
  audience?: string;
  /** For external accounts: where the subject token comes from ("file /path", "url …", "executable", "aws"). */
  subjectTokenSource?: string;
}

export interface AdcOptions {
  environment?: GcloudEnvironment;
  /**
   * The HTTP client google-auth-library sends its token requests with (a gaxios instance). Default: the library's own.
   * Tests give one that sends Google's token endpoints to a server on 127.0.0.1; a proxy setup could give another.
   */
  transporter?: gaxios.Gaxios;
  /** Whether to look for the metadata server when no file is found (it costs a probe of up to a few seconds off Google Cloud). */
  probeMetadata?: boolean;
}

type Json = Record<string, unknown>;

function readCredentialFile(file: string, origin: AdcDescription['origin']): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    const what = origin === 'GOOGLE_APPLICATION_CREDENTIALS' ? `GOOGLE_APPLICATION_CREDENTIALS points at ${file}, but ${why}` : `The gcloud credential file ${file} exists but ${why}`;
    throw new GcpCredentialsError('adc-unreadable', `${what}. Fix or unset the variable, or run \`gcloud auth application-default login\`.`, { cause: err });
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Json;
  } catch {
    // The parser's message can quote the file's text, which holds secrets: say only where it is.
    throw new GcpCredentialsError(
      'adc-unreadable',
      `The credential file ${file} is not valid JSON. Download the key again, or run \`gcloud auth application-default login\` to write a new file.`,
    );
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** The service account email in an impersonation URL (…/serviceAccounts/EMAIL:generateAccessToken). */
export function impersonationTarget(url: unknown): string | undefined {
  const match = /\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(text(url) ?? '');
  return match ? decodeURIComponent(match[1]) : undefined;
}

function describeSubjectTokenSource(source: unknown): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const s = source as Json;
  if (text(s.file)) return `file ${String(s.file)}`;
  if (text(s.url)) return `url ${new URL(String(s.url)).origin}`;
  if (s.executable) return 'executable';
  if (text(s.environment_id)?.startsWith('aws')) return 'aws';
  if (s.certificate) return 'certificate';
  return undefined;
}

/** Reads the facts worth showing from a credential file's JSON, refusing types the provider cannot use. */
export function describeCredentialJson(json: Json, origin: AdcDescription['origin'], file: string): AdcDescription {
  const type = text(json.type);
  const base = { origin, file, ...(text(json.quota_project_id) ? { quotaProjectId: text(json.quota_project_id) } : {}) };
  switch (type) {
    case 'authorized_user':
      return { ...base, type };
    case 'service_account':
      if (!text(json.client_email) || !text(json.private_key)) {
        throw new GcpCredentialsError('adc-unreadable', `The service account key ${file} lacks client_email or private_key. Create a new key for the service account and point GOOGLE_APPLICATION_CREDENTIALS at it.`);
      }
      return { ...base, type, serviceAccountEmail: text(json.client_email), ...(text(json.project_id) ? { keyProjectId: text(json.project_id) } : {}) };
    case 'external_account':
    case 'external_account_authorized_user': {
      const target = impersonationTarget(json.service_account_impersonation_url);
      const source = describeSubjectTokenSource(json.credential_source);
      return { ...base, type, ...(text(json.audience) ? { audience: text(json.audience) } : {}), ...(target ? { serviceAccountEmail: target } : {}), ...(source ? { subjectTokenSource: source } : {}) };
    }
    case 'impersonated_service_account': {
      const target = impersonationTarget(json.service_account_impersonation_url);
      return { ...base, type, ...(target ? { serviceAccountEmail: target } : {}) };
    }
    default:
      throw new GcpCredentialsError(
        'adc-unreadable',
        `The credential file ${file} is of type "${type ?? '(none)'}", which is not a Google Cloud credential this extension can use (authorized_user, service_account, external_account or impersonated_service_account).`,
      );
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Whether a metadata server answers (gcp-metadata's probe, which honours GCE_METADATA_HOST and METADATA_SERVER_DETECTION). */
async function metadataAvailable(): Promise<boolean> {
  const { gcpMetadata } = await import('google-auth-library');
  return gcpMetadata.isAvailable();
}

/**
 * Finds the Application Default Credentials, in Google's order, without loading them. Throws AdcMissingError when
 * there are none (the message says which command makes them), GcpCredentialsError when a file is broken.
 */
export async function discoverAdc(options: AdcOptions = {}): Promise<AdcDescription> {
  const environment = options.environment ?? defaultGcloudEnvironment();
  const explicit = environment.env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
  if (explicit) {
    // As in Google's libraries, a set variable is final: a wrong path is an error, not a reason to look further.
    return describeCredentialJson(readCredentialFile(explicit, 'GOOGLE_APPLICATION_CREDENTIALS'), 'GOOGLE_APPLICATION_CREDENTIALS', explicit);
  }
  const gcloudFile = gcloudAdcFile(environment);
  if (isFile(gcloudFile)) return describeCredentialJson(readCredentialFile(gcloudFile, 'gcloud'), 'gcloud', gcloudFile);
  if (options.probeMetadata !== false && (await metadataAvailable())) return { type: 'metadata', origin: 'metadata' };
  throw new AdcMissingError(gcloudFile);
}

export interface LoadedAdc {
  description: AdcDescription;
  /** The google-auth-library client every Google client is given (`authClient`), scoped to cloud-platform. */
  client: AuthClient;
}

/**
 * Discovers the credentials, then lets google-auth-library's own ADC chain make the client (it reads the same
 * variables and files, so it makes the one just described, which is checked). Nothing is fetched yet: the first
 * token request happens on first use. Reads this process's environment, as the library does.
 */
export async function loadAdc(options: Omit<AdcOptions, 'environment'> & { projectId?: string } = {}): Promise<LoadedAdc> {
  const description = await discoverAdc(options);
  const gal = await import('google-auth-library');
  // Without a project id the library looks for one while making the client: it runs `gcloud config config-helper`
  // and asks Cloud Resource Manager. The provider names its project in every call, so it gives the one it knows,
  // or "-", Google's "any project".
  const projectId = options.projectId ?? projectDefaults(description).project?.value ?? '-';
  const auth = new gal.GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE], projectId, ...(options.transporter ? { clientOptions: { transporter: options.transporter } } : {}) });
  let client: AuthClient;
  try {
    client = await auth.getClient();
  } catch (err) {
    throw new GcpCredentialsError('adc-unreadable', `Google's auth library could not use the credentials ${description.file ? `in ${description.file}` : 'of the metadata server'}: ${safeMessage(err)}`, { cause: err });
  }
  const expected: Record<CredentialType, new (...args: never[]) => AuthClient> = {
    authorized_user: gal.UserRefreshClient,
    service_account: gal.JWT,
    external_account: gal.BaseExternalAccountClient as unknown as new (...args: never[]) => AuthClient,
    external_account_authorized_user: gal.ExternalAccountAuthorizedUserClient,
    impersonated_service_account: gal.Impersonated,
    metadata: gal.Compute,
  };
  if (!(client instanceof expected[description.type])) {
    throw new GcpCredentialsError(
      'adc-unreadable',
      `The credentials changed while they were being loaded (found ${description.type} ${description.file ?? ''}, but the auth library made a ${(client as object).constructor.name}). Try again.`,
    );
  }
  return { description, client };
}

/** An error's message with anything that looks like a token or key cut out. */
function safeMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g, '[key]').replace(/\b(ya29\.|1\/\/)[\w.-]+/g, '[token]');
}

export interface ProjectDefaults {
  project?: { value: string; from: string };
  region?: { value: string; from: string };
  /** The account gcloud itself is logged in as (`gcloud auth login`), which may differ from the ADC account. */
  gcloudAccount?: string;
  /** The active gcloud configuration's name. */
  configuration: string;
}

/**
 * The project and region to propose, from the environment (GOOGLE_CLOUD_PROJECT, CLOUDSDK_CORE_PROJECT, …), the
 * active gcloud configuration, and the credentials (a key's project, the ADC quota project), in that order.
 */
export function projectDefaults(adc: AdcDescription | undefined, environment: GcloudEnvironment = defaultGcloudEnvironment()): ProjectDefaults {
  const config = activeGcloudConfiguration(environment);
  const env = environment.env;
  const fromEnv = (['GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT'] as const).map((name) => (env[name]?.trim() ? { value: env[name]!.trim(), from: name } : undefined)).find(Boolean);
  const project =
    fromEnv ??
    config.get('core/project') ??
    (adc?.keyProjectId ? { value: adc.keyProjectId, from: `the service account key (${adc.file ?? ''})` } : undefined) ??
    (adc?.quotaProjectId ? { value: adc.quotaProjectId, from: 'the ADC quota project' } : undefined);
  const zone = config.get('compute/zone');
  const region =
    config.get('compute/region') ??
    (zone && /^[a-z]+-[a-z]+\d+-[a-z]$/.test(zone.value) ? { value: zone.value.replace(/-[a-z]$/, ''), from: `${zone.from}, without the zone letter` } : undefined);
  const account = config.get('core/account')?.value;
  return { ...(project ? { project } : {}), ...(region ? { region } : {}), ...(account ? { gcloudAccount: account } : {}), configuration: config.name };
}
