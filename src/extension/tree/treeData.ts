// Pure (no vscode): the Environments view as data. The provider (environmentsTree.ts) turns these nodes into
// TreeItems; tests and the benchmark use them directly. Ids are built from the model (app root, environment name,
// planner resource id), so expansion and selection survive every refresh.
import path from 'node:path';
import type { AppModel } from '../../model/appModel';
import type { DesiredGraph, DesiredResource } from '../../model/desiredGraph';
import { describeEnvironment, ENVIRONMENTS_FILE, type Environment } from '../../model/environment';
import { capProblems, formatProblem, type FileProblem } from '../../environments/problems';
import { groupResources, resourceLabel, type ResourceGroup } from './resourceGroups';
import { holdsTypedValue, type DeployRecord } from '../../session';
import { escapeMarkdown, markdownCode } from '../../model/markdown';

/** What the language server knows about an app. */
export type ModelState =
  | { kind: 'ready'; model: AppModel }
  /** A Go app: Encore.ts analysis does not apply. */
  | { kind: 'go'; message: string }
  /** The analysis of this app failed. */
  | { kind: 'failed'; message: string }
  /** The server is starting or has not answered yet. */
  | { kind: 'pending' }
  /** The server is not running (it failed, crashed, or was stopped). */
  | { kind: 'unavailable'; message: string };

/** What the environments file gave (the EnvStore's load result, reduced to what the view needs). */
export type EnvironmentsState =
  | { ok: true; file: string; environments: Environment[] }
  | { ok: false; file: string; errors: FileProblem[] };

export interface AppInput {
  root: string;
  /** Set when encore.app itself cannot be read. */
  appError?: string;
  /** The app's folder relative to its workspace folder, for the group's description. */
  description: string;
  environments: EnvironmentsState;
  model: ModelState;
}

/** What a node does when clicked. Data only: the provider turns it into a vscode.Command. */
export type Action =
  /** Opens a file, at a 1-based line and column when given. */
  | { kind: 'openFile'; file: string; line?: number; column?: number }
  | { kind: 'command'; command: string; title: string; args?: unknown[] };

export type Severity = 'error' | 'warning' | 'info';

interface Base {
  id: string;
  root: string;
}

export type TreeNode =
  | (Base & { kind: 'app'; label: string; description: string })
  /** `rotating`: its recorded state has a service-auth key rotation in progress (Finish Key Rotation is offered). */
  | (Base & { kind: 'environment'; env: Environment; resourceCount: number | undefined; statusSummary?: string; rotating?: boolean })
  | (Base & { kind: 'setting'; envName: string; label: string; value: string; icon: string; tooltip?: string })
  | (Base & { kind: 'group'; envName: string; group: ResourceGroup })
  | (Base & { kind: 'resource'; envName: string; resource: DesiredResource; status: ResourceStatus; error?: string })
  | (Base & { kind: 'problem'; severity: Severity; label: string; description: string; tooltip: string; action?: Action })
  /** An environment's deploy history; its entries are read from the cluster when it is expanded (environmentsTree.ts). */
  | (Base & { kind: 'deployments'; env: Environment })
  | (Base & { kind: 'deploy'; env: Environment; record: DeployRecord; current: boolean });

/** Where each resource stands: from recorded state, and the last plan's drift (provision/liveStatus.ts). */
export type ResourceStatus = 'not provisioned' | 'ready' | 'pending' | 'failed' | 'drifted';

/** A resource's status in an environment; absent: everything is "not provisioned" (nothing recorded is known). */
/** A resource's shown status; `revision` is the commit a Deployment runs since a deploy (`abc1234`, `-dirty`). */
export type StatusFn = (root: string, envName: string, id: string) => { status: ResourceStatus; error?: string; revision?: string };

const NOT_PROVISIONED: StatusFn = () => ({ status: 'not provisioned' });

export interface TreeData {
  nodes: Map<string, TreeNode>;
  /** Children by parent id; the top level is under ''. */
  children: Map<string, string[]>;
  parent: Map<string, string>;
}

/** Plans one environment; the caller memoises (the planner is pure, so the same inputs give the same graph). */
export type GraphFn = (model: AppModel, env: Environment) => DesiredGraph;

export interface TreeOptions {
  /** Add a Deployments node to each environment whose provider can deploy (its entries load on expand). */
  deployments?: boolean;
  /** Whether an environment's recorded state has a service-auth key rotation in progress (provision/liveStatus.ts). */
  rotating?: (root: string, envName: string) => boolean;
}

export function buildTree(apps: readonly AppInput[], graphFor: GraphFn, statusOf: StatusFn = NOT_PROVISIONED, options: TreeOptions = {}): TreeData {
  const data: TreeData = { nodes: new Map(), children: new Map(), parent: new Map() };
  const add = (parentId: string, node: TreeNode): string => {
    data.nodes.set(node.id, node);
    const list = data.children.get(parentId);
    if (list) list.push(node.id);
    else data.children.set(parentId, [node.id]);
    if (parentId !== '') data.parent.set(node.id, parentId);
    return node.id;
  };
  data.children.set('', []);
  // One app: its content at the top level (and nothing when it has no environments, so the welcome shows).
  // Several apps: one group per app.
  for (const app of apps) {
    const parentId = apps.length === 1 ? '' : add('', { kind: 'app', id: `app:${app.root}`, root: app.root, label: path.basename(app.root), description: app.description });
    addApp(add, parentId, app, graphFor, statusOf, apps.length > 1, options);
  }
  return data;
}

type Add = (parentId: string, node: TreeNode) => string;

function addApp(add: Add, parentId: string, app: AppInput, graphFor: GraphFn, statusOf: StatusFn, noticeWhenEmpty: boolean, options: TreeOptions): void {
  const { root } = app;
  if (app.appError) {
    add(parentId, problem(root, `app-error:${root}`, 'error', 'Cannot read encore.app', app.appError, app.appError, {
      kind: 'openFile',
      file: path.join(root, 'encore.app'),
    }));
  }
  const envs = app.environments;
  if (!envs.ok) {
    addFileErrors(add, parentId, root, envs.file, envs.errors);
    return;
  }
  if (envs.environments.length === 0) {
    if (noticeWhenEmpty) {
      add(parentId, problem(root, `no-envs:${root}`, 'info', 'No environments yet: Create Environment…', '', 'Create the first environment of this app', {
        kind: 'command',
        command: 'encore.createEnvironment',
        title: 'Create Environment',
        args: [root],
      }));
    }
    return;
  }
  for (const env of envs.environments) addEnvironment(add, parentId, app, env, graphFor, statusOf, options);
}

/** A broken file: one error node that opens the file at the first problem, and one child per problem. */
function addFileErrors(add: Add, parentId: string, root: string, file: string, problems: FileProblem[]): void {
  // A huge broken file has tens of thousands of problems: the tree shows the first ones and how many more.
  const errors = capProblems(problems);
  const first = errors[0];
  const all = errors.map(formatProblem).join('\n');
  const id = add(parentId, problem(root, `envfile-error:${root}`, 'error', `Cannot read ${ENVIRONMENTS_FILE}`, first ? formatProblem(first) : '', `${all}\n\nThe file is left as it is: fix it by hand, and the view reloads.`, {
    kind: 'openFile',
    file,
    ...(first && { line: first.line, column: first.column }),
  }));
  if (errors.length > 1) {
    errors.forEach((p, i) =>
      add(id, problem(root, `${id}/${i}`, 'error', `line ${p.line}, column ${p.column}`, formatProblem({ message: p.message, path: p.path }), formatProblem(p), {
        kind: 'openFile',
        file,
        line: p.line,
        column: p.column,
      })),
    );
  }
}

export function environmentId(root: string, name: string): string {
  return `env:${root}:${name}`;
}

export function deploymentsId(root: string, envName: string): string {
  return `${environmentId(root, envName)}/deployments`;
}

/** Whether this version deploys to the environment's provider (Kubernetes, AWS and GCP all do). */
export function deploys(env: Environment): boolean {
  return env.provider.kind === 'kubernetes' || env.provider.kind === 'aws' || env.provider.kind === 'gcp';
}

/** The other environments of the app a deploy can be promoted to: those whose provider deploys in this version. */
export function promoteTargets(envs: readonly Environment[], from: string): Environment[] {
  return envs.filter((e) => e.name !== from && deploys(e));
}

/** The nodes of an environment's deploy history, newest first, the one that runs now marked. */
export function deployNodes(parent: Extract<TreeNode, { kind: 'deployments' }>, records: readonly DeployRecord[], current: DeployRecord | undefined): TreeNode[] {
  return [...records].reverse().map((record) => ({ kind: 'deploy', id: `${parent.id}/${record.id}`, root: parent.root, env: parent.env, record, current: record === current }));
}

export function groupId(root: string, envName: string, key: string): string {
  return `${environmentId(root, envName)}/group:${key}`;
}

function addEnvironment(add: Add, parentId: string, app: AppInput, env: Environment, graphFor: GraphFn, statusOf: StatusFn, options: TreeOptions): void {
  const { root } = app;
  const envId = environmentId(root, env.name);
  const planned = environmentGraph(app.model, env, graphFor);
  const statuses = new Map((planned.graph?.resources ?? []).map((r) => [r.id, statusOf(root, env.name, r.id)]));
  const rotating = options.rotating?.(root, env.name) === true;
  add(parentId, { kind: 'environment', id: envId, root, env, resourceCount: planned.graph?.resources.length, statusSummary: summarize([...statuses.values()].map((x) => x.status)), ...(rotating && { rotating }) });
  for (const s of settings(env)) {
    add(envId, { kind: 'setting', id: `${envId}/setting:${s.key}`, root, envName: env.name, label: s.label, value: s.value, icon: s.icon, tooltip: s.tooltip });
  }
  if (options.deployments && deploys(env)) add(envId, { kind: 'deployments', id: deploymentsId(root, env.name), root, env });
  for (const p of planned.problems) add(envId, { ...p, id: `${envId}/${p.id}`, root });
  if (!planned.graph) return;
  for (const group of groupResources(planned.graph)) {
    const gid = add(envId, { kind: 'group', id: groupId(root, env.name, group.key), root, envName: env.name, group });
    for (const resource of group.resources) {
      const live = statuses.get(resource.id) ?? { status: 'not provisioned' };
      add(gid, { kind: 'resource', id: `${envId}/res:${resource.id}`, root, envName: env.name, resource, ...live });
    }
  }
}

/** "3 ready, 1 failed, 2 not provisioned", most settled first; "not provisioned" alone when nothing is recorded. */
export function summarize(statuses: readonly ResourceStatus[]): string {
  const order: ResourceStatus[] = ['ready', 'pending', 'failed', 'drifted', 'not provisioned'];
  const counts = new Map<ResourceStatus, number>();
  for (const st of statuses) counts.set(st, (counts.get(st) ?? 0) + 1);
  if (counts.size <= 1 && !statuses.some((st) => st !== 'not provisioned')) return 'not provisioned';
  return order.filter((st) => counts.has(st)).map((st) => `${counts.get(st)} ${st}`).join(', ');
}

type PlannedProblem = Omit<Extract<TreeNode, { kind: 'problem' }>, 'root'>;

/** The graph for the tree, or the problem nodes that say why there is none (or why it may be incomplete). */
export function environmentGraph(model: ModelState, env: Environment, graphFor: GraphFn): { graph?: DesiredGraph; problems: PlannedProblem[] } {
  const p = (id: string, severity: Severity, label: string, description: string, tooltip: string, action?: Action): PlannedProblem => ({
    kind: 'problem', id, severity, label, description, tooltip, ...(action && { action }),
  });
  switch (model.kind) {
    case 'pending':
      return { problems: [p('problem:model', 'info', 'Resources: analysing the app…', '', 'The Encore language server is analysing the app; the resources appear when it is done.')] };
    case 'unavailable':
      return { problems: [p('problem:model', 'warning', 'Resources unknown', 'the language server is not running', `${model.message}\n\nRestart it to see what this environment gets.`, { kind: 'command', command: 'encore.restartServer', title: 'Restart Language Server' })] };
    case 'go':
      return { problems: [p('problem:model', 'info', 'Resources unknown: Go app', 'not analysed', model.message, { kind: 'command', command: 'vscode.open', title: 'Open the Encore.ts docs', args: ['https://encore.dev/docs/ts'] })] };
    case 'failed':
      return { problems: [p('problem:model', 'error', 'Cannot analyse the app', model.message, `${model.message}\n\nThe language server's log says more.`, { kind: 'command', command: 'encore.showServerLogs', title: 'Show Language Server Logs' })] };
    case 'ready':
      break;
  }
  let graph: DesiredGraph;
  try {
    graph = graphFor(model.model, env);
  } catch (err) {
    const message = (err as Error).message;
    return { problems: [p('problem:plan', 'error', 'Cannot plan the resources', message, `The planner failed on this environment: ${message}`, { kind: 'command', command: 'encore.showLogs', title: 'Show Logs' })] };
  }
  const problems: PlannedProblem[] = [];
  const errors = model.model.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) {
    const what = errors === 1 ? '1 build error' : `${errors} build errors`;
    problems.push(p('problem:diagnostics', 'warning', `The app has ${what}`, 'resources may be incomplete', `Encore would refuse to build the app as it is (${what}); the resources below come from what could be read.`, { kind: 'command', command: 'workbench.actions.view.problems', title: 'Show Problems' }));
  }
  graph.warnings.forEach((w, i) => problems.push(p(`problem:warning:${i}`, 'warning', w, '', w)));
  return { graph, problems };
}

interface SettingRow {
  key: string;
  label: string;
  value: string;
  icon: string;
  tooltip?: string;
}

/** The environment's settings as rows: type, deploy, provider and its settings, sizing. */
export function settings(env: Environment): SettingRow[] {
  const rows: SettingRow[] = [
    env.type === 'production'
      ? { key: 'type', label: 'Type', value: 'Production', icon: 'rocket', tooltip: 'Managed databases with backups, managed Redis and Pub/Sub, autoscaling' }
      : { key: 'type', label: 'Type', value: 'Development', icon: 'beaker', tooltip: 'Postgres and Redis inside the cluster on persistent volumes, one replica' },
    env.deploy.trigger === 'push'
      ? { key: 'deploy', label: 'Deploy', value: `on push to ${env.deploy.branch}`, icon: 'git-branch' }
      : { key: 'deploy', label: 'Deploy', value: 'manually', icon: 'debug-start' },
  ];
  const p = env.provider;
  if (p.kind === 'aws') {
    rows.push({ key: 'provider', label: 'Provider', value: 'AWS', icon: 'cloud' });
    rows.push({ key: 'region', label: 'Region', value: p.region, icon: 'globe' });
    rows.push({ key: 'profile', label: 'Profile', value: p.profile ?? 'the default credential chain', icon: 'account' });
  } else if (p.kind === 'gcp') {
    rows.push({ key: 'provider', label: 'Provider', value: 'GCP', icon: 'cloud' });
    rows.push({ key: 'project', label: 'Project', value: p.project, icon: 'project' });
    rows.push({ key: 'region', label: 'Region', value: p.region, icon: 'globe' });
  } else {
    rows.push({ key: 'provider', label: 'Provider', value: 'Kubernetes', icon: 'cloud' });
    rows.push({ key: 'context', label: 'Context', value: p.context, icon: 'plug' });
    rows.push({ key: 'namespace', label: 'Namespace', value: p.namespace ?? `${env.name} (the environment's name)`, icon: 'symbol-namespace' });
  }
  if (env.type === 'production') rows.push({ key: 'sizing', label: 'Sizing', value: sizingSummary(env), icon: 'settings' });
  return rows;
}

function sizingSummary(env: Environment): string {
  const s = env.sizing ?? {};
  const count = (m: Record<string, unknown> | undefined, one: string, many: string) => {
    const n = Object.keys(m ?? {}).length;
    return n === 0 ? undefined : `${n} ${n === 1 ? one : many}`;
  };
  const parts = [count(s.databases, 'database', 'databases'), count(s.caches, 'cache', 'caches'), count(s.services, 'service', 'services')].filter(Boolean);
  return parts.length === 0 ? "Encore's defaults" : `answers for ${parts.join(', ')}`;
}

function problem(root: string, id: string, severity: Severity, label: string, description: string, tooltip: string, action?: Action): TreeNode {
  return { kind: 'problem', id, root, severity, label, description, tooltip, ...(action && { action }) };
}

/** Codicons per live status (getTreeItem colours them); "not provisioned" keeps the hollow circles. */
const STATUS_ICON: Partial<Record<ResourceStatus, string>> = { ready: 'pass', pending: 'sync', failed: 'error', drifted: 'warning' };

/** How a node looks, as data: what getTreeItem needs, computed without vscode (tests and the benchmark use it). */
export interface ItemData {
  label: string;
  description?: string;
  /** Markdown (plain text for problem nodes); every part that comes from the app or the environments file is escaped. */
  tooltip?: string;
  /** 'none', or whether the node starts collapsed or expanded. */
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** A codicon name, `env:<provider>-<type>` for the environment icons in media/, or `severity:<…>`. */
  icon: string;
  contextValue: string;
  action?: Action;
}

const ROTATING_NOTE = '\n\nA service-to-service key rotation is in progress: both keys are accepted, the new one signs. Finish Key Rotation once every service and CronJob runs with the new key.';

/** An environment node's context value: `encore.environment.<type>`, then `.push` for a push trigger, then `.rotating`. */
export function environmentContextValue(env: Environment, rotating: boolean): string {
  return `encore.environment.${env.type}${env.deploy.trigger === 'push' ? '.push' : ''}${rotating ? '.rotating' : ''}`;
}

export function itemData(node: TreeNode, hasChildren: boolean): ItemData {
  const collapsed = hasChildren ? 'collapsed' : 'none';
  switch (node.kind) {
    case 'app':
      return { label: node.label, description: node.description, tooltip: escapeMarkdown(node.root), collapsible: 'expanded', icon: 'package', contextValue: 'encore.app' };
    case 'environment': {
      const { env } = node;
      // Counts and status words of our own: nothing from the app or the file, so nothing to escape.
      const resources = node.resourceCount === undefined ? 'resources unknown' : `${node.resourceCount} resources, ${node.statusSummary ?? 'not provisioned'}`;
      return {
        label: env.name,
        description: describeEnvironment(env),
        tooltip: `**${escapeMarkdown(env.name)}**\n\n${escapeMarkdown(describeEnvironment(env))}\n\n${resources}${node.rotating ? ROTATING_NOTE : ''}`,
        collapsible: collapsed,
        icon: `env:${env.provider.kind}-${env.type}`,
        // `.push` shows Set Up Deploy on Push…, `.rotating` Finish Key Rotation (package.json when-clauses) and hides a second Rotate.
        contextValue: environmentContextValue(env, node.rotating === true),
      };
    }
    case 'setting':
      return { label: node.label, description: node.value, tooltip: escapeMarkdown(node.tooltip ?? `${node.label}: ${node.value}`), collapsible: 'none', icon: node.icon, contextValue: 'encore.setting' };
    case 'group': {
      const g = node.group;
      const n = g.resources.length;
      return {
        label: g.label,
        description: g.description,
        tooltip: escapeMarkdown(`${g.label}: ${n} ${n === 1 ? 'resource' : 'resources'}`),
        collapsible: 'collapsed',
        icon: g.icon,
        contextValue: 'encore.resourceGroup',
      };
    }
    case 'resource': {
      const r = node.resource;
      const lines = [
        escapeMarkdown(r.summary), '', `${escapeMarkdown(r.providerType)} ${markdownCode(r.name)}`, `id: ${markdownCode(r.id)}`,
        `status: ${node.status}${node.error ? ` (${escapeMarkdown(node.error)})` : ''}`,
      ];
      if (node.status === 'drifted') lines.push('', 'Changed outside the tool since the last apply: Plan shows how, Apply takes it back.');
      if (r.stateful) lines.push('', 'Holds data: destroying it needs a typed confirmation.');
      return {
        label: resourceLabel(r),
        description: node.status,
        tooltip: lines.join('\n\n'),
        collapsible: 'none',
        icon: STATUS_ICON[node.status] ?? (r.stateful ? 'circle-large-outline' : 'circle-outline'),
        contextValue: `encore.resource${r.stateful ? '.stateful' : ''}${holdsTypedValue(r) ? '.appSecret' : ''}`,
      };
    }
    case 'deployments':
      return { label: 'Deployments', description: '', tooltip: escapeMarkdown(`The deploy history of ${node.env.name}, newest first (read from the cluster when expanded).`), collapsible: 'collapsed', icon: 'history', contextValue: 'encore.deployments' };
    case 'deploy': {
      const r = node.record;
      const revision = `${r.revision.commit.slice(0, 7)}${r.revision.dirty ? '-dirty' : ''}`;
      const extra = r.restores ? `, restores ${r.restores}` : r.promotedFrom ? `, from ${r.promotedFrom.environment}` : '';
      const lines = [
        `**${escapeMarkdown(r.id)}**${node.current ? ' (runs now)' : ''}`, `revision ${markdownCode(r.revision.commit)}${r.revision.dirty ? ' with uncommitted changes' : ''}${r.revision.branch ? ` on ${escapeMarkdown(r.revision.branch)}` : ''}`,
        `image ${markdownCode(`${r.image.repository}@${r.image.digest}`)}`, `${escapeMarkdown(r.trigger)} by ${escapeMarkdown(r.by)} at ${escapeMarkdown(r.at)}: ${escapeMarkdown(r.result)}${escapeMarkdown(extra)}`,
        ...(r.message ? [escapeMarkdown(r.message)] : []),
      ];
      return {
        label: `${node.current ? '● ' : ''}${revision}`,
        description: `${r.at.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} · ${r.trigger} · ${r.by} · ${r.result}`,
        tooltip: lines.join('\n\n'),
        collapsible: 'none',
        icon: r.result === 'succeeded' ? (node.current ? 'pass-filled' : 'pass') : r.result === 'failed' ? 'error' : 'circle-slash',
        // Only an earlier deploy that succeeded can be rolled back to.
        contextValue: `encore.deploy.${r.result}${node.current ? '.current' : ''}`,
      };
    }
    case 'problem':
      return {
        label: node.label,
        description: node.description,
        tooltip: node.tooltip,
        collapsible: collapsed,
        icon: `severity:${node.severity}`,
        contextValue: `encore.problem.${node.severity}`,
        ...(node.action && { action: node.action }),
      };
  }
}
