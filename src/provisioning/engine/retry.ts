import { isDriverError } from '../../model/providerApi';

export interface RetryPolicy {
  /** Tries in all, including the first. */
  attempts: number;
  /** Delay before the second try; it doubles after each. */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250 };

/**
 * Runs `call` again after a DriverError 'transient' (a 500, a 429, a dropped connection), with exponential backoff.
 * Anything else, or an aborted signal, ends it at once: retrying a refused setting only wastes the user's time.
 */
export async function withRetry<T>(call: () => Promise<T>, policy: RetryPolicy, signal: AbortSignal, onRetry?: (err: Error, attempt: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= policy.attempts || signal.aborted || !isDriverError(err) || err.code !== 'transient') throw err;
      onRetry?.(err, attempt);
      await sleep(policy.baseDelayMs * 2 ** (attempt - 1), signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
