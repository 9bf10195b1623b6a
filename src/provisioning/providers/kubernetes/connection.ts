/**
 * The connection to the environment's cluster, through the developer's kubeconfig only: an explicit file, or
 * KUBECONFIG (several files, merged as kubectl merges them: the first file that defines a name wins), or
 * ~/.kube/config. The context is the environment's `provider.context`, never the kubeconfig's current one, so
 * switching kubectl's context elsewhere can never point an apply at another cluster.
 *
 * Before any request, the context is checked with the same discovery the Create form uses
 * (src/environments/discovery/kube.ts): a missing cluster or user, or an exec plugin that is not on PATH, fails
 * here with what to install, instead of as a spawn error in the middle of an apply.
 */

import path from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { discoverKubeContexts } from './discovery';
import { expandHome, resolveEnv } from '../../../files/readOptional';
import type { KubeContext, KubeContexts } from '../../../model/discovery';
import { KubeClient } from './client';
import { KubeConfigError } from './errors';

export interface ConnectOptions {
  /** A kubeconfig file to use instead of KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** The kubeconfig context: the environment's `provider.context`. */
  context: string;
  env?: NodeJS.ProcessEnv;
  homedir?: string;
  platform?: NodeJS.Platform;
}

export interface KubeConnection {
  client: KubeClient;
  /** The merged kubeconfig, with the environment's context current. */
  kubeConfig: KubeConfig;
  context: KubeContext;
  /** The kubeconfig files read, in order. */
  files: string[];
}

/** The discovery environment for these options: an explicit file stands in for KUBECONFIG. */
function discoveryEnv(options: Omit<ConnectOptions, 'context'>): { env: NodeJS.ProcessEnv; homedir: string } {
  const { env, homedir } = resolveEnv(options);
  return { env: options.kubeconfig ? { ...env, KUBECONFIG: expandHome(options.kubeconfig, homedir) } : env, homedir };
}

/** Every context of the kubeconfig, with its problems (missing cluster, user or exec plugin). */
export function listContexts(options: Omit<ConnectOptions, 'context'> = {}): Promise<KubeContexts> {
  return discoverKubeContexts({ ...discoveryEnv(options), platform: options.platform });
}

export async function connect(options: ConnectOptions): Promise<KubeConnection> {
  const found = await listContexts(options);
  const context = found.contexts.find((c) => c.name === options.context);
  if (!context) {
    const where = found.files.length > 0 ? found.files.join(', ') : 'no kubeconfig file';
    const known = found.contexts.map((c) => c.name);
    throw new KubeConfigError(
      `The kubeconfig context "${options.context}" does not exist (read: ${where}; contexts: ${known.length > 0 ? known.join(', ') : 'none'}). ` +
        `Create it (for example with "aws eks update-kubeconfig" or "gcloud container clusters get-credentials"), or change the environment's context.` +
        (found.problems.length > 0 ? ` Problems: ${found.problems.join('; ')}` : ''),
    );
  }
  if (context.exec && !context.exec.found) {
    throw new KubeConfigError(`Context "${context.name}" cannot authenticate: ${context.exec.hint ?? `the exec plugin "${context.exec.command}" is not on PATH`}`);
  }
  if (context.problems.length > 0) throw new KubeConfigError(`Context "${context.name}" cannot be used: ${context.problems.join('; ')}.`);

  const kubeConfig = loadMerged(found.files, context);
  return { client: KubeClient.fromKubeConfig(kubeConfig, context.name, context.exec?.command), kubeConfig, context, files: found.files };
}

/**
 * One KubeConfig from several files, the first definition of each name winning (kubectl's rule; client-node's own
 * mergeConfig throws on a duplicate name instead). Each file is loaded on its own, so its relative certificate paths
 * resolve against its own folder.
 */
function loadMerged(files: string[], context: KubeContext): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  for (const file of files) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new KubeConfigError(`Cannot load the kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
    }
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
  }
  const user = context.user ? users.get(context.user) : undefined;
  if (user?.exec && context.exec?.resolved && user.exec.command !== context.exec.resolved) {
    // client-go resolves a relative plugin path against the kubeconfig's folder; client-node does not, so we do.
    users.set(user.name, { ...user, exec: { ...user.exec, command: path.resolve(context.exec.resolved) } });
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext: context.name });
  return kc;
}
