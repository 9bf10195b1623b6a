/**
 * A GCP environment's part of a deploy (providerApi.ts `DeployTarget`), the twin of the AWS one: the deploy history
 * in the GCS state bucket beside the state (`environments/<env>/deploys.json`, written with generation
 * preconditions: the generation is the version), the Deployments' annotations and rollout watch on the environment's
 * GKE cluster (the Kubernetes target's, on the composed driver's cluster connection), and the registry: the Artifact
 * Registry repository the plan made, with an ADC access token as the one short-lived credential the build gets
 * (Docker's `oauth2accesstoken` user; the token lives about an hour and is never written or shown).
 */

import type { DeployTarget } from '../../../model/providerApi';
import type { KubeClient } from '../kubernetes/client';
import { kubernetesDeployTarget } from '../kubernetes/deployTarget';
import type { GcpConnection } from './connection';
import type { GcsStateBackend } from './stateBackend';

/** The user name Artifact Registry's Docker endpoint takes with an OAuth access token as the password. */
export const ACCESS_TOKEN_USER = 'oauth2accesstoken';

export function gcpDeployTarget(history: () => Promise<GcsStateBackend>, cluster: () => Promise<KubeClient>, namespace: string, location: string): DeployTarget {
  const inCluster = kubernetesDeployTarget(cluster, namespace);
  return {
    historyLocation: location,

    async loadHistory() {
      const found = await (await history()).readHistory();
      if (!found) return { doc: undefined, version: null };
      let doc: unknown;
      try {
        doc = JSON.parse(found.text);
      } catch {
        // Not JSON: storedHistory() refuses it, and nothing is written over it.
        doc = { corrupt: true };
      }
      return { doc, version: found.generation };
    },

    async saveHistory(doc, expected) {
      return (await (await history()).writeHistory(`${JSON.stringify(doc)}\n`, expected)) !== null;
    },

    workloadAnnotations: (names, signal) => inCluster.workloadAnnotations(names, signal),
    annotate: (name, annotations, signal) => inCluster.annotate(name, annotations, signal),
    watchRollout: (names, options) => inCluster.watchRollout(names, options),
  };
}

/** The Docker host of Artifact Registry in `region` (`europe-west1-docker.pkg.dev`), where the plan's repository is. */
export const artifactRegistryHost = (region: string) => `${region}-docker.pkg.dev`;

/** A credential for the region's Artifact Registry host: the connection's current ADC access token. */
export async function artifactRegistryCredential(connection: Pick<GcpConnection, 'accessToken' | 'region'>, signal: AbortSignal): Promise<{ registry: string; credential: { username: string; password: string } }> {
  signal.throwIfAborted();
  const token = await connection.accessToken();
  if (!token) throw new Error('Application Default Credentials gave no access token for Artifact Registry');
  return { registry: artifactRegistryHost(connection.region), credential: { username: ACCESS_TOKEN_USER, password: token } };
}
