/**
 * The provider drivers by the environment's provider kind (providerApi.ts `DriverFactory`). Each driver is
 * imported only when asked for, so the CLI and the extension load no provider (or its SDK) they do not use.
 */

import type { Environment } from '../../model/environment';
import { DriverError, type ProviderDriver } from '../../model/providerApi';
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
