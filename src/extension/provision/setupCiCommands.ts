// Set Up Deploy on Push… in VS Code, over the session's setup (src/session/setupCi.ts), as `encore-env setup-ci`. It
// checks, in a cancellable progress notification, that the environment's CI identity is applied (refused with "apply
// first" and a Plan button otherwise), shows the workflow it would write (a preview, or a diff against a file that
// differs, which is replaced only when the user says so; a file that cannot be read is never replaced), writes and
// opens it, and says what to do on GitHub. For Kubernetes it copies the pipe that hands the CI kubeconfig to
// `gh secret set` without writing it to disk; the kubeconfig itself never passes through the extension.
import * as vscode from 'vscode';
import { firstDifferentLine, isDeployError, prepareCiSetup, workflowFileStatus, writeWorkflowFile, type CiSetup } from '../../session';
import { log } from '../log';
import { abortOn } from './abortOn';
import type { ProvisionServices } from './provisionCommands';
import { chooseTarget, openSession, type Target } from './target';

const TITLE = 'Set Up Deploy on Push';
export const WORKFLOW_SCHEME = 'encore-workflow';
export const COPY_GH = 'Copy the gh command';

/** The workflows not written yet, as read-only documents for the preview and the diff. */
class WorkflowPreviews implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '# This preview is no longer available: run Set Up Deploy on Push… again.\n';
  }

  set(setup: CiSetup): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: WORKFLOW_SCHEME, path: `/${setup.relative}`, query: setup.top });
    this.texts.set(uri.toString(), setup.text);
    this.changed.fire(uri);
    return uri;
  }
}

export function registerSetupCi(context: vscode.ExtensionContext, s: ProvisionServices, register: (id: string, run: (...args: unknown[]) => unknown) => void, trusted: (title: string) => Promise<boolean>): void {
  const previews = new WorkflowPreviews();
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(WORKFLOW_SCHEME, previews));
  const command = async (node: unknown) => {
    if (!(await trusted(TITLE))) return;
    const t = await chooseTarget(s.apps, node, `${TITLE}…`, {
      accepts: (env) => env.deploy.trigger === 'push',
      none: 'no environment deploys on push yet: give one a push trigger (Edit Environment…, "Deploy trigger"), apply it, then set up deploy on push.',
    });
    if (t) await runSetupCi(s, previews, t);
  };
  register('encore.setupDeployOnPush', command);
  register('encore.environment.setupDeployOnPush', command);
}

async function runSetupCi(s: ProvisionServices, previews: WorkflowPreviews, t: Target): Promise<void> {
  const name = t.env.name;
  const session = await openSession(s.apps, s.models, t, { note: (text) => log().info(`"${name}": ${text}`) });
  let setup: CiSetup;
  try {
    setup = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Encore: checking the CI identity of "${name}"…`, cancellable: true },
      (_progress, token) => prepareCiSetup(session, { signal: abortOn(token), requireApplied: true }),
    );
  } catch (err) {
    if (isDeployError(err) && err.code === 'apply-first') {
      log().warn(`set up deploy on push "${name}": ${err.message}`);
      const plan = 'Plan';
      const choice = await vscode.window.showWarningMessage(`Encore: ${err.message}`, plan, 'Show Logs');
      if (choice === plan) await vscode.commands.executeCommand('encore.environment.plan', { kind: 'environment', root: t.root, env: t.env });
      else if (choice) log().show();
      return;
    }
    if ((isDeployError(err) && err.code === 'cancelled') || (err instanceof Error && (err.name === 'AbortError' || err.message === 'cancelled in VS Code'))) {
      void vscode.window.showWarningMessage(`Encore: ${TITLE} for "${name}" was cancelled; nothing was written.`);
      return;
    }
    throw err;
  } finally {
    await session.dispose();
  }

  const status = await workflowFileStatus(setup.file, setup.text);
  if (status.kind === 'unreadable') {
    log().error(status.problem);
    void vscode.window.showErrorMessage(`Encore: ${status.problem}. Move it away or fix its permissions, then run ${TITLE}… again.`);
    return;
  }
  const preview = previews.set(setup);
  const file = vscode.Uri.file(setup.file);
  if (status.kind === 'absent') {
    await vscode.window.showTextDocument(preview, { preview: true, preserveFocus: true });
    const write = 'Write Workflow';
    const answer = await vscode.window.showInformationMessage(`Write ${setup.relative}?`, { modal: true, detail: describe(setup) }, write);
    if (answer !== write) return;
  } else if (status.kind === 'different') {
    // Opened at the first difference: the diff editor's own reveal may not come before the question below.
    const line = firstDifferentLine(status.current, setup.text);
    const at = new vscode.Range(line, 0, line, 0);
    await vscode.commands.executeCommand('vscode.diff', file, preview, `${setup.relative}: now ↔ what ${TITLE} writes`, { preview: true, preserveFocus: true, selection: at });
    const replace = 'Replace';
    const answer = await vscode.window.showWarningMessage(
      `${setup.relative} exists and differs from the workflow this version writes. Replace it?`,
      { modal: true, detail: `The editor shows the differences (left: the file now, right: what would be written). Your changes are lost if you replace it.\n\n${describe(setup)}` },
      replace,
    );
    if (answer !== replace) {
      void vscode.window.showInformationMessage(`Encore: ${setup.relative} was kept as it is.`);
      return;
    }
  }
  if (status.kind !== 'same') {
    await writeWorkflowFile(setup.file, setup.text);
    log().info(`set up deploy on push "${name}": wrote ${setup.file}`);
  }
  // The preview and the diff showed what is now the file: only the file stays open.
  await closeTabsOf(preview);
  await vscode.window.showTextDocument(file, { preview: false });
  for (const line of [setup.credentials, ...setup.github]) log().info(`set up deploy on push "${name}": ${line}`);
  void nextSteps(setup, status.kind === 'same');
}

async function closeTabsOf(uri: vscode.Uri): Promise<void> {
  const shows = (input: unknown) =>
    (input instanceof vscode.TabInputText && input.uri.toString() === uri.toString()) || (input instanceof vscode.TabInputTextDiff && input.modified.toString() === uri.toString());
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => shows(t.input));
  if (tabs.length > 0) await vscode.window.tabGroups.close(tabs);
}

/** What the workflow does, for the confirmation. */
function describe(setup: CiSetup): string {
  return [
    `On every push to ${setup.branch} (and on Run workflow) it runs "encore-env deploy --env ${setup.environment} --ci" in the GitHub environment "${setup.environment}", one deploy at a time, with the permissions id-token: write and contents: read only.`,
    setup.credentials,
  ].join('\n\n');
}

/** The notification that says what to do on GitHub, with the gh command (Kubernetes) or the environment's settings page. */
async function nextSteps(setup: CiSetup, unchanged: boolean): Promise<void> {
  const kube = setup.kubeconfig;
  const settings = setup.repository ? vscode.Uri.parse(`https://github.com/${setup.repository}/settings/environments`) : undefined;
  const open = 'Open GitHub Environments';
  const steps = 'Show Steps';
  const todo = kube
    ? `store the CI kubeconfig as the environment secret ${kube.secret} (${COPY_GH}: it never touches the disk), and limit the GitHub environment "${setup.environment}" to the branch ${setup.branch}`
    : `limit the GitHub environment "${setup.environment}" to the branch ${setup.branch}; no secret is needed (OIDC)`;
  const buttons = [...(kube ? [COPY_GH] : []), ...(settings ? [open] : []), steps];
  const choice = await vscode.window.showInformationMessage(`Encore: ${unchanged ? `${setup.relative} is up to date` : `wrote ${setup.relative}`}. Next, on GitHub: ${todo}.`, ...buttons);
  if (choice === COPY_GH && kube) {
    await vscode.env.clipboard.writeText(kube.command);
    log().info(`set up deploy on push "${setup.environment}": copied the gh command: ${kube.command}`);
    void vscode.window.showInformationMessage(
      `Encore: copied "${kube.command}". Run it in a terminal at the repository's top (${setup.top}), with encore-env and gh on PATH and gh logged in: it mints a token for the CI identity and hands its kubeconfig to gh. Run it again to renew the token.`,
    );
  } else if (choice === open && settings) {
    await vscode.env.openExternal(settings);
  } else if (choice === steps) {
    log().show();
  }
}
