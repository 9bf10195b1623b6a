/**
 * The front door of provisioning for the extension and the CLI (DESIGN.md "Layout": session/). Front ends import
 * this and src/model, never the engine, the planner, state or providers one by one.
 */

export { EnvironmentSession, type PlanResult, type RunHooks, type SessionHooks, type SessionOptions, type SizingAnswer } from './session';
export { SessionError, isSessionError, type SessionErrorCode } from './errors';
export { recordedState } from './recorded';
export { readMigrationSql } from './migrations';
export { desiredGraph, type PlanOptions } from '../provisioning/planner';
export { checkSizingAnswer, sizingQuestions, type SizingQuestion } from '../provisioning/planner/sizing';
export { checkSecretValue, holdsTypedValue, type AppSecret, type SecretValueStatus } from '../provisioning/appSecrets';
export { isEngineError, type RunOutcome, type UnlockResult } from '../provisioning/engine';
export type { ProviderRegistry } from '../provisioning/providers';
