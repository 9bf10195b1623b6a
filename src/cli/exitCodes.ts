/** Exit codes of encore-env, documented in its usage text and the README. */
export const EXIT = {
  ok: 0,
  /** The command failed (for analyze: an app has errors; for apply and destroy: a step failed). */
  failure: 1,
  usage: 2,
  /** Not available in this version (a provider that has not landed yet). */
  unavailable: 3,
  /** plan --detailed-exitcode: there are changes to apply. */
  changes: 4,
  /** Another apply, destroy or deploy holds the environment's lock (or unlock refused a live holder). */
  locked: 5,
  /** A confirmation is missing or wrong: --yes, or --confirm with the environment's name. */
  confirmation: 6,
  /** deploy, rollback, promote: never applied, or last applied for another app model; secret rotate-service-auth: other changes are pending. */
  applyFirst: 7,
  /** deploy: a preflight failed (the encore CLI missing or too old, no commit, no registry setting, credentials). */
  preflight: 8,
  /** Stopped by Ctrl+C. */
  cancelled: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
