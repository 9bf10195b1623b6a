/**
 * encore-env secret list|set|rotate-service-auth: the values of the app's secrets (`secret("Name")`) in an
 * environment. `set` reads the value from stdin (typed with no echo on a terminal, or piped: one trailing newline is
 * dropped), never from an argument, which would land in shell history and in the process list. The value goes to
 * the provider only. `rotate-service-auth` starts (or with --finish ends) a rotation of the environment's
 * service-auth key; the keys are generated in the cluster and never printed.
 */

import { EXIT, type ExitCode } from '../exitCodes';
import type { EnvironmentSession, SecretValueStatus } from '../../session';
import { parseArgs, type FlagSpec } from './args';
import { failed, type CliIO } from './commands';
import { CliError, openSession, type ProvisionDeps } from './context';
import { renderEvent, renderPlan, renderResult } from './render';

export interface SecretIO extends CliIO {
  /** The value: typed with no echo when stdin is a terminal (after `prompt` on stderr), else all of stdin. */
  readSecret(prompt: string): Promise<string>;
}

type Sub = 'list' | 'set' | 'rotate-service-auth';

const SPECS: Record<Sub, FlagSpec> = {
  list: { values: ['env'], booleans: ['json'] },
  set: { values: ['env', 'secret'], booleans: [] },
  'rotate-service-auth': { values: ['env'], booleans: ['finish', 'yes', 'json'] },
};

const isSub = (s: string | undefined): s is Sub => s !== undefined && Object.hasOwn(SPECS, s);

const STATUS_TEXT: Record<SecretValueStatus, string> = { set: 'set', unset: 'not set', missing: 'not provisioned (apply first)' };

export async function runSecretCommand(args: string[], io: SecretIO, deps: ProvisionDeps): Promise<ExitCode> {
  const [sub, ...rest] = args;
  let session: EnvironmentSession | undefined;
  try {
    if (!isSub(sub)) throw new CliError(EXIT.usage, 'use "encore-env secret list --env NAME", "encore-env secret set --env NAME --secret SECRET" or "encore-env secret rotate-service-auth --env NAME [--finish]"');
    const parsed = parseArgs(rest, SPECS[sub]);
    if (!parsed.ok) throw new CliError(EXIT.usage, parsed.error);
    const name = parsed.values.env;
    if (!name) throw new CliError(EXIT.usage, '--env NAME is required (the environment, as named in encore.environments.json)');
    if (sub === 'rotate-service-auth' && !parsed.flags.has('yes') && !io.interactive) {
      throw new CliError(EXIT.confirmation, `a key rotation restarts the services of "${name}" and there is no terminal to ask for a confirmation in: run it with --yes`);
    }
    session = await openSession(parsed.dir, name, deps, { hooks: { note: (text) => io.err(`note: ${text}\n`) } });
    if (sub === 'rotate-service-auth') return await rotate(session, parsed.flags, io);
    if (sub === 'set') {
      const secret = parsed.values.secret;
      const known = (await session.secrets()).map((s) => s.name);
      if (!secret) throw new CliError(EXIT.usage, `--secret SECRET is required; the app's secrets are ${known.join(', ') || 'none'}`);
      // The name is checked before anything is read, so a typo does not cost a typed value.
      if (!known.includes(secret)) throw new CliError(EXIT.usage, `the app has no secret "${secret}"; its secrets are ${known.join(', ') || 'none'}`);
      const opened = await session.provider();
      await opened.driver.preflight(io.signal);
      const value = await io.readSecret(`Value of ${secret} in "${name}" (not shown): `);
      const stored = await session.setSecretValue(secret, value, io.signal);
      const readers = stored.services.length ? `; ${stored.services.join(', ')} read${stored.services.length === 1 ? 's' : ''} it when ${stored.services.length === 1 ? 'its pods start' : 'their pods start'}` : '';
      io.err(`Stored the value of ${secret} in ${opened.driver.target}${readers}.\n`);
      return EXIT.ok;
    }
    const statuses = await session.secretStatuses(io.signal);
    if (parsed.flags.has('json')) {
      io.out(`${JSON.stringify(statuses.map(({ secret, status }) => ({ name: secret.name, status, services: secret.services, resource: secret.resource.id })), null, 2)}\n`);
    } else if (statuses.length === 0) {
      io.out(`The app declares no secrets.\n`);
    } else {
      const width = Math.max(...statuses.map((s) => s.secret.name.length));
      for (const { secret, status } of statuses) io.out(`${secret.name.padEnd(width)}  ${STATUS_TEXT[status]}${secret.services.length ? `  (read by ${secret.services.join(', ')})` : ''}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    return failed(`secret${isSub(sub) ? ` ${sub}` : ''}`, err, io);
  } finally {
    await session?.dispose();
  }
}

async function rotate(session: EnvironmentSession, flags: ReadonlySet<string>, io: CliIO): Promise<ExitCode> {
  const step = flags.has('finish') ? 'finish' : 'start';
  const opened = await session.provider();
  let declined = false;
  const { outcome, keyIds } = await session.rotateServiceAuth(step, {
    signal: io.signal,
    onProgress: (e) => io.err(`${renderEvent(e)}\n`),
    approve: async (plan) => {
      io.err(renderPlan(plan, opened.driver.target));
      if (flags.has('yes')) return true;
      const answer = await io.ask(`\n${step === 'start' ? 'Start' : 'Finish'} the service-auth key rotation of "${session.env.name}"? Only "yes" goes ahead: `);
      declined = answer.trim() !== 'yes';
      return !declined;
    },
  });
  if (declined) {
    io.err('Nothing was changed.\n');
    return EXIT.confirmation;
  }
  const { result } = outcome;
  const env = session.env.name;
  const said = step === 'start'
    ? `Started the service-auth key rotation of "${env}": keys ${keyIds.join(' and ')} both verify, key ${Math.max(...keyIds)} signs. When every caller has the new key (the services and CronJobs restarted), finish it with: encore-env secret rotate-service-auth --env ${env} --finish`
    : `Finished the service-auth key rotation of "${env}": only key ${keyIds[0]} verifies now.`;
  if (flags.has('json')) io.out(`${JSON.stringify({ step, keyIds, outcome: result.outcome, done: result.done.length, failed: result.failed }, null, 2)}\n`);
  else if (result.outcome === 'succeeded') io.out(`${said}\n`);
  else io.out(renderResult(result));
  if (result.outcome === 'succeeded') return EXIT.ok;
  if (result.outcome === 'cancelled') return io.signal.aborted ? EXIT.cancelled : EXIT.confirmation;
  return EXIT.failure;
}
