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

/** The Docker host of Artifact Registry in `region` (`europe-west1-docker.pkg.dev`). */
export const artifactRegistryHost = (region: string) => `${region}-docker.pkg.dev`;

/**
 * A credential for the environment's Artifact Registry repository (`HOST/PROJECT/REPOSITORY`, as its state records
 * it): the connection's current ADC access token. The token is good on every Artifact Registry host, so it goes only
 * to the Docker location Artifact Registry itself reports for that repository (`registryLocation`), never to a host
 * named in state alone.
 */
export async function artifactRegistryCredential(
  connection: Pick<GcpConnection, 'accessToken' | 'region' | 'project'>,
  repository: string,
  registryLocation: (name: string, signal: AbortSignal) => Promise<string | null>,
  signal: AbortSignal,
): Promise<{ registry: string; credential: { username: string; password: string } }> {
  const parts = repository.split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) throw new Error(`the Artifact Registry repository ${repository} is not HOST/PROJECT/REPOSITORY`);
  const [host, project, name] = parts as [string, string, string];
  if (project !== connection.project) {
    throw new Error(`the Artifact Registry repository ${repository} is in project ${project}, and the credentials are for project ${connection.project}: is the environment for another project?`);
  }
  const reported = await registryLocation(name, signal);
  if (reported === null) {
    throw new Error(`Artifact Registry has no repository ${name} in project ${project}, ${connection.region}: apply the environment again (encore-env apply), then deploy`);
  }
  if (reported !== repository) {
    throw new Error(`the Artifact Registry repository recorded in state (${repository}) is not where Artifact Registry says it is (${reported}): apply the environment again, then deploy; the access token is sent only to the registry Google reports`);
  }
  signal.throwIfAborted();
  const token = await connection.accessToken();
  if (!token) throw new Error('Application Default Credentials gave no access token for Artifact Registry');
  return { registry: host, credential: { username: ACCESS_TOKEN_USER, password: token } };
}
