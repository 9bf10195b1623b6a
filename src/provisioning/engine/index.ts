// The provisioning engine (DESIGN.md "Engine"): plan, apply, destroy and unlock over a provider driver and a state
// backend. Pure of `vscode`: the CLI and the extension drive it the same way.
export { diffJson, jsonEqual } from './diff';
export { EngineError, describeError, isEngineError, type EngineErrorCode } from './errors';
export { currentIdentity, type Identity } from './identity';
export { DEFAULT_CONCURRENCY, DEFAULT_READ_CONCURRENCY, apply, destroy, type RunOptions, type RunOutcome } from './operation';
export { checkState, diffDestroy, diffPlan, planChanges, planDestroy, readLive, type LiveReads, type LiveView, type ReadOptions } from './plan';
export { DEFAULT_RETRY, type RetryPolicy } from './retry';
export { runDag, type DagNode, type DagResult } from './schedule';
export { resolveSettings } from './settings';
export { unlock, type UnlockResult } from './unlock';
