// GKE (google.container.v1.ClusterManager) from @google-cloud/container's protos: clusters (Standard with node pools,
// or Autopilot) and node pools, created, read, updated (Workload Identity, node pool autoscaling) and deleted through
// GKE's own Operation type, which is polled with GetOperation and is DONE after N polls. A cluster accepts one
// operation at a time, as GKE does. Its network and subnetwork are named in full in networkConfig. A RUNNING cluster reports the endpoint and CA the test gives (the test
// kube-apiserver, say). Everything else is UNIMPLEMENTED.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { GrpcFake, type CallContext, type Message } from '../grpcFake';
import { alreadyExists, FakeError, invalidArgument, notFound } from '../googleErrors';
import { checkId } from './names';

export interface GkeFakeOptions {
  /**
   * What a RUNNING cluster reports: `endpoint` as GKE gives it (an address; here host:port, since the test
   * kube-apiserver is not on 443) and the CA certificate in PEM (the fake sends it base64, as GKE does).
   */
  control?: { endpoint: string; caPem: string };
  /** The Kubernetes version clusters report. */
  version?: string;
}

interface PendingOperation {
  op: Message;
  polls: number;
  seen: number;
  started: number;
  deadlineMs?: number;
  finish: () => FakeError | undefined;
  cluster: string;
}

export class GkeFake extends GrpcFake {
  readonly clusters = new Map<string, Message>();
  private readonly gkeOperations = new Map<string, PendingOperation>();
  private readonly busy = new Map<string, string>();
  private readonly projectOf = new WeakMap<Message, string>();
  private gkeOperationCount = 0;

  constructor(private readonly gkeOptions: GkeFakeOptions = {}) {
    super({
      name: 'GKE fake',
      protosFrom: '@google-cloud/container',
      api: { service: 'container.googleapis.com', title: 'Kubernetes Engine API' },
      services: {
        'google.container.v1.ClusterManager': {
          CreateCluster: (req, ctx) => this.createCluster(req, ctx),
          GetCluster: (req) => this.cluster(req.name),
          ListClusters: (req) => this.listClusters(req.parent),
          UpdateCluster: (req, ctx) => this.updateCluster(req, ctx),
          DeleteCluster: (req, ctx) => this.deleteCluster(req, ctx),
          CreateNodePool: (req, ctx) => this.createNodePool(req, ctx),
          GetNodePool: (req) => this.nodePool(req.name).pool,
          SetNodePoolAutoscaling: (req, ctx) => this.setAutoscaling(req, ctx),
          DeleteNodePool: (req, ctx) => this.deleteNodePool(req, ctx),
          GetOperation: (req) => this.getGkeOperation(req.name),
        },
      },
    });
  }

  /** Points clusters (existing and later ones) at a Kubernetes API server, e.g. the test kube-apiserver. */
  setControlPlane(control: { endpoint: string; caPem: string }): void {
    this.gkeOptions.control = control;
    for (const cluster of this.clusters.values()) if (cluster.status === 'RUNNING') this.expose(cluster);
  }

  private expose(cluster: Message): void {
    const control = this.gkeOptions.control ?? { endpoint: '127.0.0.1', caPem: '' };
    cluster.endpoint = control.endpoint;
    cluster.masterAuth = { ...(cluster.masterAuth ?? {}), clusterCaCertificate: Buffer.from(control.caPem).toString('base64') };
  }

  /** Clusters by their full resource name; a Cluster's own `name` is its short id, as in GKE. */
  private cluster(name: unknown): Message {
    const cluster = this.clusters.get(String(name));
    if (!cluster) throw notFound(`Cluster "${String(name).split('/').pop()}"`);
    return cluster;
  }

  /** projects/P/locations/L, or locations/- for every location, as GKE lists. */
  private listClusters(parent: unknown): Message {
    const match = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(String(parent ?? ''));
    if (!match) throw invalidArgument(`parent "${String(parent)}" is not projects/{project}/locations/{location}`);
    const clusters = [...this.clusters.values()].filter((c) => this.projectOf.get(c) === match[1] && (match[2] === '-' || c.location === match[2]));
    return { clusters, missingZones: [] };
  }

  private fullName(cluster: Message): string {
    return `projects/${String(this.projectOf.get(cluster))}/locations/${String(cluster.location)}/clusters/${String(cluster.name)}`;
  }

  /** GKE runs one operation per cluster at a time; checked before any change is made. */
  private assertIdle(cluster: Message): void {
    const running = this.busy.get(this.fullName(cluster));
    if (running) {
      throw new FakeError(
        GrpcStatus.FAILED_PRECONDITION,
        `Cluster is running incompatible operation ${running.split('/').pop()}. Please wait and try again once it is done.`,
      );
    }
  }

  private nodePool(name: unknown): { cluster: Message; pool: Message } {
    const match = /^(projects\/[^/]+\/locations\/[^/]+\/clusters\/[^/]+)\/nodePools\/([^/]+)$/.exec(String(name ?? ''));
    if (!match) throw invalidArgument(`node pool name "${String(name)}" is not projects/*/locations/*/clusters/*/nodePools/*`);
    const cluster = this.cluster(match[1]);
    const pool = ((cluster.nodePools ?? []) as Message[]).find((p) => p.name === match[2]);
    if (!pool) throw notFound(`Node pool "${match[2]}"`);
    return { cluster, pool };
  }

  private checkAutoscaling(autoscaling: Message | undefined, where: string): void {
    if (!autoscaling?.enabled) return;
    // total_* (across the pool's zones) and the per-zone counts are alternatives, as in GKE.
    const total = autoscaling.totalMaxNodeCount !== undefined || autoscaling.totalMinNodeCount !== undefined;
    if (total && (autoscaling.maxNodeCount !== undefined || autoscaling.minNodeCount !== undefined)) throw invalidArgument(`${where}: total and per-zone node counts cannot both be set`);
    const min = Number((total ? autoscaling.totalMinNodeCount : autoscaling.minNodeCount) ?? 0);
    const max = Number((total ? autoscaling.totalMaxNodeCount : autoscaling.maxNodeCount) ?? 0);
    if (max < 1) throw invalidArgument(`${where}: max_node_count must be at least 1`);
    if (min > max) throw invalidArgument(`${where}: max_node_count (${max}) must be >= min_node_count (${min})`);
  }

  private checkPool(pool: Message, cluster: Message): Message {
    const name = checkId('Node pool', pool.name, 40);
    this.checkAutoscaling(pool.autoscaling, `node pool "${name}"`);
    const mode = (pool.config as Message | undefined)?.workloadMetadataConfig?.mode;
    if (mode === 'GKE_METADATA' && !(cluster.workloadIdentityConfig as Message | undefined)?.workloadPool) {
      throw invalidArgument(`node pool "${name}": workload metadata mode GKE_METADATA needs Workload Identity enabled on the cluster`);
    }
    return {
      initialNodeCount: 1,
      ...pool,
      name,
      status: 'PROVISIONING',
      version: this.gkeOptions.version ?? '1.35.4-gke.1000',
      selfLink: `https://container.googleapis.com/v1/${this.fullName(cluster)}/nodePools/${name}`,
    };
  }

  private checkWorkloadPool(config: Message | undefined, project: string): void {
    const pool = config?.workloadPool;
    if (pool !== undefined && pool !== '' && pool !== `${project}.svc.id.goog`) {
      throw invalidArgument(`Workload Identity pool "${String(pool)}" is invalid: it must be "${project}.svc.id.goog"`);
    }
  }

  private startGke(ctx: CallContext, cluster: Message, type: string, target: string, finish: () => FakeError | undefined): Message {
    const clusterName = this.fullName(cluster);
    this.assertIdle(cluster);
    this.gkeOperationCount += 1;
    const [, project, , location] = clusterName.split('/');
    const id = `operation-${Date.now()}-${this.gkeOperationCount}`;
    const op: Message = {
      name: id,
      operationType: type,
      status: 'RUNNING',
      location,
      selfLink: `https://container.googleapis.com/v1/projects/${project}/locations/${location}/operations/${id}`,
      targetLink: `https://container.googleapis.com/v1/${target}`,
      startTime: new Date().toISOString(),
    };
    const opName = `projects/${project}/locations/${location}/operations/${id}`;
    const pending: PendingOperation = { op, polls: this.faults.pollsFor('ClusterManager', ctx.method), seen: 0, started: Date.now(), deadlineMs: this.faults.deadlineFor('ClusterManager', ctx.method), finish, cluster: clusterName };
    this.gkeOperations.set(opName, pending);
    this.busy.set(clusterName, opName);
    this.advanceGke(opName, pending);
    return { ...op };
  }

  private advanceGke(opName: string, pending: PendingOperation): void {
    if (pending.op.status === 'DONE' || pending.seen < pending.polls) return;
    const failure = pending.finish();
    pending.op.status = 'DONE';
    pending.op.endTime = new Date().toISOString();
    if (failure) pending.op.error = { code: failure.code, message: failure.message, details: [] };
    if (this.busy.get(pending.cluster) === opName) this.busy.delete(pending.cluster);
  }

  protected override settle(): void {
    super.settle();
    for (const [name, pending] of this.gkeOperations) if (pending.op.status !== 'DONE' && this.faults.overdue(pending.started, pending.deadlineMs)) {
      pending.seen = pending.polls;
      this.advanceGke(name, pending);
    }
  }

  private getGkeOperation(name: unknown): Message {
    const pending = this.gkeOperations.get(String(name));
    if (!pending) throw notFound(`Operation "${String(name).split('/').pop()}"`);
    pending.seen += 1;
    this.advanceGke(String(name), pending);
    return { ...pending.op };
  }

  /** Makes the next operation of `method` end DONE with this error (GKE reports failures in the operation). */
  failOperation(method: string, error: FakeError): void {
    this.operationFailures.set(method, error);
  }

  private readonly operationFailures = new Map<string, FakeError>();

  private failureFor(method: string): FakeError | undefined {
    const failure = this.operationFailures.get(method);
    this.operationFailures.delete(method);
    return failure;
  }

  private createCluster(req: Message, ctx: CallContext): Message {
    const match = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(String(req.parent ?? ''));
    if (!match) throw invalidArgument(`parent "${String(req.parent)}" is not projects/{project}/locations/{location}`);
    const [, project, location] = match;
    const spec = (req.cluster ?? {}) as Message;
    const id = checkId('Cluster', spec.name, 40);
    const name = `projects/${project}/locations/${location}/clusters/${id}`;
    if (this.clusters.has(name)) throw alreadyExists(`Cluster "${id}"`);
    const autopilot = Boolean((spec.autopilot as Message | undefined)?.enabled);
    const pools = (spec.nodePools ?? []) as Message[];
    if (autopilot && pools.length > 0) throw invalidArgument('Autopilot clusters manage their own node pools: node_pools must be empty');
    if (!autopilot && pools.length === 0 && !spec.initialNodeCount) {
      throw invalidArgument('Cluster.initial_node_count must be greater than zero, or node_pools must be given');
    }
    this.checkWorkloadPool(spec.workloadIdentityConfig, project);
    const cluster: Message = {
      ...spec,
      name: id,
      location,
      locations: spec.locations ?? [`${location}-a`, `${location}-b`, `${location}-c`],
      status: 'PROVISIONING',
      createTime: new Date().toISOString(),
      currentMasterVersion: this.gkeOptions.version ?? '1.35.4-gke.1000',
      selfLink: `https://container.googleapis.com/v1/${name}`,
      id: Math.random().toString(16).slice(2).padEnd(16, '0'),
    };
    this.projectOf.set(cluster, project);
    // GKE names the network and subnetwork by name, and in full in networkConfig; `default` when none is given. A
    // full path names another project's network (Shared VPC: the host project's).
    const host = /^projects\/([^/]+)\//.exec(String(spec.network ?? ''))?.[1] ?? project;
    const network = String(spec.network || 'default').split('/').pop()!;
    const subnetwork = String(spec.subnetwork || network).split('/').pop()!;
    cluster.network = network;
    cluster.subnetwork = subnetwork;
    cluster.networkConfig = { ...(spec.networkConfig ?? {}), network: `projects/${host}/global/networks/${network}`, subnetwork: `projects/${host}/regions/${location.replace(/-[a-z]$/, '')}/subnetworks/${subnetwork}` };
    // Autopilot clusters always have Workload Identity, on the project's pool.
    if (autopilot) cluster.workloadIdentityConfig = { workloadPool: `${project}.svc.id.goog` };
    cluster.nodePools = pools.map((p) => this.checkPool(p, cluster));
    if (autopilot) cluster.nodePools = [{ name: 'default-pool', status: 'PROVISIONING', autoscaling: { enabled: true, autoprovisioned: true } }];
    this.clusters.set(name, cluster);
    const failure = this.failureFor('CreateCluster');
    return this.startGke(ctx, cluster, 'CREATE_CLUSTER', name, () => {
      if (failure) {
        cluster.status = 'ERROR';
        cluster.statusMessage = failure.message;
        return failure;
      }
      cluster.status = 'RUNNING';
      for (const pool of cluster.nodePools as Message[]) pool.status = 'RUNNING';
      this.expose(cluster);
      return undefined;
    });
  }

  private updateCluster(req: Message, ctx: CallContext): Message {
    const cluster = this.cluster(req.name);
    this.assertIdle(cluster);
    const update = (req.update ?? {}) as Message;
    const fields = Object.keys(update).filter((k) => update[k] !== undefined && update[k] !== null);
    const supported = new Set(['desiredWorkloadIdentityConfig', 'desiredNodePoolAutoscaling', 'desiredNodePoolId']);
    const other = fields.filter((f) => !supported.has(f));
    if (other.length > 0) {
      throw new FakeError(GrpcStatus.UNIMPLEMENTED, `the GKE fake does not implement ClusterUpdate.${other.join(', ClusterUpdate.')}: add it to test/gcp/fakes/gke.ts`);
    }
    if (fields.length === 0) throw invalidArgument('update must change something');
    const project = String(this.projectOf.get(cluster));
    if (update.desiredWorkloadIdentityConfig) this.checkWorkloadPool(update.desiredWorkloadIdentityConfig, project);
    if (update.desiredNodePoolAutoscaling) this.checkAutoscaling(update.desiredNodePoolAutoscaling, 'desired_node_pool_autoscaling');
    const pool = update.desiredNodePoolAutoscaling ? this.nodePool(`${this.fullName(cluster)}/nodePools/${String(update.desiredNodePoolId)}`).pool : undefined;
    cluster.status = 'RECONCILING';
    return this.startGke(ctx, cluster, 'UPDATE_CLUSTER', this.fullName(cluster), () => {
      if (update.desiredWorkloadIdentityConfig) cluster.workloadIdentityConfig = update.desiredWorkloadIdentityConfig;
      if (pool) pool.autoscaling = update.desiredNodePoolAutoscaling;
      cluster.status = 'RUNNING';
      return undefined;
    });
  }

  private deleteCluster(req: Message, ctx: CallContext): Message {
    const cluster = this.cluster(req.name);
    this.assertIdle(cluster);
    const failure = this.failureFor('DeleteCluster');
    cluster.status = 'STOPPING';
    return this.startGke(ctx, cluster, 'DELETE_CLUSTER', this.fullName(cluster), () => {
      if (failure) {
        cluster.status = 'ERROR';
        return failure;
      }
      this.clusters.delete(this.fullName(cluster));
      return undefined;
    });
  }

  private createNodePool(req: Message, ctx: CallContext): Message {
    const cluster = this.cluster(req.parent);
    this.assertIdle(cluster);
    if ((cluster.autopilot as Message | undefined)?.enabled) {
      throw invalidArgument('This operation is not supported on Autopilot clusters: node pools are managed by GKE');
    }
    const pool = this.checkPool((req.nodePool ?? {}) as Message, cluster);
    const pools = cluster.nodePools as Message[];
    if (pools.some((p) => p.name === pool.name)) throw alreadyExists(`Node pool "${String(pool.name)}"`);
    pools.push(pool);
    return this.startGke(ctx, cluster, 'CREATE_NODE_POOL', `${this.fullName(cluster)}/nodePools/${String(pool.name)}`, () => {
      pool.status = 'RUNNING';
      return undefined;
    });
  }

  private setAutoscaling(req: Message, ctx: CallContext): Message {
    const { cluster, pool } = this.nodePool(req.name);
    this.assertIdle(cluster);
    this.checkAutoscaling(req.autoscaling, `node pool "${String(pool.name)}"`);
    pool.status = 'RECONCILING';
    return this.startGke(ctx, cluster, 'UPDATE_CLUSTER', String(req.name), () => {
      pool.autoscaling = req.autoscaling;
      pool.status = 'RUNNING';
      return undefined;
    });
  }

  private deleteNodePool(req: Message, ctx: CallContext): Message {
    const { cluster, pool } = this.nodePool(req.name);
    this.assertIdle(cluster);
    pool.status = 'STOPPING';
    return this.startGke(ctx, cluster, 'DELETE_NODE_POOL', String(req.name), () => {
      cluster.nodePools = (cluster.nodePools as Message[]).filter((p) => p !== pool);
      return undefined;
    });
  }
}
