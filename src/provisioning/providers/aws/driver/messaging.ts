/**
 * AWS::SNS::Topic and AWS::SQS::Queue: a topic per Encore topic; per subscription a queue subscribed to its topic
 * (raw delivery), with the dead-letter queue and the receive count from the retry policy, SSE, and a queue policy
 * that lets only its own topic send to it. A dead-letter queue is a queue of the same type without a topic.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource } from '../../../../model/providerApi';
import { asTagList, at, bool, isCode, marked, num, out, str, tagRecord, tagsFor, type AwsContext, type Handler } from './common';
import { parsePolicy, queuePolicy } from './policies';

const snsSdk = () => import('@aws-sdk/client-sns');
const sqsSdk = () => import('@aws-sdk/client-sqs');

// --- topics ---

async function topicArn(c: AwsContext, name: string, signal: AbortSignal): Promise<string> {
  return `arn:${c.region.startsWith('cn-') ? 'aws-cn' : 'aws'}:sns:${c.region}:${await c.account(signal)}:${name}`;
}

async function readTopic(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const { GetTopicAttributesCommand, ListTagsForResourceCommand } = await snsSdk();
  const arn = await topicArn(c, r.name, signal);
  let attributes: Record<string, string>;
  try {
    attributes = (await c.clients.send('SNS', new GetTopicAttributesCommand({ TopicArn: arn }), signal)).Attributes ?? {};
  } catch (err) {
    if (isCode(err, 'NotFound', 'NotFoundException')) return null;
    throw err;
  }
  const tags = await c.clients.send('SNS', new ListTagsForResourceCommand({ ResourceArn: arn }), signal);
  return {
    externalId: arn,
    observed: { fifo: attributes.FifoTopic === 'true', contentBasedDeduplication: attributes.ContentBasedDeduplication === 'true' },
    outputs: { arn: out(arn), name: out(r.name) },
    status: { state: 'ready' },
    ours: marked(tagRecord(tags.Tags), r, c),
  };
}

async function ensureTopic(r: ResolvedResource, c: AwsContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const sdk = await snsSdk();
  const s = r.resolved;
  const fifo = bool(s, 'fifo');
  const attributes: Record<string, string> = fifo ? { FifoTopic: 'true', ContentBasedDeduplication: String(bool(s, 'contentBasedDeduplication')) } : {};
  const live = await readTopic(r, c, step.signal);
  // CreateTopic is idempotent for the same attributes; a changed one is set afterwards.
  const created = live ? { TopicArn: live.externalId } : await c.clients.send('SNS', new sdk.CreateTopicCommand({ Name: r.name, Attributes: attributes, Tags: asTagList(tagsFor(r, c)) }), step.signal);
  const arn = created.TopicArn!;
  await c.clients.send('SNS', new sdk.TagResourceCommand({ ResourceArn: arn, Tags: asTagList(tagsFor(r, c)) }), step.signal);
  if (fifo && live && live.observed.contentBasedDeduplication !== bool(s, 'contentBasedDeduplication')) {
    await c.clients.send('SNS', new sdk.SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'ContentBasedDeduplication', AttributeValue: String(bool(s, 'contentBasedDeduplication')) }), step.signal);
  }
  return { arn: out(arn), name: out(r.name) };
}

export const topicHandler: Handler = {
  managed: ['fifo', 'contentBasedDeduplication'],
  read: readTopic,
  create: ensureTopic,
  update: ensureTopic,
  async delete(r, c, step) {
    const { DeleteTopicCommand } = await snsSdk();
    try {
      await c.clients.send('SNS', new DeleteTopicCommand({ TopicArn: await topicArn(c, r.name, step.signal) }), step.signal);
    } catch (err) {
      if (!isCode(err, 'NotFound', 'NotFoundException')) throw err;
    }
  },
  async waitReady() {
    // A topic is usable once created.
  },
};

// --- queues ---

async function queueUrl(c: AwsContext, name: string, signal: AbortSignal): Promise<string | null> {
  const { GetQueueUrlCommand } = await sqsSdk();
  try {
    return (await c.clients.send('SQS', new GetQueueUrlCommand({ QueueName: name }), signal)).QueueUrl ?? null;
  } catch (err) {
    if (isCode(err, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')) return null;
    throw err;
  }
}

/** The queue's subscription to a topic, found by its endpoint (a plan reads before the topic's ARN resolves). */
async function subscriptionOf(c: AwsContext, queueArn: string, signal: AbortSignal): Promise<{ arn: string; topic: string; raw: boolean } | null> {
  const sdk = await snsSdk();
  let next: string | undefined;
  do {
    const page = await c.clients.send('SNS', new sdk.ListSubscriptionsCommand({ NextToken: next }), signal);
    const found = page.Subscriptions?.find((x) => x.Protocol === 'sqs' && x.Endpoint === queueArn && x.SubscriptionArn && x.SubscriptionArn !== 'PendingConfirmation');
    if (found) {
      const attrs = (await c.clients.send('SNS', new sdk.GetSubscriptionAttributesCommand({ SubscriptionArn: found.SubscriptionArn }), signal)).Attributes ?? {};
      return { arn: found.SubscriptionArn!, topic: found.TopicArn ?? '', raw: attrs.RawMessageDelivery === 'true' };
    }
    next = page.NextToken;
  } while (next);
  return null;
}

async function readQueue(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const { GetQueueAttributesCommand, ListQueueTagsCommand } = await sqsSdk();
  const url = await queueUrl(c, r.name, signal);
  if (!url) return null;
  let a: Record<string, string>;
  try {
    a = (await c.clients.send('SQS', new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }), signal)).Attributes ?? {};
  } catch (err) {
    if (isCode(err, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')) return null;
    throw err;
  }
  const tags = await c.clients.send('SQS', new ListQueueTagsCommand({ QueueUrl: url }), signal);
  const arn = a.QueueArn!;
  const redrive = a.RedrivePolicy ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string }) : null;
  const observed: JsonObject = {
    fifo: a.FifoQueue === 'true',
    visibilityTimeoutSeconds: Number(a.VisibilityTimeout ?? 30),
    messageRetentionSeconds: Number(a.MessageRetentionPeriod ?? 345_600),
    sqsManagedSse: a.SqsManagedSseEnabled === 'true',
  };
  const outputs: Outputs = { url: out(url), arn: out(arn), name: out(r.name) };
  if (r.settings.subscribesTo !== undefined) {
    observed.deadLetterQueueArn = redrive?.deadLetterTargetArn ?? null;
    observed.redrivePolicy = { maxReceiveCount: redrive?.maxReceiveCount === undefined ? null : Number(redrive.maxReceiveCount) };
    observed.queuePolicy = parsePolicy(a.Policy);
    const sub = await subscriptionOf(c, arn, signal);
    observed.topicArn = sub?.topic ?? null;
    observed.rawMessageDelivery = sub?.raw ?? false;
    if (sub) outputs.subscriptionArn = out(sub.arn);
  }
  return { externalId: arn, observed, outputs, status: { state: 'ready' }, ours: marked(tags.Tags, r, c) };
}

function queueAttributes(r: ResolvedResource, arn: string | null): Record<string, string> {
  const s = r.resolved;
  const attributes: Record<string, string> = {
    // A dead-letter queue is never received from by a service: the SQS default suits it.
    VisibilityTimeout: String(typeof s.visibilityTimeoutSeconds === 'number' ? s.visibilityTimeoutSeconds : 30),
    MessageRetentionPeriod: String(num(s, 'messageRetentionSeconds', r.id)),
    SqsManagedSseEnabled: String(bool(s, 'sqsManagedSse')),
  };
  if (s.subscribesTo !== undefined) {
    attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: str(s, 'deadLetterQueueArn', r.id), maxReceiveCount: num(s.redrivePolicy as JsonObject, 'maxReceiveCount', r.id) });
    if (arn) attributes.Policy = JSON.stringify(queuePolicy(arn, str(s, 'topicArn', r.id)));
  }
  return attributes;
}

async function ensureQueue(r: ResolvedResource, c: AwsContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const sdk = await sqsSdk();
  const s = r.resolved;
  const signal = step.signal;
  const fifo = bool(s, 'fifo');
  if (fifo !== r.name.endsWith('.fifo')) throw new DriverError('invalid', `${r.id}: a FIFO queue's name ends in .fifo, and only a FIFO queue's does (${r.name})`, { resourceId: r.id });
  let url = await queueUrl(c, r.name, signal);
  if (!url) {
    const first = queueAttributes(r, null);
    url = (await c.clients.send('SQS', new sdk.CreateQueueCommand({ QueueName: r.name, Attributes: { ...first, ...(fifo ? { FifoQueue: 'true' } : {}) }, tags: tagsFor(r, c) }), signal)).QueueUrl!;
  }
  const arn = (await c.clients.send('SQS', new sdk.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }), signal)).Attributes!.QueueArn!;
  await c.clients.send('SQS', new sdk.SetQueueAttributesCommand({ QueueUrl: url, Attributes: queueAttributes(r, arn) }), signal);
  await c.clients.send('SQS', new sdk.TagQueueCommand({ QueueUrl: url, Tags: tagsFor(r, c) }), signal);
  const outputs: Outputs = { url: out(url), arn: out(arn), name: out(r.name) };
  if (s.subscribesTo !== undefined) {
    const topic = str(s, 'topicArn', r.id);
    const sns = await snsSdk();
    let sub = await subscriptionOf(c, arn, signal);
    if (sub && sub.topic !== topic) {
      await c.clients.send('SNS', new sns.UnsubscribeCommand({ SubscriptionArn: sub.arn }), signal);
      sub = null;
    }
    if (!sub) {
      const made = await c.clients.send('SNS', new sns.SubscribeCommand({
        TopicArn: topic, Protocol: 'sqs', Endpoint: arn, ReturnSubscriptionArn: true, Attributes: { RawMessageDelivery: String(bool(s, 'rawMessageDelivery')) },
      }), signal);
      sub = { arn: made.SubscriptionArn!, topic, raw: bool(s, 'rawMessageDelivery') };
    } else if (sub.raw !== bool(s, 'rawMessageDelivery')) {
      await c.clients.send('SNS', new sns.SetSubscriptionAttributesCommand({ SubscriptionArn: sub.arn, AttributeName: 'RawMessageDelivery', AttributeValue: String(bool(s, 'rawMessageDelivery')) }), signal);
    }
    outputs.subscriptionArn = out(sub.arn);
  }
  return outputs;
}

async function deleteQueue(r: DesiredResource, c: AwsContext, step: { signal: AbortSignal }): Promise<void> {
  const signal = step.signal;
  const url = await queueUrl(c, r.name, signal);
  if (!url) return;
  const sdk = await sqsSdk();
  if (r.settings.subscribesTo !== undefined) {
    const arn = (await c.clients.send('SQS', new sdk.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }), signal)).Attributes?.QueueArn;
    const sub = arn ? await subscriptionOf(c, arn, signal) : null;
    if (sub) {
      const { UnsubscribeCommand } = await snsSdk();
      await c.clients.send('SNS', new UnsubscribeCommand({ SubscriptionArn: sub.arn }), signal);
    }
  }
  try {
    await c.clients.send('SQS', new sdk.DeleteQueueCommand({ QueueUrl: url }), signal);
  } catch (err) {
    if (!isCode(err, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')) throw err;
  }
}

export const queueHandler: Handler = {
  managed: ['fifo', 'visibilityTimeoutSeconds', 'messageRetentionSeconds', 'sqsManagedSse', 'deadLetterQueueArn', 'redrivePolicy.maxReceiveCount', 'topicArn', 'rawMessageDelivery'],
  read: readQueue,
  create: ensureQueue,
  update: ensureQueue,
  delete: deleteQueue,
  async waitReady() {
    // A queue is usable once created.
  },
  diff(desired, live) {
    // The queue policy is derived from the topic and the queue: compared as the document it must be.
    const topic = desired.resolved.subscribesTo !== undefined ? at(desired.resolved, 'topicArn') : undefined;
    if (typeof topic !== 'string' || topic.includes('${')) return [];
    const want = JSON.parse(JSON.stringify(queuePolicy(live.externalId, topic))) as JsonObject;
    return JSON.stringify(want) === JSON.stringify(live.observed.queuePolicy ?? null) ? [] : [{ path: 'queuePolicy', before: live.observed.queuePolicy ?? null, after: want }];
  },
};
