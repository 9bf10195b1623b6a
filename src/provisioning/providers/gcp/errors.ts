/**
 * Google Cloud refusals explained in the user's terms: no credentials (which command makes them, and why
 * `gcloud auth login` is not it), expired or revoked credentials, a missing permission (with the role that grants
 * it), a disabled API (with the command that enables it). The errors of Google's clients (gax's GoogleError over
 * gRPC and REST, gaxios errors of token requests and REST calls) are read by their ErrorInfo first and their text
 * second. Causes are kept, but stripped to name, code and message: a gaxios error carries the request, whose
 * headers and body hold the token or the refresh token, so it never travels on.
 */

import { enableApiCommand, GCP_APIS, roleForPermission } from './permissions';

export type GcpProblem =
  /** No Application Default Credentials anywhere. */
  | 'adc-missing'
  /** A credential file that is missing, unreadable or of an unusable type. */
  | 'adc-unreadable'
  /** Credentials that Google no longer accepts (invalid_grant, invalid_rapt, a deleted key): log in again. */
  | 'reauth-required'
  /** An access token refused (401). */
  | 'unauthenticated'
  /** Google's token endpoint or the metadata server could not be reached or answered nonsense. */
  | 'unreachable'
  | 'permission-denied'
  | 'api-disabled';

export interface GcpProblemDetails {
  permission?: string;
  role?: string;
  resource?: string;
  api?: string;
  project?: string;
  command?: string;
}

export class GcpCredentialsError extends Error {
  override readonly name = 'GcpCredentialsError';
  constructor(
    readonly problem: GcpProblem,
    message: string,
    options: { cause?: unknown; details?: GcpProblemDetails } = {},
  ) {
    super(scrub(message), options.cause === undefined ? {} : { cause: sanitizedCause(options.cause) });
    this.details = options.details ?? {};
  }

  readonly details: GcpProblemDetails;

  /** The DriverError code the engine branches on (model/providerApi.ts). */
  get driverCode(): 'unavailable' | 'forbidden' {
    return this.problem === 'permission-denied' ? 'forbidden' : 'unavailable';
  }
}

export const ADC_LOGIN = 'gcloud auth application-default login';

export class AdcMissingError extends GcpCredentialsError {
  constructor(gcloudFile: string) {
    super(
      'adc-missing',
      'No Google Cloud credentials were found: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no ' +
        `${gcloudFile}, and no metadata server answered. Run \`${ADC_LOGIN}\` to create Application Default ` +
        'Credentials, then try again. `gcloud auth login` is not enough: it logs in only the gcloud CLI, while this ' +
        'extension, like every Google client library, uses Application Default Credentials. In CI, point ' +
        'GOOGLE_APPLICATION_CREDENTIALS at a workload identity federation (external_account) file instead.',
      { details: { command: ADC_LOGIN } },
    );
  }
}

/** Cuts what looks like a token, a refresh token, a key or a client secret out of a text. */
export function scrub(text: string): string {
  return text
    .replace(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g, '[key]')
    .replace(/\bya29\.[\w.-]+/g, '[token]')
    .replace(/\b1\/\/[\w.-]+/g, '[refresh token]')
    .replace(/\bGOCSPX-[\w-]+/g, '[client secret]')
    .replace(/\beyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[jwt]')
    .replace(/(Bearer\s+)[\w.-]+/gi, '$1[token]');
}

/** A stand-in for a cause: its name, code and (scrubbed) message, and its own cause the same way, without the request. */
function sanitizedCause(cause: unknown, depth = 0): Error {
  const source = cause instanceof Error ? cause : new Error(String(cause));
  const copy = new Error(scrub(source.message), depth < 4 && source.cause !== undefined ? { cause: sanitizedCause(source.cause, depth + 1) } : {});
  copy.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') (copy as Error & { code?: unknown }).code = code;
  return copy;
}

interface ErrorFacts {
  reason?: string;
  metadata: Record<string, string>;
  /** The gRPC status name (PERMISSION_DENIED), or the OAuth error (invalid_grant). */
  status?: string;
  httpStatus?: number;
  message: string;
}

const GRPC_NAMES: Record<number, string> = { 3: 'INVALID_ARGUMENT', 5: 'NOT_FOUND', 7: 'PERMISSION_DENIED', 9: 'FAILED_PRECONDITION', 16: 'UNAUTHENTICATED' };

/** The ErrorInfo, status and message of whichever error shape Google's libraries produced. */
function facts(err: unknown): ErrorFacts {
  const e = (err ?? {}) as Record<string, unknown>;
  const message = err instanceof Error ? err.message : String(err);
  const metadata: Record<string, string> = {};
  let reason = typeof e.reason === 'string' ? e.reason : undefined;
  if (e.errorInfoMetadata && typeof e.errorInfoMetadata === 'object') Object.assign(metadata, e.errorInfoMetadata);
  let status = typeof e.code === 'number' ? GRPC_NAMES[e.code] : undefined;
  const response = e.response as { status?: number; data?: unknown } | undefined;
  const httpStatus = typeof response?.status === 'number' ? response.status : typeof e.status === 'number' ? e.status : undefined;
  const data = response?.data as Record<string, unknown> | undefined;
  if (typeof data?.error === 'string') status = data.error;
  const apiError = data && typeof data.error === 'object' ? (data.error as Record<string, unknown>) : undefined;
  if (apiError) {
    if (typeof apiError.status === 'string') status = apiError.status;
    for (const detail of Array.isArray(apiError.details) ? (apiError.details as Record<string, unknown>[]) : []) {
      if (String(detail['@type'] ?? '').endsWith('google.rpc.ErrorInfo')) {
        reason ??= typeof detail.reason === 'string' ? detail.reason : undefined;
        Object.assign(metadata, detail.metadata ?? {});
      }
    }
  }
  const description = typeof data?.error_description === 'string' ? ` (${data.error_description})` : '';
  return { reason, metadata, status, httpStatus, message: `${typeof apiError?.message === 'string' ? apiError.message : message}${description}` };
}

export interface ExplainContext {
  /** What was being done, e.g. "creating GKE cluster encore-prod". */
  doing?: string;
  project?: string;
  /** The IAM member the credentials act as (user:…, serviceAccount:…), for the grant command. */
  member?: string;
  /** The credential type, to say the right thing about invalid_grant. */
  credentialType?: string;
}

/** A Google error as a GcpCredentialsError when it is one of the problems above; undefined for every other error. */
export function explainGcpError(err: unknown, context: ExplainContext = {}): GcpCredentialsError | undefined {
  if (err instanceof GcpCredentialsError) return err;
  const f = facts(err);
  const doing = context.doing ? ` (${context.doing})` : '';

  const disabled = f.reason === 'SERVICE_DISABLED' || /has not been used in project \S+ before or it is disabled/.test(f.message);
  if (disabled) {
    const fromUrl = /apis\/api\/([\w.-]+)\/overview\?project=([\w-]+)/.exec(f.message);
    const api = f.metadata.service ?? fromUrl?.[1] ?? 'the API';
    const project = context.project ?? f.metadata.consumer?.replace(/^projects\//, '') ?? fromUrl?.[2];
    const title = f.metadata.serviceTitle ?? GCP_APIS.get(api) ?? api;
    const command = enableApiCommand(api, project);
    return new GcpCredentialsError(
      'api-disabled',
      `${title} (${api}) is not enabled in project ${project ?? '(unknown)'}${doing}. Enable it with \`${command}\`, wait a minute for it to take effect, and try again.`,
      { cause: err, details: { api, ...(project ? { project } : {}), command } },
    );
  }

  if (f.status === 'invalid_grant' || f.status === 'invalid_rapt' || /\binvalid_grant\b|invalid_rapt|reauth related error/i.test(f.message)) {
    const message =
      context.credentialType === 'service_account'
        ? `Google no longer accepts the service account key${doing}: it was deleted or disabled, or the machine's clock is wrong (invalid_grant). Create a new key, or use \`${ADC_LOGIN}\`.`
        : context.credentialType === 'external_account'
          ? `Google's Security Token Service refused the workload identity federation credentials${doing}: the CI identity token expired or does not match the provider (invalid_grant). Check the provider's audience and attribute conditions, and that the token file is fresh.`
          : `Your Application Default Credentials have expired or were revoked${doing} (Google answered invalid_grant). Log in again with \`${ADC_LOGIN}\`.`;
    return new GcpCredentialsError('reauth-required', message, { cause: err, details: { command: ADC_LOGIN } });
  }

  if (f.status === 'PERMISSION_DENIED' || f.reason === 'IAM_PERMISSION_DENIED' || f.httpStatus === 403) {
    const fromText = /Permission '([^']+)' denied (?:on|for) resource '([^']+)'/.exec(f.message) ?? /permission "?([a-z]+\.[a-zA-Z]+\.[a-zA-Z]+)"?/i.exec(f.message);
    const permission = f.metadata.permission ?? fromText?.[1];
    const resource = f.metadata.resource ?? (fromText && fromText.length > 2 ? fromText[2] : undefined);
    if (!permission) {
      return new GcpCredentialsError('permission-denied', `Google refused the request${doing}: ${scrub(f.message)}. Ask a project owner which role you lack.`, { cause: err, details: context.project ? { project: context.project } : {} });
    }
    const { role } = roleForPermission(permission);
    const who = context.member ?? 'your account';
    const grant = context.project && context.member ? ` A project owner can run \`gcloud projects add-iam-policy-binding ${context.project} --member=${context.member} --role=${role}\`.` : '';
    return new GcpCredentialsError(
      'permission-denied',
      `${who === 'your account' ? 'Your account lacks' : `${who} lacks`} the permission ${permission}${resource ? ` on ${resource}` : ''}${doing}. The role ${role} grants it.${grant}`,
      { cause: err, details: { permission, role, ...(resource ? { resource } : {}), ...(context.project ? { project: context.project } : {}) } },
    );
  }

  if (f.status === 'UNAUTHENTICATED' || f.status === 'invalid_token' || f.httpStatus === 401) {
    return new GcpCredentialsError(
      'unauthenticated',
      `Google refused the credentials${doing}: the access token is invalid or expired. Run \`${ADC_LOGIN}\` again, or check GOOGLE_APPLICATION_CREDENTIALS.`,
      { cause: err, details: { command: ADC_LOGIN } },
    );
  }

  if (/Could not load the default credentials/.test(f.message)) {
    return new GcpCredentialsError('adc-missing', `No Google Cloud credentials were found${doing}. Run \`${ADC_LOGIN}\` (\`gcloud auth login\` alone is not enough).`, { cause: err, details: { command: ADC_LOGIN } });
  }
  return undefined;
}
