/**
 * The front door of provisioning for the extension and the CLI (DESIGN.md "Layout": session/). Front ends import
 * this and src/model, never the engine, the planner, state or providers one by one.
 */

export { EnvironmentSession, type PlanResult, type RunHooks, type SessionHooks, type SessionOptions, type SizingAnswer } from './session';
export { SessionError, isSessionError, type SessionErrorCode } from './errors';
export { recordedState } from './recorded';
export { serviceAuthKeyIdsOf, serviceAuthRotationInProgress, type RotationStep } from './serviceAuth';
export { identityKey, probeIdentity, type IdentityProbeOptions } from './identityProbe';
export { estimateCost } from '../provisioning/cost/estimate';
export { readMigrationSql } from './migrations';
export { desiredGraph, PRODUCT_IMAGES, PRODUCT_IMAGE_ROLES, type PlanOptions } from '../provisioning/planner';
export { checkSizingAnswer, sizingQuestions, type SizingQuestion } from '../provisioning/planner/sizing';
export { AWS_CI_IDENTITY, CI_IDENTITY } from '../provisioning/planner/ciIdentity';
export { githubRepository, githubRepositoryOf, type GithubRepository } from './gitRemote';
export { checkSecretValue, holdsTypedValue, type AppSecret, type SecretValueStatus } from '../provisioning/appSecrets';
export { isEngineError, type RunOutcome, type UnlockResult } from '../provisioning/engine';
export type { ProviderRegistry } from '../provisioning/providers';
export { DeployError, isDeployError, type DeployErrorCode, type DeployEvent, type DeployOptions, type DeployOutcome, type DeployStep } from './deploy';
export { currentDeploy, rollbackCandidates, type DeployRecord, type DeployTrigger } from '../provisioning/deploy/history';
export { MIN_ENCORE_VERSION, INSTALL_HINT } from '../provisioning/deploy/encoreCli';
export { deployWorkflow, workflowPath, kubeconfigSecretName, type WorkflowCloud, type WorkflowInput } from '../provisioning/deploy/workflow';
export { gitRevision, type Revision } from '../provisioning/deploy/revision';
export { firstDifferentLine, gitTop, kubeconfigCommand, prepareCiSetup, workflowFileStatus, writeWorkflowFile, type CiSetup, type CiSetupOptions, type WorkflowFileStatus } from './setupCi';
