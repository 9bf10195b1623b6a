/**
 * encore-env plan, apply, destroy and unlock. Progress and previews go to stderr; results go to stdout (the Plan or
 * {plan, result} as JSON with --json). Every refusal happens before anything changes, with its own exit code.
 */

import { hasChanges } from '../../model/plan';
import { isDriverError, type ProviderDriver } from '../../model/providerApi';
import { describeHolder, isStateError } from '../../model/state';
import { apply, destroy, isEngineError, planChanges, unlock, type RunOutcome } from '../../provisioning/engine';
import { EXIT, type ExitCode } from '../exitCodes';
import { parseArgs, type FlagSpec } from './args';
import { CliError, desiredGraph, findApp, loadEnvironment, makeBackend, makeDriver, type ProvisionDeps } from './context';
import { renderEvent, renderPlan, renderResult } from './render';
import { answerNewSizing } from './sizing';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** stdin and stderr are terminals, so a question can be asked and answered. */
  interactive: boolean;
  ask(question: string): Promise<string>;
  /** Fires on Ctrl+C. */
  signal: AbortSignal;
}

type Command = 'plan' | 'apply' | 'destroy' | 'unlock';

const SPECS: Record<Command, FlagSpec> = {
  plan: { values: ['env', 'state-dir'], booleans: ['json', 'offline', 'detailed-exitcode'] },
  apply: { values: ['env', 'state-dir', 'confirm', 'concurrency'], booleans: ['json', 'yes'] },
  destroy: { values: ['env', 'state-dir', 'confirm'], booleans: ['json'] },
  unlock: { values: ['env', 'state-dir'], booleans: ['force'] },
};

export async function runProvisionCommand(command: Command, args: string[], io: CliIO, deps: ProvisionDeps): Promise<ExitCode> {
  let driver: ProviderDriver | null = null;
  try {
    const parsed = parseArgs(args, SPECS[command]);
    if (!parsed.ok) throw new CliError(EXIT.usage, parsed.error);
    const name = parsed.values.env;
    if (!name) throw new CliError(EXIT.usage, '--env NAME is required (the environment, as named in encore.environments.json)');
    const flags = { ...parsed, name, has: (f: string) => parsed.flags.has(f) };
    const setDriver = (d: ProviderDriver | null) => (driver = d);
    switch (command) {
      case 'plan':
        return await planCmd(flags, io, deps, setDriver);
      case 'apply':
        return await applyCmd(flags, io, deps, setDriver);
      case 'destroy':
        return await destroyCmd(flags, io, deps, setDriver);
      default:
        return await unlockCmd(flags, io, deps, setDriver);
    }
  } catch (err) {
    return failed(command, err, io);
  } finally {
    await (driver as ProviderDriver | null)?.dispose?.().catch(() => undefined);
  }
}

interface Flags {
  name: string;
  values: Record<string, string>;
  dir: string | undefined;
  has(flag: string): boolean;
}

type SetDriver = (d: ProviderDriver | null) => void;

async function planCmd(f: Flags, io: CliIO, deps: ProvisionDeps, setDriver: SetDriver): Promise<ExitCode> {
  const app = await findApp(f.dir);
  const env = await answerNewSizing(app, await loadEnvironment(app, f.name), io, io.interactive && !f.has('json'));
  const graph = desiredGraph(app, env);
  const driver = f.has('offline') ? null : await makeDriver(env, app, deps);
  setDriver(driver);
  if (driver) await driver.preflight(io.signal);
  const backend = await makeBackend(env, app, deps, driver, f.values['state-dir']);
  const plan = await planChanges(graph, await backend.load(), driver, { signal: io.signal });
  // --json adds where the recorded state was read (the text header says it), which matters most offline.
  io.out(f.has('json') ? `${JSON.stringify({ ...plan, stateFrom: backend.location }, null, 2)}\n` : renderPlan(plan, driver ? driver.target : `offline, state from ${backend.location}`));
  return f.has('detailed-exitcode') && hasChanges(plan) ? EXIT.changes : EXIT.ok;
}

async function applyCmd(f: Flags, io: CliIO, deps: ProvisionDeps, setDriver: SetDriver): Promise<ExitCode> {
  const yes = f.has('yes');
  if (!yes && !io.interactive) {
    throw new CliError(EXIT.confirmation, `apply changes environment "${f.name}" and there is no terminal to ask for a confirmation in: review "encore-env plan --env ${f.name}", then run apply with --yes`);
  }
  const concurrency = f.values.concurrency === undefined ? undefined : Number(f.values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) throw new CliError(EXIT.usage, '--concurrency needs a whole number of at least 1');
  const app = await findApp(f.dir);
  const loaded = await loadEnvironment(app, f.name);
  // The driver first: a provider that cannot be reached or has not landed is said before any question is asked.
  const driver = await makeDriver(loaded, app, deps);
  setDriver(driver);
  const env = await answerNewSizing(app, loaded, io, io.interactive && !yes && !f.has('json'));
  const graph = desiredGraph(app, env);
  const backend = await makeBackend(env, app, deps, driver, f.values['state-dir']);
  let declined = false;
  const outcome = await apply(graph, {
    backend, driver, signal: io.signal, concurrency, confirm: f.values.confirm,
    onProgress: (e) => io.err(`${renderEvent(e)}\n`),
    approve: async (plan) => {
      io.err(renderPlan(plan, driver.target));
      if (yes) return true;
      const answer = await io.ask(`\nApply these changes to "${env.name}"? Only "yes" goes ahead: `);
      declined = answer.trim() !== 'yes';
      return !declined;
    },
  });
  if (declined) {
    io.err('Nothing was changed.\n');
    return EXIT.confirmation;
  }
  return finish(outcome, f, io, driver.target);
}

async function destroyCmd(f: Flags, io: CliIO, deps: ProvisionDeps, setDriver: SetDriver): Promise<ExitCode> {
  const confirm = f.values.confirm;
  if (confirm !== f.name) {
    const what = confirm === undefined ? 'needs a typed confirmation' : `was confirmed with "${confirm}", which is not its name`;
    throw new CliError(EXIT.confirmation, `destroy deletes everything recorded for environment "${f.name}", data included, and ${what}. Nothing was changed. To go ahead: --confirm ${f.name}`);
  }
  const app = await findApp(f.dir);
  const env = await loadEnvironment(app, f.name);
  const driver = await makeDriver(env, app, deps);
  setDriver(driver);
  const backend = await makeBackend(env, app, deps, driver, f.values['state-dir']);
  const outcome = await destroy(env.name, env.provider.kind, {
    backend, driver, signal: io.signal, confirm,
    onProgress: (e) => io.err(`${renderEvent(e)}\n`),
    approve: (plan) => {
      io.err(renderPlan(plan, driver.target));
      return true;
    },
  });
  return finish(outcome, f, io, driver.target);
}

async function unlockCmd(f: Flags, io: CliIO, deps: ProvisionDeps, setDriver: SetDriver): Promise<ExitCode> {
  const app = await findApp(f.dir);
  const env = await loadEnvironment(app, f.name);
  // A backend kept in the cluster needs the driver's connection; a provider that is not available has none.
  const driver = await makeDriver(env, app, deps).catch((err: unknown) => {
    if (err instanceof CliError && err.exit === EXIT.unavailable) return null;
    throw err;
  });
  setDriver(driver);
  const backend = await makeBackend(env, app, deps, driver, f.values['state-dir']);
  const { broken, why } = await unlock(backend, { force: f.has('force') });
  io.out(broken ? `Broke the lock of ${describeHolder(broken)} (${why}).\n` : `Environment "${env.name}" is not locked${why === 'it was not locked' ? '' : ` (${why})`}.\n`);
  return EXIT.ok;
}

function finish({ plan, result }: RunOutcome, f: Flags, io: CliIO, target: string): ExitCode {
  if (f.has('json')) io.out(`${JSON.stringify({ plan, result }, null, 2)}\n`);
  else if (!hasChanges(plan) && result.done.length === 0) io.out(renderPlan(plan, target));
  else io.out(renderResult(result));
  if (result.outcome === 'succeeded') return EXIT.ok;
  if (result.outcome === 'cancelled') return io.signal.aborted ? EXIT.cancelled : EXIT.confirmation;
  return EXIT.failure;
}

/** Says why a command failed, on stderr, and gives its exit code. */
export function failed(command: string, err: unknown, io: CliIO): ExitCode {
  const say = (text: string) => io.err(`encore-env ${command}: ${text}\n`);
  if (err instanceof CliError) {
    say(err.message);
    return err.exit;
  }
  if (isStateError(err) && err.code === 'locked') {
    say(err.message);
    return EXIT.locked;
  }
  if (isEngineError(err) && err.code === 'confirmation-required') {
    say(err.message.replace(/confirm with the environment's name, "([^"]+)"\.$/, 'run it again with --confirm $1.'));
    return EXIT.confirmation;
  }
  if (io.signal.aborted) {
    say('cancelled; nothing further was started');
    return EXIT.cancelled;
  }
  if (isDriverError(err) || isStateError(err) || isEngineError(err)) {
    say(err.message);
    return EXIT.failure;
  }
  say(err instanceof Error ? err.message : String(err));
  return EXIT.failure;
}
