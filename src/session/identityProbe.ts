/**
 * Who would act on an environment that may not be saved yet (the Create / Edit form) or is merely selected (the
 * status bar): the provider is opened for its settings alone, asked for its identity, and closed. Any provider
 * (Kubernetes context and user, AWS account and ARN, GCP when its module lands). Credentials stay inside the
 * provider; only the identity comes out.
 */

import type { Environment } from '../model/environment';
import type { ProviderIdentity, ProviderOpenOptions } from '../model/providerApi';
import { providerModule, type ProviderRegistry } from '../provisioning/providers';

export interface IdentityProbeOptions {
  appRoot: string;
  providers?: ProviderRegistry;
  provider?: Omit<ProviderOpenOptions, 'appRoot' | 'prompts'>;
}

export async function probeIdentity(env: Environment, options: IdentityProbeOptions, signal: AbortSignal): Promise<ProviderIdentity> {
  const module = await (options.providers ?? providerModule)(env.provider.kind);
  const opened = await module.open(env, { ...options.provider, appRoot: options.appRoot });
  try {
    return await opened.identity(signal);
  } finally {
    await opened.dispose();
  }
}

/** A key for the settings an identity depends on: the same key, the same identity. */
export function identityKey(env: Pick<Environment, 'provider'>): string {
  const p = env.provider;
  switch (p.kind) {
    case 'aws':
      return `aws\u0000${p.profile ?? ''}\u0000${p.region}`;
    case 'gcp':
      return `gcp\u0000${p.project}\u0000${p.region}`;
    case 'kubernetes':
      return `kubernetes\u0000${p.context}`;
  }
}
