/**
 * An AWS environment's part of a deploy (providerApi.ts `DeployTarget`): the deploy history in the state bucket
 * beside the state (`environments/<env>/deploys.json`, S3 conditional writes: the ETag is the version), the
 * Deployments' annotations and rollout watch on the environment's EKS cluster (the Kubernetes target's, on the
 * composed driver's cluster connection), and the registry: the app's ECR repository the plan made, with an ECR
 * authorization token as the one short-lived credential the build gets (in a temporary DOCKER_CONFIG).
 */

import type { DeployTarget } from '../../../model/providerApi';
import type { KubeClient } from '../kubernetes/client';
import { kubernetesDeployTarget } from '../kubernetes/deployTarget';
import type { AwsContext } from './driver/common';
import type { S3StateBackend } from './stateBackend';

const ecrSdk = () => import('@aws-sdk/client-ecr');

export function awsDeployTarget(history: () => Promise<S3StateBackend>, cluster: () => Promise<KubeClient>, namespace: string, location: string): DeployTarget {
  const inCluster = kubernetesDeployTarget(cluster, namespace);
  return {
    historyLocation: location,

    async loadHistory(signal) {
      const found = await (await history()).readHistory(signal);
      if (!found) return { doc: undefined, version: null };
      let doc: unknown;
      try {
        doc = JSON.parse(found.text);
      } catch {
        // Not JSON: storedHistory() refuses it, and nothing is written over it.
        doc = { corrupt: true };
      }
      return { doc, version: found.etag };
    },

    async saveHistory(doc, expected, signal) {
      return (await (await history()).writeHistory(`${JSON.stringify(doc)}\n`, expected, signal)) !== null;
    },

    workloadAnnotations: (names, signal) => inCluster.workloadAnnotations(names, signal),
    annotate: (name, annotations, signal) => inCluster.annotate(name, annotations, signal),
    watchRollout: (names, options) => inCluster.watchRollout(names, options),
  };
}

/**
 * A credential for the account's ECR registry from GetAuthorizationToken: the token is base64 of `AWS:<password>`,
 * valid for 12 hours; only the password part is a secret and it never appears in a message.
 */
export async function ecrCredential(c: AwsContext, signal: AbortSignal): Promise<{ registry: string; credential: { username: string; password: string }; expiresAt?: Date }> {
  const { GetAuthorizationTokenCommand } = await ecrSdk();
  const answer = await c.clients.send('ECR', new GetAuthorizationTokenCommand({}), signal);
  const data = answer.authorizationData?.[0];
  if (!data?.authorizationToken) throw new Error('ECR gave no authorization token (GetAuthorizationToken answered without authorizationData)');
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new Error('the ECR authorization token is not "user:password" in base64');
  const registry = (data.proxyEndpoint ?? '').replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return { registry, credential: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }, ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}) };
}
