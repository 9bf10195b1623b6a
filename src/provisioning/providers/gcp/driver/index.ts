/**
 * The GCP ProviderDriver (providerApi.ts): every GCP resource type the planner emits, each by its handler (one file
 * per service family), over one connection's clients. Its `clusterEndpoint` is what composition (compose.ts) asks
 * to reach the GKE cluster the same graph creates, so the in-cluster half goes there.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type DriverTiming, type FieldChange, type LiveObject, type Outputs, type ProviderDriver, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import type { ClusterHost } from '../../compose';
import type { KubeEndpoint } from '../../kubernetes/client';
import { diffSettings } from '../../kubernetes/diff';
import type { GcpConnection } from '../connection';
import { describeIdentity, type GcpIdentity } from '../identity';
import { artifactRegistryHandler, repositoryRegistry } from './artifactRegistry';
import { at, GcpClients, pick, type GcpContext, type Handler } from './common';
import { deployServiceAccountHandler, workloadIdentityPoolHandler, workloadIdentityProviderHandler } from './ciIdentity';
import { existingClusterHandler, privateServicesHandler } from './existingCluster';
import { bucketHandler } from './gcs';
import { clusterConnection, clusterHandler, nodePoolHandler } from './gke';
import { serviceAccountHandler } from './iam';
import { networkHandler } from './network';
import { subscriptionHandler, topicHandler } from './pubsub';
import { redisHandler } from './redis';
import { secretHandler, secretValueStatus, setSecretValue } from './secrets';
import { sqlHandler } from './sql';

export const HANDLERS: Record<string, Handler> = {
  'compute.googleapis.com/Network': networkHandler,
  'container.googleapis.com/Cluster': clusterHandler,
  'container.googleapis.com/NodePool': nodePoolHandler,
  'GCP::GKE::ExistingCluster': existingClusterHandler,
  'servicenetworking.googleapis.com/Connection': privateServicesHandler,
  'artifactregistry.googleapis.com/Repository': artifactRegistryHandler,
  'iam.googleapis.com/ServiceAccount': serviceAccountHandler,
  'iam.googleapis.com/WorkloadIdentityPool': workloadIdentityPoolHandler,
  'iam.googleapis.com/WorkloadIdentityPoolProvider': workloadIdentityProviderHandler,
  'iam.googleapis.com/DeployServiceAccount': deployServiceAccountHandler,
  'sqladmin.googleapis.com/Instance': sqlHandler,
  'redis.googleapis.com/Instance': redisHandler,
  'pubsub.googleapis.com/Topic': topicHandler,
  'pubsub.googleapis.com/Subscription': subscriptionHandler,
  'storage.googleapis.com/Bucket': bucketHandler,
  'secretmanager.googleapis.com/Secret': secretHandler,
};

const SECRET_TYPE = 'secretmanager.googleapis.com/Secret';

export interface GcpDriverOptions extends DriverTiming {
  environment: string;
  connection: GcpConnection;
  /** The existing GKE cluster the environment runs on ("use an existing cluster"), known before any read. */
  existingCluster?: { name: string; location: string };
}

export class GcpDriver implements ProviderDriver, ClusterHost {
  readonly kind = 'gcp' as const;
  readonly target: string;
  private readonly clients: GcpClients;
  private readonly context: GcpContext;
  private identity: Promise<GcpIdentity> | null = null;

  constructor(private readonly options: GcpDriverOptions) {
    const { connection } = options;
    this.target = `GCP project ${connection.project} in ${connection.region}`;
    this.clients = new GcpClients(connection);
    this.context = {
      connection,
      clients: this.clients,
      environment: options.environment,
      project: connection.project,
      region: connection.region,
      timing: { readyTimeoutMs: options.readyTimeoutMs, deleteTimeoutMs: options.deleteTimeoutMs, pollIntervalMs: options.pollIntervalMs },
      names: new Map(options.existingCluster ? [['gcp:gke', `${options.existingCluster.location}/${options.existingCluster.name}`]] : []),
      call: (api, operation, run, signal) => connection.call(api, operation, run, signal),
    };
  }

  /** The connection (ADC and endpoints) the driver calls Google with; the state backend uses the same. */
  get connection(): GcpConnection {
    return this.options.connection;
  }

  /** The Docker location Artifact Registry reports for the environment's repository `name` in the region (null: none). */
  artifactRegistryLocation(name: string, signal: AbortSignal): Promise<string | null> {
    return repositoryRegistry(this.context, this.context.region, name, signal);
  }

  /** Who the credentials act as, once (again after a failure); fetching it proves they work. */
  whoAmI(): Promise<GcpIdentity> {
    this.identity ??= describeIdentity({ description: this.options.connection.adc, client: this.options.connection.auth }).catch((err) => {
      this.identity = null;
      throw err;
    });
    return this.identity;
  }

  private handler(r: Pick<DesiredResource, 'id' | 'providerType'>): Handler {
    const h = HANDLERS[r.providerType];
    if (!h) throw new DriverError('unsupported', `${r.id}: the GCP provider does not handle ${r.providerType}`, { resourceId: r.id });
    return h;
  }

  async preflight(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.options.connection.accessToken();
  }

  supports(providerType: string): boolean {
    return providerType in HANDLERS;
  }

  read(r: DesiredResource, signal: AbortSignal): Promise<LiveObject | null> {
    return this.handler(r).read(r, this.context, signal);
  }

  create(r: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return this.handler(r).create(r, this.context, ctx);
  }

  update(r: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return this.handler(r).update(r, this.context, ctx);
  }

  delete(r: DesiredResource, ctx: StepContext): Promise<void> {
    return this.handler(r).delete(r, this.context, ctx);
  }

  waitReady(r: ResolvedResource, ctx: StepContext): Promise<void> {
    return this.handler(r).waitReady(r, this.context, ctx);
  }

  diff(desired: ResolvedResource, live: LiveObject): FieldChange[] {
    const h = this.handler(desired);
    const paths = h.managed.filter((p) => at(desired.resolved, p) !== undefined);
    return [...diffSettings(pick(desired.resolved, paths), pick(live.observed, paths)), ...(h.diff?.(desired, live) ?? [])];
  }

  secretValueStatus(r: DesiredResource, signal: AbortSignal): Promise<'set' | 'unset' | 'missing'> {
    if (r.providerType !== SECRET_TYPE) throw new DriverError('unsupported', `${r.id} holds no value a person sets`, { resourceId: r.id });
    return secretValueStatus(r, this.context, signal);
  }

  setSecretValue(r: DesiredResource, value: string, signal: AbortSignal): Promise<void> {
    if (r.providerType !== SECRET_TYPE) throw new DriverError('unsupported', `${r.id} holds no value a person sets`, { resourceId: r.id });
    return setSecretValue(r, this.context, value, signal);
  }

  /** The environment's GKE cluster, once it runs (found by the name a read or create saw, else by its labels). */
  clusterEndpoint(signal: AbortSignal): Promise<KubeEndpoint | null> {
    return clusterConnection(this.context, signal);
  }

  async dispose(): Promise<void> {
    await this.clients.close();
  }
}
