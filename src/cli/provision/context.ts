/**
 * What plan, apply, destroy and unlock need before the engine runs: the app (the nearest encore.app at or above
 * DIR, else the only one below it), the environment from its environments file, the desired graph from the
 * analyzer and the planner, the provider's driver and the state backend. Each failure is a CliError with the exit
 * code it deserves and a message that says what to do.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { AppAnalyzer } from '../../analyzer/analyzer';
import { ENCORE_APP_FILE, findApps, readApp } from '../../analyzer/findApps';
import { EnvStore, formatProblem } from '../../environments';
import type { DesiredGraph } from '../../model/desiredGraph';
import type { Environment } from '../../model/environment';
import { isDriverError, type ProviderDriver } from '../../model/providerApi';
import type { StateBackend, StateBackendFactory } from '../../model/state';
import { plan as planGraph } from '../../provisioning/planner';
import { LocalFileBackend } from '../../provisioning/state';
import { EXIT, type ExitCode } from '../exitCodes';

/** A refusal or failure that ends the command with `exit` after printing `message`. */
export class CliError extends Error {
  constructor(
    readonly exit: ExitCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The parts of the product the provisioning commands use, injectable so tests can run them on a test cloud. */
export interface ProvisionDeps {
  driverFor(env: Environment, options: { appRoot: string }): Promise<ProviderDriver>;
  /** Keeps state with the environment (providers/index.ts `stateBackendFor`); absent: the local folder backend. */
  stateBackendFor?: StateBackendFactory;
}

export interface AppRef {
  root: string;
  id: string | undefined;
}

export async function findApp(dirArg: string | undefined): Promise<AppRef> {
  const dir = path.resolve(dirArg ?? '.');
  if (!existsSync(dir)) throw new CliError(EXIT.usage, `${dir} does not exist`);
  for (let at = dir; ; at = path.dirname(at)) {
    const file = path.join(at, ENCORE_APP_FILE);
    if (existsSync(file)) return refOf(await readApp(file));
    if (path.dirname(at) === at) break;
  }
  const below = await findApps(dir);
  if (below.length === 1) return refOf(below[0]);
  if (below.length === 0) throw new CliError(EXIT.usage, `no Encore app (encore.app file) at, above or below ${dir}`);
  throw new CliError(EXIT.usage, `several Encore apps below ${dir}: ${below.map((a) => path.relative(dir, a.root)).join(', ')}; give the app's folder as DIR`);
}

function refOf(found: Awaited<ReturnType<typeof readApp>>): AppRef {
  if (!found.ok) throw new CliError(EXIT.failure, found.error);
  return { root: found.root, id: found.app.id };
}

export async function loadEnvironment(app: AppRef, name: string): Promise<Environment> {
  const store = new EnvStore(app.root);
  const loaded = await store.load();
  if (!loaded.ok) {
    throw new CliError(EXIT.failure, `${loaded.file} cannot be used:\n${loaded.errors.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
  }
  const env = loaded.environments.find((e) => e.name === name);
  if (!env) {
    const known = loaded.environments.map((e) => e.name);
    throw new CliError(EXIT.usage, `there is no environment "${name}" in ${loaded.file}${known.length ? `; it has ${known.join(', ')}` : ' (it has none yet)'}`);
  }
  return env;
}

/** Analyses the app and plans its graph; an app Encore would refuse to build is refused here too. */
export function desiredGraph(app: AppRef, env: Environment): DesiredGraph {
  const model = new AppAnalyzer(app.root).analyze();
  const errors = model.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const lines = errors.slice(0, 20).map((d) => `  ${path.relative(process.cwd(), d.file)}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`);
    throw new CliError(EXIT.failure, `the app has ${errors.length} error${errors.length === 1 ? '' : 's'} that Encore would refuse to build; fix them first:\n${lines.join('\n')}`);
  }
  return planGraph(model, env, { appId: app.id });
}

export async function makeDriver(env: Environment, app: AppRef, deps: ProvisionDeps): Promise<ProviderDriver> {
  try {
    return await deps.driverFor(env, { appRoot: app.root });
  } catch (err) {
    if (isDriverError(err) && err.code === 'unavailable') throw new CliError(EXIT.unavailable, err.message, { cause: err });
    throw err;
  }
}

/** `--state-dir` forces the local backend in that folder; otherwise the provider's, else `.encore/state/<env>/`. */
export async function makeBackend(env: Environment, app: AppRef, deps: ProvisionDeps, driver: ProviderDriver | null, stateDir: string | undefined): Promise<StateBackend> {
  if (stateDir !== undefined) return new LocalFileBackend(path.resolve(stateDir), env.name);
  const provided = await deps.stateBackendFor?.(env, { appRoot: app.root, driver });
  return provided ?? LocalFileBackend.forApp(app.root, env.name);
}
