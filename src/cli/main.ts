import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AppModel } from '../model/appModel';
import { findApps, type DirectoryListings } from '../analyzer/findApps';
import { version } from '../../package.json';
import { EXIT } from './exitCodes';
import { parseArgs } from './provision/args';
import type { SecretIO } from './provision/secretCommand';
import { DEPLOY_EXIT_CODES, DEPLOY_USAGE } from './deploy/usage';
import { readSecret } from './readSecret';

export { EXIT } from './exitCodes';

const USAGE = `encore-env ${version}: Encore environments from the command line.

Usage:
  encore-env apps [DIR] [--json]   List the Encore apps at or below DIR (default: the current directory).
  encore-env analyze [DIR] [--json]
                                   Print the application model of each Encore app at or below DIR.
  encore-env plan --env NAME [--offline] [--json] [--detailed-exitcode] [DIR]
                                   Show what apply would change: each resource to create, update or delete, with
                                   the changed fields, and what changed outside the tool (drift). --offline plans
                                   against recorded state alone (its local copy), without reaching the cluster.
  encore-env apply --env NAME [--yes] [--confirm NAME] [--adopt] [--concurrency N] [--json] [DIR]
                                   Plan, ask (or --yes), then create, update and delete resources in dependency
                                   order. Deleting resources that hold data also needs --confirm NAME; taking over
                                   objects that exist but were not made by this tool needs --adopt (destroy leaves
                                   them in place).
  encore-env destroy --env NAME --confirm NAME [--json] [DIR]
                                   Delete everything recorded for the environment, data included. Managed
                                   databases (RDS) keep a final snapshot; --confirm "NAME without snapshot"
                                   deletes them without one.
  encore-env secret list --env NAME [--json] [DIR]
                                   List the app's secrets (secret("Name")) and whether each has a value in the
                                   environment.
  encore-env secret set --env NAME --secret SECRET [DIR]
                                   Store a secret's value in the environment (its Kubernetes Secret), read from stdin:
                                   typed with no echo on a terminal, or piped (one trailing newline is dropped). Never
                                   an argument, never in state or output.
  encore-env secret rotate-service-auth --env NAME [--finish] [--yes] [--json] [DIR]
                                   Rotate the service-auth key private endpoints trust calls with (CronJobs sign with
                                   it): start adds a new generated key that signs while both verify, --finish drops the
                                   old one. Applied like apply (refused when other changes are pending; --yes without a
                                   terminal); the keys stay in the cluster, never in state or output.
  encore-env unlock --env NAME [--force] [DIR]
                                   Break the lock of an apply or destroy that is gone (its process no longer runs);
                                   --force breaks a lock whose holder may still be running.
${DEPLOY_USAGE}  encore-env --version | --help

DIR is the app's folder (default: the current directory, or the app above or below it). A Kubernetes environment's
state is kept in its namespace (Secret encore-environments-state, with Lease encore-environments-lock as the lock),
and the last state seen is copied to .encore/state/NAME/mirror.json under the app, which plan --offline reads with no
cluster reached. State an earlier version kept in .encore/state/NAME/state.json moves into the Secret on the next
apply or destroy. --state-dir DIR keeps state in DIR instead. Progress goes to stderr, results to stdout (--json: the
plan and the result as JSON). Ctrl+C, SIGTERM or SIGHUP stop after the steps in flight (exit 130); a second one
quits at once.

Exit codes: 0 ok (plan: no changes, or any with no --detailed-exitcode), 1 the command failed (for analyze: an app
has errors; for apply and destroy: a step failed), 2 usage error, 3 not available in this version (e.g. the
environment's provider), 4 plan --detailed-exitcode found changes, 5 the environment is locked by another apply or
destroy, 6 a confirmation is missing or wrong (--yes, --confirm NAME), 7 apply first (secret rotate-service-auth
with other changes pending), 130 cancelled (Ctrl+C, SIGTERM or SIGHUP).
${DEPLOY_EXIT_CODES}`;

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
      // Loaded on demand (a chunk of its own): --help, --version and apps never load the providers or TypeScript.
      return (await import('./provision/commands')).runProvisionCommand(command, rest, terminalIO(), {});
    case 'secret':
      return (await import('./provision/secretCommand')).runSecretCommand(rest, terminalIO(), {});
    case 'deploy':
    case 'deploys':
    case 'rollback':
    case 'promote':
    case 'setup-ci':
      return (await import('./deploy/commands')).runDeployCommand(command, rest, terminalIO(), {});
    default:
      process.stderr.write(`encore-env: unknown command "${command}"\n\n${USAGE}`);
      return EXIT.usage;
  }
}

/** `[DIR] [--json]`, the arguments of apps and analyze; null after a usage error was printed. */
function dirAndJson(command: string, args: string[]): { dir: string; json: boolean } | null {
  const parsed = parseArgs(args, { values: [], booleans: ['json'] });
  if (!parsed.ok) {
    process.stderr.write(`encore-env ${command}: ${parsed.error}\n`);
    return null;
  }
  const dir = path.resolve(parsed.dir ?? '.');
  if (!existsSync(dir)) {
    process.stderr.write(`encore-env ${command}: ${dir} does not exist\n`);
    return null;
  }
  return { dir, json: parsed.flags.has('json') };
}

async function analyze(args: string[]): Promise<number> {
  const parsed = dirAndJson('analyze', args);
  if (!parsed) return EXIT.usage;
  // What findApps reads of each folder, so that each app's analysis does not read it again.
  const listings: DirectoryListings = new Map();
  const apps = await findApps(parsed.dir, listings);
  if (apps.length === 0) {
    process.stderr.write(`encore-env analyze: no Encore app (encore.app file) at or below ${parsed.dir}\n`);
    return EXIT.usage;
  }
  const [{ analyzeCached }, modelJson] = await Promise.all([import('./analysisCache'), parsed.json ? import('../analyzer/modelJson').then((m) => m.modelJson) : null]);
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
    const model = await analyzeCached(app.root, { listings });
    errors += model.diagnostics.filter((d) => d.severity === 'error').length;
    // The JSON form only when it is printed: building it costs as much as the rest of a warm run's output.
    if (modelJson) out.push({ root: app.root, lang: 'typescript', ...modelJson(model) });
    else printModel(where, model);
  }
  if (parsed.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return errors > 0 ? EXIT.failure : EXIT.ok;
}

function printModel(where: string, model: AppModel): void {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const lines = [
    `${where}: ${[
      count(model.services.length, 'service'), count(model.endpoints.length, 'endpoint'), count(model.databases.length, 'database'),
      count(model.topics.length, 'topic'), count(model.subscriptions.length, 'subscription'), count(model.cronJobs.length, 'cron job'),
      count(model.caches.length, 'cache cluster'), count(model.buckets.length, 'bucket'), count(model.secrets.length, 'secret'),
      count(model.metrics.length, 'metric'),
    ].join(', ')}`,
  ];
  // Grouped once: a large app has thousands of endpoints, which filtering for each service went through again and again.
  const endpointsOf = groupBy(model.endpoints, (e) => [e.service], (e) => `${e.methods.join(',')} ${e.path}`);
  const databasesOf = groupBy(model.databases, (d) => d.usedBy, (d) => d.name);
  for (const s of model.services) {
    const endpoints = endpointsOf.get(s.name) ?? [];
    const dbs = databasesOf.get(s.name) ?? [];
    lines.push(`  ${s.name} (${s.root || '.'}): ${endpoints.join('; ') || 'no endpoints'}${dbs.length ? `; databases ${dbs.join(', ')}` : ''}`);
  }
  for (const d of model.diagnostics) {
    const file = path.relative(process.cwd(), d.file);
    lines.push(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message}`);
  }
  // One write: each is a system call when stdout is a file or a pipe.
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `label` of each item under each of its keys, in the items' order. */
function groupBy<T>(items: T[], keys: (item: T) => string[], label: (item: T) => string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const item of items) {
    for (const key of keys(item)) {
      const list = out.get(key);
      if (list) list.push(label(item));
      else out.set(key, [label(item)]);
    }
  }
  return out;
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

/**
 * The process's terminal: Ctrl+C, SIGTERM (a timeout, a kill, CI cancelling the job) and SIGHUP (a closed
 * terminal) stop the run between steps: state is written and the lock released, then it exits 130. A second
 * signal quits at once (the lock then stays: encore-env unlock).
 */
function terminalIO(): SecretIO {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.cancelled);
    const what = signal === 'SIGINT' ? 'Ctrl+C' : signal;
    process.stderr.write(`\nStopping (${what}): no new step starts, the ones in flight are cancelled. ${what === 'Ctrl+C' ? 'Ctrl+C' : 'A second signal'} again quits at once (the lock then stays: encore-env unlock).\n`);
    controller.abort(new Error(`cancelled with ${what}`));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    ask: async (question) => {
      // Loaded here: most commands never ask, and loading it is a part of every start.
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question, { signal: controller.signal });
      } finally {
        rl.close();
      }
    },
    readSecret: (prompt) => readSecret(process.stdin, prompt, process.stderr, controller.signal),
    signal: controller.signal,
  };
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
