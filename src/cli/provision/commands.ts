/**
 * encore-env plan, apply, destroy and unlock, over a provisioning session (src/session/). Progress and previews go
 * to stderr; results go to stdout (the Plan or {plan, result} as JSON with --json). Every refusal happens before
 * anything changes, with its own exit code.
 */

import { hasChanges, parseConfirmation, WITHOUT_SNAPSHOT } from '../../model/plan';
import { describeIdentity, isDriverError } from '../../model/providerApi';
import { describeHolder, isStateError } from '../../model/state';
import { isEngineError, isSessionError, type EnvironmentSession, type RunOutcome } from '../../session';
import { EXIT, type ExitCode } from '../exitCodes';
import { parseArgs, wholeNumber, type FlagSpec } from './args';
import { CliError, openSession, type ProvisionDeps } from './context';
import { renderEvent, renderPlan, renderResult } from './render';
import { terminalSizing } from './sizing';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** stdin and stderr are terminals, so a question can be asked and answered. */
  interactive: boolean;
  ask(question: string): Promise<string>;
  /** Fires on Ctrl+C, SIGTERM or SIGHUP. */
  signal: AbortSignal;
}

type Command = 'plan' | 'apply' | 'destroy' | 'unlock';

const SPECS: Record<Command, FlagSpec> = {
  plan: { values: ['env', 'state-dir'], booleans: ['json', 'offline', 'detailed-exitcode'] },
  apply: { values: ['env', 'state-dir', 'confirm', 'concurrency'], booleans: ['json', 'yes', 'adopt'] },
  destroy: { values: ['env', 'state-dir', 'confirm'], booleans: ['json'] },
  unlock: { values: ['env', 'state-dir'], booleans: ['force'] },
};

/** The most steps apply runs at once: more only queues requests at the provider's rate limits. */
export const MAX_CONCURRENCY = 64;

interface Flags {
  name: string;
  values: Record<string, string>;
  dir: string | undefined;
  has(flag: string): boolean;
}

export async function runProvisionCommand(command: Command, args: string[], io: CliIO, deps: ProvisionDeps): Promise<ExitCode> {
  let session: EnvironmentSession | undefined;
  try {
    const parsed = parseArgs(args, SPECS[command]);
    if (!parsed.ok) throw new CliError(EXIT.usage, parsed.error);
    const name = parsed.values.env;
    if (!name) throw new CliError(EXIT.usage, '--env NAME is required (the environment, as named in encore.environments.json)');
    const f: Flags = { name, values: parsed.values, dir: parsed.dir, has: (flag) => parsed.flags.has(flag) };
    const concurrency = f.values.concurrency === undefined ? undefined : wholeNumber(f.values.concurrency, 1, MAX_CONCURRENCY);
    if (concurrency === null) throw new CliError(EXIT.usage, `--concurrency needs a whole number from 1 to ${MAX_CONCURRENCY}`);
    if (command === 'apply' && !f.has('yes') && !io.interactive) {
      throw new CliError(EXIT.confirmation, `apply changes environment "${name}" and there is no terminal to ask for a confirmation in: review "encore-env plan --env ${name}", then run apply with --yes`);
    }
    const canAsk = io.interactive && !f.has('json') && !(command === 'apply' && f.has('yes'));
    session = await openSession(f.dir, name, deps, {
      stateDir: f.values['state-dir'],
      analyses: command !== 'unlock',
      hooks: {
        askSizing: canAsk ? terminalSizing(io) : undefined,
        note: (text) => io.err(`note: ${text}\n`),
      },
    });
    switch (command) {
      case 'plan':
        return await planCmd(session, f, io);
      case 'apply':
        return await applyCmd(session, f, io, concurrency ?? undefined);
      case 'destroy':
        return await destroyCmd(session, f, io);
      default:
        return await unlockCmd(session, f, io);
    }
  } catch (err) {
    return failed(command, err, io);
  } finally {
    await session?.dispose();
  }
}

/** Sizes what is new (asking on a terminal); refuses when the user cancelled. */
async function sized(session: EnvironmentSession): Promise<void> {
  if (!(await session.size())) throw new CliError(EXIT.confirmation, 'the sizing questions were not answered; nothing was changed');
}

async function planCmd(session: EnvironmentSession, f: Flags, io: CliIO): Promise<ExitCode> {
  await sized(session);
  const offline = f.has('offline');
  if (!offline) await openProvider(session);
  const result = await session.plan({ offline, signal: io.signal });
  const who = offline ? null : await identityLine(session, io);
  // --json adds where the recorded state was read (the text header says it), which matters most offline.
  io.out(f.has('json') ? `${JSON.stringify({ ...result.plan, stateFrom: result.stateFrom, ...(who ? { identity: who } : {}) }, null, 2)}\n` : renderPlan(result.plan, result.where, who?.line));
  return f.has('detailed-exitcode') && hasChanges(result.plan) ? EXIT.changes : EXIT.ok;
}

async function applyCmd(session: EnvironmentSession, f: Flags, io: CliIO, concurrency: number | undefined): Promise<ExitCode> {
  const yes = f.has('yes');
  // The provider first: one that cannot be reached or has not landed is said before any question is asked.
  const opened = await openProvider(session);
  await sized(session);
  const who = await identityLine(session, io);
  let declined = false;
  const outcome = await session.apply({
    signal: io.signal,
    concurrency,
    confirm: f.values.confirm,
    adopt: f.has('adopt') ? true : undefined,
    onProgress: (e) => io.err(`${renderEvent(e)}\n`),
    approve: async (plan) => {
      io.err(renderPlan(plan, opened.driver.target, who?.line));
      // Taking over someone else's objects is never implied by a "yes": it needs --adopt, asked before anything else.
      if (plan.foreignAdoptions.length > 0 && !f.has('adopt')) return true;
      if (yes) return true;
      const answer = await io.ask(`\nApply these changes to "${session.env.name}"? Only "yes" goes ahead: `);
      declined = answer.trim() !== 'yes';
      return !declined;
    },
  });
  if (declined) {
    io.err('Nothing was changed.\n');
    return EXIT.confirmation;
  }
  return finish(outcome, f, io, opened.driver.target);
}

async function destroyCmd(session: EnvironmentSession, f: Flags, io: CliIO): Promise<ExitCode> {
  // The environment is known to exist (the session found it) before the confirmation is judged.
  const confirm = f.values.confirm;
  if (!parseConfirmation(confirm, f.name).confirmed) {
    const what = confirm === undefined ? 'needs a typed confirmation' : `was confirmed with "${confirm}", which is not its name`;
    // Managed databases (a cloud's Production) keep a final snapshot, which the confirmation may decline.
    const managed = session.env.type === 'production' && session.env.provider.kind !== 'kubernetes';
    const snapshot = managed ? ` (managed databases keep a final snapshot; --confirm "${f.name} ${WITHOUT_SNAPSHOT}" deletes them without one)` : '';
    throw new CliError(EXIT.confirmation, `destroy deletes everything recorded for environment "${f.name}", data included, and ${what}. Nothing was changed. To go ahead: --confirm ${f.name}${snapshot}`);
  }
  const opened = await openProvider(session);
  const who = await identityLine(session, io);
  const outcome = await session.destroy({
    signal: io.signal,
    confirm,
    onProgress: (e) => io.err(`${renderEvent(e)}\n`),
    approve: (plan) => {
      io.err(renderPlan(plan, opened.driver.target, who?.line));
      return true;
    },
  });
  return finish(outcome, f, io, opened.driver.target);
}

async function unlockCmd(session: EnvironmentSession, f: Flags, io: CliIO): Promise<ExitCode> {
  const { broken, why } = await session.unlock({ force: f.has('force') });
  io.out(broken ? `Broke the lock of ${describeHolder(broken)} (${why}).\n` : `Environment "${session.env.name}" is not locked${why === 'it was not locked' ? '' : ` (${why})`}.\n`);
  return EXIT.ok;
}

/** The environment's provider; one this version cannot open (not available yet) ends the command with exit 3. */
async function openProvider(session: EnvironmentSession) {
  try {
    return await session.provider();
  } catch (err) {
    if (isDriverError(err) && err.code === 'unavailable') throw new CliError(EXIT.unavailable, err.message, { cause: err });
    throw err;
  }
}

/** Who acts, said at the top of a plan; a provider that cannot say is noted, never fatal. */
async function identityLine(session: EnvironmentSession, io: CliIO): Promise<{ line: string; principal: string; scope: string } | null> {
  try {
    const identity = await session.identity(io.signal);
    return { line: describeIdentity(identity), principal: identity.principal, scope: identity.scope };
  } catch (err) {
    io.err(`note: could not tell who acts on this environment: ${(err as Error).message}\n`);
    return null;
  }
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
  if (isSessionError(err)) {
    say(err.message);
    if (err.code === 'apply-first') return EXIT.applyFirst;
    return err.code === 'not-found' || err.code === 'conflict' ? EXIT.usage : err.code === 'cancelled' ? EXIT.confirmation : EXIT.failure;
  }
  if (isStateError(err) && err.code === 'locked') {
    say(err.message);
    return EXIT.locked;
  }
  if (isEngineError(err) && err.code === 'confirmation-required') {
    say(err.message.replace(/confirm with the environment's name, "([^"]+)"( \(.*\))?\.$/, 'run it again with --confirm $1$2.'));
    return EXIT.confirmation;
  }
  if (isEngineError(err) && err.code === 'adoption-required') {
    say(err.message.replace(/confirm the adoption\.$/, 'review the plan, then run apply again with --adopt.'));
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
