// Rotate Service-to-Service Key… and Finish Key Rotation in VS Code, over the session's rotation (as the CLI's
// `encore-env secret rotate-service-auth [--finish]`). A modal says what happens first; the run is an apply in a
// cancellable progress notification, refused with "apply first" when anything else is pending. The keys are
// generated in the cluster and never shown or logged; the log gets the progress events and the key ids only.
import * as vscode from 'vscode';
import type { ProgressEvent } from '../../model/plan';
import { isSessionError, type RotationStep } from '../../session';
import { log } from '../log';
import { abortOn } from './abortOn';
import type { ProvisionServices } from './provisionCommands';
import { chooseTarget, openSession, type Target } from './target';

const TITLE: Record<RotationStep, string> = { start: 'Rotate Service-to-Service Key', finish: 'Finish Key Rotation' };

export function registerRotation(s: ProvisionServices, register: (id: string, run: (...args: unknown[]) => unknown) => void, trusted: (title: string) => Promise<boolean>): void {
  const command = (step: RotationStep) => async (node: unknown) => {
    if (!(await trusted(TITLE[step]))) return;
    const t = await chooseTarget(s.apps, node, TITLE[step]);
    if (t && (await confirmed(t, step))) await runRotation(s, t, step);
  };
  register('encore.rotateServiceAuth', command('start'));
  register('encore.environment.rotateServiceAuth', command('start'));
  register('encore.finishServiceAuthRotation', command('finish'));
  register('encore.environment.finishServiceAuthRotation', command('finish'));
}

async function confirmed(t: Target, step: RotationStep): Promise<boolean> {
  const name = t.env.name;
  const go = step === 'start' ? 'Rotate Key' : 'Finish Rotation';
  const answer = step === 'start'
    ? await vscode.window.showWarningMessage(`Rotate the service-to-service key of "${name}"?`, {
      modal: true,
      detail: 'A new key is generated in the cluster (never shown, never in state or logs). The infra config then lists both keys, every service restarts with both and accepts calls signed with either, and the CronJobs sign with the new one.\n\n'
        + 'It is refused when the environment has other changes to apply. Once every service and CronJob runs with the new key, run Finish Key Rotation to drop the old one.',
    }, go)
    : await vscode.window.showWarningMessage(`Finish the service-to-service key rotation of "${name}"?`, {
      modal: true,
      detail: 'The old key is removed from the cluster and the infra config, and the services restart with the new key alone: a call still signed with the old key is refused from then on.',
    }, go);
  return answer === go;
}

async function runRotation(s: ProvisionServices, t: Target, step: RotationStep): Promise<void> {
  const name = t.env.name;
  const session = await openSession(s.apps, s.models, t, { note: (text) => log().info(`"${name}": ${text}`) });
  try {
    // The app's errors are said before any progress appears.
    await session.graph();
    const done = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Encore: ${TITLE[step]} of "${name}"`, cancellable: true },
      async (progress, token) => {
        const opened = await session.provider();
        log().info(`${step === 'start' ? 'start' : 'finish'} the service-auth key rotation of "${name}" on ${opened.driver.target}`);
        return session.rotateServiceAuth(step, {
          signal: abortOn(token),
          onProgress: (e) => {
            log().info(`rotate "${name}" ${eventLine(e)}`);
            progress.report({ message: eventLine(e) });
          },
          onState: (state) => s.onState(t, state),
        });
      },
    );
    const { result } = done.outcome;
    const ids = done.keyIds;
    if (result.outcome === 'succeeded') {
      const text = step === 'start'
        ? `started the key rotation of "${name}": keys ${ids.join(' and ')} both verify, key ${Math.max(...ids)} signs. Run Finish Key Rotation once every service and CronJob runs with the new key.`
        : `finished the key rotation of "${name}": only key ${ids[0]} verifies now.`;
      log().info(text);
      void vscode.window.showInformationMessage(`Encore: ${text}`);
      return;
    }
    const first = result.failed[0];
    const why = result.outcome === 'cancelled' ? 'was cancelled' : `failed: ${first ? `${first.id}: ${first.error}` : (result.error ?? 'unknown error')}`;
    await said(result.outcome === 'cancelled' ? 'warn' : 'error', `${TITLE[step]} of "${name}" ${why} (${result.done.length} done). Plan shows what is left; Apply completes it.`);
  } catch (err) {
    if (isSessionError(err) && err.code === 'apply-first') {
      log().warn(`rotate "${name}": ${err.message}`);
      const plan = 'Plan';
      const choice = await vscode.window.showWarningMessage(`Encore: ${err.message.split('\n')[0]}`, plan, 'Show Logs');
      if (choice === plan) await vscode.commands.executeCommand('encore.environment.plan', { kind: 'environment', root: t.root, env: t.env });
      else if (choice) log().show();
      return;
    }
    if (isSessionError(err) && err.code === 'conflict') {
      await said('warn', err.message);
      return;
    }
    if (isCancellation(err)) {
      await said('warn', `${TITLE[step]} of "${name}" was cancelled before anything changed.`);
      return;
    }
    throw err;
  } finally {
    await session.dispose();
  }
}

/** A cancellation from the progress notification (abortOn's reason, or the driver's AbortError). */
function isCancellation(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.message === 'cancelled in VS Code');
}

async function said(level: 'warn' | 'error', text: string): Promise<void> {
  log()[level](text);
  const show = level === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
  if ((await show(`Encore: ${text}`, 'Show Logs')) === 'Show Logs') log().show();
}

function eventLine(e: ProgressEvent): string {
  const at = `[${e.step > 0 ? e.step : '-'}/${e.total}]`;
  return e.phase === 'progress' ? `${at} ${e.resourceId}: ${e.message}` : `${at} ${e.message}`;
}
