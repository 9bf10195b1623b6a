/**
 * What every provisioning command starts from: the app (the nearest encore.app at or above DIR, else the only one
 * below it) and a provisioning session on its environment (src/session/), which analyses the app once. Each
 * refusal is a CliError with the exit code it deserves and a message that says what to do.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { ENCORE_APP_FILE, findApps, readApp } from '../../analyzer/findApps';
import type { AppModel } from '../../model/appModel';
import type { ProviderOpenOptions } from '../../model/providerApi';
import { EnvironmentSession, type ProviderRegistry, type SessionHooks } from '../../session';
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
  /** Where provider modules come from; default: the product's (src/provisioning/providers). */
  providers?: ProviderRegistry;
  /** Provider options: a kubeconfig file, shorter timings (tests). */
  provider?: Omit<ProviderOpenOptions, 'appRoot' | 'prompts'>;
  /** Analyses the app (default: the analyzer); tests count the calls. */
  analyze?: (root: string) => AppModel;
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

/**
 * The session on environment `name` of the app at or around `dir`; the app is analysed when first needed. With
 * `analyses: false` (unlock) the analyzer, and TypeScript with it, is not even loaded.
 */
export async function openSession(dir: string | undefined, name: string, deps: ProvisionDeps, options: { stateDir?: string; hooks?: SessionHooks; analyses?: boolean } = {}): Promise<EnvironmentSession> {
  const app = await findApp(dir);
  const analyze = deps.analyze ?? (options.analyses === false ? undefined : await loadAnalyzer());
  return EnvironmentSession.open({
    appRoot: app.root,
    appId: app.id,
    environment: name,
    model: () => {
      if (!analyze) throw new Error('internal error: this command was opened without the analyzer, yet needs the app model');
      return analyze(app.root);
    },
    providers: deps.providers,
    provider: deps.provider,
    stateDir: options.stateDir,
    hooks: options.hooks,
  });
}

async function loadAnalyzer(): Promise<(root: string) => AppModel> {
  const { AppAnalyzer } = await import('../../analyzer/analyzer');
  return (root) => new AppAnalyzer(root).analyze();
}
