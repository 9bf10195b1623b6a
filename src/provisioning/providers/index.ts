/**
 * The providers by the environment's provider kind (providerApi.ts `ProviderModule`): adding a provider is one
 * folder and one row here. Each module is imported only when asked for, so the CLI and the extension load no
 * provider (or its SDK) they do not use.
 */

import type { ProviderKind } from '../../model/desiredGraph';
import type { Environment } from '../../model/environment';
import { DriverError, type ProviderModule } from '../../model/providerApi';
import { LocalFileBackend } from '../state/localFile';

/** Finds a provider's module by kind; the session takes one, so tests can give a provider of their own. */
export type ProviderRegistry = (kind: ProviderKind) => Promise<ProviderModule>;

const MODULES: Record<ProviderKind, () => Promise<ProviderModule>> = {
  kubernetes: async () => (await import('./kubernetes/module')).kubernetesProvider,
  aws: async () => (await import('./aws/module')).awsProvider,
  gcp: async () => notYetAvailable('gcp', 'GCP'),
};

export const providerModule: ProviderRegistry = (kind) => MODULES[kind]();

/** A provider that has not landed: every open says so; its offline state is the local folder's. */
function notYetAvailable(kind: ProviderKind, name: string): ProviderModule {
  return {
    kind,
    open: async (env: Environment) => {
      throw new DriverError(
        'unavailable',
        `The ${name} provider is not available yet: environment "${env.name}" cannot be planned against or applied to ${name} in this version. Use a Kubernetes environment (any cluster in your kubeconfig) for now.`,
      );
    },
    offlineState: (env, { appRoot }) => LocalFileBackend.forApp(appRoot, env.name),
  };
}
