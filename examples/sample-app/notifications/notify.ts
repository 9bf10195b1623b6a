import { api } from "encore.dev/api";
import { secret } from "encore.dev/config";
import { CronJob } from "encore.dev/cron";
import { Subscription } from "encore.dev/pubsub";
import log from "encore.dev/log";
import { orderPlaced } from "../orders/events";
import { users } from "~encore/clients";
import { sentToday } from "./cache";

const emailApiKey = secret("EmailApiKey");

const maxPerDay = 20;

export const onOrderPlaced = new Subscription(orderPlaced, "notify-customer", {
  handler: async (event) => {
    const sent = await sentToday.increment({ userID: event.userID });
    if (sent > maxPerDay) {
      log.warn("notification limit reached", { userID: event.userID });
      return;
    }
    log.info("order confirmation sent", { orderID: event.orderID, keyLength: emailApiKey().length });
  },
  maxConcurrency: 10,
  retryPolicy: { minBackoff: "5s", maxBackoff: "5m", maxRetries: 20 },
});

// Called by the cron job below; private, so only Encore's scheduler and other services reach it.
export const dailyDigest = api({}, async (): Promise<void> => {
  const { total } = await users.count();
  log.info("daily digest", { users: total });
});

export const digest = new CronJob("daily-digest", {
  title: "Send the daily digest",
  schedule: "0 8 * * *",
  endpoint: dailyDigest,
});

export const purgeCounters = api({}, async (): Promise<void> => {
  log.info("counters expire on their own; nothing to purge");
});

export const purge = new CronJob("purge-counters", {
  title: "Purge notification counters",
  every: "1h",
  endpoint: purgeCounters,
});
