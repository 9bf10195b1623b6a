/**
 * Cache clusters: one Redis per Encore cache cluster, with the eviction policy from the code (notes §1.3).
 * Production on AWS: an ElastiCache replication group; on GCP: Memorystore; both with TLS and AUTH, replicas from
 * the sizing answers. Everywhere else: Redis as a StatefulSet inside the cluster. On the kubernetes provider in
 * Production the replicas answer is honoured with `replicaof` pods, but nothing promotes a replica when the primary
 * fails; the summary says so.
 */

import type { CacheCluster } from '../../model/appModel';
import { outputRef, type JsonObject } from '../../model/desiredGraph';
import type { PlanContext } from './context';
import { planInCluster } from './inCluster';
import { elastiCacheNodeType, memorystoreShape } from './instanceClasses';
import { dnsLabel, envVar } from './names';
import { plural } from './databases';
import { own } from '../../model/records';

export const REDIS_VERSION = '7.2';
export const REDIS_IMAGE = `redis:${REDIS_VERSION}`;

export function planCaches(ctx: PlanContext): void {
  for (const cache of ctx.needs.caches) planCache(ctx, cache);
}

function planCache(ctx: PlanContext, cache: CacheCluster): void {
  const size = own(ctx.sizing.caches, cache.name)!;
  const source = { kind: 'cache' as const, name: cache.name };
  const label = `${cache.name} cache`;
  const managed = ctx.production && ctx.provider !== 'kubernetes';
  let cacheId: string;
  let secret: { id: string; name: string };
  let host: string;
  let tls: JsonObject | null;

  if (managed) {
    const secretName = dnsLabel('encore-redis-', cache.name);
    secret = { id: `k8s:secret:${secretName}`, name: secretName };
    if (ctx.provider === 'aws') {
      const nodeType = elastiCacheNodeType(size.memoryGiB);
      cacheId = `aws:elasticache:${cache.name}`;
      // The AUTH token is ours to choose on ElastiCache: the driver generates it, keeps it in Secrets Manager, and
      // gives it as a secret output the in-cluster Secret copies (as on GCP).
      ctx.add({
        id: cacheId,
        kind: 'cache',
        providerType: 'AWS::ElastiCache::ReplicationGroup',
        name: ctx.names.cloud(cache.name, 40),
        source,
        settings: {
          engine: 'redis',
          engineVersion: REDIS_VERSION,
          nodeType,
          memoryGiB: size.memoryGiB,
          numCacheClusters: 1 + size.replicas,
          automaticFailover: size.replicas > 0,
          multiAZ: size.replicas > 0,
          transitEncryption: true,
          atRestEncryption: true,
          maxmemoryPolicy: cache.evictionPolicy,
          // Encore reserves 10% of memory for Redis itself (notes §1.3).
          reservedMemoryPercent: 10,
          subnetTier: 'storage',
          subnetIds: ctx.awsStorage.subnetIds,
          securityGroupId: ctx.awsStorage.cacheSecurityGroupId,
        },
        dependsOn: [ctx.awsStorage.id],
        summary: `${label} → ElastiCache Redis ${nodeType}, ${replicaText(size.replicas)}${size.replicas > 0 ? ', Multi-AZ' : ''}`,
      });
      addAuthSecret(ctx, secret, source, label, { from: outputRef(cacheId, 'authToken') }, [cacheId]);
      host = `${outputRef(cacheId, 'primaryEndpoint')}:6379`;
      tls = {};
    } else {
      const shape = memorystoreShape(size.memoryGiB, size.replicas);
      cacheId = `gcp:memorystore:${cache.name}`;
      ctx.add({
        id: cacheId,
        kind: 'cache',
        providerType: 'redis.googleapis.com/Instance',
        name: ctx.names.cloud(cache.name, 40),
        source,
        settings: {
          ...shape,
          redisVersion: `REDIS_${REDIS_VERSION.replace('.', '_')}`,
          authEnabled: true,
          transitEncryptionMode: 'SERVER_AUTHENTICATION',
          connectMode: 'PRIVATE_SERVICE_ACCESS',
          authorizedNetwork: ctx.gcpStorage.network,
          redisConfigs: { 'maxmemory-policy': cache.evictionPolicy },
        },
        dependsOn: [ctx.gcpStorage.id],
        summary: `${label} → Memorystore Redis ${shape.memorySizeGb} GB, ${shape.tier === 'BASIC' ? 'Basic, no replica' : `Standard HA, ${plural(shape.replicaCount, 'read replica')}`}`,
      });
      // Memorystore generates the AUTH string; the engine copies it into the Secret the pods read.
      addAuthSecret(ctx, secret, source, label, { from: outputRef(cacheId, 'authString') }, [cacheId]);
      host = `${outputRef(cacheId, 'host')}:${outputRef(cacheId, 'port')}`;
      tls = { ca: outputRef(cacheId, 'serverCaCert') };
    }
  } else {
    const replicas = ctx.production ? size.replicas : 0;
    const workload = dnsLabel('encore-redis-', cache.name);
    const maxmemoryMb = Math.floor(size.memoryGiB * 1024 * 0.9);
    const diskGiB = Math.max(1, Math.ceil(size.memoryGiB * 2)); // room for the append-only file and its rewrite
    const redis = planInCluster(ctx, {
      kind: 'redis',
      source,
      label,
      workload,
      image: ctx.image(REDIS_IMAGE),
      port: 6379,
      replicas: 1 + replicas,
      cpu: ctx.production ? 1 : 0.1,
      memoryGiB: size.memoryGiB,
      diskGiB,
      args: ['--appendonly', 'yes', '--maxmemory', `${maxmemoryMb}mb`, '--maxmemory-policy', cache.evictionPolicy],
      credentials: ['auth'],
      settings: {
        // Ordinal 0 is the primary; the others start with --replicaof it. Nothing fails over automatically.
        replication: replicas > 0 ? { primary: `${workload}-0`, replicas, automaticFailover: false } : null,
      },
      summary: ctx.production
        ? `${label} → StatefulSet redis:${REDIS_VERSION}, ${size.memoryGiB} GiB, ${replicas > 0 ? `1 primary + ${plural(replicas, 'replica')} (no automatic failover)` : 'no replica'}, ${diskGiB} GiB PVC${replicas > 0 ? 's' : ''}`
        : `${label} → StatefulSet redis:${REDIS_VERSION}, ${diskGiB} GiB PVC`,
    });
    cacheId = redis.statefulSetId;
    secret = redis.secret as { id: string; name: string };
    host = redis.address;
    tls = null;
  }

  const authEnv = envVar('ENCORE_REDIS_AUTH_', cache.name);
  const users = cache.usedBy.filter((s) => ctx.needs.services.some((h) => h.name === s));
  ctx.secretEnv.push({ envVar: authEnv, secretId: secret.id, secretName: secret.name, key: 'auth', services: users });
  for (const s of users) ctx.need(s, cacheId, secret.id);
  ctx.config.redis[cache.name] = {
    host,
    database_index: 0,
    auth: { type: 'auth_string', auth_string: { $env: authEnv } },
    ...(tls ? { tls_config: tls } : {}),
  };
  ctx.config.dependsOn.push(cacheId, secret.id);
}

function addAuthSecret(
  ctx: PlanContext,
  secret: { id: string; name: string },
  source: { kind: 'cache'; name: string },
  label: string,
  value: JsonObject,
  dependsOn: string[],
): void {
  ctx.add({
    id: secret.id,
    kind: 'secret',
    providerType: 'k8s/v1/Secret',
    name: secret.name,
    source,
    settings: { keys: { auth: value } },
    dependsOn: [...ctx.k8sBase, ...dependsOn],
    summary: `${label} → Secret ${secret.name} (Redis AUTH)`,
  });
}

function replicaText(replicas: number): string {
  return replicas === 0 ? 'no replica' : plural(replicas, 'replica');
}
