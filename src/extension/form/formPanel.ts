import * as vscode from 'vscode';
import { ConflictError, EnvStoreError, InvalidFileError, ValidationError } from '../../environments/errors';
import { formatProblem } from '../../environments/problems';
import type { Environment } from '../../model/environment';
import { checkHostMessage, checkWebviewMessage, type FormDraft, type FormOptions, type HostMessage, type WebviewMessage } from '../../model/messages';
import { log } from '../log';
import type { ModelState, GraphFn } from '../tree/treeData';
import type { WorkspaceApp } from '../workspaceApps';
import { draftFromEnvironment, evaluateDraft, newDraft, toFieldProblem } from './draft';
import { fitHostMessage } from './fitMessage';
import { renderPage } from './html';
import { costPreview } from './costPreview';
import { FormIdentity } from './identityCheck';
import { FormGkeClusters } from './gkeClusterPicker';
import type { GkeClustersView } from '../../model/messages';
import type { ProviderIdentity } from '../../model/providerApi';

/** What a form panel needs from the rest of the extension. */
export interface FormHost {
  extensionUri: vscode.Uri;
  model(root: string): ModelState;
  graphFor: GraphFn;
  discoverOptions(root: string): Promise<FormOptions>;
  /** Fires when a model or an environments file changed: the form re-checks (names taken, resources). */
  onDidChange: vscode.Event<void>;
  /** The app, as loaded now (its store, its environments). */
  app(root: string): WorkspaceApp | undefined;
  /** After a save: refresh the view, reveal the environment, say what happened. */
  saved(root: string, env: Environment, mode: 'create' | 'edit', previousName?: string): Promise<void>;
  openEnvironmentsFile(root: string): Promise<void>;
  /** The store reloaded the file (a conflict): take its view, so names and the tree are current. */
  storesChanged(): Promise<void>;
  /** Who would act with a draft's provider settings (shown in the form); absent: the form says it cannot tell. */
  identity?(root: string, env: Environment, signal: AbortSignal): Promise<ProviderIdentity>;
  /** A GCP project's existing GKE clusters for the cluster picker (kubeconfig and GKE API); absent: the kubeconfig's only. */
  gkeClusters?(project: string, region: string, signal: AbortSignal): Promise<GkeClustersView>;
}

const VIEW_TYPE = 'encore.environmentForm';

/**
 * The Create / Edit Environment webview panel. One per app for Create and one per environment for Edit: running the
 * command again shows the open panel. Every message from the page is checked with parseWebviewMessage; the page's
 * draft is kept here too, so a page that is reloaded after being hidden starts where it was.
 */
export class EnvironmentFormPanel implements vscode.Disposable {
  private static readonly open = new Map<string, EnvironmentFormPanel>();
  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private draft: FormDraft | undefined;
  private options: FormOptions | undefined;
  private lastSeq = 0;
  private saving = false;
  private readonly identity: FormIdentity;
  private readonly clusters: FormGkeClusters;

  static show(host: FormHost, root: string, original?: Environment): EnvironmentFormPanel {
    const key = original ? `edit:${root}:${original.name}` : `create:${root}`;
    const existing = EnvironmentFormPanel.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = new EnvironmentFormPanel(host, root, key, original);
    EnvironmentFormPanel.open.set(key, panel);
    return panel;
  }

  private constructor(
    private readonly host: FormHost,
    private readonly root: string,
    private readonly key: string,
    private readonly original: Environment | undefined,
  ) {
    const bundle = vscode.Uri.joinPath(host.extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      original ? `Edit ${original.name}` : 'Create Environment',
      vscode.ViewColumn.Active,
      // No retainContextWhenHidden: the page keeps its state with setState and is rebuilt when shown again.
      { enableScripts: true, localResourceRoots: [bundle] },
    );
    const ask = host.identity?.bind(host);
    this.identity = new FormIdentity(ask && ((env, signal) => ask(root, env, signal)), (m) => this.post(m));
    this.clusters = new FormGkeClusters(host.gkeClusters?.bind(host), (m) => this.post(m), (m) => log().warn(m));
    this.panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'encore.svg');
    const webview = this.panel.webview;
    webview.html = renderPage({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'main.js')).toString(),
      codiconUri: webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'codicon.css')).toString(),
      title: this.panel.title,
    });
    this.disposables.push(
      webview.onDidReceiveMessage((value: unknown) => {
        const checked = checkWebviewMessage(value);
        if (!checked.ok) {
          // Said in the form, where the user is waiting for an answer, and in the log.
          log().warn(`Create Environment form: dropped ${checked.problem}`);
          this.post({ type: 'dropped', message: `The extension could not read the form's last message (${checked.problem}), so it was ignored. Change the value it names, or close the form and open it again.` });
          return;
        }
        this.receive(checked.message).catch((err: unknown) => log().error('Create Environment form:', err));
      }),
      host.onDidChange(() => this.reevaluate()),
      this.panel.onDidDispose(() => this.dispose()),
    );
  }

  /**
   * Sends a message within the page's limits. One that still fails the page's check (a bug) would be dropped
   * there, leaving the form on "Loading…" or ignoring a submit: it is reported here and in the form instead.
   */
  private post(message: HostMessage): void {
    const fitted = fitHostMessage(message);
    const checked = checkHostMessage(fitted);
    if (checked.ok) {
      void this.panel.webview.postMessage(fitted);
      return;
    }
    const text = `Encore: the Create Environment form could not be updated (${checked.problem}). This is a bug; Encore: Show Logs has the details.`;
    log().error(text);
    void vscode.window.showErrorMessage(text);
    void this.panel.webview.postMessage(fitHostMessage({ type: 'dropped', message: text }));
  }

  private async receive(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready': {
        this.options ??= await this.host.discoverOptions(this.root);
        // The page's own saved draft wins: it is what the user last saw.
        this.draft = message.draft ?? this.draft ?? (this.original ? draftFromEnvironment(this.original) : newDraft(this.options));
        const app = this.host.app(this.root);
        this.post({
          type: 'init',
          mode: this.original ? 'edit' : 'create',
          appName: app ? app.found.root.split(/[\\/]/).pop() ?? '' : '',
          ...(this.original && { originalName: this.original.name }),
          draft: this.draft,
          options: this.options,
        });
        const first = this.evaluateAndPost(this.draft, this.lastSeq);
        // A reloaded page asks again: it lost the identity it showed.
        this.identity.update(this.draft, first.env, true);
        this.clusters.update(this.draft, true);
        return;
      }
      case 'change':
        this.draft = message.draft;
        this.lastSeq = Math.max(this.lastSeq, message.seq);
        this.identity.update(message.draft, this.evaluateAndPost(message.draft, message.seq).env);
        this.clusters.update(message.draft);
        return;
      case 'submit':
        this.draft = message.draft;
        this.lastSeq = Math.max(this.lastSeq, message.seq);
        await this.submit(message.draft, message.seq);
        return;
      case 'cancel':
        this.panel.dispose();
        return;
      case 'refreshOptions':
        this.options = await this.host.discoverOptions(this.root);
        this.post({ type: 'options', options: this.options });
        // A new login (aws sso login, a new context) may change who acts.
        if (this.draft) this.identity.update(this.draft, this.evaluate(this.draft).env, true);
        if (this.draft) this.clusters.update(this.draft, true);
        return;
      case 'openEnvironmentsFile':
        await this.host.openEnvironmentsFile(this.root);
        return;
      case 'dropped':
        // The page has already told the user; the log keeps the reason for a bug report.
        log().warn(`Create Environment form: the page dropped ${message.problem}`);
        return;
    }
  }

  private evaluate(draft: FormDraft) {
    const app = this.host.app(this.root);
    const names = app?.environments.ok ? app.environments.environments.map((e) => e.name) : [];
    return evaluateDraft({
      draft,
      otherNames: names.filter((n) => n !== this.original?.name),
      model: this.host.model(this.root),
      graphFor: this.host.graphFor,
      ...(this.original && { original: this.original }),
    });
  }

  private evaluateAndPost(draft: FormDraft, seq: number) {
    const e = this.evaluate(draft);
    const cost = e.preview.state === 'ok' ? costPreview(this.host.model(this.root), e.env, this.host.graphFor) : undefined;
    this.post({ type: 'evaluation', seq, problems: e.problems, sizing: e.sizing, preview: e.preview, summary: e.summary, ...(cost && { cost }) });
    return e;
  }

  private reevaluate(): void {
    if (this.draft && !this.saving) this.evaluateAndPost(this.draft, this.lastSeq);
  }

  private async submit(draft: FormDraft, seq: number): Promise<void> {
    if (this.saving) return;
    const e = this.evaluateAndPost(draft, seq);
    if (e.problems.length > 0) {
      this.post({ type: 'submitFailed', message: 'Fix the fields marked below first.', problems: e.problems, offerFile: false });
      return;
    }
    const app = this.host.app(this.root);
    if (!app) {
      this.post({ type: 'submitFailed', message: 'This Encore app is no longer in the workspace.', problems: [], offerFile: false });
      return;
    }
    this.saving = true;
    this.post({ type: 'submitting' });
    try {
      if (this.original) await app.store.update(this.original.name, e.env);
      else await app.store.create(e.env);
    } catch (err) {
      this.saving = false;
      this.post(this.failure(err, draft));
      if (err instanceof ConflictError) await this.host.storesChanged();
      return;
    }
    log().info(`${this.original ? 'updated' : 'created'} environment "${e.env.name}" in ${app.store.file}`);
    this.panel.dispose();
    await this.host.saved(this.root, e.env, this.original ? 'edit' : 'create', this.original?.name);
  }

  /** A failed save, said in the form: nothing the user typed is lost, and the file problems point at the file. */
  private failure(err: unknown, draft: FormDraft): HostMessage {
    if (err instanceof ConflictError) {
      log().warn(err.message);
      return { type: 'submitFailed', message: `${err.message} Check it, then press the button again.`, problems: [], offerFile: true };
    }
    if (err instanceof InvalidFileError) {
      log().warn(err.message);
      const first = err.problems[0];
      return {
        type: 'submitFailed',
        message: `encore.environments.json is not valid, so it was left untouched${first ? ` (${formatProblem(first)})` : ''}. Fix it by hand first.`,
        problems: [],
        offerFile: true,
      };
    }
    if (err instanceof ValidationError) {
      return { type: 'submitFailed', message: 'The store refused the environment:', problems: err.problems.map((p) => toFieldProblem(p, draft)), offerFile: false };
    }
    log().error('saving the environment failed:', err);
    const message = err instanceof EnvStoreError ? err.message : `Saving failed: ${(err as Error).message}`;
    return { type: 'submitFailed', message, problems: [], offerFile: false };
  }

  dispose(): void {
    EnvironmentFormPanel.open.delete(this.key);
    this.identity.dispose();
    this.clusters.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
  }
}
