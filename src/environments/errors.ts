import { formatProblem, type FileProblem, type Problem } from './problems';
import type { LoadResult } from './store';

export type EnvStoreErrorCode = 'conflict' | 'invalid-file' | 'invalid-environment' | 'not-found' | 'locked' | 'io';

/** Base of every error the store throws; `code` lets callers branch without instanceof across bundles. */
export class EnvStoreError extends Error {
  constructor(
    readonly code: EnvStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Someone else changed the file after the store last read it. Nothing was written; the store has reloaded, and
 * `reloaded` is what the file holds now, so the caller can show it and let the user redo the change.
 */
export class ConflictError extends EnvStoreError {
  constructor(
    readonly file: string,
    readonly reloaded: LoadResult,
  ) {
    super('conflict', `${file} was changed by someone else since it was read; nothing was written. The file has been reloaded: redo the change on top of it.`);
  }
}

/** The file on disk cannot be parsed or fails validation, so the store refuses to write over it. */
export class InvalidFileError extends EnvStoreError {
  constructor(
    readonly file: string,
    readonly problems: FileProblem[],
  ) {
    super(
      'invalid-file',
      `${file} is not valid, so it was left untouched; fix it by hand first:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
  }
}

/** The environment to save is not valid; `problems` point into the environment (`/provider/region`). */
export class ValidationError extends EnvStoreError {
  constructor(readonly problems: Problem[]) {
    super('invalid-environment', `the environment is not valid:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
  }
}

export class NotFoundError extends EnvStoreError {
  constructor(
    readonly file: string,
    readonly environment: string,
  ) {
    super('not-found', `there is no environment named "${environment}" in ${file}; it may have been removed meanwhile`);
  }
}

/** Another writer holds the lock file and did not let go in time. */
export class LockedError extends EnvStoreError {
  constructor(
    readonly lockFile: string,
    holder: string,
  ) {
    super('locked', `${lockFile} is held by ${holder}; another save is in progress. Try again, or delete the lock file if no one is saving.`);
  }
}
