import { CacheCluster, expireInHours, IntKeyspace } from "encore.dev/storage/cache";

export const cluster = new CacheCluster("notifications", {
  evictionPolicy: "allkeys-lru",
});

// How many notifications each user got today, for rate limiting.
export const sentToday = new IntKeyspace<{ userID: number }>(cluster, {
  keyPattern: "sent-today/:userID",
  defaultExpiry: expireInHours(24),
});
