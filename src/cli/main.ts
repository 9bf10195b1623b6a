import path from 'node:path';
import { findApps } from '../analyzer/findApps';
import { notYetAvailable } from '../model/upcoming';
import { version } from '../../package.json';

/** Exit codes, documented in the README. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 3 } as const;

const USAGE = `encore-env ${version}: Encore environments from the command line.

Usage:
  encore-env apps [DIR] [--json]   List the Encore apps at or below DIR (default: the current directory).
  encore-env analyze [DIR]         Print the application model.           (arrives with the application model)
  encore-env plan --env NAME       Show what apply would change.           (arrives with the provisioning engine)
  encore-env apply --env NAME      Provision the environment.              (arrives with the provisioning engine)
  encore-env destroy --env NAME    Tear the environment down.              (arrives with the provisioning engine)
  encore-env --version | --help

Exit codes: 0 ok, 1 the command failed, 2 usage error, 3 not available in this version.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return EXIT.ok;
  }
  switch (command) {
    case 'apps':
      return listApps(rest);
    case 'analyze':
      return unavailable('encore-env analyze', 'analyzer');
    case 'plan':
    case 'apply':
    case 'destroy':
    case 'unlock':
      return unavailable(`encore-env ${command}`, 'provisioning');
    default:
      process.stderr.write(`encore-env: unknown command "${command}"\n\n${USAGE}`);
      return EXIT.usage;
  }
}

async function listApps(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const positional = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--json');
  if (unknown.length > 0 || positional.length > 1) {
    process.stderr.write(`encore-env apps: unexpected ${[...unknown, ...positional.slice(1)].join(' ')}\n`);
    return EXIT.usage;
  }
  const dir = path.resolve(positional[0] ?? '.');
  const apps = await findApps(dir);
  if (json) {
    const out = apps.map((a) =>
      a.ok ? { root: a.root, lang: a.app.lang, id: a.app.id ?? null } : { root: a.root, error: a.error },
    );
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else if (apps.length === 0) {
    process.stderr.write(`no Encore app (encore.app file) at or below ${dir}\n`);
  } else {
    for (const a of apps) {
      const where = path.relative(process.cwd(), a.root) || '.';
      process.stdout.write(a.ok ? `${where}\t${a.app.lang}${a.app.id ? `\t${a.app.id}` : ''}\n` : `${where}\terror: ${a.error}\n`);
    }
  }
  return apps.some((a) => !a.ok) ? EXIT.failure : EXIT.ok;
}

function unavailable(what: string, feature: 'analyzer' | 'provisioning'): number {
  process.stderr.write(`${notYetAvailable(what, feature)}\n`);
  return EXIT.unavailable;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`encore-env: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.failure;
  },
);
