/**
 * Who the cluster says we are: a SelfSubjectReview (authentication.k8s.io/v1, GA since Kubernetes 1.28) answers with
 * the user the credentials authenticate as, whatever they are (a token, a certificate, an exec plugin's output).
 * Older clusters lack the API: the kubeconfig's user name is said instead, marked as such.
 */

import type { ProviderIdentity } from '../../../model/providerApi';
import type { KubeClient } from './client';

export async function selfIdentity(client: KubeClient, signal: AbortSignal, kubeconfigUser?: string): Promise<Omit<ProviderIdentity, 'scope'>> {
  try {
    const review = await client.request<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      signal,
    });
    const user = review.status?.userInfo?.username;
    if (user) return { principal: user, ...(kubeconfigUser ? { source: `kubeconfig user ${kubeconfigUser}` } : {}) };
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  return { principal: kubeconfigUser ? `kubeconfig user ${kubeconfigUser}` : 'unknown user', source: 'the cluster has no SelfSubjectReview API to say more' };
}
