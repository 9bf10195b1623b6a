// Plan, Apply and Destroy in VS Code on the provisioning engine, wired like the CLI. Plan opens a read-only diff
// document (scheme encore-plan) with an Apply button in its title bar; Apply and Destroy run in a cancellable
// progress notification, log every progress event (they carry no secret) and end with a notification that offers
// the log. Every failure names its cause; a lock held by someone else names the holder, host and start time (the
// state backend's message already does).
import * as vscode from 'vscode';
import { hasChanges, parseConfirmation, WITHOUT_SNAPSHOT, type Plan, type ProgressEvent } from '../../model/plan';
import { describeIdentity, isDriverError } from '../../model/providerApi';
import type { EnvState } from '../../model/state';
import { recordedState, type EnvironmentSession, type RunHooks, type RunOutcome } from '../../session';
import type { AppModels } from '../appModels';
import { log } from '../log';
import type { GraphFn } from '../tree/treeData';
import type { WorkspaceApps } from '../workspaceApps';
import { abortOn } from './abortOn';
import { askSizingInVsCode } from './newSizing';
import { planText } from './planText';
import { runSetSecretValue } from './secretValue';
import { registerDeploy } from './deployCommands';
import { registerRotation } from './rotationCommands';
import { registerSetupCi } from './setupCiCommands';
import { chooseTarget, openSession, type Target } from './target';

export const PLAN_SCHEME = 'encore-plan';

export interface ProvisionServices {
  apps: WorkspaceApps;
  models: AppModels;
  graphFor: GraphFn;
  /** Recorded state after a plan or a state commit, and the plan's drift, for the tree's statuses. */
  onState(t: Target, state: EnvState | null, plan?: Plan): void;
}

interface Reviewed {
  target: Target;
  plan: Plan;
}

/** Each plan document's content and the plan behind it, so its Apply button applies exactly what was reviewed. */
export class PlanDocuments implements vscode.TextDocumentContentProvider {
  private readonly docs = new Map<string, { text: string; reviewed: Reviewed }>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString())?.text ?? '# This plan is no longer available: run Plan again.\n';
  }

  set(reviewed: Reviewed, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: PLAN_SCHEME, path: `/${reviewed.target.env.name}.plan.diff`, query: reviewed.target.root });
    this.docs.set(uri.toString(), { text, reviewed });
    this.changed.fire(uri);
    return uri;
  }

  reviewed(uri: vscode.Uri): Reviewed | undefined {
    return this.docs.get(uri.toString())?.reviewed;
  }
}

export function registerProvisioning(context: vscode.ExtensionContext, s: ProvisionServices, register: (id: string, run: (...args: unknown[]) => unknown) => void): void {
  const docs = new PlanDocuments();
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, docs));
  const trusted = async (title: string) => {
    if (vscode.workspace.isTrusted) return true;
    await vscode.window.showWarningMessage(`Encore: ${title} is disabled in Restricted Mode. Trust this workspace to use it.`);
    return false;
  };
  const plan = async (node: unknown) => {
    if (!(await trusted('Plan'))) return;
    const t = await chooseTarget(s.apps, node, 'Plan');
    if (t) await withSession(s, t, async (session) => (await sized(s, session)) && planAndShow(s, docs, t, session));
  };
  const applyCmd = async (node: unknown) => {
    if (!(await trusted('Apply'))) return;
    // From the plan document's title bar: the reviewed plan; from the tree or the palette: the environment.
    const reviewed = node instanceof vscode.Uri ? docs.reviewed(node) : undefined;
    if (node instanceof vscode.Uri && !reviewed) throw new Error('this plan is no longer available: run Plan again');
    const t = reviewed?.target ?? (await chooseTarget(s.apps, node, 'Apply'));
    // A reviewed plan was sized when it was made; a fresh one is sized now.
    if (t) await withSession(s, t, async (session) => (reviewed || (await sized(s, session))) && runApply(s, t, session, reviewed?.plan));
  };
  const destroyCmd = async (node: unknown) => {
    if (!(await trusted('Destroy'))) return;
    const t = await chooseTarget(s.apps, node, 'Destroy');
    if (t) await withSession(s, t, (session) => runDestroy(s, t, session));
  };
  register('encore.plan', plan);
  register('encore.environment.plan', plan);
  register('encore.apply', applyCmd);
  register('encore.environment.apply', applyCmd);
  register('encore.applyPlan', applyCmd);
  const secretCmd = async (node: unknown) => {
    if (!(await trusted('Set Secret Value'))) return;
    await runSetSecretValue(s, node);
  };
  register('encore.destroy', destroyCmd);
  register('encore.environment.destroy', destroyCmd);
  register('encore.setSecretValue', secretCmd);
  register('encore.resource.setSecretValue', secretCmd);
  registerDeploy(s, register, trusted);
  registerRotation(s, register, trusted);
  registerSetupCi(context, s, register, trusted);
}

/** Opens a session on the target for one command, and closes it after. */
async function withSession(s: ProvisionServices, t: Target, run: (session: EnvironmentSession) => Promise<unknown>): Promise<void> {
  const session = await openSession(s.apps, s.models, t, { askSizing: askSizingInVsCode, note: (text) => log().info(`"${t.env.name}": ${text}`) });
  try {
    await run(session);
  } finally {
    await session.dispose();
  }
}

/** Asks the sizing of resources new in a Production environment; false when the user cancelled. */
async function sized(s: ProvisionServices, session: EnvironmentSession): Promise<boolean> {
  const before = session.env;
  if (!(await session.size())) return false;
  // The answers are in the app's store: the tree and the form take them at once.
  if (session.env !== before) await s.apps.storesChanged();
  return true;
}

/** Who acts, for the top of a plan; a provider that cannot say is logged, never fatal. */
async function identityOf(t: Target, session: EnvironmentSession, signal: AbortSignal): Promise<string | undefined> {
  try {
    return describeIdentity(await session.identity(signal));
  } catch (err) {
    log().warn(`plan "${t.env.name}": could not tell who acts: ${(err as Error).message}`);
    return undefined;
  }
}

async function planAndShow(s: ProvisionServices, docs: PlanDocuments, t: Target, session: EnvironmentSession): Promise<void> {
  // The app's errors are said before any progress appears.
  await session.graph();
  const made = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Encore: planning "${t.env.name}"`, cancellable: true },
    async (_p, token) => {
      const signal = abortOn(token);
      // A provider that is not available at all fails here, with its own message.
      const opened = await session.provider();
      try {
        await opened.driver.preflight(signal);
      } catch (err) {
        if (!isDriverError(err) || err.code !== 'unavailable') throw err;
        // The cluster cannot be reached: say so, and offer what `encore-env plan --offline` does.
        log().warn(`plan "${t.env.name}": ${err.message}`);
        return { offlineBecause: err.message } as const;
      }
      const who = await identityOf(t, session, signal);
      return { ...(await session.plan({ signal })), who };
    },
  );
  let result: { plan: Plan; where: string; state: EnvState | null; who?: string };
  if ('offlineBecause' in made) {
    const offline = 'Plan Offline';
    const choice = await vscode.window.showWarningMessage(`Encore: cannot reach the cluster of "${t.env.name}": ${made.offlineBecause}`, offline, 'Show Logs');
    if (choice === 'Show Logs') log().show();
    if (choice !== offline) return;
    result = await session.plan({ offline: true });
  } else {
    result = made;
  }
  const { plan } = result;
  s.onState(t, result.state, plan);
  const { create, update, delete: del } = plan.counts;
  log().info(`plan "${t.env.name}" (${result.where}): ${create} to create, ${update} to update, ${del} to delete, ${plan.counts.keep} unchanged`);
  const uri = docs.set({ target: t, plan }, planText(plan, result.where, result.who));
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, 'diff');
  await vscode.window.showTextDocument(doc, { preview: false });
  if (!hasChanges(plan) || plan.offline) {
    void vscode.window.showInformationMessage(`Encore: plan for "${t.env.name}": ${hasChanges(plan) ? `${create} to create, ${update} to update, ${del} to delete (offline: run Plan again with the cluster reachable to apply)` : 'no changes'}.`);
    return;
  }
  const choice = await vscode.window.showInformationMessage(`Encore: plan for "${t.env.name}": ${create} to create, ${update} to update, ${del} to delete.`, 'Apply');
  if (choice === 'Apply') await vscode.commands.executeCommand('encore.applyPlan', uri);
}

async function runApply(s: ProvisionServices, t: Target, session: EnvironmentSession, reviewed: Plan | undefined): Promise<void> {
  await session.graph();
  // Data that would be lost needs the typed name before anything runs, as in the CLI's --confirm.
  let confirm: string | undefined;
  if (reviewed && reviewed.statefulDeletes.length > 0) {
    confirm = await typedName(t, `Apply deletes ${reviewed.statefulDeletes.length} resource(s) that hold data (${reviewed.statefulDeletes.join(', ')}).`, reviewed.finalSnapshots ?? []);
    if (confirm === undefined) return;
  }
  // Taking over someone else's objects needs its own yes, as the CLI's --adopt; only the ones the plan showed.
  let adopt: readonly string[] | undefined;
  if (reviewed && reviewed.foreignAdoptions.length > 0) {
    const go = 'Adopt';
    const answer = await vscode.window.showWarningMessage(
      `Apply to "${t.env.name}" takes over ${reviewed.foreignAdoptions.length} object(s) that exist but were not made by this tool: ${reviewed.foreignAdoptions.join(', ')}.`,
      { modal: true, detail: 'Their settings are changed to the app\'s. Destroy leaves them in place.' },
      go,
    );
    if (answer !== go) return;
    adopt = reviewed.foreignAdoptions;
  }
  await runOperation(s, t, session, 'apply', (hooks) =>
    session.apply({
      ...hooks,
      confirm,
      reviewed,
      adopt,
      // Without a reviewed plan (tree or palette), the fresh plan made under the lock is shown and approved first.
      approve: reviewed ? undefined : async (plan) => {
        const who = await identityOf(t, session, new AbortController().signal);
        const { create, update, delete: del } = plan.counts;
        const foreign = plan.foreignAdoptions.length;
        const go = foreign > 0 ? 'Adopt and Apply' : 'Apply';
        const adoption = foreign > 0 ? ` It takes over ${foreign} object(s) that exist but were not made by this tool.` : '';
        const answer = await vscode.window.showWarningMessage(`Apply to "${t.env.name}": ${create} to create, ${update} to update, ${del} to delete?${adoption}`, { modal: true, detail: planText(plan, 'fresh plan', who) }, go);
        return answer === go ? (foreign > 0 ? 'adopt' : true) : false;
      },
    }),
  );
}

async function runDestroy(s: ProvisionServices, t: Target, session: EnvironmentSession): Promise<void> {
  // The databases that keep a final snapshot, from the recorded state on this machine (the engine checks again).
  const recorded = await recordedState(t.root, t.env).catch(() => null);
  const snapshots = Object.values(recorded?.state?.resources ?? {}).filter((r) => r.resource.settings.finalSnapshot === true && r.origin !== 'adopted').map((r) => r.resource.id);
  const confirm = await typedName(t, 'Destroy deletes everything recorded for this environment, data included.', snapshots);
  if (confirm === undefined) return;
  await runOperation(s, t, session, 'destroy', (hooks) => session.destroy({ ...hooks, confirm }));
}

/**
 * The typed confirmation of a data loss. With databases that keep a final snapshot (`snapshots`), the user may
 * decline it by typing "<name> without snapshot".
 */
async function typedName(t: Target, what: string, snapshots: readonly string[] = []): Promise<string | undefined> {
  const name = t.env.name;
  const declinable = snapshots.length > 0;
  const snapshotNote = declinable ? ` A final snapshot of ${snapshots.join(', ')} is kept; type "${name} ${WITHOUT_SNAPSHOT}" to delete without one.` : '';
  const ok = (v: string) => (declinable ? parseConfirmation(v, name).confirmed : v === name);
  const typed = await vscode.window.showInputBox({
    title: `Confirm with the environment's name`,
    prompt: `${what} Type "${name}" to go ahead.${snapshotNote}`,
    placeHolder: name,
    ignoreFocusOut: true,
    validateInput: (v) => (ok(v) ? undefined : declinable ? `Type ${name} (or ${name} ${WITHOUT_SNAPSHOT}) to confirm` : `Type ${name} to confirm`),
  });
  return typed !== undefined && ok(typed) ? typed : undefined;
}

/** The progress notification, the log, the tree's statuses and the final notification around one engine run. */
async function runOperation(s: ProvisionServices, t: Target, session: EnvironmentSession, kind: 'apply' | 'destroy', run: (hooks: RunHooks) => Promise<RunOutcome>): Promise<void> {
  const title = kind === 'apply' ? 'Apply' : 'Destroy';
  let outcome: RunOutcome | undefined;
  let failure: unknown;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Encore: ${title} "${t.env.name}"`, cancellable: true },
    async (progress, token) => {
      const signal = abortOn(token);
      try {
        const opened = await session.provider();
        log().info(`${kind} "${t.env.name}" on ${opened.driver.target}`);
        let last = 0;
        outcome = await run({
          signal,
          onProgress: (e) => {
            log().info(`${kind} "${t.env.name}" ${eventLine(e)}`);
            // The bar advances by finished steps; the message is the latest event.
            const finished = e.phase === 'done' || e.phase === 'failed' || e.phase === 'skipped';
            const increment = finished && e.total > 0 ? 100 / e.total : 0;
            last += increment;
            progress.report({ message: eventLine(e), increment: last <= 100 ? increment : 0 });
          },
          onState: (state) => s.onState(t, state),
        });
      } catch (err) {
        failure = err;
      }
    },
  );
  await finish(t, title, outcome, failure);
}

async function finish(t: Target, title: string, outcome: RunOutcome | undefined, failure: unknown): Promise<void> {
  const say = async (level: 'info' | 'warn' | 'error', text: string) => {
    log()[level](text);
    const show = level === 'error' ? vscode.window.showErrorMessage : level === 'warn' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    if ((await show(`Encore: ${text}`, 'Show Logs')) === 'Show Logs') log().show();
  };
  if (!outcome) {
    const err = failure as Error | undefined;
    const cause = err?.cause instanceof Error ? ` (cause: ${err.cause.message})` : '';
    await say('error', `${title} of "${t.env.name}" did not run: ${err?.message ?? String(failure)}${cause}`);
    return;
  }
  const { result, plan } = outcome;
  const seconds = (result.durationMs / 1000).toFixed(1);
  if (result.outcome === 'succeeded') {
    const what = result.done.length === 0 && !hasChanges(plan) ? 'nothing to change' : `${result.done.length} done`;
    await say('info', `${title} of "${t.env.name}" finished in ${seconds} s: ${what}.`);
  } else if (result.outcome === 'cancelled') {
    await say('warn', `${title} of "${t.env.name}" was cancelled after ${seconds} s (${result.done.length} done). Run it again to finish.`);
  } else {
    const first = result.failed[0];
    const why = first ? `${first.id}: ${first.error}` : (result.error ?? 'unknown error');
    const more = result.failed.length > 1 ? ` (and ${result.failed.length - 1} more)` : '';
    await say('error', `${title} of "${t.env.name}" failed after ${seconds} s: ${why}${more}${result.skipped.length ? `; ${result.skipped.length} not started` : ''}.`);
  }
}

function eventLine(e: ProgressEvent): string {
  const at = `[${e.step > 0 ? e.step : '-'}/${e.total}]`;
  const mark = e.phase === 'done' ? '✓ ' : e.phase === 'failed' ? '✗ ' : e.phase === 'skipped' ? '- ' : '';
  return e.phase === 'progress' ? `${at} ${e.resourceId}: ${e.message}` : `${at} ${mark}${e.message}`;
}
