// Memorystore for Redis (google.cloud.redis.v1.CloudRedis) from @google-cloud/redis's protos: create, get, update
// and delete an instance, each change a long-running operation; the AUTH string. Everything else is UNIMPLEMENTED.
import { randomBytes } from 'node:crypto';
import { GrpcFake, timestampNow, type CallContext, type Message } from '../grpcFake';
import { alreadyExists, FakeError, invalidArgument, notFound } from '../googleErrors';
import { checkId, maskPaths, projectLocation } from './names';
import { status as GrpcStatus } from '@grpc/grpc-js';

const INSTANCE = 'google.cloud.redis.v1.Instance';
const METADATA = 'google.cloud.redis.v1.OperationMetadata';

/** Fields the provider may change in place (UpdateInstance's update_mask). */
const UPDATABLE = new Set(['displayName', 'labels', 'memorySizeGb', 'redisConfigs', 'replicaCount', 'readReplicasMode', 'maintenancePolicy', 'persistenceConfig']);

export interface RedisFakeOptions {
  /** What READY instances report as host and port; loopback by default so nothing ever connects elsewhere. */
  endpoint?: { host: string; port: number };
}

export class RedisFake extends GrpcFake {
  readonly instances = new Map<string, Message>();
  private readonly authStrings = new Map<string, string>();

  constructor(private readonly fakeOptions: RedisFakeOptions = {}) {
    super({
      name: 'Memorystore for Redis fake',
      protosFrom: '@google-cloud/redis',
      api: { service: 'redis.googleapis.com', title: 'Google Cloud Memorystore for Redis API' },
      longrunning: true,
      services: {
        'google.cloud.redis.v1.CloudRedis': {
          CreateInstance: (req, ctx) => this.create(req, ctx),
          GetInstance: (req) => this.get(req.name),
          UpdateInstance: (req, ctx) => this.update(req, ctx),
          DeleteInstance: (req, ctx) => this.delete(req.name, ctx),
          GetInstanceAuthString: (req) => this.authString(req.name),
        },
      },
    });
  }

  private get(name: unknown): Message {
    const instance = this.instances.get(String(name));
    if (!instance) throw notFound(`Resource '${String(name)}'`);
    return instance;
  }

  private metadata(target: string, verb: string): { type: string; value: Message } {
    return { type: METADATA, value: { createTime: timestampNow(), target, verb, apiVersion: 'v1' } };
  }

  private create(req: Message, ctx: CallContext): Message {
    const { project, location } = projectLocation(req.parent);
    const id = checkId('Instance', req.instanceId, 40);
    const name = `projects/${project}/locations/${location}/instances/${id}`;
    if (this.instances.has(name)) throw alreadyExists(`Instance ${name}`);
    const spec = (req.instance ?? {}) as Message;
    if (spec.tier !== 'BASIC' && spec.tier !== 'STANDARD_HA') throw invalidArgument('instance.tier must be BASIC or STANDARD_HA');
    const memory = Number(spec.memorySizeGb ?? 0);
    if (!(memory >= 1 && memory <= 300)) throw invalidArgument(`instance.memory_size_gb must be between 1 and 300, not ${String(spec.memorySizeGb)}`);
    const replicas = Number(spec.replicaCount ?? 0);
    if (spec.tier === 'BASIC' && replicas > 0) throw invalidArgument('a BASIC tier instance has no replicas');
    if (replicas > 0 && spec.readReplicasMode !== 'READ_REPLICAS_ENABLED') {
      throw invalidArgument('replica_count needs read_replicas_mode READ_REPLICAS_ENABLED');
    }
    const instance: Message = {
      redisVersion: 'REDIS_7_2',
      connectMode: 'DIRECT_PEERING',
      transitEncryptionMode: 'DISABLED',
      ...spec,
      name,
      locationId: spec.locationId ?? `${location}-a`,
      currentLocationId: spec.locationId ?? `${location}-a`,
      createTime: timestampNow(),
      state: 'CREATING',
    };
    this.instances.set(name, instance);
    return this.startOperation(ctx, `projects/${project}/locations/${location}`, {
      metadata: this.metadata(name, 'create'),
      finish: () => {
        const { host, port } = this.fakeOptions.endpoint ?? { host: '127.0.0.1', port: 6379 };
        Object.assign(instance, { state: 'READY', host, port: instance.transitEncryptionMode === 'SERVER_AUTHENTICATION' ? 6378 : port });
        if (replicas > 0) Object.assign(instance, { readEndpoint: host, readEndpointPort: port });
        if (instance.authEnabled) this.authStrings.set(name, randomBytes(18).toString('base64url'));
        return { type: INSTANCE, value: instance };
      },
    });
  }

  private update(req: Message, ctx: CallContext): Message {
    const spec = (req.instance ?? {}) as Message;
    const instance = this.get(spec.name);
    const paths = maskPaths(req.updateMask);
    if (paths.length === 0) throw invalidArgument('update_mask is required');
    const camel = paths.map((p) => p.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
    const refused = camel.filter((p) => !UPDATABLE.has(p));
    if (refused.length > 0) throw invalidArgument(`field(s) ${refused.join(', ')} cannot be updated`);
    if (instance.state !== 'READY') throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `Instance ${String(instance.name)} is ${String(instance.state)}, not READY`);
    instance.state = 'UPDATING';
    const [, project, , location] = String(instance.name).split('/');
    return this.startOperation(ctx, `projects/${project}/locations/${location}`, {
      metadata: this.metadata(String(instance.name), 'update'),
      finish: () => {
        for (const p of camel) instance[p] = spec[p];
        instance.state = 'READY';
        return { type: INSTANCE, value: instance };
      },
    });
  }

  private delete(name: unknown, ctx: CallContext): Message {
    const instance = this.get(name);
    instance.state = 'DELETING';
    const [, project, , location] = String(name).split('/');
    return this.startOperation(ctx, `projects/${project}/locations/${location}`, {
      metadata: this.metadata(String(name), 'delete'),
      finish: () => {
        this.instances.delete(String(name));
        this.authStrings.delete(String(name));
        return undefined;
      },
    });
  }

  private authString(name: unknown): Message {
    const instance = this.get(name);
    if (!instance.authEnabled) throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `AUTH is not enabled on instance ${String(name)}`);
    return { authString: this.authStrings.get(String(name)) ?? '' };
  }
}
