// Plan, Apply and Destroy in VS Code on the provisioning engine, wired like the CLI. Plan opens a read-only diff
// document (scheme encore-plan) with an Apply button in its title bar; Apply and Destroy run in a cancellable
// progress notification, log every progress event (they carry no secret) and end with a notification that offers
// the log. Every failure names its cause; a lock held by someone else names the holder, host and start time (the
// state backend's message already does).
import * as vscode from 'vscode';
import { hasChanges, type Plan, type ProgressEvent } from '../../model/plan';
import { isDriverError, type ProviderDriver } from '../../model/providerApi';
import type { EnvState } from '../../model/state';
import { apply, destroy, planChanges, type RunOutcome } from '../../provisioning/engine';
import type { AppModels } from '../appModels';
import { log } from '../log';
import type { PlanFn } from '../tree/treeData';
import type { WorkspaceApps } from '../workspaceApps';
import { abortOn } from './abortOn';
import { answerNewSizing } from './newSizing';
import { planText } from './planText';
import { runSetSecretValue } from './secretValue';
import { chooseTarget, desiredGraph, makeBackend, makeDriver, type Target } from './target';

export const PLAN_SCHEME = 'encore-plan';

export interface ProvisionServices {
  apps: WorkspaceApps;
  models: AppModels;
  planFor: PlanFn;
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
    const chosen = await chooseTarget(s.apps, node, 'Plan');
    const t = chosen && (await sized(s, chosen));
    if (t) await planAndShow(s, docs, t);
  };
  const applyCmd = async (node: unknown) => {
    if (!(await trusted('Apply'))) return;
    // From the plan document's title bar: the reviewed plan; from the tree or the palette: the environment.
    const reviewed = node instanceof vscode.Uri ? docs.reviewed(node) : undefined;
    if (node instanceof vscode.Uri && !reviewed) throw new Error('this plan is no longer available: run Plan again');
    let t = reviewed?.target ?? (await chooseTarget(s.apps, node, 'Apply'));
    // A reviewed plan was sized when it was made; a fresh one is sized now.
    if (t && !reviewed) t = await sized(s, t);
    if (t) await runApply(s, t, reviewed?.plan);
  };
  const destroyCmd = async (node: unknown) => {
    if (!(await trusted('Destroy'))) return;
    const t = await chooseTarget(s.apps, node, 'Destroy');
    if (t) await runDestroy(s, t);
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
}

/** The target once the resources new in a Production environment are sized; undefined when the user cancelled. */
async function sized(s: ProvisionServices, t: Target): Promise<Target | undefined> {
  const state = s.models.state(t.root);
  // Without a model there is nothing to size yet: desiredGraph says why when the plan needs it.
  return state.kind === 'ready' ? answerNewSizing(s.apps, state.model, t) : t;
}

async function planAndShow(s: ProvisionServices, docs: PlanDocuments, t: Target): Promise<void> {
  const graph = desiredGraph(s.models, s.planFor, t);
  const made = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Encore: planning "${t.env.name}"`, cancellable: true },
    async (_p, token) => {
      const signal = abortOn(token);
      // A provider that is not available at all (AWS, GCP in this version) fails here, with its own message.
      const driver = await makeDriver(t);
      try {
        await driver.preflight(signal);
      } catch (err) {
        await driver.dispose?.().catch(() => undefined);
        if (!isDriverError(err) || err.code !== 'unavailable') throw err;
        // The cluster cannot be reached: say so, and offer what `encore-env plan --offline` does.
        log().warn(`plan "${t.env.name}": ${err.message}`);
        return { offlineBecause: err.message } as const;
      }
      try {
        const backend = await makeBackend(t, driver);
        const loaded = await backend.load();
        return { plan: await planChanges(graph, loaded, driver, { signal }), where: driver.target, state: loaded.state };
      } finally {
        await driver.dispose?.().catch(() => undefined);
      }
    },
  );
  let result: { plan: Plan; where: string; state: EnvState | null };
  if ('offlineBecause' in made) {
    const offline = 'Plan Offline';
    const choice = await vscode.window.showWarningMessage(`Encore: cannot reach the cluster of "${t.env.name}": ${made.offlineBecause}`, offline, 'Show Logs');
    if (choice === 'Show Logs') log().show();
    if (choice !== offline) return;
    const backend = await makeBackend(t, null);
    const loaded = await backend.load();
    result = { plan: await planChanges(graph, loaded, null), where: `offline, state from ${backend.location}`, state: loaded.state };
  } else {
    result = made;
  }
  const { plan } = result;
  s.onState(t, result.state, plan);
  const { create, update, delete: del } = plan.counts;
  log().info(`plan "${t.env.name}" (${result.where}): ${create} to create, ${update} to update, ${del} to delete, ${plan.counts.keep} unchanged`);
  const uri = docs.set({ target: t, plan }, planText(plan, result.where));
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

async function runApply(s: ProvisionServices, t: Target, reviewed: Plan | undefined): Promise<void> {
  const graph = desiredGraph(s.models, s.planFor, t);
  // Data that would be lost needs the typed name before anything runs, as in the CLI's --confirm.
  let confirm: string | undefined;
  if (reviewed && reviewed.statefulDeletes.length > 0) {
    confirm = await typedName(t, `Apply deletes ${reviewed.statefulDeletes.length} resource(s) that hold data (${reviewed.statefulDeletes.join(', ')}).`);
    if (confirm === undefined) return;
  }
  await runOperation(s, t, 'apply', (options) =>
    apply(graph, {
      ...options,
      confirm,
      reviewed,
      // Without a reviewed plan (tree or palette), the fresh plan made under the lock is shown and approved first.
      approve: reviewed ? undefined : async (plan) => {
        const { create, update, delete: del } = plan.counts;
        const go = 'Apply';
        const answer = await vscode.window.showWarningMessage(`Apply to "${t.env.name}": ${create} to create, ${update} to update, ${del} to delete?`, { modal: true, detail: planText(plan, 'fresh plan') }, go);
        return answer === go;
      },
    }),
  );
}

async function runDestroy(s: ProvisionServices, t: Target): Promise<void> {
  const confirm = await typedName(t, 'Destroy deletes everything recorded for this environment, data included.');
  if (confirm === undefined) return;
  await runOperation(s, t, 'destroy', (options) => destroy(t.env.name, t.env.provider.kind, { ...options, confirm }));
}

async function typedName(t: Target, what: string): Promise<string | undefined> {
  const name = t.env.name;
  const typed = await vscode.window.showInputBox({
    title: `Confirm with the environment's name`,
    prompt: `${what} Type "${name}" to go ahead.`,
    placeHolder: name,
    ignoreFocusOut: true,
    validateInput: (v) => (v === name ? undefined : `Type ${name} to confirm`),
  });
  return typed === name ? typed : undefined;
}

type Common = Pick<Parameters<typeof apply>[1], 'backend' | 'driver' | 'signal' | 'onProgress' | 'onState'>;

/** The progress notification, the log, the tree's statuses and the final notification around one engine run. */
async function runOperation(s: ProvisionServices, t: Target, kind: 'apply' | 'destroy', run: (options: Common) => Promise<RunOutcome>): Promise<void> {
  const title = kind === 'apply' ? 'Apply' : 'Destroy';
  let outcome: RunOutcome | undefined;
  let failure: unknown;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Encore: ${title} "${t.env.name}"`, cancellable: true },
    async (progress, token) => {
      const signal = abortOn(token);
      let driver: ProviderDriver | undefined;
      try {
        driver = await makeDriver(t);
        const backend = await makeBackend(t, driver);
        log().info(`${kind} "${t.env.name}" on ${driver.target}`);
        let last = 0;
        outcome = await run({
          backend, driver, signal,
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
      } finally {
        await driver?.dispose?.().catch(() => undefined);
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
