/**
 * Deploy on push, set up (`encore-env setup-ci` and VS Code's "Set Up Deploy on Push…"): what the workflow file of an
 * environment whose trigger is a branch push holds, where it goes in the app's git repository, how the job gets its
 * credentials (AWS: the deploy role the apply made, by OIDC; GCP: the Workload Identity provider and deploy service
 * account the apply made, by OIDC; Kubernetes: the CI ServiceAccount's kubeconfig as a GitHub
 * environment secret) and what the user does on GitHub. Writing is separate (`workflowFileStatus`, then
 * `writeWorkflowFile`), so each front end asks before replacing a file that differs in its own way.
 */

import { execFileSync } from 'node:child_process';
import { mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory, writeTarget, writeTemp } from '../files/atomicWrite';
import { readRegular } from '../files/regularFile';
import { CI_IDENTITY } from '../provisioning/planner/ciIdentity';
import { MIN_ENCORE_VERSION } from '../provisioning/deploy/encoreCli';
import { safeGitEnv } from '../provisioning/deploy/revision';
import { deployWorkflow, kubeconfigSecretName, workflowPath, type WorkflowCloud } from '../provisioning/deploy/workflow';
import { DeployError } from './deploy';
import type { EnvironmentSession } from './session';

export interface CiSetup {
  environment: string;
  branch: string;
  /** The git repository's top folder, and the workflow file in it (absolute, and relative to the top with /). */
  top: string;
  file: string;
  relative: string;
  /** The app folder relative to the top (`.` for the top). */
  appPath: string;
  /** The workflow file's text. */
  text: string;
  cloud: WorkflowCloud;
  /** How the job gets its credentials, one sentence. */
  credentials: string;
  /** What to do on GitHub, one step a line. */
  github: string[];
  /** Kubernetes: the environment secret the kubeconfig goes in, and the command that puts it there from stdout. */
  kubeconfig?: { secret: string; command: string };
  /** The GitHub repository (`owner/name`) from the git remote, when there is one. */
  repository: string | null;
}

export interface CiSetupOptions {
  encoreVersion?: string;
  signal?: AbortSignal;
  /**
   * Kubernetes: read the environment's state and refuse with "apply first" while the CI identity is not applied
   * (the CLI writes the workflow without reaching the cluster; its --print-kubeconfig checks the identity). AWS
   * always reads the state, for the role's ARN.
   */
  requireApplied?: boolean;
}

/** The repository's top folder, or a preflight error: the workflow lives in its .github/workflows. */
export function gitTop(folder: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, env: safeGitEnv(env) }).trim();
  } catch (err) {
    throw new DeployError('preflight', `${folder} is not in a git repository: a deploy workflow lives in the repository's .github/workflows`, undefined, { cause: err });
  }
}

/** The pipe that hands the CI identity's kubeconfig to GitHub without writing it to disk (run at the repository's top when `appDir` is given). */
export function kubeconfigCommand(environment: string, appDir?: string): string {
  const dir = appDir && appDir !== '.' ? ` ${/^[\w./-]+$/.test(appDir) ? appDir : `'${appDir.replace(/'/g, `'\\''`)}'`}` : '';
  return `encore-env setup-ci --env ${environment} --print-kubeconfig${dir} | gh secret set ${kubeconfigSecretName(environment)} --env ${environment}`;
}

function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new DeployError('cancelled', 'cancelled; nothing was written'));
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/**
 * What setting up deploy on push writes and says, for the session's environment. Refuses an environment that deploys
 * manually, an app outside a git repository, and (AWS and GCP always, Kubernetes with `requireApplied`) an environment
 * whose CI identity is not applied yet.
 */
export async function prepareCiSetup(session: EnvironmentSession, options: CiSetupOptions = {}): Promise<CiSetup> {
  const env = session.env;
  if (env.deploy.trigger !== 'push') {
    throw new DeployError('manual', `environment "${env.name}" deploys manually: give it a push trigger (deploy: {"trigger": "push", "branch": "main"}) in encore.environments.json, then run setup-ci`);
  }
  const branch = env.deploy.branch;
  const top = gitTop(session.appRoot);
  const appPath = path.relative(top, session.appRoot).split(path.sep).join('/') || '.';
  const repo = session.githubRepository();
  const repository = repo.repository;
  const limit = (why: string) => `Limit the GitHub environment "${env.name}" to the branch ${branch} (Settings → Environments → ${env.name} → Deployment branches and tags), ${why}.`;
  let cloud: WorkflowCloud;
  let credentials: string;
  let github: string[];
  let kubeconfig: CiSetup['kubeconfig'];
  if (env.provider.kind === 'aws') {
    // The role's ARN is the apply's output: the workflow names the role the plan made, never a guess.
    const { roleArn, region } = await abortable(session.ciRole(), options.signal);
    cloud = { kind: 'aws', roleArn, region };
    credentials = `The workflow assumes the role ${roleArn} by OIDC (aws-actions/configure-aws-credentials): its trust allows only ${repository ?? 'the repository'} on ${branch} or in the GitHub environment "${env.name}", and it may only push to the app's ECR repository, describe its cluster (namespace ${env.name} only) and use its state. No secret is stored.`;
    github = [
      limit('since a job in it may assume the role'),
      'The repository and branch are compared exactly, letter case too: if GitHub spells the repository otherwise than the git remote, fix the remote and apply again.',
    ];
  } else if (env.provider.kind === 'gcp') {
    // The provider and the service account are the apply's outputs: the workflow names what the plan made.
    const { workloadIdentityProvider, serviceAccount } = await abortable(session.ciWorkloadIdentity(), options.signal);
    cloud = { kind: 'gcp', workloadIdentityProvider, serviceAccount };
    credentials = `The workflow exchanges the job's OIDC token at ${workloadIdentityProvider} (google-github-actions/auth) and acts as ${serviceAccount}: the provider admits only ${repository ?? 'the repository'}'s pushes to ${branch}, and the account may only push to the app's Artifact Registry repository, read its cluster (namespace ${env.name} only) and use its state objects. No secret is stored.`;
    github = ['The repository and branch are compared exactly, letter case too: if GitHub spells the repository otherwise than the git remote, fix the remote and apply again.'];
  } else {
    const namespace = env.provider.namespace ?? env.name;
    if (options.requireApplied) await abortable(requireKubernetesIdentity(session, namespace), options.signal);
    const secret = kubeconfigSecretName(env.name);
    cloud = { kind: 'kubernetes', kubeconfigSecret: secret };
    credentials = `The workflow acts as the ServiceAccount ${CI_IDENTITY.name}, whose Role is limited to namespace ${namespace}; the environment's plan creates it${options.requireApplied ? ' (applied)' : ' (apply first)'}.`;
    kubeconfig = { secret, command: kubeconfigCommand(env.name, appPath) };
    github = [
      `Store its kubeconfig as the environment secret ${secret}, straight from encore-env to GitHub (it is never written to a file): ${kubeconfig.command}`,
      limit(`since a job in it can read that secret`),
    ];
  }
  const text = await deployWorkflow({ environment: env.name, branch, appPath, encoreVersion: options.encoreVersion ?? MIN_ENCORE_VERSION, cloud });
  const relative = workflowPath(env.name);
  return { environment: env.name, branch, top, file: path.join(top, relative), relative, appPath, text, cloud, credentials, github, kubeconfig, repository };
}

/** The CI identity's ServiceAccount, Role and RoleBinding, recorded ready in the environment's state (from the cluster). */
async function requireKubernetesIdentity(session: EnvironmentSession, namespace: string): Promise<void> {
  const { state } = await (await session.state()).load();
  const ids = [CI_IDENTITY.serviceAccountId, CI_IDENTITY.roleId, CI_IDENTITY.bindingId];
  const missing = ids.filter((id) => state?.resources[id]?.status !== 'ready');
  if (missing.length === 0) return;
  const name = session.env.name;
  if (!(await session.graph()).resources.some((r) => r.id === CI_IDENTITY.serviceAccountId)) {
    throw new DeployError('preflight', `the app has no services, so environment "${name}" has nothing to deploy and its plan has no CI identity`);
  }
  throw new DeployError('apply-first', `environment "${name}" has no CI identity yet (ServiceAccount ${CI_IDENTITY.name} in namespace ${namespace}): apply first (encore-env apply --env ${name}; its plan creates the identity for the push trigger), then set up deploy on push`);
}

export type WorkflowFileStatus =
  | { kind: 'absent' }
  | { kind: 'same' }
  | { kind: 'different'; current: string }
  /** Something is there that cannot be read (a directory, a pipe, no permission): it is never written over. */
  | { kind: 'unreadable'; problem: string };

/** How the file on disk compares with the workflow to write. */
export async function workflowFileStatus(file: string, text: string): Promise<WorkflowFileStatus> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readRegular(file);
  } catch (err) {
    return { kind: 'unreadable', problem: `${file} cannot be read (${(err as Error).message}), so it is not replaced` };
  }
  if (bytes === undefined) return { kind: 'absent' };
  const current = bytes.toString('utf8');
  return current === text ? { kind: 'same' } : { kind: 'different', current };
}

/**
 * The first line (0-based) of `modified` where it and `original` part, clamped to `modified`'s last line: where a
 * diff of the two is revealed (the end of the shorter text when one only adds lines).
 */
export function firstDifferentLine(original: string, modified: string): number {
  const a = original.split(/\r?\n/);
  const b = modified.split(/\r?\n/);
  let line = 0;
  while (line < a.length && line < b.length && a[line] === b[line]) line++;
  return Math.min(line, b.length - 1);
}

/** Writes the workflow atomically (a reader never sees half a file), through a symbolic link, creating .github/workflows. */
export async function writeWorkflowFile(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const target = await writeTarget(file);
  const temp = await writeTemp(target, text);
  try {
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(path.dirname(target));
}
