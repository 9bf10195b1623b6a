/**
 * encore-env deploy, deploys, rollback, promote and setup-ci, over the session's deploy (src/session/deploy.ts).
 * Progress goes to stderr (with --ci: one JSON object per line on stdout), results to stdout. Every refusal has its
 * own exit code (exitCodes.ts, the README's table, the usage text).
 */

import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { isDriverError } from '../../model/providerApi';
import { isStateError } from '../../model/state';
import {
  CI_IDENTITY, currentDeploy, INSTALL_HINT, isDeployError, kubeconfigCommand, prepareCiSetup, workflowFileStatus, writeWorkflowFile,
  type DeployEvent, type DeployOptions, type DeployOutcome, type DeployRecord, type DeployTrigger, type EnvironmentSession,
} from '../../session';
import { EXIT, type ExitCode } from '../exitCodes';
import { parseArgs, wholeNumber, type FlagSpec } from '../provision/args';
import { failed, type CliIO } from '../provision/commands';
import { CliError, openSession, type ProvisionDeps } from '../provision/context';

export type DeployCommand = 'deploy' | 'deploys' | 'rollback' | 'promote' | 'setup-ci';

export const DEPLOY_COMMANDS: readonly DeployCommand[] = ['deploy', 'deploys', 'rollback', 'promote', 'setup-ci'];

const SPECS: Record<DeployCommand, FlagSpec> = {
  deploy: { values: ['env', 'revision', 'rollout-timeout'], booleans: ['ci', 'json'] },
  deploys: { values: ['env'], booleans: ['json'] },
  rollback: { values: ['env', 'to', 'rollout-timeout'], booleans: ['ci', 'json'] },
  promote: { values: ['from', 'to', 'rollout-timeout'], booleans: ['ci', 'json'] },
  'setup-ci': { values: ['env', 'encore-version'], booleans: ['force', 'print-kubeconfig'] },
};

/** The trigger of a deploy in a GitHub Actions run: a push, or CI otherwise (manual dispatch). */
function ciTrigger(env: NodeJS.ProcessEnv): DeployTrigger {
  return env.GITHUB_EVENT_NAME === 'push' ? 'push' : 'ci';
}

export async function runDeployCommand(command: DeployCommand, args: string[], io: CliIO, deps: ProvisionDeps & { env?: NodeJS.ProcessEnv; rolloutPollMs?: number } = {}): Promise<ExitCode> {
  const sessions: EnvironmentSession[] = [];
  const env = deps.env ?? process.env;
  try {
    const parsed = parseArgs(args, SPECS[command]);
    if (!parsed.ok) throw new CliError(EXIT.usage, parsed.error);
    const v = parsed.values;
    const has = (flag: string) => parsed.flags.has(flag);
    const timeout = v['rollout-timeout'] === undefined ? 600 : wholeNumber(v['rollout-timeout'], 1, 86_400);
    if (timeout === null) throw new CliError(EXIT.usage, '--rollout-timeout needs a whole number of seconds from 1 to 86400');
    const open = async (name: string | undefined, flag: string) => {
      if (!name) throw new CliError(EXIT.usage, `--${flag} NAME is required (the environment, as named in encore.environments.json)`);
      const s = await openSession(parsed.dir, name, deps, { hooks: { note: (text) => progress(io, has('ci'), { step: 'apply', message: `note: ${text}` }) } });
      sessions.push(s);
      return s;
    };
    const ci = has('ci');
    const options: DeployOptions = {
      signal: io.signal,
      env,
      onEvent: (e) => progress(io, ci, e),
      rolloutTimeoutMs: timeout * 1000,
      rolloutPollMs: deps.rolloutPollMs,
      ...(ci ? { trigger: ciTrigger(env), ...(env.GITHUB_ACTOR ? { by: `github:${env.GITHUB_ACTOR}` } : {}) } : {}),
    };
    switch (command) {
      case 'deploy': {
        const session = await open(v.env, 'env');
        return report(await session.deploy({ ...options, revision: v.revision }), io, ci, has('json'), env);
      }
      case 'rollback': {
        if (!v.to) throw new CliError(EXIT.usage, '--to DEPLOY_ID is required (see encore-env deploys --env NAME)');
        const session = await open(v.env, 'env');
        return report(await session.rollback(v.to, { ...options, trigger: 'rollback' }), io, ci, has('json'), env);
      }
      case 'promote': {
        if (v.from !== undefined && v.from === v.to) throw new CliError(EXIT.usage, '--from and --to name the same environment');
        const from = await open(v.from, 'from');
        const to = await open(v.to, 'to');
        return report(await to.promote(from, { ...options, trigger: 'promote' }), io, ci, has('json'), env);
      }
      case 'deploys':
        return await listDeploys(await open(v.env, 'env'), io, has('json'));
      default:
        if (has('print-kubeconfig')) return await printCiKubeconfig(await open(v.env, 'env'), io);
        return await setupCi(await open(v.env, 'env'), io, { force: has('force'), encoreVersion: v['encore-version'], env });
    }
  } catch (err) {
    return deployFailed(command, err, io, args.includes('--ci'), env);
  } finally {
    for (const s of sessions) await s.dispose();
  }
}

function progress(io: CliIO, ci: boolean, e: DeployEvent): void {
  if (ci) io.out(`${JSON.stringify({ event: 'progress', step: e.step, message: e.message, ...(e.build ? { stream: e.build.stream } : {}) })}\n`);
  else io.err(e.build ? `  | ${e.message}\n` : `[${e.step}] ${e.message}\n`);
}

function short(record: DeployRecord): string {
  return `${record.revision.commit.slice(0, 12)}${record.revision.dirty ? ' (dirty)' : ''}`;
}

function report(outcome: DeployOutcome, io: CliIO, ci: boolean, json: boolean, env: NodeJS.ProcessEnv): ExitCode {
  const { record } = outcome;
  if (ci) io.out(`${JSON.stringify({ event: 'result', ok: true, record, rollout: outcome.rollout, notes: outcome.notes })}\n`);
  else if (json) io.out(`${JSON.stringify({ record, rollout: outcome.rollout, notes: outcome.notes }, null, 2)}\n`);
  else io.out(`Deploy ${record.id} of ${short(record)} to "${record.environment}" succeeded: ${record.image.repository}@${record.image.digest}\n`);
  writeSummary(env, record, outcome.rollout.map((r) => `${r.name}: ${r.message}`));
  return EXIT.ok;
}

/** The job summary GitHub shows for the run: the deploy record, as a table. */
function writeSummary(env: NodeJS.ProcessEnv, record: DeployRecord | undefined, lines: string[], failure?: string): void {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  const rows = record
    ? [
        ['Deploy', record.id], ['Environment', record.environment], ['Result', record.result], ['Revision', short(record)],
        ['Image', `${record.image.repository}@${record.image.digest}`], ['Trigger', record.trigger], ['By', record.by], ['At', record.at],
        ...(record.restores ? [['Restores', record.restores]] : []),
        ...(record.promotedFrom ? [['Promoted from', `${record.promotedFrom.environment} (${record.promotedFrom.deployId})`]] : []),
      ]
    : [];
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const text = [
    `## encore-env deploy${record ? `: ${record.result}` : ': failed'}`,
    '',
    ...(rows.length ? ['| | |', '|---|---|', ...rows.map(([k, val]) => `| ${k} | \`${cell(val!)}\` |`), ''] : []),
    ...(failure ? ['```', failure, '```', ''] : []),
    ...lines.map((l) => `- ${cell(l)}`),
    '',
  ].join('\n');
  try {
    appendFileSync(file, text);
  } catch {
    // A summary that cannot be written must not turn a deploy into a failure.
  }
}

async function listDeploys(session: EnvironmentSession, io: CliIO, json: boolean): Promise<ExitCode> {
  const { records, problems, location } = await session.deploys(io.signal);
  const current = currentDeploy(records);
  for (const p of problems) io.err(`note: ${p}\n`);
  if (json) {
    io.out(`${JSON.stringify({ location, current: current?.id ?? null, deploys: [...records].reverse(), problems }, null, 2)}\n`);
    return EXIT.ok;
  }
  if (records.length === 0) {
    io.out(`No deploys of "${session.env.name}" yet (${location}).\n`);
    return EXIT.ok;
  }
  for (const r of [...records].reverse()) {
    const extra = r.restores ? ` restores ${r.restores}` : r.promotedFrom ? ` from ${r.promotedFrom.environment} ${r.promotedFrom.deployId}` : '';
    io.out(`${r === current ? '*' : ' '} ${r.id}  ${r.at}  ${r.result.padEnd(9)}  ${r.trigger.padEnd(8)}  ${short(r)}  ${r.by}${extra}${r.result !== 'succeeded' && r.message ? `\n      ${r.message.split('\n')[0]}` : ''}\n`);
  }
  return EXIT.ok;
}

async function setupCi(session: EnvironmentSession, io: CliIO, options: { force: boolean; encoreVersion?: string; env: NodeJS.ProcessEnv }): Promise<ExitCode> {
  const setup = await prepareCiSetup(session, { encoreVersion: options.encoreVersion, signal: io.signal });
  const shown = path.relative(process.cwd(), setup.file) || setup.file;
  const status = await workflowFileStatus(setup.file, setup.text);
  if (status.kind === 'unreadable') throw new CliError(EXIT.failure, status.problem);
  if (status.kind === 'different' && !options.force) {
    throw new CliError(EXIT.confirmation, `${shown} exists and differs from the workflow this version writes: review it, then run setup-ci again with --force to replace it`);
  }
  if (status.kind !== 'same') await writeWorkflowFile(setup.file, setup.text);
  const env = session.env;
  const kube = setup.kubeconfig;
  // The CLI's user runs the pipe from where they ran setup-ci: the command names no app folder.
  const github = kube ? setup.github.map((line) => (line.startsWith('Store its kubeconfig') ? `Store its kubeconfig as the environment secret ${kube.secret}, straight from this command to GitHub (it is never written to a file):\n  ${kubeconfigCommand(env.name)}` : line)) : setup.github;
  io.out(`${status.kind === 'same' ? 'Kept' : 'Wrote'} ${shown}: on push to ${setup.branch} (and on manual dispatch) it runs encore-env deploy --env ${env.name} --ci in the GitHub environment "${env.name}".\n${setup.credentials}\n${github.join('\n')}\n`);
  return EXIT.ok;
}

/** Only the CI identity's kubeconfig on stdout, for a pipe into `gh secret set`; what it is goes to stderr. */
async function printCiKubeconfig(session: EnvironmentSession, io: CliIO): Promise<ExitCode> {
  if (session.env.deploy.trigger !== 'push') throw new CliError(EXIT.usage, `environment "${session.env.name}" deploys manually: its plan has no CI identity (give it a push trigger, apply, then run setup-ci)`);
  const { kubeconfig, expiresAt } = await session.ciKubeconfig(io.signal);
  io.out(kubeconfig);
  io.err(`the kubeconfig of ServiceAccount ${CI_IDENTITY.name} (namespace-limited Role)${expiresAt ? `, valid until ${expiresAt}` : ''}: run setup-ci --print-kubeconfig again to renew it\n`);
  return EXIT.ok;
}

/** Says why a deploy command failed and gives its exit code; with --ci also as a JSON line and in the job summary. */
function deployFailed(command: DeployCommand, err: unknown, io: CliIO, ci: boolean, env: NodeJS.ProcessEnv): ExitCode {
  let code: ExitCode;
  let message: string;
  if (isDeployError(err)) {
    message = err.code === 'preflight' && /not installed|not on PATH/.test(err.message) && !err.message.includes(INSTALL_HINT) ? `${err.message} ${INSTALL_HINT}` : err.message;
    code = { 'apply-first': EXIT.applyFirst, preflight: EXIT.preflight, build: EXIT.failure, registry: EXIT.failure, rollout: EXIT.failure, 'not-found': EXIT.usage, manual: EXIT.usage, unavailable: EXIT.unavailable, cancelled: EXIT.cancelled }[err.code];
    io.err(`encore-env ${command}: ${message}\n`);
  } else {
    if (isDriverError(err) && err.code === 'unavailable') {
      io.err(`encore-env ${command}: ${err.message}\n`);
      code = EXIT.unavailable;
    } else if (isStateError(err) && err.code === 'locked') {
      io.err(`encore-env ${command}: ${err.message}\n`);
      code = EXIT.locked;
    } else code = failed(command, err, io);
    message = err instanceof Error ? err.message : String(err);
  }
  const record = isDeployError(err) ? err.record : undefined;
  if (ci) io.out(`${JSON.stringify({ event: 'result', ok: false, exitCode: code, error: message, ...(record ? { record } : {}) })}\n`);
  if (command !== 'deploys' && command !== 'setup-ci') writeSummary(env, record, [], message);
  return code;
}
