/**
 * Pub/Sub. Production on AWS: an SNS topic per topic and an SQS queue per subscription with its own dead-letter
 * queue; on GCP: Pub/Sub topics and subscriptions with a dead-letter topic (notes §1.3). Everywhere else, NSQ inside
 * the cluster, which Encore's infra config supports (`nsq`): one nsqd StatefulSet, a topic per topic, a channel per
 * subscription. That is also "the same split" on the kubernetes provider in Production, since a bare cluster has no
 * managed queue; there nsqd keeps every message on disk (`--mem-queue-size=0`) instead of in memory. NSQ has no
 * dead-letter queue and delivers at least once; both are said in the settings and, for exactly-once topics, as a
 * warning.
 */

import type { Subscription, Topic } from '../../model/appModel';
import { outputRef, type JsonObject } from '../../model/desiredGraph';
import type { PlanContext } from './context';
import { CURL_IMAGE } from './constants';
import { planInCluster } from './inCluster';
import { dnsLabel, shortHash } from './names';

const DAY_S = 86_400;

export function planPubSub(ctx: PlanContext): void {
  if (ctx.needs.topics.length === 0) return;
  if (ctx.production && ctx.provider === 'aws') planSnsSqs(ctx);
  else if (ctx.production && ctx.provider === 'gcp') planGcpPubSub(ctx);
  else planNsq(ctx);
}

function subscriptionsOf(ctx: PlanContext, topic: Topic): Subscription[] {
  return ctx.needs.subscriptions.filter((s) => s.topic === topic.name);
}

function subSource(s: Subscription) {
  return { kind: 'subscription' as const, name: `${s.topic}/${s.name}` };
}

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

function planSnsSqs(ctx: PlanContext): void {
  const topics: JsonObject = {};
  for (const topic of ctx.needs.topics) {
    // Ordered and exactly-once topics need FIFO on AWS, as with Encore (300 msg/s per group).
    const fifo = topic.deliveryGuarantee === 'exactly-once' || topic.orderingAttribute !== null;
    const suffix = fifo ? '.fifo' : '';
    const topicId = `aws:sns:${topic.name}`;
    ctx.add({
      id: topicId,
      kind: 'topic',
      providerType: 'AWS::SNS::Topic',
      name: ctx.names.cloud(topic.name, 250) + suffix,
      source: { kind: 'topic', name: topic.name },
      settings: { fifo, contentBasedDeduplication: fifo, orderingAttribute: topic.orderingAttribute, deliveryGuarantee: topic.deliveryGuarantee },
      summary: `${topic.name} topic → SNS ${fifo ? 'FIFO ' : ''}topic`,
    });
    for (const p of topic.publishers) if (isHosted(ctx, p)) ctx.grant(p, topicId, ['sns:Publish']);
    const subscriptions: JsonObject = {};
    for (const sub of subscriptionsOf(ctx, topic)) {
      const key = `${topic.name}/${sub.name}`;
      const dlqId = `aws:sqs-dlq:${key}`;
      const queueId = `aws:sqs:${key}`;
      const maxReceiveCount = clamp(sub.retryPolicy.maxRetries + 1, 1, 1000);
      ctx.add({
        id: dlqId,
        kind: 'deadLetter',
        providerType: 'AWS::SQS::Queue',
        name: ctx.names.cloud(`${topic.name}-${sub.name}-dlq`, 75) + suffix,
        source: subSource(sub),
        settings: { fifo, messageRetentionSeconds: 14 * DAY_S, sqsManagedSse: true },
        stateful: true,
        summary: `${sub.name} subscription → dead-letter SQS ${fifo ? 'FIFO ' : ''}queue, 14-day retention`,
      });
      ctx.add({
        id: queueId,
        kind: 'subscription',
        providerType: 'AWS::SQS::Queue',
        name: ctx.names.cloud(`${topic.name}-${sub.name}`, 75) + suffix,
        source: subSource(sub),
        settings: {
          fifo,
          subscribesTo: topicId,
          topicArn: outputRef(topicId, 'arn'),
          rawMessageDelivery: true,
          // SQS limits: visibility 0–12 h, retention 1 min–14 days; Encore's values are clamped into them.
          visibilityTimeoutSeconds: clamp(Math.ceil(sub.ackDeadlineMs / 1000), 0, 43_200),
          messageRetentionSeconds: clamp(Math.ceil(sub.messageRetentionMs / 1000), 60, 14 * DAY_S),
          redrivePolicy: { deadLetterQueue: dlqId, maxReceiveCount },
          deadLetterQueueArn: outputRef(dlqId, 'arn'),
          retryPolicy: { minBackoffMs: sub.retryPolicy.minBackoffMs, maxBackoffMs: sub.retryPolicy.maxBackoffMs },
          maxConcurrency: sub.maxConcurrency,
          sqsManagedSse: true,
        },
        dependsOn: [topicId, dlqId],
        stateful: true,
        summary: `${sub.name} subscription → SQS ${fifo ? 'FIFO ' : ''}queue on ${topic.name}, dead-letter after ${sub.retryPolicy.maxRetries} retries`,
      });
      ctx.grant(sub.service, queueId, ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes']);
      ctx.need(sub.service, queueId);
      subscriptions[sub.name] = { url: outputRef(queueId, 'url') };
      ctx.config.dependsOn.push(queueId);
    }
    topics[topic.name] = { arn: outputRef(topicId, 'arn'), subscriptions };
    ctx.config.dependsOn.push(topicId);
  }
  ctx.config.pubsub.push({ type: 'aws_sns_sqs', topics });
}

function planGcpPubSub(ctx: PlanContext): void {
  if (ctx.env.provider.kind !== 'gcp') return;
  const project = ctx.env.provider.project;
  const topics: JsonObject = {};
  for (const topic of ctx.needs.topics) {
    const topicId = `gcp:pubsub-topic:${topic.name}`;
    const topicName = ctx.names.cloud(topic.name, 255);
    ctx.add({
      id: topicId,
      kind: 'topic',
      providerType: 'pubsub.googleapis.com/Topic',
      name: topicName,
      source: { kind: 'topic', name: topic.name },
      settings: { project, orderingAttribute: topic.orderingAttribute, deliveryGuarantee: topic.deliveryGuarantee },
      summary: `${topic.name} topic → Pub/Sub topic`,
    });
    for (const p of topic.publishers) if (isHosted(ctx, p)) ctx.grant(p, topicId, ['roles/pubsub.publisher']);
    const subscriptions: JsonObject = {};
    for (const sub of subscriptionsOf(ctx, topic)) {
      const key = `${topic.name}/${sub.name}`;
      const dltId = `gcp:pubsub-dead-letter:${key}`;
      const subId = `gcp:pubsub-subscription:${key}`;
      const subName = ctx.names.cloud(`${topic.name}-${sub.name}`, 255);
      const attempts = clamp(sub.retryPolicy.maxRetries + 1, 5, 100); // Pub/Sub allows 5–100 delivery attempts
      ctx.add({
        id: dltId,
        kind: 'deadLetter',
        providerType: 'pubsub.googleapis.com/Topic',
        name: ctx.names.cloud(`${topic.name}-${sub.name}-dead-letter`, 255),
        source: subSource(sub),
        // A topic keeps nothing by itself: a subscription on it holds the dead letters for 7 days.
        settings: { project, holdingSubscription: { name: ctx.names.cloud(`${topic.name}-${sub.name}-dead-letter-held`, 255), messageRetentionSeconds: 7 * DAY_S } },
        stateful: true,
        summary: `${sub.name} subscription → dead-letter Pub/Sub topic, held 7 days`,
      });
      ctx.add({
        id: subId,
        kind: 'subscription',
        providerType: 'pubsub.googleapis.com/Subscription',
        name: subName,
        source: subSource(sub),
        settings: {
          project,
          topic: topicId,
          delivery: 'pull',
          // Pub/Sub limits: ack deadline 10–600 s, retention 10 min–7 days, backoff 0–600 s.
          ackDeadlineSeconds: clamp(Math.ceil(sub.ackDeadlineMs / 1000), 10, 600),
          messageRetentionSeconds: clamp(Math.ceil(sub.messageRetentionMs / 1000), 600, 7 * DAY_S),
          retryPolicy: { minimumBackoffSeconds: clamp(sub.retryPolicy.minBackoffMs / 1000, 0, 600), maximumBackoffSeconds: clamp(sub.retryPolicy.maxBackoffMs / 1000, 0, 600) },
          deadLetterPolicy: { deadLetterTopic: dltId, maxDeliveryAttempts: attempts },
          enableExactlyOnceDelivery: topic.deliveryGuarantee === 'exactly-once',
          enableMessageOrdering: topic.orderingAttribute !== null,
          maxConcurrency: sub.maxConcurrency,
        },
        dependsOn: [topicId, dltId],
        stateful: true,
        summary: `${sub.name} subscription → Pub/Sub subscription on ${topic.name}, dead-letter topic after ${attempts} attempts`,
      });
      ctx.grant(sub.service, subId, ['roles/pubsub.subscriber']);
      ctx.need(sub.service, subId);
      subscriptions[sub.name] = { name: subName };
      ctx.config.dependsOn.push(subId);
    }
    topics[topic.name] = { name: topicName, subscriptions };
    ctx.config.dependsOn.push(topicId);
  }
  ctx.config.pubsub.push({ type: 'gcp_pubsub', project_id: project, topics });
}

/** The in-cluster NSQ server's image (its nsqd). */
export const NSQ_IMAGE = 'nsqio/nsq:v1.3.0';

function planNsq(ctx: PlanContext): void {
  const nsqd = planInCluster(ctx, {
    kind: 'nsqd',
    source: null,
    label: 'Pub/Sub',
    workload: 'encore-nsqd',
    image: ctx.image(NSQ_IMAGE),
    port: 4150,
    // The HTTP API the topic and channel Jobs call.
    extraPorts: [{ name: 'http', port: NSQD_HTTP_PORT }],
    replicas: 1,
    cpu: ctx.production ? 0.5 : 0.1,
    memoryGiB: ctx.production ? 1 : 0.25,
    diskGiB: ctx.production ? 20 : 5,
    args: ['/nsqd', '--data-path=/data', `--mem-queue-size=${ctx.production ? 0 : 10000}`],
    summary: ctx.production ? 'Pub/Sub → StatefulSet nsqd (NSQ), every message on disk, single node, 20 GiB PVC' : 'Pub/Sub → StatefulSet nsqd (NSQ), 5 GiB PVC',
  });
  const topics: JsonObject = {};
  for (const topic of ctx.needs.topics) {
    const topicId = `nsq:topic:${topic.name}`;
    const name = nsqName(topic.name);
    if (topic.deliveryGuarantee === 'exactly-once') {
      ctx.warnings.push(`Topic ${topic.name} is exactly-once, but NSQ delivers at least once: in ${ctx.env.name} its subscribers may see a message twice.`);
    }
    ctx.add({
      id: topicId,
      kind: 'topic',
      providerType: 'nsq/Topic',
      name,
      source: { kind: 'topic', name: topic.name },
      settings: {
        nsqd: nsqd.statefulSetId,
        deliveryGuarantee: 'at-least-once',
        orderingAttribute: topic.orderingAttribute,
        ordered: false,
        job: { name: dnsLabel('encore-nsq-topic-', name, 43), image: ctx.image(CURL_IMAGE), nsqdHttp: nsqdHttp(nsqd.host) },
      },
      dependsOn: nsqd.dependsOn,
      summary: `${topic.name} topic → NSQ topic on nsqd`,
    });
    const subscriptions: JsonObject = {};
    for (const sub of subscriptionsOf(ctx, topic)) {
      const channelId = `nsq:channel:${topic.name}/${sub.name}`;
      const channel = nsqName(sub.name);
      ctx.add({
        id: channelId,
        kind: 'subscription',
        providerType: 'nsq/Channel',
        name: channel,
        source: subSource(sub),
        settings: {
          nsqd: nsqd.statefulSetId,
          topic: topicId,
          topicName: name,
          maxRetries: sub.retryPolicy.maxRetries,
          retryPolicy: { minBackoffMs: sub.retryPolicy.minBackoffMs, maxBackoffMs: sub.retryPolicy.maxBackoffMs },
          maxConcurrency: sub.maxConcurrency,
          deadLetter: null,
          job: { name: dnsLabel('encore-nsq-channel-', `${topic.name}/${sub.name}`, 43), image: ctx.image(CURL_IMAGE), nsqdHttp: nsqdHttp(nsqd.host) },
        },
        dependsOn: [topicId],
        stateful: true,
        summary: `${sub.name} subscription → NSQ channel on ${topic.name}, no dead-letter queue`,
      });
      ctx.need(sub.service, channelId);
      subscriptions[sub.name] = { name: channel };
      ctx.config.dependsOn.push(channelId);
    }
    topics[topic.name] = { name, subscriptions };
    ctx.config.dependsOn.push(topicId);
  }
  ctx.config.pubsub.push({ type: 'nsq', hosts: nsqd.address, topics });
}

/** nsqd's HTTP API port (its default), which the topic and channel Jobs call. */
const NSQD_HTTP_PORT = 4151;

function nsqdHttp(host: string): string {
  return `${host}:${NSQD_HTTP_PORT}`;
}

/** NSQ names: 1–64 of `[.a-zA-Z0-9_-]`; anything else becomes `_` and the name gets a hash, so it stays unique. */
export function nsqName(name: string): string {
  const clean = name.replace(/[^.a-zA-Z0-9_-]/g, '_');
  if (clean === name && name.length <= 64) return name;
  return `${clean.slice(0, 55)}_${shortHash(name).slice(0, 8)}`;
}

function isHosted(ctx: PlanContext, service: string): boolean {
  return ctx.needs.services.some((s) => s.name === service);
}
