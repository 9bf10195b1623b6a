/** Why a provisioning session could not do what it was asked, before anything changed. */

export type SessionErrorCode =
  /** The environments file names no such environment (or no such secret): a usage error. */
  | 'not-found'
  /** The environments file cannot be read or is not valid. */
  | 'environments-file'
  /** The app has errors Encore would refuse to build, or its model is not known yet. */
  | 'app'
  /** The user cancelled a question (sizing, MFA code). */
  | 'cancelled'
  /** The environment is not applied as the app is now: apply first (a key rotation needs no other change pending). */
  | 'apply-first'
  /** The request does not fit the environment's state (a key rotation started twice, or finished with none started). */
  | 'conflict';

/** A session failure with a code to branch on (no instanceof across bundles). */
export class SessionError extends Error {
  readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SessionError';
    this.code = code;
  }
}

export function isSessionError(err: unknown): err is SessionError {
  return err instanceof Error && err.name === 'SessionError' && typeof (err as SessionError).code === 'string';
}
