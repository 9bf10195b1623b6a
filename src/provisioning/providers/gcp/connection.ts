/**
 * One GCP connection per environment: the project and region, the Application Default Credentials (one AuthClient
 * every client shares), and where each API is reached. Endpoints follow gcloud's own override properties
 * (`api_endpoint_overrides/<api>` in the active configuration, or `CLOUDSDK_API_ENDPOINT_OVERRIDES_<API>`), so a
 * private endpoint or a local emulator is set the way gcloud users already set it. Every call goes through
 * `call`, which honours the signal and turns Google's errors into DriverErrors (errors.ts explains credentials,
 * permissions and disabled APIs).
 */

import type { AuthClient, gaxios } from 'google-auth-library';
import { DriverError, type DriverErrorCode } from '../../../model/providerApi';
import { loadAdc, type AdcDescription } from './adc';
import { explainGcpError, GcpCredentialsError, scrub } from './errors';
import { activeGcloudConfiguration, defaultGcloudEnvironment, type GcloudEnvironment } from './gcloudConfig';

/** The APIs the provider calls, by gcloud's name for their endpoint override. */
export type GcpApi = 'container' | 'sql' | 'redis' | 'secretmanager' | 'artifactregistry' | 'pubsub' | 'storage' | 'iam' | 'compute' | 'servicenetworking' | 'cloudresourcemanager';

const DEFAULT_HOSTS: Record<GcpApi, string> = {
  container: 'container.googleapis.com',
  sql: 'sqladmin.googleapis.com',
  redis: 'redis.googleapis.com',
  secretmanager: 'secretmanager.googleapis.com',
  artifactregistry: 'artifactregistry.googleapis.com',
  pubsub: 'pubsub.googleapis.com',
  storage: 'storage.googleapis.com',
  iam: 'iam.googleapis.com',
  compute: 'compute.googleapis.com',
  servicenetworking: 'servicenetworking.googleapis.com',
  cloudresourcemanager: 'cloudresourcemanager.googleapis.com',
};

/** Served over REST (HTTP status codes), not gRPC (gRPC status codes) by the clients the provider uses. */
const REST_APIS = new Set<GcpApi>(['storage', 'iam', 'compute', 'servicenetworking']);

export interface GcpEndpoint {
  /** https or http (an emulator on loopback). */
  protocol: 'https' | 'http';
  host: string;
  port: number;
  /** Where it came from: the gcloud property or variable, or Google's default. */
  from: string;
  /** scheme://host:port, without a trailing slash. */
  url: string;
}

export interface GcpConnectionOptions {
  project: string;
  region: string;
  env?: NodeJS.ProcessEnv;
  homedir?: string;
  /** The HTTP client for token requests (loadAdc's transporter); tests and proxies give one. */
  transporter?: gaxios.Gaxios;
}

export interface GcpConnection {
  readonly project: string;
  readonly region: string;
  readonly adc: AdcDescription;
  readonly auth: AuthClient;
  endpoint(api: GcpApi): GcpEndpoint;
  /** Options for a GAPIC client of `api` (gRPC, or REST fallback for Cloud SQL Admin). */
  gapicOptions(api: GcpApi): Record<string, string | number | boolean | object>;
  /** A fresh access token from ADC (the Kubernetes connection's bearer token). */
  accessToken(): Promise<string>;
  /** Runs a call with the signal honoured; failures come out as DriverErrors (a cancellation as itself). */
  call<T>(api: GcpApi, operation: string, run: () => Promise<T>, signal: AbortSignal): Promise<T>;
}

export function resolveEndpoint(api: GcpApi, environment: GcloudEnvironment): GcpEndpoint {
  const property = activeGcloudConfiguration(environment).get(`api_endpoint_overrides/${api}`);
  if (!property) return { protocol: 'https', host: DEFAULT_HOSTS[api], port: 443, from: 'Google', url: `https://${DEFAULT_HOSTS[api]}` };
  let url: URL;
  try {
    url = new URL(property.value);
  } catch {
    throw new DriverError('invalid', `The endpoint override for ${api} (${property.from}) is not a URL: "${property.value}"`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
  return { protocol, host: url.hostname, port, from: property.from, url: `${protocol}://${url.hostname}:${port}` };
}

/** The gRPC status names by code, as Google's errors carry them. */
const GRPC = { CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;
const HTTP_TO_GRPC: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 412: 9, 429: 8, 500: 13, 502: 14, 503: 14, 504: 4 };

/** A Google API error as the driver reports it, with the gRPC-style status it came with. */
export class GcpCallError extends DriverError {
  constructor(
    code: DriverErrorCode,
    message: string,
    /** The gRPC status code (REST statuses mapped to it): 5 not found, 6 already exists, 9 failed precondition… */
    readonly status: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(code, scrub(message), options.cause === undefined ? {} : { cause: { name: (options.cause as Error).name, message: scrub((options.cause as Error).message ?? '') } });
  }
}

export function statusOf(err: unknown): number | undefined {
  return err instanceof GcpCallError ? err.status : undefined;
}

export const isNotFound = (err: unknown) => statusOf(err) === GRPC.NOT_FOUND;
export const isAlreadyExists = (err: unknown) => statusOf(err) === GRPC.ALREADY_EXISTS;
export const isFailedPrecondition = (err: unknown) => statusOf(err) === GRPC.FAILED_PRECONDITION || statusOf(err) === GRPC.ABORTED;

function rawStatus(err: unknown, rest: boolean): number | undefined {
  const e = (err ?? {}) as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  const http = typeof e.response?.status === 'number' ? e.response.status : typeof e.status === 'number' ? e.status : undefined;
  if (rest) {
    const code = typeof e.code === 'number' && e.code >= 100 ? e.code : http;
    return code === undefined ? undefined : HTTP_TO_GRPC[code] ?? (code >= 500 ? GRPC.INTERNAL : GRPC.UNKNOWN);
  }
  if (typeof e.code === 'number' && e.code < 100) return e.code;
  return http === undefined ? undefined : HTTP_TO_GRPC[http];
}

/** A Google error as a DriverError saying what was being done. */
export function translateGcpError(err: unknown, api: GcpApi, operation: string, project: string, member?: string): DriverError {
  if (err instanceof DriverError) return err;
  const doing = `${operation} (${DEFAULT_HOSTS[api]})`;
  const explained = explainGcpError(err, { doing, project, ...(member ? { member } : {}) });
  if (explained) return new GcpCallError(explained.driverCode, explained.message, rawStatus(err, REST_APIS.has(api)), { cause: err });
  const status = rawStatus(err, REST_APIS.has(api));
  const message = scrub(err instanceof Error ? err.message : String(err));
  const transient = status === undefined
    ? /ECONNRESET|ECONNREFUSED|ETIMEDOUT|socket hang up|EAI_AGAIN/.test(message)
    : ([GRPC.UNAVAILABLE, GRPC.DEADLINE_EXCEEDED, GRPC.RESOURCE_EXHAUSTED, GRPC.INTERNAL, GRPC.ABORTED, GRPC.UNKNOWN] as number[]).includes(status);
  const code: DriverErrorCode = transient ? 'transient' : status === GRPC.INVALID_ARGUMENT ? 'invalid' : status === GRPC.FAILED_PRECONDITION || status === GRPC.ALREADY_EXISTS ? 'conflict' : 'invalid';
  return new GcpCallError(code, `${doing} failed in project ${project}: ${message}`, status, { cause: err });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

/** Loads ADC and decides the endpoints. Makes no request to Google (the first token is fetched on first use). */
export async function openGcpConnection(options: GcpConnectionOptions): Promise<GcpConnection> {
  const environment: GcloudEnvironment = { ...defaultGcloudEnvironment(), ...(options.env ? { env: options.env } : {}), ...(options.homedir ? { homedir: options.homedir } : {}) };
  let loaded: Awaited<ReturnType<typeof loadAdc>>;
  try {
    loaded = await loadAdc({ projectId: options.project, ...(options.transporter ? { transporter: options.transporter } : {}) });
  } catch (err) {
    if (err instanceof GcpCredentialsError) throw new DriverError(err.driverCode, err.message);
    throw err;
  }
  const endpoints = new Map<GcpApi, GcpEndpoint>();
  const endpoint = (api: GcpApi) => {
    let e = endpoints.get(api);
    if (!e) endpoints.set(api, (e = resolveEndpoint(api, environment)));
    return e;
  };
  const { project } = options;
  return {
    project,
    region: options.region,
    adc: loaded.description,
    auth: loaded.client,
    endpoint,
    gapicOptions(api) {
      const e = endpoint(api);
      const base = { authClient: loaded.client, projectId: project, apiEndpoint: e.host, port: e.port };
      return api === 'sql' ? { ...base, fallback: true, protocol: e.protocol } : base;
    },
    async accessToken() {
      const { token } = await loaded.client.getAccessToken();
      if (!token) throw new DriverError('unavailable', 'Application Default Credentials gave no access token');
      return token;
    },
    async call(api, operation, run, signal) {
      signal.throwIfAborted();
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const running = run();
      // A call left running after a cancellation must not surface as an unhandled rejection.
      running.catch(() => undefined);
      try {
        return await Promise.race([running, aborted]);
      } catch (err) {
        if (signal.aborted) throw abortError(signal);
        throw translateGcpError(err, api, operation, project, loaded.description.serviceAccountEmail ? `serviceAccount:${loaded.description.serviceAccountEmail}` : undefined);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
