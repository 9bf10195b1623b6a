/**
 * The provider drivers by the environment's provider kind (providerApi.ts `DriverFactory`), and where each keeps an
 * environment's state (model/state.ts `StateBackendFactory`). Each provider is imported only when asked for, so the
 * CLI and the extension load no provider (or its SDK) they do not use.
 */

import type { Environment } from '../../model/environment';
import { DriverError, type ProviderDriver } from '../../model/providerApi';
import type { StateBackend } from '../../model/state';
import { environmentNamespace } from '../planner';
import { LocalFileBackend } from '../state/localFile';
import { MigratingBackend, MirroredBackend, MirrorReader, mirrorFile } from '../state/mirror';
import type { KubernetesDriverOptions } from './kubernetes/driver';

/** `appRoot` is what every driver gets; the rest applies to the Kubernetes driver (a kubeconfig file, images, timeouts). */
export type DriverOptions = { appRoot: string } & Partial<Omit<KubernetesDriverOptions, 'appRoot'>>;

export async function driverFor(env: Environment, options: DriverOptions): Promise<ProviderDriver> {
  switch (env.provider.kind) {
    case 'kubernetes': {
      const { KubernetesDriver } = await import('./kubernetes/driver');
      return new KubernetesDriver(env, options);
    }
    case 'aws':
    case 'gcp': {
      const name = env.provider.kind === 'aws' ? 'AWS' : 'GCP';
      throw new DriverError(
        'unavailable',
        `The ${name} provider is not available yet: environment "${env.name}" cannot be planned against or applied to ${name} in this version. Use a Kubernetes environment (any cluster in your kubeconfig) for now.`,
      );
    }
  }
}

/**
 * Kubernetes keeps state in a Secret plus a Lease in the environment's namespace, with a local copy beside the app
 * (`.encore/state/<env>/mirror.json`) for what reaches no cluster: with `driver` null (an offline plan, the tree's
 * statuses at start) the copy is read and nothing can be written. State an earlier version kept in
 * `.encore/state/<env>/state.json` moves into the Secret on the next apply or destroy. AWS and GCP: null (not
 * available yet; the local folder backend).
 */
export async function stateBackendFor(env: Environment, { appRoot, driver }: { appRoot: string; driver: ProviderDriver | null }): Promise<StateBackend | null> {
  if (env.provider.kind !== 'kubernetes') return null;
  const legacy = LocalFileBackend.forApp(appRoot, env.name);
  const file = mirrorFile(appRoot, env.name);
  if (driver === null) {
    const { STATE_SECRET } = await import('./kubernetes/stateBackend');
    const source = `Secret ${STATE_SECRET} in namespace ${environmentNamespace(env)} (context ${env.provider.context})`;
    return new MirrorReader(file, { environment: env.name, source, legacy });
  }
  const [{ KubernetesDriver, kubernetesStateBackend }, { STATE_GONE }] = await Promise.all([import('./kubernetes/driver'), import('./kubernetes/stateBackend')]);
  // A driver made elsewhere (the unit tests' in-memory cloud) has no cluster connection to share.
  if (!(driver instanceof KubernetesDriver)) return null;
  return new MirroredBackend(new MigratingBackend(await kubernetesStateBackend(driver), legacy), file, STATE_GONE);
}
