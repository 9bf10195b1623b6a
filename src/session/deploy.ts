/**
 * A deploy (issue 11): the app built once by the user's Encore CLI, pushed, and rolled out to the environment's
 * Deployments by digest, with a record appended to the environment's deploy history. Rollback and promote roll out
 * a digest already in the registry, with no build. A deploy never changes infrastructure: when the last apply does
 * not match the app as it is now, it refuses with "apply first" and the differences.
 *
 * Order of the steps, chosen so an interruption anywhere leaves something a re-run reports and repairs:
 *   preflight (lock, identity, revision, encore) → build and push → digest → Deployments (image, then the deploy's
 *   annotations, then state) → rollout → history record. The history is written last, once, under the deploy id; a
 *   Deployment whose deploy-id annotation the history does not have is reported by the next deploy.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelJson } from '../analyzer/modelJson';
import type { AppModel } from '../model/appModel';
import type { DesiredGraph, DesiredResource, JsonObject } from '../model/desiredGraph';
import { hasChanges, type Plan } from '../model/plan';
import type { DeployTarget, RolloutResult } from '../model/providerApi';
import type { EnvState, HeldLock, LoadedState, ResourceState, StateBackend } from '../model/state';
import { buildDocker, checkEncore, type BuildLine } from '../provisioning/deploy/encoreCli';
import { withTemporaryDockerConfig } from '../provisioning/deploy/dockerConfig';
import { appendRecord, contentHash, currentDeploy, newDeployId, parseHistory, storedHistory, type DeployRecord, type DeployTrigger } from '../provisioning/deploy/history';
import { credentialFromDockerConfig, parseImageRef, pinnedRef, RegistryClient, type ImageRef, type RegistryCredential } from '../provisioning/deploy/registry';
import { gitRevision, imageTag, safeGitEnv, type Revision } from '../provisioning/deploy/revision';
import { currentIdentity, planChanges, resolveSettings } from '../provisioning/engine';

export const REVISION_ANNOTATION = 'encore.dev/revision';
export const DEPLOY_ID_ANNOTATION = 'encore.dev/deploy-id';
const DEPLOYMENT_TYPE = 'k8s/apps/v1/Deployment';

export type DeployStep = 'preflight' | 'build' | 'digest' | 'apply' | 'rollout' | 'record';

export interface DeployEvent {
  step: DeployStep;
  message: string;
  /** A line of the build's own output. */
  build?: BuildLine;
}

export type DeployErrorCode =
  /** The environment's last apply is not for the app as it is now, or it was never applied. */
  | 'apply-first'
  /** Something a deploy needs is missing: the encore CLI, git, a registry setting, credentials. */
  | 'preflight'
  | 'build'
  | 'registry'
  /** A Deployment did not roll out (the record says which and why). */
  | 'rollout'
  | 'not-found'
  /** Deploy on push was asked of an environment whose deploy trigger is manual. */
  | 'manual'
  | 'unavailable'
  | 'cancelled';

export class DeployError extends Error {
  override readonly name = 'DeployError';
  constructor(
    readonly code: DeployErrorCode,
    message: string,
    /** The record written, when the deploy got as far as one. */
    readonly record?: DeployRecord,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isDeployError(err: unknown): err is DeployError {
  return err instanceof Error && err.name === 'DeployError' && typeof (err as DeployError).code === 'string';
}

export interface DeployOptions {
  signal?: AbortSignal;
  onEvent?(event: DeployEvent): void;
  /** The commit to deploy (a sha or a name git resolves): it must be the one checked out. */
  revision?: string;
  trigger?: DeployTrigger;
  /** Who deploys, when the caller knows better than the provider (a GitHub actor). */
  by?: string;
  /** The encore executable (settings); default: the one on PATH. */
  encorePath?: string;
  /** The environment the encore CLI and git run with (PATH); default: the process's. */
  env?: NodeJS.ProcessEnv;
  /** For the whole rollout watch (default 10 minutes). */
  rolloutTimeoutMs?: number;
  rolloutPollMs?: number;
  /** Where the temporary Docker config goes (default: the system's temporary folder). */
  tempDir?: string;
}

export interface DeployOutcome {
  record: DeployRecord;
  rollout: RolloutResult[];
  /** Lines a person should know (an interrupted earlier deploy, a model that differs on rollback). */
  notes: string[];
}

/** What deploy.ts needs of the session (kept narrow so the steps stay testable). */
export interface DeployContext {
  environment: string;
  appRoot: string;
  appId: string | undefined;
  /** The registry repository from the environment's settings, and the base image. */
  repository: string | undefined;
  baseImage: string | undefined;
  /**
   * The provider's own registry (ECR on AWS): the repository the environment's plan made and one short-lived
   * credential for it. When given, it replaces `repository` and the user's Docker config.
   */
  registry?(signal: AbortSignal): Promise<{ repository: string; credential: RegistryCredential }>;
  graph(appImage: string | null): Promise<DesiredGraph>;
  model(): AppModel;
  backend(): Promise<StateBackend>;
  target(): Promise<DeployTarget>;
  who(signal: AbortSignal): Promise<string>;
  /** The driver's server-side apply of one Deployment (that object only). */
  applyDeployment(resource: DesiredResource, resolved: JsonObject, signal: AbortSignal): Promise<void>;
}

interface Prepared {
  lock: HeldLock;
  loaded: LoadedState;
  target: DeployTarget;
  by: string;
  notes: string[];
  history: DeployRecord[];
}

const noSignal = new AbortController().signal;

/** Builds, pushes and rolls out the app at the checked-out revision. */
export async function deploy(ctx: DeployContext, options: DeployOptions = {}): Promise<DeployOutcome> {
  const signal = options.signal ?? noSignal;
  const say = (step: DeployStep, message: string) => options.onEvent?.({ step, message });
  if (!ctx.registry) repositoryOf(ctx);
  say('preflight', `checking the revision of ${ctx.appRoot}`);
  const revision = await checkedOutRevision(ctx.appRoot, options);
  const encore = await preflightEncore(ctx.appRoot, options, signal);
  say('preflight', `Encore CLI ${encore.version.raw} at ${encore.path}`);
  const { repo, credential } = await registryOf(ctx, options, signal);
  if (ctx.registry) say('preflight', `pushing to ${repo.registry}/${repo.repository} with a short-lived token`);
  const prepared = await prepare(ctx, options, signal);
  try {
    const tag = imageTag(revision);
    const image = `${repo.registry}/${repo.repository}:${tag}`;
    say('build', `encore build docker --skip-config --push ${image}${ctx.baseImage ? ` --base ${ctx.baseImage}` : ''}`);
    await buildWith(repo.registry, credential, options, (env) =>
      buildDocker({ encore: encore.path, appRoot: ctx.appRoot, image, base: ctx.baseImage, env, signal, onLine: (line) => options.onEvent?.({ step: 'build', message: line.line, build: line }) }),
    ).catch((err: unknown) => {
      if (signal.aborted) throw cancelled(signal);
      throw new DeployError('build', (err as Error).message, undefined, { cause: err });
    });
    say('digest', `reading the digest of ${image}`);
    const digest = await new RegistryClient(repo.registry, { credential }).digestOf({ ...repo, tag }, signal).catch((err: Error) => {
      if (signal.aborted) throw cancelled(signal);
      throw new DeployError('registry', err.message, undefined, { cause: err });
    });
    say('digest', `${image} is ${digest}`);
    return await rollOut(ctx, prepared, options, {
      repo,
      digest,
      revision: { commit: revision.commit, dirty: revision.dirty, ...(revision.branch ? { branch: revision.branch } : {}) },
      trigger: options.trigger ?? 'manual',
    });
  } finally {
    await prepared.lock.release().catch(() => undefined);
  }
}

/** Rolls the environment back to an earlier succeeded deploy's digest, with no build. */
export async function rollback(ctx: DeployContext, deployId: string, options: DeployOptions = {}): Promise<DeployOutcome> {
  const signal = options.signal ?? noSignal;
  if (!ctx.registry) repositoryOf(ctx);
  const prepared = await prepare(ctx, options, signal);
  try {
    const target = prepared.history.find((r) => r.id === deployId);
    if (!target) {
      const known = prepared.history.filter((r) => r.result === 'succeeded').slice(-5).map((r) => r.id);
      throw new DeployError('not-found', `environment "${ctx.environment}" has no deploy ${deployId} in its history${known.length ? `; its latest succeeded deploys are ${known.join(', ')}` : ''} (encore-env deploys --env ${ctx.environment})`);
    }
    if (target.result !== 'succeeded') throw new DeployError('not-found', `deploy ${deployId} ${target.result}: only a deploy that succeeded can be rolled back to`);
    const repo = await requireDigest(ctx, target.image.repository, target.image.digest, options, signal);
    if (target.appModelHash !== appModelHash(ctx.model())) prepared.notes.push(`deploy ${deployId} was built against another app model than the one applied now: its image may not match the infrastructure (services, databases, topics)`);
    return await rollOut(ctx, prepared, options, { repo, digest: target.image.digest, revision: target.revision, trigger: 'rollback', restores: target.id });
  } finally {
    await prepared.lock.release().catch(() => undefined);
  }
}

/** Rolls out the digest another environment runs now (its newest succeeded deploy), with no build. */
export async function promote(ctx: DeployContext, from: { environment: string; history: DeployRecord[] }, options: DeployOptions = {}): Promise<DeployOutcome> {
  const signal = options.signal ?? noSignal;
  const source = currentDeploy(from.history);
  if (!source) throw new DeployError('not-found', `environment "${from.environment}" has no succeeded deploy to promote`);
  const { repo } = ctx.registry ? await registryOf(ctx, options, signal) : { repo: repositoryOf(ctx) };
  if (source.image.repository !== `${repo.registry}/${repo.repository}`) {
    throw new DeployError('preflight', `environment "${from.environment}" runs an image of ${source.image.repository}, and "${ctx.environment}" pulls from ${repo.registry}/${repo.repository}: a promote rolls out the same image, so both need the same registry setting`);
  }
  const prepared = await prepare(ctx, options, signal);
  try {
    await requireDigest(ctx, source.image.repository, source.image.digest, options, signal);
    if (source.appModelHash !== appModelHash(ctx.model())) prepared.notes.push(`the deploy promoted from "${from.environment}" was built against another app model than the one applied to "${ctx.environment}"`);
    return await rollOut(ctx, prepared, options, {
      repo,
      digest: source.image.digest,
      revision: source.revision,
      trigger: 'promote',
      promotedFrom: { environment: from.environment, deployId: source.id },
    });
  } finally {
    await prepared.lock.release().catch(() => undefined);
  }
}

/** The environment's deploy history, with entries that do not validate reported apart. */
export async function readHistory(target: DeployTarget, signal: AbortSignal = noSignal): Promise<{ records: DeployRecord[]; problems: string[] }> {
  const { doc } = await target.loadHistory(signal);
  return parseHistory(doc);
}

// ---------------------------------------------------------------------------------------------------------------

function repositoryOf(ctx: DeployContext): ImageRef {
  if (!ctx.repository) {
    throw new DeployError('preflight', `environment "${ctx.environment}" names no registry to push the app's image to: add "registry": "HOST[:PORT]/REPOSITORY" to its provider settings in encore.environments.json (for example "ghcr.io/acme/shop"), and log in to it with docker login`);
  }
  try {
    const ref = parseImageRef(ctx.repository);
    return { registry: ref.registry, repository: ref.repository };
  } catch (err) {
    throw new DeployError('preflight', `the registry setting of environment "${ctx.environment}": ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Where the image goes and the credential the build and the digest read get (one, short-lived, for that registry). */
async function registryOf(ctx: DeployContext, options: DeployOptions, signal: AbortSignal): Promise<{ repo: ImageRef; credential: RegistryCredential | undefined }> {
  if (ctx.registry) {
    let got: { repository: string; credential: RegistryCredential };
    try {
      got = await ctx.registry(signal);
    } catch (err) {
      if (signal.aborted) throw cancelled(signal);
      if (isDeployError(err)) throw err;
      throw new DeployError('preflight', `the registry of environment "${ctx.environment}": ${(err as Error).message}`, undefined, { cause: err });
    }
    const ref = parseImageRef(got.repository);
    return { repo: { registry: ref.registry, repository: ref.repository }, credential: got.credential };
  }
  const repo = repositoryOf(ctx);
  const credential = await credentialFromDockerConfig(repo.registry, { env: options.env, signal }).catch((err: Error) => {
    throw new DeployError('preflight', err.message, undefined, { cause: err });
  });
  return { repo, credential };
}

async function preflightEncore(appRoot: string, options: DeployOptions, signal: AbortSignal) {
  try {
    return await checkEncore({ configured: options.encorePath, env: options.env, appRoot, signal });
  } catch (err) {
    throw new DeployError('preflight', (err as Error).message, undefined, { cause: err });
  }
}

async function checkedOutRevision(appRoot: string, options: DeployOptions): Promise<Revision> {
  let revision: Revision;
  try {
    revision = await gitRevision(appRoot, { env: options.env });
  } catch (err) {
    throw new DeployError('preflight', (err as Error).message, undefined, { cause: err });
  }
  if (options.revision !== undefined) {
    const wanted = await resolveCommit(appRoot, options.revision, options.env);
    if (wanted !== revision.commit) {
      throw new DeployError('preflight', `--revision ${options.revision} is commit ${wanted.slice(0, 12)}, but ${appRoot} has ${revision.commit.slice(0, 12)} checked out: a deploy builds the working tree, so check out ${options.revision} first`);
    }
  }
  return revision;
}

function resolveCommit(folder: string, rev: string, env?: NodeJS.ProcessEnv): Promise<string> {
  if (rev.startsWith('-')) return Promise.reject(new DeployError('preflight', `--revision ${rev} is not a revision`));
  return new Promise((resolve, reject) => {
    execFile('git', ['-c', 'core.fsmonitor=false', 'rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { cwd: folder, env: safeGitEnv(env), timeout: 15_000 }, (err, stdout) => {
      if (err) return reject(new DeployError('preflight', `--revision ${rev} is not a commit of the repository of ${folder}`));
      resolve(stdout.trim());
    });
  });
}

/** The lock, the state, the "apply first" check, who deploys, and the history as it is. */
async function prepare(ctx: DeployContext, options: DeployOptions, signal: AbortSignal): Promise<Prepared> {
  const say = (message: string) => options.onEvent?.({ step: 'preflight', message });
  const backend = await ctx.backend();
  const target = await ctx.target();
  const by = options.by ?? (await ctx.who(signal));
  say(`deploying as ${by}`);
  const lock = await backend.acquireLock({ ...currentIdentity(), startedAt: new Date().toISOString(), operation: 'deploy' });
  try {
    const loaded = await backend.load();
    await requireApplied(ctx, loaded);
    const { records, problems } = await readHistory(target, signal);
    const notes = problems.map((p) => `the deploy history has an entry that is not valid and is ignored: ${p}`);
    const graph = await ctx.graph(null);
    const names = appDeployments(graph).map((d) => d.name);
    const live = await target.workloadAnnotations(names, signal);
    const known = new Set(records.map((r) => r.id));
    const stray = [...new Set(Object.values(live).map((a) => a[DEPLOY_ID_ANNOTATION]).filter((id): id is string => id !== undefined && !known.has(id)))];
    if (stray.length > 0) notes.push(`an earlier deploy (${stray.join(', ')}) was interrupted before it was recorded: some Deployments run its image (${Object.entries(live).filter(([, a]) => stray.includes(a[DEPLOY_ID_ANNOTATION] ?? '')).map(([n]) => n).join(', ')}); this deploy replaces it`);
    for (const note of notes) say(`note: ${note}`);
    return { lock, loaded, target, by, notes, history: records };
  } catch (err) {
    await lock.release().catch(() => undefined);
    throw err;
  }
}

async function requireApplied(ctx: DeployContext, loaded: LoadedState): Promise<void> {
  const state = loaded.state;
  if (!state || Object.keys(state.resources).length === 0) {
    throw new DeployError('apply-first', `environment "${ctx.environment}" has not been applied yet: apply first (encore-env apply --env ${ctx.environment}), then deploy`);
  }
  const last = state.lastOperation;
  if (last && last.kind === 'apply' && last.outcome !== 'succeeded') {
    throw new DeployError('apply-first', `the last apply of environment "${ctx.environment}" (${last.startedAt}) ${last.outcome === 'running' ? 'did not finish' : last.outcome}: apply first (encore-env apply --env ${ctx.environment}), then deploy`);
  }
  // The desired graph with the image that runs now, against recorded state: any change is infrastructure the app
  // needs and the environment does not have (or has and the app no longer needs).
  const plan = await planChanges(await ctx.graph(currentImage(state)), loaded, null);
  if (hasChanges(plan)) {
    throw new DeployError('apply-first', `environment "${ctx.environment}" was last applied for a different app model: apply first (encore-env plan --env ${ctx.environment}, then apply), then deploy. The differences:\n${differences(plan)}`);
  }
}

function differences(plan: Plan): string {
  const changed = plan.entries.filter((e) => e.action !== 'keep');
  const lines = changed.slice(0, 20).map((e) => `  ${e.action} ${e.id}${e.changes.length ? `: ${e.changes.slice(0, 4).map((c) => c.path).join(', ')}` : ''}`);
  return `${lines.join('\n')}${changed.length > 20 ? `\n  …and ${changed.length - 20} more` : ''}`;
}

function currentImage(state: EnvState): string | null {
  for (const r of Object.values(state.resources)) {
    if (r.resource.providerType === DEPLOYMENT_TYPE && r.resource.settings.placeholder === false && typeof r.resource.settings.image === 'string') return r.resource.settings.image;
  }
  return null;
}

/** The app's Deployments, which a deploy rolls out: not a cluster add-on's (the cluster autoscaler), which runs its own image. */
export function appDeployments(graph: DesiredGraph): DesiredResource[] {
  return graph.resources.filter((r) => r.providerType === DEPLOYMENT_TYPE && r.settings.addon === undefined);
}

/**
 * The app model's hash in a record: the model as `encore-env analyze --json` gives it (paths relative to the app,
 * no diagnostics), so the same app gives the same hash on every machine and for every environment.
 */
export function appModelHash(model: AppModel): string {
  return contentHash({ ...modelJson(model), diagnostics: undefined });
}

function infraConfigHash(graph: DesiredGraph): string {
  return contentHash(graph.resources.filter((r) => r.kind === 'infraConfig').map((r) => r.settings));
}

async function buildWith<T>(registry: string, credential: RegistryCredential | undefined, options: DeployOptions, run: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const base = options.env ?? process.env;
  if (credential) return withTemporaryDockerConfig(registry, credential, (config) => run(config.env(base)), { parentDir: options.tempDir, signal: options.signal });
  // No credential for this registry (an open one): the build still gets a Docker config of its own, empty, so it
  // never reaches the user's keychain helpers.
  const dir = mkdtempSync(path.join(options.tempDir ?? os.tmpdir(), 'encore-docker-config-'));
  try {
    writeFileSync(path.join(dir, 'config.json'), '{"auths":{}}\n', { mode: 0o600 });
    return await run({ ...base, DOCKER_CONFIG: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks the digest is still in `repository`; returns the repository as the deploy rolls it out. */
async function requireDigest(ctx: DeployContext, repository: string, digest: string, options: DeployOptions, signal: AbortSignal): Promise<ImageRef> {
  const ref = parseImageRef(repository);
  const own = ctx.registry ? await registryOf(ctx, options, signal) : undefined;
  const mine = own && `${own.repo.registry}/${own.repo.repository}` === repository;
  const credential = mine ? own.credential : await credentialFromDockerConfig(ref.registry, { env: options.env, signal }).catch(() => undefined);
  let present: boolean;
  try {
    present = await new RegistryClient(ref.registry, { credential }).hasDigest(ref.repository, digest, signal);
  } catch (err) {
    throw new DeployError('registry', (err as Error).message, undefined, { cause: err });
  }
  if (!present) throw new DeployError('registry', `${repository}@${digest} is no longer in the registry (removed by garbage collection or a lifecycle rule?): it cannot be rolled out to "${ctx.environment}" without a build; deploy a revision instead`);
  return { registry: ref.registry, repository: ref.repository };
}

function cancelled(signal: AbortSignal): DeployError {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
  return new DeployError('cancelled', reason);
}

interface RolloutInput {
  repo: ImageRef;
  digest: string;
  revision: DeployRecord['revision'];
  trigger: DeployTrigger;
  restores?: string;
  promotedFrom?: { environment: string; deployId: string };
}

/** The Deployments to `digest`, the rollout watched, the record appended. Called with the lock held. */
async function rollOut(ctx: DeployContext, prepared: Prepared, options: DeployOptions, input: RolloutInput): Promise<DeployOutcome> {
  const signal = options.signal ?? noSignal;
  const say = (step: DeployStep, message: string) => options.onEvent?.({ step, message });
  const repo = input.repo;
  const repository = `${repo.registry}/${repo.repository}`;
  const image = pinnedRef(repo, input.digest);
  const graph = await ctx.graph(image);
  const deployments = appDeployments(graph);
  const started = new Date();
  const id = newDeployId(started);
  const base: Omit<DeployRecord, 'result'> = {
    id,
    environment: ctx.environment,
    revision: input.revision,
    image: { repository, digest: input.digest },
    infraConfigHash: infraConfigHash(graph),
    appModelHash: appModelHash(ctx.model()),
    by: prepared.by.slice(0, 256),
    at: started.toISOString(),
    trigger: input.trigger,
    ...(input.restores ? { restores: input.restores } : {}),
    ...(input.promotedFrom ? { promotedFrom: input.promotedFrom } : {}),
  };
  const finish = async (result: DeployRecord['result'], message?: string): Promise<DeployRecord> => {
    const record: DeployRecord = { ...base, finishedAt: new Date().toISOString(), result, ...(message ? { message: message.slice(0, 2000) } : {}) };
    say('record', `recording deploy ${id} (${result}) in ${prepared.target.historyLocation}`);
    await appendToHistory(prepared.target, record);
    return record;
  };

  say('apply', `rolling out ${image} to ${deployments.map((d) => d.name).join(', ')} (deploy ${id})`);
  let state = prepared.loaded.state!;
  let version = prepared.loaded.version;
  const backend = await ctx.backend();
  try {
    for (const d of deployments) {
      signal.throwIfAborted();
      const resolution = resolveSettings(d.settings, (rid, attribute) => {
        const out = state.resources[rid]?.outputs[attribute];
        return out === undefined ? undefined : { value: out, secret: false };
      });
      await ctx.applyDeployment(d, resolution.resolved, signal);
      await prepared.target.annotate(d.name, { [DEPLOY_ID_ANNOTATION]: id, [REVISION_ANNOTATION]: `${input.revision.commit}${input.revision.dirty ? '-dirty' : ''}` }, signal);
      // State follows at once, so an apply of infrastructure after an interruption keeps the image that runs.
      state = withDeployment(state, d, resolution.recordable, { deployId: id, deployRevision: `${input.revision.commit}${input.revision.dirty ? '-dirty' : ''}` });
      version = await backend.commit(state, [{ at: new Date().toISOString(), operation: `deploy ${id}`, serial: state.serial, event: 'step-done', resourceId: d.id, action: 'update', message: `image ${image}` }], version);
      say('apply', `${d.name}: ${image}`);
    }
  } catch (err) {
    if (signal.aborted) {
      const record = await finish('cancelled', 'cancelled while the Deployments were being changed');
      throw new DeployError('cancelled', `deploy ${id} was cancelled while the Deployments were being changed; it is recorded as cancelled. Deploy again (or roll back) to bring every service to one image.`, record, { cause: err });
    }
    const record = await finish('failed', (err as Error).message);
    throw new DeployError('rollout', `deploy ${id} failed while applying the Deployments: ${(err as Error).message}`, record, { cause: err });
  }

  say('rollout', `watching the rollout of ${deployments.length} Deployment${deployments.length === 1 ? '' : 's'}`);
  let report: Awaited<ReturnType<DeployTarget['watchRollout']>>;
  try {
    report = await prepared.target.watchRollout(deployments.map((d) => d.name), {
      timeoutMs: options.rolloutTimeoutMs ?? 600_000,
      pollMs: options.rolloutPollMs,
      signal,
      expectImages: Object.fromEntries(deployments.map((d) => [d.name, image])),
      onProgress: (name, message) => say('rollout', `${name}: ${message}`),
    });
  } catch (err) {
    if (signal.aborted) {
      const record = await finish('cancelled', 'cancelled while the rollout was watched');
      throw new DeployError('cancelled', `deploy ${id} was cancelled while its rollout was watched (the Deployments run ${image}; they keep rolling out); it is recorded as cancelled`, record, { cause: err });
    }
    const record = await finish('failed', (err as Error).message);
    throw new DeployError('rollout', `deploy ${id}: the rollout could not be watched: ${(err as Error).message}`, record, { cause: err });
  }
  if (!report.ok) {
    const record = await finish('failed', report.summary);
    throw new DeployError('rollout', `deploy ${id} did not roll out:\n${report.summary}`, record);
  }
  const record = await finish('succeeded');
  return { record, rollout: report.deployments, notes: prepared.notes };
}

/**
 * The state record of a Deployment after a deploy changed its image; its outputs say which deploy and revision it
 * runs (the CodeLens shows the revision from the local copy of state, with no cluster call).
 */
function withDeployment(state: EnvState, d: DesiredResource, recordable: JsonObject, deployed: { deployId: string; deployRevision: string }): EnvState {
  const now = new Date().toISOString();
  const old: ResourceState | undefined = state.resources[d.id];
  const record: ResourceState = {
    ...old,
    outputs: { ...(old?.outputs ?? {}), ...deployed },
    secretOutputs: old?.secretOutputs ?? [],
    resource: { ...d, settings: recordable },
    status: 'ready',
    lastAction: 'update',
    updatedAt: now,
    error: null,
  };
  return { ...state, serial: state.serial + 1, updatedAt: now, resources: { ...state.resources, [d.id]: record } };
}

/** Appends `record`, reading again when another writer got there first; a record already there is not added twice. */
export async function appendToHistory(target: DeployTarget, record: DeployRecord): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    // The record is written even when the deploy was cancelled: what changed must be in the history.
    const { doc, version } = await target.loadHistory(noSignal);
    storedHistory(doc);
    const { history, appended } = appendRecord(doc, record);
    if (!appended) return;
    if (await target.saveHistory(history, version, noSignal)) return;
  }
  throw new Error(`the deploy history in ${target.historyLocation} kept changing while deploy ${record.id} was being recorded`);
}

