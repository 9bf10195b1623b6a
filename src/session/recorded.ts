/**
 * An environment's recorded state as last seen on this machine (the provider's local copy): for the tree's
 * statuses at start-up, without reaching any provider.
 */

import type { Environment } from '../model/environment';
import type { LoadedState } from '../model/state';
import { providerModule, type ProviderRegistry } from '../provisioning/providers';

export async function recordedState(appRoot: string, env: Environment, providers: ProviderRegistry = providerModule): Promise<LoadedState> {
  const module = await providers(env.provider.kind);
  return module.offlineState(env, { appRoot }).load();
}
