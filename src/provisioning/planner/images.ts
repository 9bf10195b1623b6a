/**
 * The public images the product runs in a cluster, as the planner names them: what an environment's image override
 * (`images` in the environments file) may replace. A replacement for any other image would silently do nothing, so
 * the plan says so.
 */

import type { PlanContext } from './context';
import { CLUSTER_AUTOSCALER_IMAGE } from './autoscaler';
import { MINIO_IMAGE } from './buckets';
import { REDIS_IMAGE } from './caches';
import { CRON_IMAGE, CURL_IMAGE, PLACEHOLDER_IMAGE } from './constants';
import { POSTGRES_IMAGE } from './databases';
import { NSQ_IMAGE } from './pubsub';

/** Every image the planner may name, in the order a person reads them. */
export const PRODUCT_IMAGES: readonly string[] = [POSTGRES_IMAGE, REDIS_IMAGE, NSQ_IMAGE, MINIO_IMAGE, CURL_IMAGE, CRON_IMAGE, PLACEHOLDER_IMAGE, CLUSTER_AUTOSCALER_IMAGE];

/** The images only a cloud cluster runs (EKS's cluster autoscaler): a local or given cluster never pulls them. */
export const CLOUD_ONLY_IMAGES: readonly string[] = [CLUSTER_AUTOSCALER_IMAGE];

/** What each of PRODUCT_IMAGES runs, for a person choosing which to replace. */
export const PRODUCT_IMAGE_ROLES: Readonly<Record<string, string>> = {
  [POSTGRES_IMAGE]: 'the databases (Postgres), and the Jobs that make them and run the migrations',
  [REDIS_IMAGE]: 'the caches (Redis)',
  [NSQ_IMAGE]: 'Pub/Sub (nsqd), and the Jobs that make the topics and channels',
  [MINIO_IMAGE]: 'the buckets (MinIO), and the Jobs that make them',
  [CRON_IMAGE]: 'the CronJobs that call the app (curl)',
  [PLACEHOLDER_IMAGE]: 'the services\' pods before the first deploy (placeholder)',
  [CLUSTER_AUTOSCALER_IMAGE]: 'the cluster autoscaler of an EKS Production cluster',
};

/** A warning for each replacement of an image the product never runs (a typo, or a version it no longer uses). */
export function checkImageOverride(ctx: PlanContext): void {
  const known = new Set(PRODUCT_IMAGES);
  for (const from of Object.keys(ctx.env.images?.replace ?? {})) {
    if (!known.has(from)) {
      ctx.warnings.push(`images.replace names "${from}", which is not an image Encore Environments runs, so it changes nothing (the images are: ${PRODUCT_IMAGES.join(', ')}).`);
    }
  }
}
