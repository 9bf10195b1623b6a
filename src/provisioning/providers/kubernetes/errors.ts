/**
 * Errors of the Kubernetes provider. Every message says what happened, why, and what to do next, and names the
 * kubeconfig context, because a developer with several clusters must know which one refused. The Kubernetes
 * Status (reason, field causes) is kept, so callers can branch on `reason` instead of parsing text.
 */

export interface KubeStatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** The `Status` object kube-apiserver answers errors with. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  reason?: string;
  message?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: KubeStatusCause[] };
}

/** An error answer of the API server (HTTP status ≥ 400). */
export class KubeApiError extends Error {
  override readonly name: string = 'KubeApiError';
  constructor(
    message: string,
    readonly code: number,
    readonly status: KubeStatus,
    readonly request: { method: string; path: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  get reason(): string {
    return this.status.reason ?? '';
  }

  get causes(): KubeStatusCause[] {
    return this.status.details?.causes ?? [];
  }
}

/** The server refused the credentials (401): they expired or were revoked. */
export class KubeCredentialsError extends KubeApiError {
  override readonly name = 'KubeCredentialsError';
}

/** The kubeconfig cannot be used: no file, no such context, a missing exec plugin, … */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

/** The API server could not be reached at all (refused, DNS, TLS, timeout). */
export class KubeConnectionError extends Error {
  override readonly name = 'KubeConnectionError';
}

/** A resource did not become ready in time, or failed; `reason` is the readable cause. */
export class KubeNotReadyError extends Error {
  override readonly name = 'KubeNotReadyError';
  constructor(
    readonly resourceId: string,
    readonly reason: string,
    readonly timedOut: boolean,
  ) {
    super(`${resourceId} is not ready${timedOut ? ' (timed out)' : ''}: ${reason}`);
  }
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What the user should do when a context's credentials were refused, per how it authenticates. */
export function refreshHint(context: string, execCommand: string | undefined): string {
  const base = execCommand ? execCommand.split(/[\\/]/).pop() : undefined;
  const how =
    base === 'aws'
      ? 'run "aws sso login" (or refresh the AWS profile the context uses)'
      : base === 'gke-gcloud-auth-plugin' || base === 'gcloud'
        ? 'run "gcloud auth login" (and "gcloud container clusters get-credentials" if the cluster changed)'
        : base === 'kubelogin'
          ? 'run "kubelogin convert-kubeconfig" or sign in again with "az login"'
          : 'get a new token or certificate for it (for example from your cluster provider) and update the kubeconfig';
  return `Refresh the credentials of the kubeconfig context "${context}": ${how}, then try again.`;
}

/**
 * The error for an HTTP error answer, with a message a person can act on. 401 and 403 get their own wording:
 * those are the two a developer meets most with a company cluster.
 */
export function apiError(
  code: number,
  body: string,
  request: { method: string; path: string },
  ctx: { label: string; server: string; refreshHint: string },
): KubeApiError {
  const status = parseStatus(body, code);
  const what = `${request.method} ${request.path}`;
  if (code === 401) {
    return new KubeCredentialsError(
      `The API server ${ctx.server} of ${ctx.label} refused its credentials (401 Unauthorized): they have expired or are not valid. ${ctx.refreshHint}`,
      code,
      status,
      request,
    );
  }
  if (code === 403) {
    return new KubeApiError(
      `${capitalize(ctx.label)} is not allowed to do this (403 Forbidden): ${status.message ?? what}. Ask the cluster's administrator for the RBAC rights, or use a context that has them.`,
      code,
      status,
      request,
    );
  }
  const causes = (status.details?.causes ?? []).map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`);
  const detail = status.message ?? (body.slice(0, 300) || `HTTP ${code}`);
  return new KubeApiError(
    `${what} on ${ctx.label} failed (${code}${status.reason ? ` ${status.reason}` : ''}): ${detail}${causes.length > 1 ? ` [${causes.join('; ')}]` : ''}`,
    code,
    status,
    request,
  );
}

function parseStatus(body: string, code: number): KubeStatus {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') return parsed as KubeStatus;
  } catch {
    // not JSON: a proxy or load balancer in front of the server answered
  }
  return { code, message: body.trim().slice(0, 300) || undefined };
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}
