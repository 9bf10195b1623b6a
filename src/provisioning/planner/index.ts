/**
 * The planner: AppModel × Environment (with its sizing answers and the app image) → DesiredGraph. (A "plan" is
 * something else: the engine's diff of that graph against recorded state and live objects, model/plan.ts.) Pure: no I/O, no clock, no
 * randomness, so the same app and environment always give the same graph, which the tree, the Create form's
 * preview, the CLI and the engine can all rely on.
 */

import type { AppModel } from '../../model/appModel';
import { dependencyOrder, type DesiredGraph } from '../../model/desiredGraph';
import { environmentNamespace, type Environment } from '../../model/environment';
import { effectiveSizing } from './sizing';
import { planClusterAutoscaler } from './autoscaler';
import { planBuckets } from './buckets';
import { planCaches } from './caches';
import { planBase } from './cluster';
import { PlanContext } from './context';
import { planCiIdentity } from './ciIdentity';
import { planCronJobs } from './cron';
import { planDatabases } from './databases';
import { checkImageOverride } from './images';
import { planInfraConfig } from './infraConfig';
import { naming } from './names';
import { environmentNeeds } from './needs';
import { planPubSub } from './pubsub';
import { planSecrets } from './secrets';
import { planServiceAuth, planWorkloads } from './workloads';

export { environmentNeeds, type EnvironmentNeeds } from './needs';
export { cronSchedule, type CronSchedule } from './cron';
export { CLOUD_ONLY_IMAGES, PRODUCT_IMAGES, PRODUCT_IMAGE_ROLES } from './images';
export { MIGRATION_LIMITS } from './databases';
export { AWS_CI_IDENTITY, GCP_CI_IDENTITY, GITHUB_REPOSITORY } from './ciIdentity';
export { AUTOSCALER, CLUSTER_AUTOSCALER_IMAGE } from './autoscaler';

export interface PlanOptions {
  /** Encore's app id (`id` in encore.app); when empty, the app root's directory name. */
  appId?: string;
  /** The app image the workloads run (`repo@sha256:…`, from a deploy); absent: a placeholder until the first deploy. */
  appImage?: string | null;
  /**
   * The SQL of each database's migrations, by database name and migration filename, read from the app by the
   * caller (the planner does no I/O). Absent: the database Jobs create the databases and apply no migration (a graph for display only).
   */
  migrationSql?: MigrationSql;
  /**
   * The service-auth key ids the environment has (recorded state says; session/serviceAuth.ts): one, or two during
   * a rotation. Absent: key 1 alone.
   */
  serviceAuthKeyIds?: readonly number[];
  /** The app's GitHub repository (`owner/name`, read from its git remote by the caller): the AWS CI identity trusts it. */
  ciRepository?: string;
}

export type MigrationSql = Record<string, Record<string, string>>;

export { environmentNamespace } from '../../model/environment';

export function desiredGraph(model: AppModel, env: Environment, options: PlanOptions = {}): DesiredGraph {
  const appId = options.appId || lastSegment(model.root);
  const namespace = environmentNamespace(env);
  const sizing = effectiveSizing(model, env);
  const ctx = new PlanContext(model, env, environmentNeeds(model), sizing, naming(appId, env.name, namespace), options.appImage ?? null, options.migrationSql);
  ctx.ciRepository = options.ciRepository;
  ctx.warnings.push(...sizing.adjustments);
  ctx.serviceAuthKeyIds = checkedKeyIds(options.serviceAuthKeyIds ?? [1]);
  checkImageOverride(ctx);

  planBase(ctx);
  planDatabases(ctx);
  planCaches(ctx);
  planPubSub(ctx);
  planBuckets(ctx);
  planSecrets(ctx);
  if (ctx.needs.services.length > 0) planServiceAuth(ctx);
  planInfraConfig(ctx, appId);
  planWorkloads(ctx);
  planCronJobs(ctx, appId);
  planClusterAutoscaler(ctx);
  planCiIdentity(ctx);

  const graph: DesiredGraph = { environment: env.name, provider: ctx.provider, type: env.type, namespace, resources: ctx.resources, warnings: ctx.warnings };
  dependencyOrder(graph); // a missing dependency or a cycle is a planner bug: fail here, not halfway through an apply
  return graph;
}

function checkedKeyIds(ids: readonly number[]): number[] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  if (sorted.length < 1 || sorted.length > 2 || sorted.some((id) => !Number.isInteger(id) || id < 1 || id > 0xffff_ffff)) {
    throw new Error(`the service-auth key ids must be one or two integers from 1 to 4294967295, not [${ids.join(', ')}]`);
  }
  return sorted;
}

function lastSegment(root: string): string {
  const parts = root.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? 'app';
}
