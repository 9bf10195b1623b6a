import * as vscode from 'vscode';
import { AppModels } from './appModels';
import { openAt, registerCommand, registerCommands } from './commands';
import { environmentLensDecorator } from './environmentLenses';
import { loadEnvironmentFacts } from './environmentFacts';
import { EnvironmentStatus } from './environmentStatus';
import type { FormHost } from './form/formPanel';
import { LanguageServer } from './languageServer';
import { log } from './log';
import { EnvironmentsTree } from './tree/environmentsTree';
import type { Plan } from '../model/plan';
import type { EnvState } from '../model/state';
import { LiveStatuses } from './provision/liveStatus';
import { loadRecordedStates } from './provision/recordedState';
import type { Target } from './provision/target';
import { registerProvisioning } from './provision/provisionCommands';
import { loadDeploys } from './provision/deployCommands';
import { cachedGraphs } from './tree/graphCache';
import type { TreeNode } from './tree/treeData';
import { WorkspaceApps } from './workspaceApps';

let server: LanguageServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const started = performance.now();
  try {
    context.subscriptions.push(log());
    const apps = new WorkspaceApps();
    const graphFor = cachedGraphs((root) => {
      const found = apps.find(root)?.found;
      return found?.ok ? found.app.id : undefined;
    });
    // The server and the models need each other: the lens decorator is set once the models exist.
    const lensHook: { decorate?: ReturnType<typeof environmentLensDecorator> } = {};
    server = new LanguageServer(context, (lenses, document) => (lensHook.decorate ? lensHook.decorate(lenses, document) : lenses));
    const languageServer = server;
    const models = new AppModels(server);
    const appModels = models;
    lensHook.decorate = environmentLensDecorator(apps, models, graphFor, (root, env, id) => live.statusOf(root, env, id));
    const live = new LiveStatuses();
    const tree = new EnvironmentsTree(apps, models, graphFor, context.extensionUri, 100, (root, env, id) => live.statusOf(root, env, id), (root, env) => loadDeploys(apps, models, root, env), (root, env) => live.rotating(root, env));
    const view = vscode.window.createTreeView('encore.environments', { treeDataProvider: tree, showCollapseAll: true });
    const status = new EnvironmentStatus(context.workspaceState, apps, loadEnvironmentFacts);
    // The language server starts once the workspace has an Encore app (now or later), after activation returns.
    const startWhenAppFound = async () => {
      if ((await apps.list()).length > 0) await languageServer.start();
    };
    const changed = new vscode.EventEmitter<void>();
    context.subscriptions.push(
      apps, models, tree, view, status, server, changed,
      apps.onDidChange(() => {
        changed.fire();
        void startWhenAppFound();
        // The environment statuses in the lenses follow the environments and the models.
        void languageServer.refreshCodeLenses();
      }),
      models.onDidChange(() => {
        changed.fire();
        void languageServer.refreshCodeLenses();
      }),
    );
    const form: FormHost = {
      extensionUri: context.extensionUri,
      model: (root) => appModels.state(root),
      graphFor,
      discoverOptions: (root) => discoverOptions(root),
      onDidChange: changed.event,
      app: (root) => apps.find(root),
      saved: async (root, env, mode, previousName) => {
        await apps.storesChanged();
        tree.refresh();
        if (previousName && previousName !== env.name) await status.renamed(root, previousName, env.name);
        const node = tree.environmentNode(root, env.name);
        if (node) await view.reveal(node, { select: true, focus: true, expand: true });
        void offerPlan(env.name, mode, node);
      },
      openEnvironmentsFile: async (root) => {
        const app = apps.find(root);
        if (app) await openAt(app.store.file);
      },
      storesChanged: () => apps.storesChanged(),
      identity: async (root, env, signal) => (await import('../session')).probeIdentity(env, { appRoot: root }, signal),
      gkeClusters: async (project, region, signal) => (await import('./form/gkeClusters')).discoverGkeClusters(project, region, { listFromApi: vscode.workspace.isTrusted }, signal),
    };
    registerCommands(context, { apps, server, models, tree, view, status, form });
    let lensTimer: NodeJS.Timeout | undefined;
    context.subscriptions.push({ dispose: () => clearTimeout(lensTimer) });
    const onState = (t: Target, state: EnvState | null, plan?: Plan) => {
      if (!live.update(t.root, t.env.name, state, plan)) return;
      tree.statusesChanged();
      // The lenses follow, at most once a second: a refresh asks the server for every visible document's lenses.
      clearTimeout(lensTimer);
      lensTimer = setTimeout(() => void languageServer.refreshCodeLenses(), 1000);
    };
    registerProvisioning(context, { apps, models, graphFor, onState }, registerCommand(context));
    // Statuses recorded before this session, read once the apps are known and whenever their environments change.
    const readRecorded = () => void loadRecordedStates(apps, (t, state) => onState(t, state));
    context.subscriptions.push(apps.onDidChange(readRecorded), vscode.workspace.onDidGrantWorkspaceTrust(readRecorded));
    readRecorded();
    // Finding the apps runs after activation returns: the view shows its progress bar meanwhile.
    void vscode.window.withProgress({ location: { viewId: 'encore.environments' } }, () => apps.list());
    void startWhenAppFound();
    log().info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
  } catch (err) {
    // VS Code does not tell the user when activation fails, so say it here.
    log().error('activation failed:', err);
    void vscode.window.showErrorMessage(`Environments for Encore could not start: ${(err as Error).message}`, 'Show Logs')
      .then((choice) => choice && log().show());
    throw err;
  }
}

/** What the form offers on this machine; discovery never throws, but a bug in it must not leave the form blank. */
async function discoverOptions(root: string) {
  try {
    const started = performance.now();
    // Loaded on first use: discovery brings a YAML parser that activation does not need.
    const { discoverFormOptions } = await import('./form/options');
    const options = await discoverFormOptions({ root, runGit: vscode.workspace.isTrusted });
    log().debug(`discovered profiles, contexts and branches in ${(performance.now() - started).toFixed(0)} ms`);
    return options;
  } catch (err) {
    log().error('discovery for the Create Environment form failed:', err);
    const note = [`Could not look for it on this machine: ${(err as Error).message}`];
    return {
      awsProfiles: [], awsRegions: [], gcpProjects: [], gcpRegions: [], kubeContexts: [], eksClusters: [], gkeClusters: [], branches: [],
      notes: { aws: note, gcp: note, kubernetes: note, git: note },
      suggested: { awsRegion: '', gcpRegion: '' },
      // The image override's rows still show the images the file names; the form's check knows the full list.
      productImages: [],
    };
  }
}

/** After a save: say what happened, and offer Plan (which says plainly that it arrives with the provisioning engine). */
async function offerPlan(name: string, mode: 'create' | 'edit', node: TreeNode | undefined): Promise<void> {
  const what = mode === 'create' ? 'created' : 'saved';
  const choice = await vscode.window.showInformationMessage(
    `Encore: environment "${name}" ${what} in encore.environments.json.${mode === 'create' ? ' Nothing is provisioned yet:' : ''} Plan shows what Apply would do.`,
    'Plan',
  );
  if (choice === 'Plan') await vscode.commands.executeCommand('encore.environment.plan', node);
}

/** Stops the language server; VS Code waits for the returned promise. */
export function deactivate(): Promise<void> | undefined {
  return server?.stop();
}
