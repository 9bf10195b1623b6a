/**
 * The kubeconfig `encore-env setup-ci` prints for a Kubernetes environment's deploy on push: the cluster the user
 * reaches (server and the CA their own connection trusts) and a token the API server mints for the environment's
 * CI ServiceAccount (TokenRequest, bounded lifetime), so the workflow acts with the namespace-limited Role only.
 * It is printed, never written to a file: the user stores it as a repository secret.
 */

import type { KubeClient } from './client';
import { resourcePath, resourceType } from './resources';

/** A year: GitHub secrets are rotated by running setup-ci again; the server may cap it lower. */
export const CI_TOKEN_SECONDS = 365 * 24 * 3600;

/**
 * `context` is the environment's context setting: the workflow runs `encore-env deploy` with this file as its
 * KUBECONFIG, and the environment names its context, so the file's only context has that name.
 */
export async function ciKubeconfig(client: KubeClient, namespace: string, serviceAccount: string, context: string, signal: AbortSignal, expirationSeconds = CI_TOKEN_SECONDS): Promise<{ kubeconfig: string; expiresAt: string }> {
  const path = resourcePath(resourceType('v1', 'ServiceAccount'), namespace, serviceAccount, 'token');
  const answer = await client.request<{ status?: { token?: string; expirationTimestamp?: string } }>('POST', path, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
    signal,
  });
  const token = answer.status?.token;
  if (!token) throw new Error(`the API server minted no token for ServiceAccount ${serviceAccount} in namespace ${namespace}`);
  // The CA the user's own connection trusts for this server (none: the system's roots, as for a public endpoint).
  const tls: { ca?: string | Buffer | (string | Buffer)[] } = {};
  await client.endpoint.authorize(tls);
  const ca = tls.ca === undefined ? undefined : (Array.isArray(tls.ca) ? tls.ca : [tls.ca]).map((c) => c.toString()).join('\n');
  const name = context;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: client.server, ...(ca ? { 'certificate-authority-data': Buffer.from(ca).toString('base64') } : {}) } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace } }],
    'current-context': name,
  };
  // yaml is imported on first use: a bundle keeps it in a chunk of its own, out of the extension's start (issue 13).
  const { stringify } = await import('yaml');
  return { kubeconfig: stringify(doc), expiresAt: answer.status?.expirationTimestamp ?? '' };
}
