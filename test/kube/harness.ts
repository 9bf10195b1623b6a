// The Kubernetes test server for integration tests: a real kube-apiserver with etcd (scripts/kube-test-server.mjs),
// reached only through the kubeconfig it writes, as the provider will reach a developer's cluster.
// One server per test file (start-up costs seconds and half a GB), one namespace per test.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubeServer, type KubeServer } from '../../scripts/kube-test-server.mjs';
import type { Environment } from '../../src/model/environment';
import type { DriverTiming } from '../../src/model/providerApi';
import type { KubernetesDriver } from '../../src/provisioning/providers/kubernetes/driver';
import { kubernetesProvider } from '../../src/provisioning/providers/kubernetes/module';

export type { KubeServer };

export interface TestKube extends KubeServer {
  /** A client configuration loaded from the server's kubeconfig file, for `context` (default: the admin's). */
  kubeConfig(context?: 'encore-test' | 'encore-test-viewer'): KubeConfig;
}

/**
 * Starts the server, or fails with the command that builds it. Loopback addresses bypass any HTTP proxy set in the
 * environment, so a developer's proxy settings cannot send the tests elsewhere.
 */
export async function startTestKube(options: { dir?: string; tokenWebhook?: { url: string } } = {}): Promise<TestKube> {
  const noProxy = (process.env.NO_PROXY ?? process.env.no_proxy ?? '').split(',').filter(Boolean);
  for (const host of ['127.0.0.1', 'localhost']) if (!noProxy.includes(host)) noProxy.push(host);
  process.env.NO_PROXY = process.env.no_proxy = noProxy.join(',');
  const server = await startKubeServer(options);
  return {
    ...server,
    kubeConfig(context = 'encore-test') {
      const kc = new KubeConfig();
      kc.loadFromFile(server.kubeconfigPath);
      kc.setCurrentContext(context);
      return kc;
    },
  };
}

/** A DNS-1123 label that no other test of this run uses: `prefix-` and 8 hex digits. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The Kubernetes provider's driver for an environment, made by the product's provider module. */
export async function kubeDriver(
  env: Environment,
  options: { appRoot: string; kubeconfig: string; env?: NodeJS.ProcessEnv; homedir?: string } & DriverTiming,
): Promise<KubernetesDriver> {
  const { appRoot, kubeconfig, env: processEnv, homedir, ...timing } = options;
  const opened = await kubernetesProvider.open(env, { appRoot, kubeconfig, env: processEnv, homedir, timing });
  return opened.driver as KubernetesDriver;
}
