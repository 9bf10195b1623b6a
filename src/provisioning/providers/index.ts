/**
 * The providers by the environment's provider kind (providerApi.ts `ProviderModule`): adding a provider is one
 * folder and one row here. Each module is imported only when asked for, so the CLI and the extension load no
 * provider (or its SDK) they do not use.
 */

import type { ProviderKind } from '../../model/desiredGraph';
import type { ProviderModule } from '../../model/providerApi';

/** Finds a provider's module by kind; the session takes one, so tests can give a provider of their own. */
export type ProviderRegistry = (kind: ProviderKind) => Promise<ProviderModule>;

const MODULES: Record<ProviderKind, () => Promise<ProviderModule>> = {
  kubernetes: async () => (await import('./kubernetes/module')).kubernetesProvider,
  aws: async () => (await import('./aws/module')).awsProvider,
  gcp: async () => (await import('./gcp/module')).gcpProvider,
};

export const providerModule: ProviderRegistry = (kind) => MODULES[kind]();
