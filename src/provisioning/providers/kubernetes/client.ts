/**
 * A small REST client for the API server, on node:https with the TLS and credentials that client-node's
 * KubeConfig computes (CA, client certificates, bearer tokens, exec plugins, proxy-url).
 *
 * Why not client-node's typed APIs or KubernetesObjectApi: they serialize every object through generated models,
 * which silently drop fields the model does not know (a typo such as `replicaz` vanishes before it reaches the
 * server), so `fieldValidation=Strict` could never catch a renderer bug; and they send MicroTime fields with three
 * fractional digits, which the server refuses for Leases. Raw JSON in and out avoids both.
 */

import { createHash } from 'node:crypto';
import { getMaxListeners, setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { apiError, capitalize, KubeConnectionError, refreshHint } from './errors';
import { resourcePath, resourceType } from './resources';

/** The fields of an object the provider reads; everything else is passed through untouched. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    uid?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    managedFields?: { manager?: string; operation?: string; fieldsV1?: unknown }[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** Milliseconds before the request is abandoned; the default is the client's `requestTimeoutMs`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const FIELD_MANAGER = 'encore-environments';

export interface ApplyOptions {
  /** Take over fields another manager owns: only when adopting an object someone else created. */
  force?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Another field manager than the provider's (a deploy's annotations, which an apply must leave alone). */
  fieldManager?: string;
}

/**
 * Where an API server is and how a request to it authenticates. A kubeconfig context is one source
 * (kubeConfigEndpoint); a cluster the same run creates on EKS or GKE is another (tokenEndpoint: the endpoint and CA
 * from the cloud's description of the cluster, a bearer token from the user's cloud credentials).
 */
export interface KubeEndpoint {
  server: string;
  /** How messages name it: `context "kind-dev"`, `EKS cluster "shop-prod"`. */
  label: string;
  /** Adds TLS material (CA, client certificate) and credentials (a bearer token) to one request's options. */
  authorize(options: https.RequestOptions): Promise<void>;
  /** What to do when the server refuses the credentials (a 401). */
  refreshHint: string;
  /** The exec plugin the credentials come from, when one does: its absence is said in those terms. */
  execCommand?: string;
}

/** A kubeconfig context, through client-node's KubeConfig (CA, client certificates, tokens, exec plugins, proxy-url). */
export function kubeConfigEndpoint(kubeConfig: KubeConfig, context: string, execCommand?: string): KubeEndpoint {
  return {
    server: kubeConfig.getCurrentCluster()?.server ?? '(no server)',
    label: `context "${context}"`,
    authorize: (options) => kubeConfig.applyToHTTPSOptions(options),
    refreshHint: refreshHint(context, execCommand),
    execCommand,
  };
}

/** An API server known by its URL and CA, reached with a bearer token that `token()` gives (and renews). */
export function tokenEndpoint(options: { server: string; caPem: string; label: string; token: () => Promise<string>; refreshHint: string }): KubeEndpoint {
  return {
    server: options.server,
    label: options.label,
    refreshHint: options.refreshHint,
    async authorize(request) {
      request.ca = options.caPem;
      request.headers = { ...(request.headers as Record<string, string>), Authorization: `Bearer ${await options.token()}` };
    },
  };
}

export class KubeClient {
  /** How long a request may go unanswered before it is abandoned (a transient error, retried by the engine). */
  requestTimeoutMs = 30_000;

  constructor(readonly endpoint: KubeEndpoint) {}

  /** A client for a kubeconfig context (tests build one from the test server's kubeconfig). */
  static fromKubeConfig(kubeConfig: KubeConfig, context: string, execCommand?: string): KubeClient {
    return new KubeClient(kubeConfigEndpoint(kubeConfig, context, execCommand));
  }

  get server(): string {
    return this.endpoint.server;
  }

  /** How messages name the cluster. */
  get label(): string {
    return this.endpoint.label;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    // The server URL's own path (a proxy in front of the API server, as Rancher uses) is kept: `path` is appended.
    const base = new URL(this.server);
    const url = new URL(base.origin);
    url.pathname = base.pathname.replace(/\/+$/, '') + path;
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const opts: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    try {
      await this.endpoint.authorize(opts);
    } catch (err) {
      throw this.connectionError(err, 'could not get credentials for');
    }
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers = { ...(opts.headers as Record<string, string>) };
    if (body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    // One run's signal is shared by every request of every parallel step (and the engine's parallel reads): each
    // in-flight request listens on it, which is no leak, so Node's warning at 10 listeners is raised.
    if (options.signal && getMaxListeners(options.signal) < 100) setMaxListeners(100, options.signal);
    const transport = url.protocol === 'http:' ? http : https;
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    opts.agent = this.keptAlive(opts);
    const send = () =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = transport.request(url, { ...opts, headers, signal: options.signal, timeout: timeoutMs }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(this.timeoutError(method, url.pathname, timeoutMs)));
        req.on('error', (err: NodeJS.ErrnoException) => {
          // A kept-alive connection the server closed while idle fails before the request was read: a read is sent
          // again on a new connection (Node's documented pattern for req.reusedSocket). A write is not, since the
          // server may have done it; it fails as a transient error, which the engine retries step by step.
          if (req.reusedSocket && err.code === 'ECONNRESET' && method === 'GET') resolve(send());
          else reject(this.connectionError(err, 'cannot reach'));
        });
        req.end(body);
      });
    const { status, text } = await send();
    if (status >= 400) throw apiError(status, text, { method, path: url.pathname }, { label: this.label, server: this.server, refreshHint: this.endpoint.refreshHint });
    return (text ? JSON.parse(text) : {}) as T;
  }

  private agent: { key: string; agent: https.Agent } | undefined;

  /**
   * client-node makes a new https.Agent per request, so every call would open a new TCP and TLS connection (three
   * round trips instead of one on a remote cluster). Its plain https.Agent (or, for a token endpoint, no agent at
   * all) is replaced by one kept-alive agent with the same TLS options, made again when they change (an exec
   * plugin's rotated client certificate). Proxy agents (proxy-url) are left as they are.
   */
  private keptAlive(opts: https.RequestOptions): https.RequestOptions['agent'] {
    const agent = opts.agent;
    if (agent !== undefined && (!(agent instanceof https.Agent) || agent.constructor !== https.Agent)) return agent;
    const tls = (agent?.options ?? { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername }) as https.AgentOptions;
    const key = createHash('sha256').update(JSON.stringify([tls.ca, tls.cert, tls.key, tls.pfx, tls.passphrase, tls.rejectUnauthorized, tls.servername].map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v ?? null)))).digest('hex');
    if (this.agent?.key !== key) {
      this.agent?.agent.destroy();
      // Idle connections close after 5 s, well before the idle timeouts of load balancers in front of API servers
      // (60 s and more), so a request rarely meets a connection the other end has just closed.
      this.agent = { key, agent: new https.Agent({ ...tls, keepAlive: true, timeout: 5000 }) };
    }
    return this.agent.agent;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  private timeoutError(method: string, path: string, ms: number): KubeConnectionError {
    const seconds = `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
    // "no answer within" is what driverErrors.ts recognises as transient.
    const cause = Object.assign(new Error(`no answer within ${seconds}`), { code: 'ETIMEDOUT' });
    return new KubeConnectionError(`${method} ${path} on ${this.label} timed out: the API server ${this.server} gave no answer within ${seconds}`, { cause });
  }

  private connectionError(err: unknown, what: string): Error {
    if (err instanceof KubeConnectionError || (err as Error)?.name === 'AbortError') return err as Error;
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ENOENT' && e.syscall?.startsWith('spawn')) {
      return new KubeConnectionError(
        `${capitalize(this.label)} authenticates with the exec plugin "${e.path ?? this.endpoint.execCommand}", which is not installed or not on PATH: install it or put it on PATH.`,
        { cause: err },
      );
    }
    return new KubeConnectionError(`${what === 'cannot reach' ? 'Cannot reach' : 'Could not get credentials for'} the API server ${this.server} of ${this.label}: ${e?.message ?? String(err)}`, { cause: err });
  }

  async get<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', resourcePath(resourceType(apiVersion, kind), namespace, name), { signal });
  }

  /** The object, or null when it does not exist. */
  async find<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, signal?: AbortSignal): Promise<T | null> {
    try {
      return await this.get<T>(apiVersion, kind, namespace, name, signal);
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  }

  async list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, query: { labelSelector?: string; fieldSelector?: string } = {}, signal?: AbortSignal): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(resourceType(apiVersion, kind), namespace), { query, signal });
  }

  /**
   * Server-side apply under our field manager, with strict field validation: an unknown or duplicated field is an
   * error, not a warning, so a manifest the server would half-ignore never goes through.
   */
  async apply<T extends KubeObject = KubeObject>(object: KubeObject, options: ApplyOptions = {}): Promise<T> {
    const type = resourceType(object.apiVersion, object.kind);
    return this.request<T>('PATCH', resourcePath(type, object.metadata.namespace, object.metadata.name), {
      query: { fieldManager: options.fieldManager ?? FIELD_MANAGER, fieldValidation: 'Strict', force: options.force ? 'true' : undefined, dryRun: options.dryRun ? 'All' : undefined },
      body: object,
      // JSON is YAML, and the apply patch type takes either.
      contentType: 'application/apply-patch+yaml',
      signal: options.signal,
    });
  }

  async create<T extends KubeObject = KubeObject>(object: KubeObject, signal?: AbortSignal): Promise<T> {
    const type = resourceType(object.apiVersion, object.kind);
    return this.request<T>('POST', resourcePath(type, object.metadata.namespace), { query: { fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' }, body: object, signal });
  }

  /** A full replace, guarded by the object's resourceVersion: a stale one is a 409. */
  async replace<T extends KubeObject = KubeObject>(object: KubeObject, signal?: AbortSignal): Promise<T> {
    const type = resourceType(object.apiVersion, object.kind);
    return this.request<T>('PUT', resourcePath(type, object.metadata.namespace, object.metadata.name), { query: { fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' }, body: object, signal });
  }

  /** A merge patch of the main resource or a subresource (`status`). */
  async mergePatch<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<T> {
    const type = resourceType(apiVersion, kind);
    return this.request<T>('PATCH', resourcePath(type, namespace, name, subresource), { body: patch, contentType: 'application/merge-patch+json' });
  }

  /**
   * Deletes with background propagation: the object goes at once and the garbage collector removes its dependents
   * (a Job's pods, a Deployment's ReplicaSets). Foreground deletion would leave the object Terminating until the
   * collector finishes, and forever where none runs. `Orphan` leaves the dependents in place (a StatefulSet's pods,
   * for one made again). Returns false when the object was already gone. `resourceVersion`, when given, is a
   * precondition: the delete is refused (409) if the object changed since it was read.
   */
  async delete(
    apiVersion: string, kind: string, namespace: string | undefined, name: string,
    options: { resourceVersion?: string; signal?: AbortSignal; propagation?: 'Background' | 'Orphan' } = {},
  ): Promise<boolean> {
    const type = resourceType(apiVersion, kind);
    try {
      await this.request('DELETE', resourcePath(type, namespace, name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagation ?? 'Background', ...(options.resourceVersion ? { preconditions: { resourceVersion: options.resourceVersion } } : {}) },
        signal: options.signal,
      });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return false;
      throw err;
    }
  }
}
