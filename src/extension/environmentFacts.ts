// What the status bar says about the selected environment beyond its name: who acts on it (the provider's
// identity, never a credential) and the revision it runs (the newest succeeded deploy of its history). Both are read
// with the user's credentials, on one provider connection, in the background.
import type { Environment } from '../model/environment';
import type { ProviderIdentity } from '../model/providerApi';
import type { EnvStore } from '../environments';
import type { DeployRecord } from '../session';

export interface EnvironmentFacts {
  identity?: ProviderIdentity;
  /** Why the identity is not known. */
  identityProblem?: string;
  /** What the environment runs; undefined with `revisionProblem` unset: nothing deployed yet. */
  current?: Pick<DeployRecord, 'id' | 'revision' | 'at' | 'by'>;
  revisionProblem?: string;
}

export async function loadEnvironmentFacts(root: string, env: Environment, store: EnvStore, signal: AbortSignal): Promise<EnvironmentFacts> {
  // Loaded on first use: the session brings the providers, which activation does not need.
  const { EnvironmentSession, currentDeploy } = await import('../session');
  const session = await EnvironmentSession.open({
    appRoot: root,
    environment: env.name,
    store,
    // Neither the identity nor the history needs the app model.
    model: () => {
      throw new Error('the app model is not needed here');
    },
  });
  const facts: EnvironmentFacts = {};
  try {
    try {
      facts.identity = await session.identity(signal);
    } catch (err) {
      facts.identityProblem = (err as Error).message;
    }
    try {
      const record = currentDeploy((await session.deploys(signal)).records);
      if (record) facts.current = { id: record.id, revision: record.revision, at: record.at, by: record.by };
    } catch (err) {
      facts.revisionProblem = (err as Error).message;
    }
  } finally {
    await session.dispose();
  }
  return facts;
}

/** "alice" of arn:aws:iam::1:user/alice, "deployer" of arn:aws:sts::1:assumed-role/deployer/s; anything else as is. */
export function shortPrincipal(principal: string): string {
  const arn = /^arn:aws[\w-]*:(?:iam|sts)::\d+:(?:user|role|assumed-role|federated-user)\/(.+)$/.exec(principal);
  if (arn) return arn[1]!.split('/')[0]!.slice(0, 40);
  if (principal.startsWith('arn:aws') && principal.endsWith(':root')) return 'root';
  return principal.length > 40 ? `${principal.slice(0, 39)}…` : principal;
}
