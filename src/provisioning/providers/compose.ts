/**
 * A cloud environment's driver: cloud resources go to the cloud's driver, in-cluster ones (`k8s/*`, and the Jobs
 * that create databases, topics and buckets inside servers) to a Kubernetes driver on the cluster the same graph
 * creates (EKS, GKE) or names (an existing cluster). The cluster's endpoint is asked for when the first in-cluster
 * call needs it: the graph's dependencies put every in-cluster step after the cluster and its nodes, and a read
 * before the cluster exists finds nothing, which is the truth.
 */

import type { DesiredResource } from '../../model/desiredGraph';
import { DriverError, type DriverTiming, type FieldChange, type LiveObject, type Outputs, type ProviderDriver, type ResolvedResource, type StepContext } from '../../model/providerApi';
import type { KubeClient, KubeEndpoint } from './kubernetes/client';
import { KubernetesDriver, kubeDiff } from './kubernetes/driver';
import { supportsType as inCluster } from './kubernetes/manifests';

/** What a cloud driver tells about the cluster its environment runs on. */
export interface ClusterHost {
  /** The cluster's endpoint, or null while it does not exist (not created yet, or deleted). */
  clusterEndpoint(signal: AbortSignal): Promise<KubeEndpoint | null>;
}

export interface ComposedOptions extends DriverTiming {
  environment: string;
  namespace: string;
  production: boolean;
}

export class ComposedDriver implements ProviderDriver {
  readonly kind: ProviderDriver['kind'];
  readonly target: string;
  private kube: Promise<KubernetesDriver | null> | null = null;

  constructor(
    readonly cloud: ProviderDriver,
    private readonly host: ClusterHost,
    private readonly options: ComposedOptions,
  ) {
    this.kind = cloud.kind;
    this.target = cloud.target;
  }

  /** The in-cluster driver, or null while the cluster does not exist (asked again next time). */
  private async inClusterDriver(signal: AbortSignal): Promise<KubernetesDriver | null> {
    this.kube ??= this.host.clusterEndpoint(signal).then((endpoint) =>
      endpoint === null
        ? null
        : new KubernetesDriver({
            ...this.options,
            target: `${endpoint.label}, namespace ${this.options.namespace}`,
            endpoint: async () => endpoint,
          }),
    );
    let driver: KubernetesDriver | null;
    try {
      driver = await this.kube;
    } catch (err) {
      this.kube = null;
      throw err;
    }
    if (driver === null) this.kube = null;
    return driver;
  }

  private async requireCluster(r: DesiredResource, signal: AbortSignal): Promise<KubernetesDriver> {
    const driver = await this.inClusterDriver(signal);
    if (!driver) throw new DriverError('not-ready', `${r.id} goes into the environment's Kubernetes cluster, which does not exist yet`, { resourceId: r.id });
    return driver;
  }

  /** A client of the environment's cluster (a deploy's), refused while the cluster does not exist. */
  async clusterClient(signal: AbortSignal): Promise<KubeClient> {
    const driver = await this.inClusterDriver(signal);
    if (!driver) throw new DriverError('not-ready', `the environment's Kubernetes cluster does not exist yet: apply the environment first`);
    return driver.client();
  }

  async preflight(signal: AbortSignal): Promise<void> {
    await this.cloud.preflight(signal);
    await (await this.inClusterDriver(signal))?.preflight(signal);
  }

  supports(providerType: string): boolean {
    return inCluster(providerType) || this.cloud.supports(providerType);
  }

  async read(r: DesiredResource, signal: AbortSignal): Promise<LiveObject | null> {
    if (!inCluster(r.providerType)) return this.cloud.read(r, signal);
    // No cluster, nothing in it.
    return (await this.inClusterDriver(signal))?.read(r, signal) ?? null;
  }

  async create(r: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return inCluster(r.providerType) ? (await this.requireCluster(r, ctx.signal)).create(r, ctx) : this.cloud.create(r, ctx);
  }

  async update(r: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return inCluster(r.providerType) ? (await this.requireCluster(r, ctx.signal)).update(r, ctx) : this.cloud.update(r, ctx);
  }

  async delete(r: DesiredResource, ctx: StepContext): Promise<void> {
    if (!inCluster(r.providerType)) return this.cloud.delete(r, ctx);
    // A cluster that is gone took its objects with it.
    await (await this.inClusterDriver(ctx.signal))?.delete(r, ctx);
  }

  async waitReady(r: ResolvedResource, ctx: StepContext): Promise<void> {
    return inCluster(r.providerType) ? (await this.requireCluster(r, ctx.signal)).waitReady(r, ctx) : this.cloud.waitReady(r, ctx);
  }

  diff(desired: ResolvedResource, live: LiveObject): FieldChange[] {
    return inCluster(desired.providerType) ? kubeDiff(desired, live) : this.cloud.diff(desired, live);
  }

  async secretValueStatus(r: DesiredResource, signal: AbortSignal): Promise<'set' | 'unset' | 'missing'> {
    if (!inCluster(r.providerType)) return this.forCloudSecrets().secretValueStatus(r, signal);
    const driver = await this.inClusterDriver(signal);
    return driver ? driver.secretValueStatus(r, signal) : 'missing';
  }

  async setSecretValue(r: DesiredResource, value: string, signal: AbortSignal): Promise<void> {
    if (!inCluster(r.providerType)) return this.forCloudSecrets().setSecretValue(r, value, signal);
    await (await this.requireCluster(r, signal)).setSecretValue(r, value, signal);
  }

  private forCloudSecrets(): Required<Pick<ProviderDriver, 'secretValueStatus' | 'setSecretValue'>> {
    const { secretValueStatus, setSecretValue } = this.cloud;
    if (!secretValueStatus || !setSecretValue) throw new DriverError('unsupported', `the ${this.cloud.kind} provider cannot store secret values yet`);
    return { secretValueStatus: secretValueStatus.bind(this.cloud), setSecretValue: setSecretValue.bind(this.cloud) };
  }

  async dispose(): Promise<void> {
    const kube = this.kube;
    this.kube = null;
    await Promise.allSettled([this.cloud.dispose?.(), kube?.then((d) => d?.dispose())]);
  }
}
