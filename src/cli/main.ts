import path from 'node:path';
import { AppAnalyzer } from '../analyzer/analyzer';
import { findApps } from '../analyzer/findApps';
import { modelJson } from '../analyzer/modelJson';
import { notYetAvailable } from '../model/upcoming';
import { version } from '../../package.json';

/** Exit codes, documented in the README. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 3 } as const;

const USAGE = `encore-env ${version}: Encore environments from the command line.

Usage:
  encore-env apps [DIR] [--json]   List the Encore apps at or below DIR (default: the current directory).
  encore-env analyze [DIR] [--json]
                                   Print the application model of each Encore app at or below DIR.
  encore-env plan --env NAME       Show what apply would change.           (arrives with the provisioning engine)
  encore-env apply --env NAME      Provision the environment.              (arrives with the provisioning engine)
  encore-env destroy --env NAME    Tear the environment down.              (arrives with the provisioning engine)
  encore-env --version | --help

Exit codes: 0 ok, 1 the command failed (for analyze: an app has errors), 2 usage error,
3 not available in this version.
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
      return analyze(rest);
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

/** `[DIR] [--json]`, the arguments of apps and analyze; null after a usage error was printed. */
function dirAndJson(command: string, args: string[]): { dir: string; json: boolean } | null {
  const positional = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--json');
  if (unknown.length > 0 || positional.length > 1) {
    process.stderr.write(`encore-env ${command}: unexpected ${[...unknown, ...positional.slice(1)].join(' ')}\n`);
    return null;
  }
  return { dir: path.resolve(positional[0] ?? '.'), json: args.includes('--json') };
}

async function analyze(args: string[]): Promise<number> {
  const parsed = dirAndJson('analyze', args);
  if (!parsed) return EXIT.usage;
  const apps = await findApps(parsed.dir);
  if (apps.length === 0) {
    process.stderr.write(`no Encore app (encore.app file) at or below ${parsed.dir}\n`);
    return EXIT.failure;
  }
  let errors = 0;
  const out: object[] = [];
  for (const app of apps) {
    const where = path.relative(process.cwd(), app.root) || '.';
    if (!app.ok) {
      errors++;
      out.push({ root: app.root, lang: null, error: app.error });
      if (!parsed.json) process.stdout.write(`${where}: error: ${app.error}\n`);
      continue;
    }
    if (app.app.lang !== 'typescript') {
      const note = 'a Go app: only Encore.ts (TypeScript) apps are analysed yet, so this app was not analysed';
      out.push({ root: app.root, lang: app.app.lang, notAnalysed: note });
      if (!parsed.json) process.stdout.write(`${where}: ${note}\n`);
      continue;
    }
    const model = new AppAnalyzer(app.root).analyze();
    errors += model.diagnostics.filter((d) => d.severity === 'error').length;
    out.push({ root: app.root, lang: 'typescript', ...modelJson(model) });
    if (!parsed.json) printModel(where, model);
  }
  if (parsed.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return errors > 0 ? EXIT.failure : EXIT.ok;
}

function printModel(where: string, model: ReturnType<AppAnalyzer['analyze']>): void {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  process.stdout.write(
    `${where}: ${[
      count(model.services.length, 'service'), count(model.endpoints.length, 'endpoint'), count(model.databases.length, 'database'),
      count(model.topics.length, 'topic'), count(model.subscriptions.length, 'subscription'), count(model.cronJobs.length, 'cron job'),
      count(model.caches.length, 'cache cluster'), count(model.buckets.length, 'bucket'), count(model.secrets.length, 'secret'),
      count(model.metrics.length, 'metric'),
    ].join(', ')}\n`,
  );
  for (const s of model.services) {
    const endpoints = model.endpoints.filter((e) => e.service === s.name).map((e) => `${e.methods.join(',')} ${e.path}`);
    const dbs = model.databases.filter((d) => d.usedBy.includes(s.name)).map((d) => d.name);
    process.stdout.write(`  ${s.name} (${s.root || '.'}): ${endpoints.join('; ') || 'no endpoints'}${dbs.length ? `; databases ${dbs.join(', ')}` : ''}\n`);
  }
  for (const d of model.diagnostics) {
    const file = path.relative(process.cwd(), d.file);
    process.stdout.write(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message}\n`);
  }
}

async function listApps(args: string[]): Promise<number> {
  const parsed = dirAndJson('apps', args);
  if (!parsed) return EXIT.usage;
  const { dir, json } = parsed;
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

function unavailable(what: string, feature: 'provisioning'): number {
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
