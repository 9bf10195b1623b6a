/**
 * Encore's infra.config.json for the environment (../shared/notes/encore-app-model.md §4), so the built app finds
 * its resources. It lists exactly what the environment provisions, and never a secret value: passwords, AUTH
 * strings, access keys and app secrets are `{"$env": "VAR"}` references that the Deployments fill from Kubernetes
 * Secrets. Values known only after apply (an RDS endpoint, an SNS topic ARN) are `${id.attribute}` output refs that
 * the engine substitutes before writing the ConfigMap.
 */

import { outputRef, type JsonObject } from '../../model/desiredGraph';
import { GATEWAY_WORKLOAD, INFRA_CONFIG, PORT, serviceAuthKey } from './constants';
import type { PlanContext } from './context';
import { plural } from './databases';
import { workloadName } from './workloads';

export const INFRA_SCHEMA = 'https://encore.dev/schemas/infra.schema.json';

/**
 * Encore's `metadata.cloud` knows aws, gcp, azure, encore and local. A cluster we are only given is none of the
 * clouds, and `local` is the value for infrastructure no Encore cloud manages, so the kubernetes provider uses it.
 */
function cloud(ctx: PlanContext): string {
  return ctx.provider === 'kubernetes' ? 'local' : ctx.provider;
}

/** The gateway's URL: its cloud load balancer on EKS and GKE, its in-cluster address on a given cluster. */
function baseUrl(ctx: PlanContext): string {
  if (ctx.provider !== 'kubernetes' && ctx.needs.services.length > 0) return `http://${outputRef(`k8s:service:${GATEWAY_WORKLOAD}`, 'loadBalancerHost')}`;
  return `http://${ctx.names.serviceHost(GATEWAY_WORKLOAD)}:${PORT}`;
}

export function infraConfigDocument(ctx: PlanContext, appId: string): JsonObject {
  // Every key verifies (both during a rotation); Encore's runtime signs with the newest.
  const auth = ctx.serviceAuthKeyIds.map((id) => ({ type: 'key', id, key: { $env: serviceAuthKey(id).envVar } }));
  const doc: JsonObject = {
    $schema: INFRA_SCHEMA,
    metadata: { app_id: appId, env_name: ctx.env.name, env_type: ctx.env.type, cloud: cloud(ctx), base_url: baseUrl(ctx) },
    auth,
    // Every service runs in its own Deployment, so each reaches every other one through its Kubernetes Service.
    service_discovery: Object.fromEntries(
      ctx.needs.services.map((s) => [s.name, { base_url: `http://${ctx.names.serviceHost(workloadName(s.name))}:${PORT}`, auth }]),
    ),
  };
  const c = ctx.config;
  if (c.sql_servers.length > 0) doc.sql_servers = c.sql_servers;
  if (Object.keys(c.redis).length > 0) doc.redis = c.redis;
  if (c.pubsub.length > 0) doc.pubsub = c.pubsub;
  if (c.object_storage.length > 0) doc.object_storage = c.object_storage;
  if (Object.keys(c.secrets).length > 0) doc.secrets = c.secrets;
  return doc;
}

export function planInfraConfig(ctx: PlanContext, appId: string): void {
  const document = infraConfigDocument(ctx, appId);
  const n = ctx.needs;
  const parts = [
    plural(n.databases.length, 'database'),
    plural(n.caches.length, 'cache'),
    plural(n.topics.length, 'topic'),
    plural(n.subscriptions.length, 'subscription'),
    plural(n.buckets.length, 'bucket'),
    plural(n.secrets.length, 'secret'),
  ].filter((p) => !p.startsWith('0 '));
  ctx.add({
    id: INFRA_CONFIG.id,
    kind: 'infraConfig',
    providerType: 'k8s/v1/ConfigMap',
    name: INFRA_CONFIG.name,
    settings: { key: INFRA_CONFIG.key, mountPath: INFRA_CONFIG.path, document },
    dependsOn: [...ctx.k8sBase, ...ctx.config.dependsOn],
    // Written as a Secret (the Kubernetes driver says why); the resource keeps its first id and type.
    summary: `infra.config.json → Secret ${INFRA_CONFIG.name}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`,
  });
}
