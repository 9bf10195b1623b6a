/**
 * encore-env deploy, deploys, rollback, promote and setup-ci, over the session's deploy (src/session/deploy.ts).
 * Progress goes to stderr (with --ci: one JSON object per line on stdout), results to stdout. Every refusal has its
 * own exit code (exitCodes.ts, the README's table, the usage text).
 */

import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDriverError } from '../../model/providerApi';
import { isStateError } from '../../model/state';
import {
  CI_IDENTITY, currentDeploy, deployWorkflow, INSTALL_HINT, isDeployError, kubeconfigSecretName, MIN_ENCORE_VERSION, workflowPath,
  type DeployEvent, type DeployOptions, type WorkflowCloud, type DeployOutcome, type DeployRecord, type DeployTrigger, type EnvironmentSession,
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

function gitTop(folder: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: folder, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();
  } catch {
    throw new CliError(EXIT.preflight, `${folder} is not in a git repository: a deploy workflow lives in the repository's .github/workflows`);
  }
}

async function setupCi(session: EnvironmentSession, io: CliIO, options: { force: boolean; encoreVersion?: string; env: NodeJS.ProcessEnv }): Promise<ExitCode> {
  const env = session.env;
  if (env.deploy.trigger !== 'push') {
    throw new CliError(EXIT.usage, `environment "${env.name}" deploys manually: give it a push trigger (deploy: {"trigger": "push", "branch": "main"}) in encore.environments.json, then run setup-ci`);
  }
  const top = gitTop(session.appRoot);
  const appPath = path.relative(top, session.appRoot).split(path.sep).join('/') || '.';
  let cloud: WorkflowCloud;
  let next: string;
  if (env.provider.kind === 'aws') {
    // The role's ARN is the apply's output: the workflow names the role the plan made, never a guess.
    const { roleArn, region } = await session.ciRole();
    const repository = session.githubRepository().repository;
    cloud = { kind: 'aws', roleArn, region };
    next =
      `The workflow assumes the role ${roleArn} by OIDC (aws-actions/configure-aws-credentials): its trust allows only ${repository ?? 'the repository'} on ${env.deploy.branch} or in the GitHub environment "${env.name}", and it may only push to the app's ECR repository, describe its cluster (namespace ${env.name} only) and use its state. No secret is stored.\n` +
      `Limit the GitHub environment "${env.name}" to the branch ${env.deploy.branch} (Settings → Environments → Deployment branches), since a job in it may assume the role.\n` +
      `The repository and branch are compared exactly, letter case too: if GitHub spells the repository otherwise than the git remote, fix the remote and apply again.\n`;
  } else if (env.provider.kind === 'gcp') {
    // The provider and the service account are the apply's outputs: the workflow names what the plan made.
    const { workloadIdentityProvider, serviceAccount } = await session.ciWorkloadIdentity();
    const repository = session.githubRepository().repository;
    cloud = { kind: 'gcp', workloadIdentityProvider, serviceAccount };
    next =
      `The workflow exchanges the job's OIDC token at ${workloadIdentityProvider} (google-github-actions/auth) and acts as ${serviceAccount}: the provider admits only ${repository ?? 'the repository'}'s pushes to ${env.deploy.branch}, and the account may only push to the app's Artifact Registry repository, read its cluster (namespace ${env.name} only) and use its state objects. No secret is stored.\n` +
      `The repository and branch are compared exactly, letter case too: if GitHub spells the repository otherwise than the git remote, fix the remote and apply again.\n`;
  } else {
    cloud = { kind: 'kubernetes', kubeconfigSecret: kubeconfigSecretName(env.name) };
    next =
      `The workflow acts as the ServiceAccount ${CI_IDENTITY.name}, whose Role is limited to namespace ${env.provider.namespace ?? env.name}; the environment's plan creates it (apply first).\n` +
      `Store its kubeconfig as the environment secret ${kubeconfigSecretName(env.name)}, straight from this command to GitHub (it is never written to a file):\n` +
      `  encore-env setup-ci --env ${env.name} --print-kubeconfig | gh secret set ${kubeconfigSecretName(env.name)} --env ${env.name}\n`;
  }
  const text = deployWorkflow({ environment: env.name, branch: env.deploy.branch, appPath, encoreVersion: options.encoreVersion ?? MIN_ENCORE_VERSION, cloud });
  const file = path.join(top, workflowPath(env.name));
  if (existsSync(file) && !options.force && readFileSync(file, 'utf8') !== text) {
    throw new CliError(EXIT.confirmation, `${path.relative(process.cwd(), file)} exists and differs from the workflow this version writes: review it, then run setup-ci again with --force to replace it`);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
  // Atomic: a reader never sees half a workflow.
  renameSync(`${file}.tmp`, file);
  io.out(`Wrote ${path.relative(process.cwd(), file) || file}: on push to ${env.deploy.branch} (and on manual dispatch) it runs encore-env deploy --env ${env.name} --ci in the GitHub environment "${env.name}".\n${next}`);
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
    code = { 'apply-first': EXIT.applyFirst, preflight: EXIT.preflight, build: EXIT.failure, registry: EXIT.failure, rollout: EXIT.failure, 'not-found': EXIT.usage, unavailable: EXIT.unavailable, cancelled: EXIT.cancelled }[err.code];
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
