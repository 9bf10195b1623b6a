/**
 * What an environment needs, from usage rather than declarations (../shared/notes/encore-app-model.md §4.3, after
 * Encore's cli/daemon/export/infra_config.go): an environment hosts every service, and gets only the databases,
 * caches, topics, subscriptions, buckets and secrets those services use. A resource that is declared but used by no
 * service is left out of the environment, exactly as Encore drops it from the infra config.
 */

import type { AppModel, Bucket, CacheCluster, CronJob, Database, Secret, Service, Subscription, Topic } from '../../model/appModel';

export interface EnvironmentNeeds {
  services: Service[];
  /** The union of the databases the hosted services use. */
  databases: Database[];
  /** Clusters with a keyspace declared in a hosted service. */
  caches: CacheCluster[];
  /**
   * Topics with a publisher among the hosted services, plus topics that only have a needed subscription: the
   * subscription sits under its topic in the infra config, and a queue cannot subscribe to a topic that does not
   * exist.
   */
  topics: Topic[];
  /** Subscriptions declared in a hosted service. */
  subscriptions: Subscription[];
  /** Buckets some hosted service uses. */
  buckets: Bucket[];
  /** Secrets some hosted service loads. */
  secrets: Secret[];
  /** Cron jobs whose endpoint is in a hosted service (Encore lists exactly these for self-hosting). */
  cronJobs: CronJob[];
}

export function environmentNeeds(model: AppModel): EnvironmentNeeds {
  const hosted = new Set(model.services.map((s) => s.name));
  const isHosted = (service: string | null) => service !== null && hosted.has(service);
  const subscriptions = model.subscriptions.filter((s) => isHosted(s.service));
  const subscribed = new Set(subscriptions.map((s) => s.topic));
  return {
    services: model.services,
    databases: model.databases.filter((d) => d.usedBy.some(isHosted)),
    caches: model.caches.filter((c) => c.keyspaces.some((k) => isHosted(k.service))),
    topics: model.topics.filter((t) => t.publishers.some(isHosted) || subscribed.has(t.name)),
    subscriptions,
    buckets: model.buckets.filter((b) => Object.keys(b.usage).some(isHosted)),
    secrets: model.secrets.filter((s) => s.services.some(isHosted)),
    cronJobs: model.cronJobs.filter((c) => c.endpoint !== null && isHosted(c.endpoint.service)),
  };
}
