/**
 * encore-env secret list|set: the values of the app's secrets (`secret("Name")`) in an environment. `set` reads the
 * value from stdin (typed with no echo on a terminal, or piped: one trailing newline is dropped), never from an
 * argument, which would land in shell history and in the process list. The value goes to the provider only.
 */

import { EXIT, type ExitCode } from '../exitCodes';
import type { EnvironmentSession, SecretValueStatus } from '../../session';
import { parseArgs, type FlagSpec } from './args';
import { failed, type CliIO } from './commands';
import { CliError, openSession, type ProvisionDeps } from './context';

export interface SecretIO extends CliIO {
  /** The value: typed with no echo when stdin is a terminal (after `prompt` on stderr), else all of stdin. */
  readSecret(prompt: string): Promise<string>;
}

const SPECS: Record<'list' | 'set', FlagSpec> = {
  list: { values: ['env'], booleans: ['json'] },
  set: { values: ['env', 'secret'], booleans: [] },
};

const STATUS_TEXT: Record<SecretValueStatus, string> = { set: 'set', unset: 'not set', missing: 'not provisioned (apply first)' };

export async function runSecretCommand(args: string[], io: SecretIO, deps: ProvisionDeps): Promise<ExitCode> {
  const [sub, ...rest] = args;
  let session: EnvironmentSession | undefined;
  try {
    if (sub !== 'list' && sub !== 'set') throw new CliError(EXIT.usage, 'use "encore-env secret list --env NAME" or "encore-env secret set --env NAME --secret SECRET"');
    const parsed = parseArgs(rest, SPECS[sub]);
    if (!parsed.ok) throw new CliError(EXIT.usage, parsed.error);
    const name = parsed.values.env;
    if (!name) throw new CliError(EXIT.usage, '--env NAME is required (the environment, as named in encore.environments.json)');
    session = await openSession(parsed.dir, name, deps);
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
    return failed(`secret${sub === 'list' || sub === 'set' ? ` ${sub}` : ''}`, err, io);
  } finally {
    await session?.dispose();
  }
}
