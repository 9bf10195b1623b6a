/**
 * Engine refusals, each with a code a front end can branch on (the CLI maps them to exit codes, the extension to
 * dialogs) and a message that says what to do next.
 */

export type EngineErrorCode =
  /** Stateful resources would be deleted and the typed confirmation (the environment's name) is missing or wrong. */
  | 'confirmation-required'
  /** The plan the user approved no longer matches what apply would do now. */
  | 'stale-plan'
  /** Objects made outside the tool would be taken over and the adoption was not confirmed. */
  | 'adoption-required'
  /** The driver does not handle some of the graph's provider types. */
  | 'unsupported'
  /** The recorded state belongs to another environment or provider. */
  | 'state-mismatch';

export class EngineError extends Error {
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
  }
}

export function isEngineError(err: unknown): err is EngineError {
  return err instanceof Error && err.name === 'EngineError' && typeof (err as EngineError).code === 'string';
}

/** The message with its causes, one per clause, so a failure recorded in state still says why. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const text = current instanceof Error ? current.message : String(current);
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}

/** True for the error an aborted signal produces (AbortError, or the signal's own reason). */
export function isAbort(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && (err === signal.reason || (err instanceof Error && err.name === 'AbortError'))) return true;
  return err instanceof Error && err.name === 'AbortError';
}
