/**
 * The state one planning run shares between the per-resource mappers: the inputs, the resources added so far, and
 * what later steps need from earlier ones (the environment variables a service gets from Kubernetes Secrets, the
 * cloud permissions it needs, the infra config sections). Each mapper is a plain function over this context.
 */

import type { AppModel } from '../../model/appModel';
import { outputRef, outputRefs, type DesiredResource, type JsonObject, type JsonValue, type ProviderKind, type ResourceKind, type SourceRef } from '../../model/desiredGraph';
import type { Environment } from '../../model/environment';
import { overrideImage } from '../../model/imageOverride';
import type { EffectiveSizing } from './sizing';
import type { EnvironmentNeeds } from './needs';
import type { Naming } from './names';

/** An environment variable a workload reads from a key of a Kubernetes Secret. */
export interface SecretEnv {
  envVar: string;
  /** The graph id of the Kubernetes Secret. */
  secretId: string;
  secretName: string;
  key: string;
  /** The services that get it; `all` for every workload (the gateway included). */
  services: string[] | 'all';
}

/** A cloud permission a service's identity needs on one resource of the graph. */
export interface Grant {
  resource: string;
  /** IAM actions on AWS, predefined roles on GCP. */
  permissions: string[];
}

/** The infra.config.json sections the mappers fill in (../shared/notes/encore-app-model.md §4.2). */
export interface InfraConfigParts {
  sql_servers: JsonObject[];
  redis: Record<string, JsonValue>;
  pubsub: JsonObject[];
  object_storage: JsonObject[];
  secrets: Record<string, JsonValue>;
  /** Resources whose outputs or existence the document relies on. */
  dependsOn: string[];
}

export interface NewResource {
  id: string;
  kind: ResourceKind;
  providerType: string;
  name: string;
  source?: SourceRef | null;
  settings?: JsonObject;
  dependsOn?: string[];
  stateful?: boolean;
  summary: string;
}

export class PlanContext {
  readonly provider: ProviderKind;
  readonly production: boolean;
  readonly resources: DesiredResource[] = [];
  readonly warnings: string[] = [];
  readonly secretEnv: SecretEnv[] = [];
  readonly grants = new Map<string, Grant[]>();
  /** Per service, resources its Deployment must wait for (its database, its cache, …). */
  readonly serviceNeeds = new Map<string, Set<string>>();
  readonly config: InfraConfigParts = { sql_servers: [], redis: {}, pubsub: [], object_storage: [], secrets: {}, dependsOn: [] };
  private readonly ids = new Set<string>();
  /**
   * The service-auth key ids the environment has, ascending: one, or two while a rotation is in progress (both
   * verify, the newest signs). Set by desiredGraph from PlanOptions.
   */
  serviceAuthKeyIds: readonly number[] = [1];
  /** The app's GitHub repository (`owner/name`, from its git remote), for the AWS CI identity's trust. */
  ciRepository?: string;

  constructor(
    readonly model: AppModel,
    readonly env: Environment,
    readonly needs: EnvironmentNeeds,
    readonly sizing: EffectiveSizing,
    readonly names: Naming,
    /** The app's image every workload runs (a deploy's `repo@sha256:…`), or null before the first deploy. */
    readonly appImage: string | null = null,
    /** Database name → migration filename → its SQL, as the caller read them from the app; undefined: not read. */
    readonly migrationSql?: Record<string, Record<string, string>>,
  ) {
    this.provider = env.provider.kind;
    this.production = env.type === 'production';
  }

  /**
   * The image the environment pulls for a public image the product runs (a server, a Job's tool, the placeholder):
   * the environment's image override applied (model/imageOverride.ts). Never for the app's own image.
   */
  image(reference: string): string {
    return overrideImage(reference, this.env.images);
  }

  /** The id of the namespace every Kubernetes object of the environment lives in. */
  readonly namespaceId = 'k8s:namespace';

  /** The managed cluster on AWS and GCP; null on the kubernetes provider, whose cluster is given. */
  get clusterId(): string | null {
    return this.provider === 'aws' ? 'aws:eks' : this.provider === 'gcp' ? 'gcp:gke' : null;
  }

  /** What a new Kubernetes object waits for: the namespace, and on AWS/GCP the nodes that run it. */
  get k8sBase(): string[] {
    // An existing cluster brings its own nodes; Autopilot has no node pool of the environment's either.
    if (this.provider === 'aws') return [this.namespaceId, this.existingCluster ? 'aws:eks' : 'aws:eks-nodegroup'];
    if (this.provider === 'gcp') return [this.namespaceId, this.autopilot || this.existingCluster ? 'gcp:gke' : 'gcp:gke-nodepool'];
    return [this.namespaceId];
  }

  /** A GCP environment on GKE Autopilot (a cluster of its own; an existing cluster is what it is). */
  get autopilot(): boolean {
    return this.env.provider.kind === 'gcp' && this.env.provider.autopilot === true && !this.existingCluster;
  }

  /** An AWS or GCP environment on an existing cluster ("use an existing cluster"): no network or nodes of its own. */
  get existingCluster(): boolean {
    return (this.env.provider.kind === 'aws' || this.env.provider.kind === 'gcp') && this.env.provider.cluster !== undefined;
  }

  /**
   * Where AWS managed databases and caches go: the environment's VPC, or on an existing cluster the security groups
   * made next to it (in its VPC, on its private subnets).
   */
  get awsStorage(): { id: string; subnetIds: string; databaseSecurityGroupId: string; cacheSecurityGroupId: string } {
    const id = this.existingCluster ? 'aws:storage-access' : 'aws:vpc';
    return {
      id,
      subnetIds: outputRef(id, 'storageSubnetIds'),
      databaseSecurityGroupId: outputRef(id, 'databaseSecurityGroupId'),
      cacheSecurityGroupId: outputRef(id, 'cacheSecurityGroupId'),
    };
  }

  /**
   * Where GCP managed databases and caches go: the environment's network (named by its graph id, which the driver
   * resolves), or on an existing cluster its network (the full `projects/P/global/networks/N`) once private services
   * access is there.
   */
  get gcpStorage(): { id: string; network: string } {
    return this.existingCluster ? { id: 'gcp:private-services', network: outputRef('gcp:private-services', 'network') } : { id: 'gcp:network', network: 'gcp:network' };
  }

  /** Adds a resource. It also waits for every resource whose outputs its settings use, so no such edge is forgotten. */
  add(r: NewResource): DesiredResource {
    if (this.ids.has(r.id)) throw new Error(`the planner produced the id ${r.id} twice`);
    this.ids.add(r.id);
    const settings = r.settings ?? {};
    const resource: DesiredResource = {
      id: r.id,
      kind: r.kind,
      providerType: r.providerType,
      name: r.name,
      source: r.source ?? null,
      settings,
      dependsOn: [...new Set([...(r.dependsOn ?? []), ...outputRefs(settings).map((o) => o.id)])],
      stateful: r.stateful ?? false,
      summary: r.summary,
    };
    this.resources.push(resource);
    return resource;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  grant(service: string, resource: string, permissions: string[]): void {
    const list = this.grants.get(service) ?? [];
    list.push({ resource, permissions });
    this.grants.set(service, list);
  }

  need(service: string, ...ids: string[]): void {
    const set = this.serviceNeeds.get(service) ?? new Set<string>();
    for (const id of ids) set.add(id);
    this.serviceNeeds.set(service, set);
  }
}
