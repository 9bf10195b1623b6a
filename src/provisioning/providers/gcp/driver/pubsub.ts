/**
 * pubsub.googleapis.com/Topic and Subscription: a topic per topic (and per subscription a dead-letter topic with a
 * subscription that holds its messages), a pull subscription per subscription with the dead-letter policy and the
 * retry policy from code. Through @google-cloud/pubsub (pstest in the tests).
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource } from '../../../../model/providerApi';
import { isAlreadyExists, isNotFound } from '../connection';
import { labelsFor, marked, num, objectAt, out, plainLabels, type GcpContext, type Handler } from './common';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Pub/Sub's messages

const topicPath = (c: GcpContext, name: string) => `projects/${c.project}/topics/${name}`;
const subPath = (c: GcpContext, name: string) => `projects/${c.project}/subscriptions/${name}`;
const seconds = (d: unknown) => Number((d as Json | undefined)?.seconds ?? 0) + Number((d as Json | undefined)?.nanos ?? 0) / 1e9;

async function metadataOf(c: GcpContext, kind: 'topic' | 'subscription', name: string, signal: AbortSignal): Promise<Json | null> {
  const pubsub = await c.clients.get('pubsub');
  const handle = kind === 'topic' ? pubsub.topic(name) : pubsub.subscription(name);
  try {
    const [metadata] = (await c.call('pubsub', `${kind}s.get`, () => handle.getMetadata(), signal)) as Json[];
    return metadata;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** The graph's topic (or dead-letter topic) name: a resolved setting names another resource by its id. */
function topicName(r: ResolvedResource | DesiredResource, key: string, c: GcpContext): string {
  const value = ('resolved' in r ? r.resolved : r.settings)[key];
  const name = typeof value === 'string' ? c.names.get(value) ?? null : null;
  if (!name) throw new DriverError('not-ready', `${r.id}: the topic ${String(value)} is not known yet (it is created first)`, { resourceId: r.id });
  return name;
}

async function readTopic(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const topic = await metadataOf(c, 'topic', r.name, signal);
  if (!topic) return null;
  c.names.set(r.id, r.name);
  const holding = objectAt(r.settings, 'holdingSubscription');
  const held = typeof holding.name === 'string' ? await metadataOf(c, 'subscription', holding.name, signal) : null;
  return {
    externalId: String(topic.name),
    observed: { ...(typeof holding.name === 'string' && held ? { holdingSubscription: { name: holding.name, messageRetentionSeconds: seconds(held.messageRetentionDuration) } } : {}) },
    outputs: { name: out(topicPath(c, r.name)), topicId: out(r.name) },
    status: typeof holding.name === 'string' && !held ? { state: 'pending', reason: 'its holding subscription does not exist yet' } : { state: 'ready' },
    ours: marked(plainLabels(topic.labels), r, c),
  };
}

async function ensureTopic(r: ResolvedResource, c: GcpContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const pubsub = await c.clients.get('pubsub');
  const topic = await metadataOf(c, 'topic', r.name, step.signal);
  if (!topic) {
    try {
      await c.call('pubsub', 'topics.create', () => pubsub.createTopic({ name: r.name, labels: labelsFor(r, c) }), step.signal);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  } else if (!marked(plainLabels(topic.labels), r, c)) {
    await c.call('pubsub', 'topics.update', () => pubsub.topic(r.name).setMetadata({ labels: { ...plainLabels(topic.labels), ...labelsFor(r, c) } }), step.signal);
  }
  c.names.set(r.id, r.name);
  const holding = objectAt(r.resolved, 'holdingSubscription');
  if (typeof holding.name === 'string') {
    const spec = { messageRetentionDuration: { seconds: num(holding, 'messageRetentionSeconds', r.id) }, labels: labelsFor(r, c) };
    const held = await metadataOf(c, 'subscription', holding.name, step.signal);
    if (!held) {
      await c.call('pubsub', 'subscriptions.create', () => pubsub.topic(r.name).createSubscription(holding.name, spec), step.signal).catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      });
    } else if (seconds(held.messageRetentionDuration) !== spec.messageRetentionDuration.seconds) {
      await c.call('pubsub', 'subscriptions.update', () => pubsub.subscription(holding.name).setMetadata({ messageRetentionDuration: spec.messageRetentionDuration }), step.signal);
    }
  }
  return { name: out(topicPath(c, r.name)), topicId: out(r.name) };
}

async function deleteTopic(r: DesiredResource, c: GcpContext, step: { signal: AbortSignal }): Promise<void> {
  const pubsub = await c.clients.get('pubsub');
  const holding = objectAt(r.settings, 'holdingSubscription');
  const ignoreMissing = (err: unknown) => {
    if (!isNotFound(err)) throw err;
  };
  if (typeof holding.name === 'string') await c.call('pubsub', 'subscriptions.delete', () => pubsub.subscription(holding.name).delete(), step.signal).catch(ignoreMissing);
  await c.call('pubsub', 'topics.delete', () => pubsub.topic(r.name).delete(), step.signal).catch(ignoreMissing);
  c.names.delete(r.id);
}

export const topicHandler: Handler = {
  managed: ['holdingSubscription'],
  read: readTopic,
  create: ensureTopic,
  update: ensureTopic,
  delete: deleteTopic,
  async waitReady() {
    // Usable once created.
  },
};

function subObserved(s: Json): JsonObject {
  return {
    ackDeadlineSeconds: Number(s.ackDeadlineSeconds),
    messageRetentionSeconds: seconds(s.messageRetentionDuration),
    retryPolicy: { minimumBackoffSeconds: seconds(s.retryPolicy?.minimumBackoff), maximumBackoffSeconds: seconds(s.retryPolicy?.maximumBackoff) },
    deadLetterPolicy: { maxDeliveryAttempts: Number(s.deadLetterPolicy?.maxDeliveryAttempts ?? 0) },
    enableExactlyOnceDelivery: s.enableExactlyOnceDelivery === true,
    enableMessageOrdering: s.enableMessageOrdering === true,
  };
}

function subSpec(r: ResolvedResource, c: GcpContext, deadTopic: string): Json {
  const s = r.resolved;
  const retry = objectAt(s, 'retryPolicy');
  const dead = objectAt(s, 'deadLetterPolicy');
  const duration = (v: number) => ({ seconds: Math.floor(v), nanos: Math.round((v % 1) * 1e9) });
  return {
    ackDeadlineSeconds: num(s, 'ackDeadlineSeconds', r.id),
    messageRetentionDuration: duration(num(s, 'messageRetentionSeconds', r.id)),
    retryPolicy: { minimumBackoff: duration(num(retry, 'minimumBackoffSeconds', r.id)), maximumBackoff: duration(num(retry, 'maximumBackoffSeconds', r.id)) },
    deadLetterPolicy: { deadLetterTopic: topicPath(c, deadTopic), maxDeliveryAttempts: num(dead, 'maxDeliveryAttempts', r.id) },
    enableExactlyOnceDelivery: s.enableExactlyOnceDelivery === true,
    enableMessageOrdering: s.enableMessageOrdering === true,
    labels: labelsFor(r, c),
  };
}

async function readSub(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const sub = await metadataOf(c, 'subscription', r.name, signal);
  if (!sub) return null;
  c.names.set(r.id, r.name);
  return {
    externalId: String(sub.name),
    observed: subObserved(sub),
    outputs: { name: out(subPath(c, r.name)), subscriptionId: out(r.name) },
    status: { state: 'ready' },
    ours: marked(plainLabels(sub.labels), r, c),
  };
}

async function ensureSub(r: ResolvedResource, c: GcpContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const pubsub = await c.clients.get('pubsub');
  const dead = objectAt(r.resolved, 'deadLetterPolicy');
  const deadTopic = typeof dead.deadLetterTopic === 'string' ? c.names.get(dead.deadLetterTopic) : undefined;
  if (!deadTopic) throw new DriverError('not-ready', `${r.id}: its dead-letter topic is not known yet`, { resourceId: r.id });
  const spec = subSpec(r, c, deadTopic);
  const sub = await metadataOf(c, 'subscription', r.name, step.signal);
  if (!sub) {
    const topic = topicName(r, 'topic', c);
    try {
      await c.call('pubsub', 'subscriptions.create', () => pubsub.topic(topic).createSubscription(r.name, spec), step.signal);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  } else {
    // Exactly-once and ordering are fixed at creation.
    const changeable = { ackDeadlineSeconds: spec.ackDeadlineSeconds, messageRetentionDuration: spec.messageRetentionDuration, retryPolicy: spec.retryPolicy, deadLetterPolicy: spec.deadLetterPolicy };
    await c.call('pubsub', 'subscriptions.update', () => pubsub.subscription(r.name).setMetadata({ ...changeable, labels: { ...plainLabels(sub.labels), ...spec.labels } }), step.signal);
  }
  c.names.set(r.id, r.name);
  return { name: out(subPath(c, r.name)), subscriptionId: out(r.name) };
}

export const subscriptionHandler: Handler = {
  managed: ['ackDeadlineSeconds', 'messageRetentionSeconds', 'retryPolicy', 'enableExactlyOnceDelivery', 'enableMessageOrdering'],
  read: readSub,
  create: ensureSub,
  update: ensureSub,
  async delete(r, c, step) {
    const pubsub = await c.clients.get('pubsub');
    await c.call('pubsub', 'subscriptions.delete', () => pubsub.subscription(r.name).delete(), step.signal).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  },
  async waitReady() {
    // Usable once created.
  },
  diff(desired, live) {
    const attempts = Number(objectAt(desired.resolved, 'deadLetterPolicy').maxDeliveryAttempts);
    const now = Number(objectAt(live.observed, 'deadLetterPolicy').maxDeliveryAttempts);
    return attempts === now ? [] : [{ path: 'deadLetterPolicy.maxDeliveryAttempts', before: now, after: attempts }];
  },
};

