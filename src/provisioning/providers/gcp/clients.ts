/**
 * The Google Cloud clients the GCP provider uses, each imported only when first asked for (never at activation):
 * the GAPIC clients for GKE, Memorystore, Secret Manager, Artifact Registry, Cloud SQL Admin (REST, as the API is)
 * and Resource Manager (project IAM), and the handwritten Pub/Sub and Storage clients. IAM service accounts have no
 * GAPIC client for Node (@google-cloud/iam covers only the v2/v3 policy APIs): iamRest.ts calls their REST API with
 * the same auth client. Every client gets the one AuthClient from loadAdc().
 */

import type { AuthClient } from 'google-auth-library';

/** Where a client connects; tests point these at the fakes on 127.0.0.1. */
export interface ClientEndpoint {
  apiEndpoint?: string;
  port?: number;
  /** Extra options the tests need (an insecure channel for the gRPC fakes, plain HTTP for the REST ones). */
  [option: string]: unknown;
}

export const loadContainer = () => import('@google-cloud/container');
export const loadRedis = () => import('@google-cloud/redis');
export const loadSecretManager = () => import('@google-cloud/secret-manager');
export const loadArtifactRegistry = () => import('@google-cloud/artifact-registry');
export const loadSql = () => import('@google-cloud/sql');
export const loadResourceManager = () => import('@google-cloud/resource-manager');
export const loadPubSub = () => import('@google-cloud/pubsub');
export const loadStorage = () => import('@google-cloud/storage');

/** Options for a GAPIC client: the shared auth client, and the endpoint when one is given. */
export function gapicOptions(authClient: AuthClient, endpoint: ClientEndpoint = {}): Record<string, unknown> {
  return { authClient, ...endpoint };
}

/** Cloud SQL Admin is served over REST: the client's REST transport (gax's "fallback"). */
export function sqlOptions(authClient: AuthClient, endpoint: ClientEndpoint = {}): Record<string, unknown> {
  return { fallback: true, authClient, ...endpoint };
}
