import path from 'node:path';
import { findExecutable } from '../../../files/findExecutable';
import { expandHome, readOptional, resolveEnv, type DiscoveryEnv } from '../../../files/readOptional';
import type { KubeContext, KubeContexts, KubeExecPlugin } from '../../../model/discovery';

export interface KubeDiscoveryOptions extends DiscoveryEnv {
  platform?: NodeJS.Platform;
}

// What to install for the exec plugins that the cloud providers write into kubeconfig.
const INSTALL_HINTS: Record<string, string> = {
  'gke-gcloud-auth-plugin': 'install it with "gcloud components install gke-gcloud-auth-plugin" (or the google-cloud-cli-gke-gcloud-auth-plugin package)',
  aws: 'install the AWS CLI v2',
  'aws-iam-authenticator': 'install aws-iam-authenticator',
  kubelogin: 'install kubelogin ("az aks install-cli" installs it)',
  gcloud: 'install the Google Cloud CLI',
  doctl: 'install doctl',
  kubectl: 'install kubectl',
};

// Providers removed from kubectl and client libraries (Kubernetes 1.26); such users no longer authenticate.
const REMOVED_AUTH_PROVIDERS: Record<string, string> = {
  gcp: 'the exec plugin gke-gcloud-auth-plugin',
  azure: 'the exec plugin kubelogin',
};

interface Named<T> {
  value: T;
  file: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Lists the kubeconfig contexts, from KUBECONFIG (several files joined with the platform's path delimiter, merged
 * as kubectl does: the first file to define a name wins, and the first current-context wins) or ~/.kube/config.
 * For each context it checks that its cluster and user exist and that the user's exec plugin can be found on PATH.
 */
export async function discoverKubeContexts(options: KubeDiscoveryOptions = {}): Promise<KubeContexts> {
  const { env, homedir } = resolveEnv(options);
  const platform = options.platform ?? process.platform;
  const delimiter = platform === 'win32' ? ';' : ':';
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const files = [...new Set((fromEnv.length > 0 ? fromEnv : [path.join(homedir, '.kube', 'config')]).map((f) => expandHome(f, homedir)))];
  const problems: string[] = [];
  const contexts = new Map<string, Named<Obj>>();
  const clusters = new Map<string, Named<Obj>>();
  const users = new Map<string, Named<Obj>>();
  let currentContext: string | undefined;
  const read: string[] = [];

  for (const file of files) {
    const text = await readOptional(file, problems);
    if (text === undefined) continue; // kubectl skips KUBECONFIG entries that do not exist
    read.push(file);
    // yaml is imported on first use: a bundle keeps it in a chunk of its own, out of the extension's start (issue 13).
    const config = parseKubeconfig(await import('yaml'), file, text, problems);
    if (!config) continue;
    currentContext ??= str(config['current-context']);
    collect(config, 'contexts', 'context', file, contexts, problems);
    collect(config, 'clusters', 'cluster', file, clusters, problems);
    collect(config, 'users', 'user', file, users, problems);
  }
  if (read.length === 0) {
    problems.push(
      fromEnv.length > 0
        ? `none of the kubeconfig files in KUBECONFIG exists: ${files.join(', ')}`
        : `no kubeconfig: ${files[0]} does not exist. Create a cluster context with your provider's CLI (for example "aws eks update-kubeconfig" or "gcloud container clusters get-credentials").`,
    );
  } else if (contexts.size === 0) {
    problems.push(`no contexts in ${read.join(', ')}`);
  }
  if (currentContext && !contexts.has(currentContext)) problems.push(`the current-context "${currentContext}" is not defined in any kubeconfig file`);

  const list: KubeContext[] = [];
  for (const [name, { value, file }] of contexts) {
    list.push(await describeContext(name, value, file, clusters, users, currentContext, { env, platform }));
  }
  return { files: read, ...(currentContext && { currentContext }), contexts: list, problems };
}

function parseKubeconfig({ LineCounter, parseDocument }: typeof import('yaml'), file: string, text: string, problems: string[]): Obj | undefined {
  const lineCounter = new LineCounter();
  // prettyErrors off: its messages quote the offending source line, and kubeconfig lines can hold tokens.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors.slice(0, 3)) problems.push(`${file} line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    problems.push(`${file} is not valid YAML and was skipped`);
    return undefined;
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return undefined; // an empty file is an empty config
  if (!isObj(value)) {
    problems.push(`${file} is not a kubeconfig (it does not hold a mapping) and was skipped`);
    return undefined;
  }
  return value;
}

/** Adds the named entries of one list (`contexts`, `clusters`, `users`), keeping the first definition of each name. */
function collect(config: Obj, list: string, inner: string, file: string, into: Map<string, Named<Obj>>, problems: string[]): void {
  const entries = config[list];
  if (entries === undefined || entries === null) return;
  if (!Array.isArray(entries)) {
    problems.push(`${file}: "${list}" is not a list and was ignored`);
    return;
  }
  for (const entry of entries) {
    const name = isObj(entry) ? str(entry.name) : undefined;
    if (!name || !isObj(entry)) {
      problems.push(`${file}: an entry of "${list}" has no name and was ignored`);
      continue;
    }
    if (!into.has(name)) into.set(name, { value: isObj(entry[inner]) ? (entry[inner] as Obj) : {}, file });
  }
}

async function describeContext(
  name: string,
  context: Obj,
  file: string,
  clusters: Map<string, Named<Obj>>,
  users: Map<string, Named<Obj>>,
  currentContext: string | undefined,
  lookup: { env: NodeJS.ProcessEnv; platform: NodeJS.Platform },
): Promise<KubeContext> {
  const result: KubeContext = { name, file, current: name === currentContext, problems: [] };
  const clusterName = str(context.cluster);
  const userName = str(context.user);
  const namespace = str(context.namespace);
  if (namespace) result.namespace = namespace;
  if (clusterName) {
    result.cluster = clusterName;
    const cluster = clusters.get(clusterName);
    if (!cluster) result.problems.push(`its cluster "${clusterName}" is not defined in any kubeconfig file`);
    else if (str(cluster.value.server)) result.server = str(cluster.value.server);
  } else {
    result.problems.push('it names no cluster');
  }
  if (!userName) return result;
  result.user = userName;
  const user = users.get(userName);
  if (!user) {
    result.problems.push(`its user "${userName}" is not defined in any kubeconfig file`);
    return result;
  }
  const authProvider = isObj(user.value['auth-provider']) ? str(user.value['auth-provider'].name) : undefined;
  if (authProvider && REMOVED_AUTH_PROVIDERS[authProvider]) {
    result.problems.push(
      `its user uses the "${authProvider}" auth-provider, which current kubectl and client libraries no longer support; switch to ${REMOVED_AUTH_PROVIDERS[authProvider]}`,
    );
  }
  if (isObj(user.value.exec)) {
    result.exec = await checkExec(user.value.exec, user.file, lookup);
    if (!result.exec.found) result.problems.push(result.exec.hint ?? `the exec plugin "${result.exec.command}" is not on PATH`);
  }
  return result;
}

/**
 * The exec arguments that name an EKS cluster (`eks get-token --cluster-name NAME --region REGION`), and only those:
 * an exec plugin's other arguments may carry a token or a role, which must not travel with the context.
 */
function clusterArgs(raw: unknown): { args?: string[] } {
  if (!Array.isArray(raw) || !raw.every((a) => typeof a === 'string')) return {};
  const list = raw as string[];
  const kept: string[] = [];
  list.forEach((a, i) => {
    if (a === 'eks' || a === 'get-token') kept.push(a);
    else if ((a === '--cluster-name' || a === '--region') && list[i + 1] !== undefined) kept.push(a, list[i + 1]!);
  });
  return kept.length > 0 ? { args: kept } : {};
}

async function checkExec(exec: Obj, file: string, lookup: { env: NodeJS.ProcessEnv; platform: NodeJS.Platform }): Promise<KubeExecPlugin> {
  const command = str(exec.command);
  if (!command) return { command: '', found: false, hint: 'its exec plugin names no command' };
  // client-go resolves a relative command that has a directory part against the kubeconfig file's folder.
  const resolved = await findExecutable(command, { ...lookup, baseDir: path.dirname(file) });
  const args = clusterArgs(exec.args);
  if (resolved) return { command, resolved, found: true, ...args };
  const install = str(exec.installHint)?.trim() ?? INSTALL_HINTS[path.basename(command)] ?? `install "${command}"`;
  const hint =
    `the exec plugin "${command}" was not found on PATH: ${install.replace(/\.$/, '')}, or put it on PATH. ` +
    'VS Code started from the desktop may not see your shell\'s PATH; an absolute path in kubeconfig also works.';
  return { command, found: false, hint, ...args };
}
