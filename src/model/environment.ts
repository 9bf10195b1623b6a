/** The shape of `encore.environments.json`; `schemas/encore.environments.schema.json` is its published schema. */

import type { ImageOverride } from './imageOverride';

export type { ImageOverride } from './imageOverride';

export const ENVIRONMENTS_FILE = 'encore.environments.json';

export type EnvironmentType = 'production' | 'development';

export type DeployTrigger = { trigger: 'push'; branch: string } | { trigger: 'manual' };

/**
 * An existing EKS cluster the environment runs on instead of one of its own ("use an existing cluster"): named, in
 * the environment's account and region. Never created, changed or deleted by the environment.
 */
export interface ExistingEksCluster {
  name: string;
}

/** An existing GKE cluster of the environment's project: its name and location (a region or a zone). */
export interface ExistingGkeCluster {
  name: string;
  location: string;
}

export type ProviderSettings =
  | { kind: 'aws'; region: string; profile?: string; cluster?: ExistingEksCluster }
  | {
      kind: 'gcp';
      project: string;
      region: string;
      cluster?: ExistingGkeCluster;
      /** GKE Autopilot: GKE runs the nodes (a regional cluster with no node pool of the environment's own). */
      autopilot?: boolean;
    }
  | {
      kind: 'kubernetes';
      context: string;
      namespace?: string;
      /** The image repository deploys push to (`host[:port]/path`), with the user's own Docker credentials. */
      registry?: string;
      /** `encore build docker --base`: the base image of the app's image (Encore's default: node:slim). */
      baseImage?: string;
    };

export interface Sizing {
  databases?: Record<string, { cpu?: number; memoryGiB?: number; diskGiB?: number }>;
  caches?: Record<string, { memoryGiB?: number; replicas?: number }>;
  services?: Record<string, { minInstances?: number; maxInstances?: number }>;
}

export interface Environment {
  name: string;
  type: EnvironmentType;
  deploy: DeployTrigger;
  provider: ProviderSettings;
  sizing?: Sizing;
  /** Where the cluster pulls the public images the product runs (a mirror, per-image replacements). */
  images?: ImageOverride;
}

export interface EnvironmentsFile {
  $schema?: string;
  environments: Environment[];
}

/** One line that tells the environment apart, e.g. "Production · AWS eu-west-1 · push to main". */
export function describeEnvironment(env: Environment): string {
  const type = env.type === 'production' ? 'Production' : 'Development';
  const provider =
    env.provider.kind === 'aws'
      ? `AWS ${env.provider.region}`
      : env.provider.kind === 'gcp'
        ? `GCP ${env.provider.project} ${env.provider.region}`
        : `Kubernetes ${env.provider.context}`;
  const deploy = env.deploy.trigger === 'push' ? `push to ${env.deploy.branch}` : 'manual deploy';
  return `${type} · ${provider} · ${deploy}`;
}

/** The namespace the app runs in: the environment's name, or the one given for the kubernetes provider. */
export function environmentNamespace(env: Environment): string {
  return env.provider.kind === 'kubernetes' ? (env.provider.namespace ?? env.name) : env.name;
}
