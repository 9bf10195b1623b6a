// Deploy and Roll Back in VS Code, over the session's deploy (src/session/deploy.ts), as the CLI's deploy and
// rollback. Deploy says the revision and whether the tree has uncommitted changes before anything starts, then runs
// in a cancellable progress notification with every step and build line in the log. Roll Back lists the
// environment's deploy history (the current one marked) and rolls out the chosen earlier deploy's image. Promote
// to… on the deploy an environment runs rolls its image out to another environment of the app, with no build.
import os from 'node:os';
import * as vscode from 'vscode';
import type { Environment } from '../../model/environment';
import type { AppModels } from '../appModels';
import { promoteTargets, type TreeNode } from '../tree/treeData';
import type { WorkspaceApps } from '../workspaceApps';
import { currentDeploy, gitRevision, isDeployError, recordedState, rollbackCandidates, type DeployEvent, type DeployOutcome, type DeployRecord, type EnvironmentSession } from '../../session';
import { log } from '../log';
import { abortOn } from './abortOn';
import type { ProvisionServices } from './provisionCommands';
import { chooseTarget, openSession, type Target } from './target';

export function registerDeploy(s: ProvisionServices, register: (id: string, run: (...args: unknown[]) => unknown) => void, trusted: (title: string) => Promise<boolean>): void {
  const deployCmd = async (node: unknown) => {
    if (!(await trusted('Deploy'))) return;
    const t = await chooseTarget(s.apps, node, 'Deploy');
    if (t) await runDeploy(s, t);
  };
  const rollbackCmd = async (node: unknown) => {
    if (!(await trusted('Roll Back'))) return;
    const t = await chooseTarget(s.apps, node, 'Roll Back');
    if (t) await runRollback(s, t);
  };
  register('encore.deploy', deployCmd);
  register('encore.environment.deploy', deployCmd);
  register('encore.rollback', rollbackCmd);
  register('encore.environment.rollback', rollbackCmd);
  register('encore.deploy.rollbackTo', async (node: unknown) => {
    if (!(await trusted('Roll Back'))) return;
    const n = node as TreeNode | undefined;
    if (n?.kind !== 'deploy') throw new Error('Roll Back to This Deploy works on a deploy in the Deployments of an environment');
    const go = 'Roll Back';
    const r = n.record;
    const answer = await vscode.window.showWarningMessage(
      `Roll "${n.env.name}" back to ${r.id} (${r.revision.commit.slice(0, 12)}${r.revision.dirty ? ', dirty' : ''}, deployed ${r.at} by ${r.by})?`,
      { modal: true, detail: 'Its image is rolled out again with no build; the history gets a new entry naming what it restores.' },
      go,
    );
    if (answer === go) await runWithProgress(s, { root: n.root, env: n.env }, `rolling "${n.env.name}" back to ${r.id}`, (session, options) => session.rollback(r.id, options));
  });
  register('encore.deploy.promoteTo', async (node: unknown) => {
    if (!(await trusted('Promote'))) return;
    const n = node as TreeNode | undefined;
    if (n?.kind !== 'deploy' || !n.current) throw new Error('Promote to… works on the deploy an environment runs now (● in its Deployments)');
    await runPromote(s, { root: n.root, env: n.env }, n.record);
  });
}

async function runPromote(s: ProvisionServices, from: Target, record: DeployRecord): Promise<void> {
  const app = (await s.apps.list()).find((a) => a.found.root === from.root);
  const envs = app?.environments.ok ? promoteTargets(app.environments.environments, from.env.name) : [];
  if (envs.length === 0) {
    void vscode.window.showInformationMessage(`Encore: the app has no other environment to promote "${from.env.name}"'s deploy to.`);
    return;
  }
  const picked = await vscode.window.showQuickPick(
    envs.map((e) => ({ label: e.name, description: `${e.type} · ${e.provider.kind}`, env: e })),
    { title: `Promote ${record.id} (${record.revision.commit.slice(0, 12)}${record.revision.dirty ? ', dirty' : ''}) from "${from.env.name}" to…`, placeHolder: 'Choose the environment to roll its image out to' },
  );
  if (!picked) return;
  const go = 'Promote';
  const answer = await vscode.window.showWarningMessage(
    `Roll out ${record.image.digest.slice(0, 19)}… (${record.revision.commit.slice(0, 12)}), which "${from.env.name}" runs, to "${picked.env.name}"?`,
    { modal: true, detail: 'The same image is rolled out with no build; the history of the target gets a new entry naming where it came from.' },
    go,
  );
  if (answer !== go) return;
  const to: Target = { root: from.root, env: picked.env };
  await runWithProgress(s, to, `promoting ${record.id} from "${from.env.name}" to "${picked.env.name}"`, async (session, options) => {
    const source = await openSession(s.apps, s.models, from);
    try {
      return await session.promote(source, options);
    } finally {
      await source.dispose();
    }
  });
}

/** The Deployments node's entries: the environment's history, read from its cluster (trusted workspaces only). */
export async function loadDeploys(apps: WorkspaceApps, models: AppModels, root: string, env: Environment): Promise<DeployRecord[]> {
  if (!vscode.workspace.isTrusted) throw new Error('the deploy history is read with your cluster credentials: trust this workspace to see it');
  const session = await openSession(apps, models, { root, env });
  try {
    return (await session.deploys()).records;
  } finally {
    await session.dispose();
  }
}

async function withSession<T>(s: ProvisionServices, t: Target, run: (session: EnvironmentSession) => Promise<T>): Promise<T> {
  const session = await openSession(s.apps, s.models, t, { note: (text) => log().info(`"${t.env.name}": ${text}`) });
  try {
    return await run(session);
  } finally {
    await session.dispose();
  }
}

function logEvent(t: Target, e: DeployEvent): void {
  if (e.build) log().info(`deploy "${t.env.name}" | ${e.message}`);
  else log().info(`deploy "${t.env.name}" [${e.step}] ${e.message}`);
}

async function runDeploy(s: ProvisionServices, t: Target): Promise<void> {
  // The revision first: what would be built is said before anything starts.
  let revision;
  try {
    revision = await gitRevision(t.root);
  } catch (err) {
    void vscode.window.showErrorMessage(`Encore: cannot deploy "${t.env.name}": ${(err as Error).message}`);
    return;
  }
  const dirty = revision.dirty ? ` with ${revision.changes.length}${revision.changes.length >= 20 ? '+' : ''} uncommitted change(s)` : '';
  const go = 'Deploy';
  const answer = await vscode.window.showInformationMessage(
    `Deploy ${revision.shortCommit}${revision.branch ? ` (${revision.branch})` : ''}${dirty} to "${t.env.name}"?`,
    { modal: true, detail: revision.dirty ? `The image will include these uncommitted changes:\n${revision.changes.join('\n')}` : 'The working tree matches the commit.' },
    go,
  );
  if (answer !== go) return;
  await runWithProgress(s, t, `deploying ${revision.shortCommit} to "${t.env.name}"`, (session, options) => session.deploy({ ...options, encorePath: configuredEncore() }));
}

/** The encore.deploy.encorePath setting (machine scope, so a workspace cannot set it), `~/` expanded; undefined when empty. */
function configuredEncore(): string | undefined {
  const configured = vscode.workspace.getConfiguration('encore').get<string>('deploy.encorePath', '').trim();
  return configured ? configured.replace(/^~(?=$|[\\/])/, os.homedir()) : undefined;
}

async function runRollback(s: ProvisionServices, t: Target): Promise<void> {
  const history = await withSession(s, t, (session) => session.deploys());
  const current = currentDeploy(history.records);
  const candidates = rollbackCandidates(history.records);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`Encore: "${t.env.name}" has no earlier successful deploy to roll back to.`);
    return;
  }
  const describe = (r: DeployRecord) => `${r.revision.commit.slice(0, 12)}${r.revision.dirty ? ' (dirty)' : ''} · ${r.trigger} · ${r.by}`;
  const picked = await vscode.window.showQuickPick(
    candidates.map((r) => ({ label: r.id, description: describe(r), detail: r.at, record: r })),
    { title: `Roll back "${t.env.name}"${current ? ` (runs ${current.id}: ${describe(current)})` : ''}`, placeHolder: 'Choose the deploy to roll back to' },
  );
  if (!picked) return;
  await runWithProgress(s, t, `rolling "${t.env.name}" back to ${picked.record.id}`, (session, options) => session.rollback(picked.record.id, options));
}

async function runWithProgress(
  s: ProvisionServices,
  t: Target,
  title: string,
  run: (session: EnvironmentSession, options: { signal: AbortSignal; onEvent: (e: DeployEvent) => void }) => Promise<DeployOutcome>,
): Promise<void> {
  try {
    const outcome = await withSession<DeployOutcome>(s, t, async (session) =>
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Encore: ${title}`, cancellable: true }, (progress, token) =>
        run(session, {
          signal: abortOn(token),
          onEvent: (e) => {
            logEvent(t, e);
            if (!e.build) progress.report({ message: e.message.slice(0, 120) });
          },
        }),
      ),
    );
    for (const note of outcome.notes) log().warn(`deploy "${t.env.name}": ${note}`);
    // The revision the services run, for the CodeLens, from the local copy of state the deploy just wrote.
    await recordedState(t.root, t.env).then((loaded) => s.onState(t, loaded.state)).catch((err: Error) => log().warn(`recorded state of "${t.env.name}" not read: ${err.message}`));
    // The Deployments node reads the history again.
    void vscode.commands.executeCommand('encore.refresh');
    void vscode.window.showInformationMessage(`Encore: deploy ${outcome.record.id} to "${t.env.name}" succeeded (${outcome.record.image.digest.slice(0, 19)}…).`);
  } catch (err) {
    const message = (err as Error).message;
    log().error(`deploy "${t.env.name}": ${message}`);
    // A failed or cancelled deploy may have been recorded too.
    void vscode.commands.executeCommand('encore.refresh');
    const cancelled = isDeployError(err) && err.code === 'cancelled';
    const show = cancelled ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
    const choice = await show(`Encore: ${cancelled ? 'cancelled' : 'failed'}: ${message.split('\n').slice(0, 3).join(' ')}`, 'Show Logs');
    if (choice === 'Show Logs') log().show();
  }
}
