/** Kubernetes failures as the engine's DriverError codes (providerApi.ts), keeping the readable message and cause. */

import { DriverError, isDriverError } from '../../../model/providerApi';
import { KubeApiError, KubeConfigError, KubeConnectionError, KubeCredentialsError } from './errors';

const TRANSIENT_NET = /ECONNRESET|EPIPE|ETIMEDOUT|ECONNABORTED|EAI_AGAIN|socket hang up|no answer within/;

export function toDriverError(err: unknown, resourceId?: string): Error {
  if (isDriverError(err)) return err;
  if ((err as Error)?.name === 'AbortError') return err as Error;
  const opts = { resourceId, cause: err };
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof KubeConfigError || err instanceof KubeCredentialsError) return new DriverError('unavailable', message, opts);
  if (err instanceof KubeConnectionError) {
    const cause = (err.cause ?? {}) as Partial<NodeJS.ErrnoException>;
    const text = `${cause.code ?? ''} ${cause.message ?? ''} ${message}`;
    return new DriverError(TRANSIENT_NET.test(text) ? 'transient' : 'unavailable', message, opts);
  }
  if (err instanceof KubeApiError) {
    if (err.code === 403) return new DriverError('forbidden', message, opts);
    if (err.code === 409) return new DriverError('conflict', message, opts);
    if (err.code === 400 || err.code === 422) return new DriverError('invalid', message, opts);
    // Server-side apply answers a manifest that does not fit the schema with a 500; retrying cannot fix it.
    if (err.code === 500 && /failed to create typed patch object/.test(message)) return new DriverError('invalid', message, opts);
    if (err.code === 429 || err.code >= 500) return new DriverError('transient', message, opts);
    if (err.code === 404) return new DriverError('not-ready', message, opts);
    return new DriverError('invalid', message, opts);
  }
  // A renderer refusing settings it cannot turn into a manifest.
  return new DriverError('invalid', resourceId && !message.startsWith(resourceId) ? `${resourceId}: ${message}` : message, opts);
}
