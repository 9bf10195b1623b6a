/**
 * The provisioning session (DESIGN.md "Data flow"): one app's environment opened once, by the CLI or by the
 * extension, for plan, apply, destroy, unlock and secret values. It holds what each of those needs (the environment
 * as the file has it, the app model, the desired graph, the provider, the state backend) and makes each part once.
 * User interaction (sizing questions, an MFA code, approving a plan) comes in as callbacks, so each front end keeps
 * its own UI.
 */

import path from 'node:path';
import type { AppModel } from '../model/appModel';
import type { DesiredGraph } from '../model/desiredGraph';
import type { Environment } from '../model/environment';
import type { Plan } from '../model/plan';
import { isDriverError, type OpenedEnvironment, type ProviderIdentity, type ProviderModule, type ProviderOpenOptions, type ProviderPrompts } from '../model/providerApi';
import type { EnvState, StateBackend } from '../model/state';
import { EnvStore, formatProblem } from '../environments';
import { appSecrets, secretStatuses, setSecretValue, type AppSecret, type SecretValueStatus } from '../provisioning/appSecrets';
import { apply, destroy, planChanges, unlock, type RunOptions, type RunOutcome, type UnlockResult } from '../provisioning/engine';
import { AWS_CI_IDENTITY, desiredGraph, GCP_CI_IDENTITY } from '../provisioning/planner';
import { sizingQuestions, withSizingAnswers, type SizingQuestion } from '../provisioning/planner/sizing';
import { providerModule, type ProviderRegistry } from '../provisioning/providers';
import { LocalFileBackend } from '../provisioning/state/localFile';
import { SessionError } from './errors';
import { githubRepository, type GithubRepository } from './gitRemote';
import { appImageOf } from './images';
import { readMigrationSql } from './migrations';
import { DeployError, deploy, promote, readHistory, rollback, type DeployContext, type DeployOptions, type DeployOutcome } from './deploy';
import type { DeployRecord } from '../provisioning/deploy/history';
import { hasChanges } from '../model/plan';
import { changesBeyond, rotatedKeyIds, rotationResourceIds, serviceAuthKeyIdsOf, SERVICE_AUTH_ID, type RotationStep } from './serviceAuth';

/**
 * Where a cloud provider's deploy registry is recorded in state, and how to name it in messages. (GCP's credential
 * checks the recorded repository against Artifact Registry itself, gcp/deployTarget.ts, and names its host.)
 */
const PROVIDER_REGISTRY = {
  aws: { id: 'aws:ecr', output: 'uri', what: 'ECR repository', issuer: 'ECR', hint: 'is the profile for another account or region?' },
  gcp: { id: 'gcp:artifact-registry', output: 'registry', what: 'Artifact Registry repository', issuer: 'Application Default Credentials', hint: 'is the environment for another region?' },
} as const;

export interface SizingAnswer {
  question: SizingQuestion;
  value: number;
}

export interface SessionHooks {
  /**
   * Sizing of resources new in a Production environment since its sizing was last answered: the answers, 'defaults'
   * to take Encore's defaults (saved like answers), or null to cancel. Absent: the defaults are used for this run
   * only, and `note` says so.
   */
  askSizing?(questions: SizingQuestion[], env: Environment): Promise<SizingAnswer[] | 'defaults' | null>;
  /** Something the user should know that is not an error ("this plan uses Encore's defaults for …"). */
  note?(text: string): void;
  /** What a provider may ask while it connects (an MFA code). */
  prompts?: ProviderPrompts;
}

export interface SessionOptions {
  /** The app's folder (where encore.app and encore.environments.json are). */
  appRoot: string;
  /** Encore's app id (encore.app `id`), which names cloud resources. */
  appId?: string;
  /** The environment's name. */
  environment: string;
  /** The app model: the language server's, or a function that analyses the app (called at most once). */
  model: AppModel | (() => AppModel);
  /** The app's environments store (the extension shares its own); default: a new one on the app's file. */
  store?: EnvStore;
  /** Where provider modules come from (tests give their own). */
  providers?: ProviderRegistry;
  /** Provider options beyond the app root: a kubeconfig file, timings, the environment variables to read. */
  provider?: Omit<ProviderOpenOptions, 'appRoot' | 'prompts'>;
  /** Keep state in this local folder instead of the provider's place (`--state-dir`). */
  stateDir?: string;
  hooks?: SessionHooks;
}

export interface PlanResult {
  plan: Plan;
  /** Where the plan looked: the driver's target, or "offline, state from …". */
  where: string;
  /** Where the recorded state was read. */
  stateFrom: string;
  state: EnvState | null;
}

export type RunHooks = Pick<RunOptions, 'signal' | 'onProgress' | 'onState' | 'concurrency' | 'confirm' | 'adopt' | 'approve' | 'reviewed'>;

export class EnvironmentSession {
  private modelValue: AppModel | undefined;
  private graphValue: DesiredGraph | undefined;
  private opened: Promise<{ module: ProviderModule; env: OpenedEnvironment }> | undefined;
  private backend: Promise<StateBackend> | undefined;

  private constructor(
    private readonly options: SessionOptions,
    readonly store: EnvStore,
    private current: Environment,
  ) {}

  /** Reads the environment from the app's environments file; nothing else is read or connected yet. */
  static async open(options: SessionOptions): Promise<EnvironmentSession> {
    const store = options.store ?? new EnvStore(options.appRoot);
    const env = findEnvironment(await store.load(), options.environment);
    return new EnvironmentSession(options, store, env);
  }

  get env(): Environment {
    return this.current;
  }

  get appRoot(): string {
    return this.options.appRoot;
  }

  /** The app model, analysed at most once. */
  model(): AppModel {
    this.modelValue ??= typeof this.options.model === 'function' ? this.options.model() : this.options.model;
    return this.modelValue;
  }

  /**
   * The desired graph for the environment as it is now, with the app image that runs there (so an apply never
   * takes a deployed image back to the placeholder). An app Encore would refuse to build is refused.
   */
  async graph(): Promise<DesiredGraph> {
    if (this.graphValue) return this.graphValue;
    const model = this.model();
    const errors = model.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      const lines = errors.slice(0, 20).map((d) => `  ${path.relative(process.cwd(), d.file)}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`);
      const more = errors.length > 20 ? `\n  …and ${errors.length - 20} more` : '';
      throw new SessionError('app', `the app has ${errors.length} error${errors.length === 1 ? '' : 's'} that Encore would refuse to build; fix them first:\n${lines.join('\n')}${more}`);
    }
    const recorded = await this.recordedStateForImage();
    this.graphValue = this.graphWith(model, appImageOf(recorded), serviceAuthKeyIdsOf(recorded));
    return this.graphValue;
  }

  /**
   * Asks the sizing of resources new in a Production environment (hooks.askSizing) and saves the answers onto the
   * environment as the file holds it at save time, so an edit made while the questions waited is kept. False when
   * the user cancelled.
   */
  async size(canAsk = true): Promise<boolean> {
    const questions = sizingQuestions(this.model(), this.current);
    if (questions.length === 0) return true;
    const ask = this.options.hooks?.askSizing;
    if (!ask || !canAsk) {
      const what = questions.map((q) => `${q.resource.name} ${q.field} ${q.default} ${q.unit}`).join(', ');
      this.options.hooks?.note?.(
        `new in Production environment "${this.current.name}" since its sizing was answered: ${newResources(questions)}. This plan uses Encore's defaults (${what}); answer them by running this command in a terminal, or with Edit Environment in VS Code.`,
      );
      return true;
    }
    const answered = await ask(questions, this.current);
    if (answered === null) return false;
    const answers = answered === 'defaults' ? questions.map((question) => ({ question, value: question.default })) : answered;
    await this.saveAnswers(answers);
    return true;
  }

  private async saveAnswers(answers: SizingAnswer[]): Promise<void> {
    // Read the file again now: the questions may have waited for minutes while someone edited it.
    const env = findEnvironment(await this.store.load(), this.current.name);
    const updated = withSizingAnswers(env, answers);
    await this.store.update(env.name, updated);
    this.current = updated;
    this.graphValue = undefined;
    this.options.hooks?.note?.(`saved the sizing answers to ${path.basename(this.store.file)}`);
  }

  /** The provider, opened once; a provider that is not available fails here (DriverError 'unavailable'). */
  async provider(): Promise<OpenedEnvironment> {
    this.opened ??= (async () => {
      const module = await (this.options.providers ?? providerModule)(this.current.provider.kind);
      const env = await module.open(this.current, { ...this.options.provider, appRoot: this.options.appRoot, prompts: this.options.hooks?.prompts });
      return { module, env };
    })();
    try {
      return (await this.opened).env;
    } catch (err) {
      this.opened = undefined;
      throw err;
    }
  }

  /** Who acts on the environment (asks the provider). */
  async identity(signal: AbortSignal): Promise<ProviderIdentity> {
    return (await this.provider()).identity(signal);
  }

  /** The state backend: `--state-dir`'s folder, else the provider's (kept with the environment). */
  async state(): Promise<StateBackend> {
    this.backend ??= this.options.stateDir !== undefined
      ? Promise.resolve(new LocalFileBackend(path.resolve(this.options.stateDir), this.current.name))
      : this.provider().then((p) => p.state());
    try {
      return await this.backend;
    } catch (err) {
      this.backend = undefined;
      throw err;
    }
  }

  /** The backend over the last state seen locally: nothing reaches the provider. */
  async offlineState(): Promise<StateBackend> {
    if (this.options.stateDir !== undefined) return new LocalFileBackend(path.resolve(this.options.stateDir), this.current.name);
    const module = await (this.options.providers ?? providerModule)(this.current.provider.kind);
    return module.offlineState(this.current, { appRoot: this.options.appRoot });
  }

  /** What apply would change, read against the live objects (or, offline, against recorded state alone). */
  async plan(options: { offline?: boolean; signal?: AbortSignal } = {}): Promise<PlanResult> {
    if (options.offline) {
      const backend = await this.offlineState();
      const loaded = await backend.load();
      this.noteRecorded(loaded.state);
      const plan = await planChanges(await this.graph(), loaded, null);
      return { plan, where: `offline, state from ${backend.location}`, stateFrom: backend.location, state: loaded.state };
    }
    const opened = await this.provider();
    await opened.driver.preflight(options.signal ?? new AbortController().signal);
    const backend = await this.state();
    const loaded = await backend.load();
    this.noteRecorded(loaded.state);
    const plan = await planChanges(await this.graph(), loaded, opened.driver, { signal: options.signal });
    return { plan, where: opened.driver.target, stateFrom: backend.location, state: loaded.state };
  }

  async apply(hooks: RunHooks = {}): Promise<RunOutcome> {
    const opened = await this.provider();
    const backend = await this.state();
    // The image that runs now, from the state itself (a deploy from CI may be newer than the local copy).
    this.noteRecorded((await backend.load()).state);
    return apply(await this.graph(), { ...hooks, backend, driver: opened.driver });
  }

  /** Deletes everything recorded for the environment (the engine asks for the typed confirmation). */
  async destroy(hooks: RunHooks = {}): Promise<RunOutcome> {
    const opened = await this.provider();
    const backend = await this.state();
    return destroy(this.current.name, this.current.provider.kind, { ...hooks, backend, driver: opened.driver });
  }

  /**
   * Breaks the lock of a run that is gone (or any, with force). A provider this version cannot open has no place
   * of its own for state: its lock is the local folder's.
   */
  async unlock(options: { force?: boolean } = {}): Promise<UnlockResult> {
    if (this.options.stateDir === undefined) {
      try {
        await this.provider();
      } catch (err) {
        if (!isDriverError(err) || err.code !== 'unavailable') throw err;
        return unlock(await this.offlineState(), options);
      }
    }
    return unlock(await this.state(), options);
  }

  /** The app's secrets and whether each has a value in the environment. */
  async secretStatuses(signal: AbortSignal): Promise<{ secret: AppSecret; status: SecretValueStatus }[]> {
    const opened = await this.provider();
    await opened.driver.preflight(signal);
    return secretStatuses(await this.graph(), opened.driver, signal);
  }

  /** The app's secrets (no provider call). */
  async secrets(): Promise<AppSecret[]> {
    return appSecrets(await this.graph());
  }

  /** Stores one secret's value in the environment; the value goes to the provider only. */
  async setSecretValue(name: string, value: string, signal: AbortSignal): Promise<AppSecret> {
    const known = (await this.secrets()).map((s) => s.name);
    if (!known.includes(name)) throw new SessionError('not-found', `the app has no secret "${name}"; its secrets are ${known.join(', ') || 'none'}`);
    const opened = await this.provider();
    await opened.driver.preflight(signal);
    return setSecretValue(await this.graph(), opened.driver, name, value, signal);
  }

  /**
   * Starts or finishes a rotation of the environment's service-auth key (session/serviceAuth.ts), as an apply of the
   * graph with the rotated key ids: the Secret gets (or loses) a generated key, the infra config lists both keys
   * during the rotation, every service's pods get both, and the CronJobs sign with the newest. Refused with "apply
   * first" when anything else is pending, so the run changes the rotation's objects only. The keys stay in the cluster.
   */
  async rotateServiceAuth(step: RotationStep, hooks: Pick<RunHooks, 'signal' | 'onProgress' | 'onState' | 'approve'> = {}): Promise<{ outcome: RunOutcome; keyIds: number[] }> {
    const opened = await this.provider();
    const signal = hooks.signal ?? new AbortController().signal;
    await opened.driver.preflight(signal);
    const backend = await this.state();
    const loaded = await backend.load();
    this.noteRecorded(loaded.state);
    const graph = await this.graph();
    if (!graph.resources.some((r) => r.id === SERVICE_AUTH_ID)) throw new SessionError('not-found', `the app has no services, so "${this.current.name}" has no service-auth key to rotate`);
    const ids = serviceAuthKeyIdsOf(loaded.state);
    if (!ids || loaded.state?.resources[SERVICE_AUTH_ID]?.status !== 'ready') {
      throw new SessionError('apply-first', `"${this.current.name}" has no service-auth key yet: apply first (encore-env apply --env ${this.current.name})`);
    }
    const pending = await planChanges(graph, loaded, opened.driver, { signal });
    if (hasChanges(pending)) {
      const changed = pending.entries.filter((e) => e.action !== 'keep').slice(0, 10).map((e) => `  ${e.action} ${e.id}`);
      throw new SessionError('apply-first', `"${this.current.name}" has changes to apply, and a key rotation changes nothing else: apply first (encore-env plan --env ${this.current.name}, then apply). The changes:\n${changed.join('\n')}`);
    }
    const keyIds = rotatedKeyIds(ids, step, this.current.name);
    const rotated = this.graphWith(this.model(), appImageOf(loaded.state), keyIds);
    // The check above ran without the lock: under it, the fresh plan may change only what the rotation changes.
    const rotation = rotationResourceIds(graph, rotated);
    const approve: RunHooks['approve'] = async (plan) => {
      const other = changesBeyond(plan, rotation);
      if (other.length > 0) throw new SessionError('apply-first', `"${this.current.name}" changed since the rotation was checked, and a key rotation changes nothing else: apply first. The other changes:\n${other.slice(0, 10).join('\n')}`);
      return hooks.approve ? hooks.approve(plan) : true;
    };
    const outcome = await apply(rotated, { signal: hooks.signal, onProgress: hooks.onProgress, onState: hooks.onState, approve, backend, driver: opened.driver });
    // The next graph is read from the state the run wrote.
    this.graphValue = undefined;
    this.recorded = undefined;
    return { outcome, keyIds };
  }

  /** Builds the checked-out revision with the user's encore CLI, pushes it, and rolls it out (src/session/deploy.ts). */
  async deploy(options: DeployOptions = {}): Promise<DeployOutcome> {
    return deploy(await this.deployContext(options.signal), options);
  }

  /** Rolls back to an earlier succeeded deploy's image, with no build. */
  async rollback(deployId: string, options: DeployOptions = {}): Promise<DeployOutcome> {
    return rollback(await this.deployContext(options.signal), deployId, options);
  }

  /** Rolls out the image environment `from` runs now, with no build. */
  async promote(from: EnvironmentSession, options: DeployOptions = {}): Promise<DeployOutcome> {
    const source = await from.deploys(options.signal);
    return promote(await this.deployContext(options.signal), { environment: from.env.name, history: source.records }, options);
  }

  /** A kubeconfig for the environment's CI identity (Kubernetes, deploy on push): printed for a repository secret. */
  async ciKubeconfig(signal?: AbortSignal): Promise<{ kubeconfig: string; expiresAt: string }> {
    const target = await this.deployTarget(signal);
    if (!target.ciKubeconfig) throw new DeployError('unavailable', `a CI kubeconfig is for Kubernetes environments; "${this.current.name}" is on ${this.current.provider.kind}`);
    return target.ciKubeconfig(signal ?? new AbortController().signal);
  }

  /** The AWS deploy role the last apply made (deploy on push): its ARN from state, for the workflow. */
  async ciRole(): Promise<{ roleArn: string; region: string }> {
    const p = this.current.provider;
    if (p.kind !== 'aws') throw new DeployError('unavailable', `a deploy role is for AWS environments; "${this.current.name}" is on ${p.kind}`);
    const { state } = await (await this.state()).load();
    const arn = state?.resources[AWS_CI_IDENTITY.roleId]?.outputs.arn;
    if (typeof arn !== 'string' || !arn) {
      const repo = this.githubRepository();
      throw new DeployError('apply-first', `environment "${this.current.name}" has no deploy role yet: ${repo.repository !== null ? `apply it first (its plan makes the role that ${repo.repository} may assume)` : `${repo.problem}; add the GitHub remote, then apply (the plan makes the role the repository may assume)`}`);
    }
    return { roleArn: arn, region: p.region };
  }

  /** The GCP Workload Identity provider and deploy service account the last apply made (deploy on push), from state. */
  async ciWorkloadIdentity(): Promise<{ workloadIdentityProvider: string; serviceAccount: string }> {
    const p = this.current.provider;
    if (p.kind !== 'gcp') throw new DeployError('unavailable', `a Workload Identity provider is for GCP environments; "${this.current.name}" is on ${p.kind}`);
    const { state } = await (await this.state()).load();
    const provider = state?.resources[GCP_CI_IDENTITY.providerId]?.outputs.name;
    const email = state?.resources[GCP_CI_IDENTITY.serviceAccountId]?.outputs.email;
    if (typeof provider !== 'string' || !provider || typeof email !== 'string' || !email) {
      const repo = this.githubRepository();
      throw new DeployError('apply-first', `environment "${this.current.name}" has no Workload Identity provider and deploy service account yet: ${repo.repository !== null ? `apply it first (its plan makes the pool ${repo.repository} may use)` : `${repo.problem}; add the GitHub remote, then apply (the plan makes the pool the repository may use)`}`);
    }
    return { workloadIdentityProvider: provider, serviceAccount: email };
  }

  /** The environment's deploy history, oldest first, and the entries that do not validate. */
  async deploys(signal?: AbortSignal): Promise<{ records: DeployRecord[]; problems: string[]; location: string }> {
    const target = await this.deployTarget(signal);
    return { ...(await readHistory(target, signal)), location: target.historyLocation };
  }

  private async deployTarget(signal?: AbortSignal) {
    const opened = await this.provider();
    if (!opened.deployTarget) throw new DeployError('unavailable', `deploying to a ${this.current.provider.kind} environment is not available in this version`);
    await opened.driver.preflight(signal ?? new AbortController().signal);
    return opened.deployTarget();
  }

  /** What a deploy needs; the cluster is reached only when a step needs it, so local preflights come first. */
  /** The planner's graph for this environment, with the image that runs and the migrations the database Jobs apply. */
  private graphWith(model: AppModel, appImage: string | null, serviceAuthKeyIds: readonly number[] | undefined): DesiredGraph {
    return desiredGraph(model, this.current, { appId: this.options.appId, appImage, migrationSql: readMigrationSql(model), serviceAuthKeyIds, ciRepository: this.ciRepository() });
  }

  private async deployContext(signal?: AbortSignal): Promise<DeployContext> {
    let target: ReturnType<EnvironmentSession['deployTarget']> | undefined;
    // The key ids from the state as the deploy reads it (first asked for with the deploy's lock held).
    let keyIds: Promise<number[] | undefined> | undefined;
    const p = this.current.provider;
    return {
      environment: this.current.name,
      appRoot: this.options.appRoot,
      appId: this.options.appId,
      repository: p.kind === 'kubernetes' ? p.registry : undefined,
      baseImage: p.kind === 'kubernetes' ? p.baseImage : undefined,
      graph: async (appImage) => {
        // The app's own errors are refused here as for a plan.
        await this.graph();
        keyIds ??= this.state().then(async (b) => serviceAuthKeyIdsOf((await b.load()).state));
        return this.graphWith(this.model(), appImage, await keyIds);
      },
      model: () => this.model(),
      backend: () => this.state(),
      target: () => {
        target ??= this.deployTarget(signal);
        return target;
      },
      who: async (s) => (await this.identity(s)).principal,
      ...(p.kind === 'aws' || p.kind === 'gcp'
        ? {
            // The provider's registry: the repository the environment's plan made (recorded in state), a short-lived credential for it.
            registry: async (s: AbortSignal) => {
              const { id, output, what, issuer, hint } = PROVIDER_REGISTRY[p.kind as 'aws' | 'gcp'];
              const t = await (target ??= this.deployTarget(signal));
              const state = (await (await this.state()).load()).state;
              const uri = state?.resources[id]?.outputs[output];
              if (typeof uri !== 'string' || uri === '') {
                throw new DeployError('apply-first', `environment "${this.current.name}" has no ${what} recorded yet: apply first (encore-env apply --env ${this.current.name}), then deploy`);
              }
              if (!t.registryCredential) throw new DeployError('unavailable', `the ${p.kind} provider has no registry credential`);
              const { registry, credential } = await t.registryCredential(s, uri);
              if (registry && !uri.startsWith(`${registry}/`)) {
                throw new DeployError('preflight', `the ${what} ${uri} is not in the registry ${issuer} gave a token for (${registry}): ${hint}`);
              }
              return { repository: uri, credential };
            },
          }
        : {}),
      applyDeployment: async (resource, resolved, s) => {
        const opened = await this.provider();
        await opened.driver.update({ ...resource, resolved }, { signal: s, progress: (message) => this.options.hooks?.note?.(`${resource.name}: ${message}`) });
      },
    };
  }

  async dispose(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    this.backend = undefined;
    await (await opened?.catch(() => undefined))?.env.dispose().catch(() => undefined);
  }

  private repositoryValue: GithubRepository | undefined;

  /** The app's GitHub repository, for the AWS deploy role or the GCP Workload Identity provider (deploy on push). */
  githubRepository(): GithubRepository {
    this.repositoryValue ??= githubRepository(this.options.appRoot);
    return this.repositoryValue;
  }

  private ciRepository(): string | undefined {
    if ((this.current.provider.kind !== 'aws' && this.current.provider.kind !== 'gcp') || this.current.deploy.trigger !== 'push') return undefined;
    return this.githubRepository().repository ?? undefined;
  }

  /** State as last read by this session, for the app image that runs; read from the local copy when none was. */
  private recorded: EnvState | null | undefined;

  private noteRecorded(state: EnvState | null): void {
    const inputs = (s: EnvState | null) => JSON.stringify([appImageOf(s), serviceAuthKeyIdsOf(s) ?? null]);
    if (this.recorded !== undefined && inputs(this.recorded) !== inputs(state)) this.graphValue = undefined;
    this.recorded = state;
  }

  private async recordedStateForImage(): Promise<EnvState | null> {
    if (this.recorded !== undefined) return this.recorded;
    try {
      this.recorded = (await (await this.offlineState()).load()).state;
    } catch {
      // A local copy that cannot be read says nothing about the image; the plan reports the state itself.
      this.recorded = null;
    }
    return this.recorded;
  }
}

function findEnvironment(loaded: Awaited<ReturnType<EnvStore['load']>>, name: string): Environment {
  if (!loaded.ok) {
    throw new SessionError('environments-file', `${loaded.file} cannot be used:\n${loaded.errors.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
  }
  const env = loaded.environments.find((e) => e.name === name);
  if (!env) {
    const known = loaded.environments.map((e) => e.name);
    throw new SessionError('not-found', `there is no environment "${name}" in ${loaded.file}${known.length ? `; it has ${known.join(', ')}` : ' (it has none yet)'}`);
  }
  return env;
}

function newResources(questions: SizingQuestion[]): string {
  return [...new Set(questions.map((q) => `${q.resource.kind} ${q.resource.name}`))].join(', ');
}
