// Google's own fakes, built from the Go module proxy (scripts/gcp-fakes.mjs): pstest through @google-cloud/pubsub
// and fake-gcs-server through @google-cloud/storage, the real clients the provider uses. What the provider needs
// of each (dead-letter and retry policies, topic and subscription IAM, generation preconditions for the state lock),
// and, reported as diagnostics, where a fake ignores what Google enforces.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { watchConnections } from '../gcp/localGoogle';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { startGcsFake, startPubsubFake, type GcsFake, type PubsubFake } from '../../scripts/gcp-fakes.mjs';

const PROJECT = 'encore-test';

// No probe of the metadata server (169.254.169.254) from a client that looks for credentials, and proof that every
// connection this file makes stays on loopback.
process.env.METADATA_SERVER_DETECTION = 'none';
const connections = watchConnections();
after(() => {
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});

describe('pstest (Pub/Sub) through @google-cloud/pubsub', () => {
  let fake: PubsubFake;
  let pubsub: PubSub;
  before(async () => {
    fake = await startPubsubFake();
    pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: fake.emulatorHost, emulatorMode: true });
  });
  after(async () => {
    await pubsub.close();
    await fake.stop();
  });

  test('a topic, a dead-letter topic, and a subscription with the dead-letter and retry policies read back', async (t) => {
    t.diagnostic(`pstest v${fake.version} ready in ${fake.readyMs} ms`);
    const [topic] = await pubsub.createTopic('orders-created');
    const [deadLetter] = await pubsub.createTopic('orders-created-dead-letter');
    const [subscription] = await topic.createSubscription('orders-created-ship', {
      ackDeadlineSeconds: 30,
      deadLetterPolicy: { deadLetterTopic: deadLetter.name, maxDeliveryAttempts: 5 },
      retryPolicy: { minimumBackoff: { seconds: 10 }, maximumBackoff: { seconds: 600 } },
    });
    const [metadata] = await subscription.getMetadata();
    assert.equal(metadata.deadLetterPolicy?.deadLetterTopic, `projects/${PROJECT}/topics/orders-created-dead-letter`);
    assert.equal(metadata.deadLetterPolicy?.maxDeliveryAttempts, 5);
    assert.equal(Number(metadata.retryPolicy?.minimumBackoff?.seconds), 10);
    assert.equal(Number(metadata.retryPolicy?.maximumBackoff?.seconds), 600);
    assert.equal(metadata.ackDeadlineSeconds, 30);

    // A message published is delivered to the subscription.
    await topic.publishMessage({ data: Buffer.from('{"id":1}') });
    const received = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 10 s')), 10_000);
      subscription.once('message', (message: { data: Buffer; ack(): void }) => {
        clearTimeout(timer);
        message.ack();
        resolve(message.data.toString());
      });
    });
    await subscription.close();
    assert.equal(received, '{"id":1}');
  });

  test('pstest refuses a dead-letter topic that does not exist, as Pub/Sub does', async () => {
    const [topic] = await pubsub.createTopic('invoices');
    await assert.rejects(
      topic.createSubscription('invoices-bill', { deadLetterPolicy: { deadLetterTopic: `projects/${PROJECT}/topics/missing`, maxDeliveryAttempts: 5 } }),
      (err: Error & { code?: number }) => err.code === 5 || err.code === 3,
    );
  });

  test('topic and subscription IAM through the IAMPolicy service the wrapper adds beside pstest', async () => {
    const topic = pubsub.topic('orders-created');
    const publisher = `serviceAccount:svc-orders@${PROJECT}.iam.gserviceaccount.com`;
    const [empty] = await topic.iam.getPolicy();
    await topic.iam.setPolicy({ bindings: [{ role: 'roles/pubsub.publisher', members: [publisher] }], etag: empty.etag });
    const [policy] = await topic.iam.getPolicy();
    assert.deepEqual(policy.bindings?.map((b) => [b.role, b.members]), [['roles/pubsub.publisher', [publisher]]]);
    await assert.rejects(topic.iam.setPolicy({ bindings: [], etag: empty.etag }), (err: Error & { code?: number }) => err.code === 10, 'a stale etag is ABORTED');

    const subscriber = `serviceAccount:svc-shipping@${PROJECT}.iam.gserviceaccount.com`;
    const subscription = pubsub.subscription('orders-created-ship');
    await subscription.iam.setPolicy({ bindings: [{ role: 'roles/pubsub.subscriber', members: [subscriber] }] });
    assert.deepEqual((await subscription.iam.getPolicy())[0].bindings?.[0]?.members, [subscriber]);
    const [permissions] = await subscription.iam.testPermissions(['pubsub.subscriptions.consume']);
    assert.deepEqual(permissions, { 'pubsub.subscriptions.consume': true });
    await assert.rejects(pubsub.topic('nope').iam.getPolicy(), (err: Error & { code?: number }) => err.code === 5, 'a policy on a missing topic is NOT_FOUND');
  });
});

describe('fake-gcs-server (Cloud Storage) through @google-cloud/storage', () => {
  let fake: GcsFake;
  let storage: Storage;
  before(async () => {
    fake = await startGcsFake();
    // apiEndpoint in code; STORAGE_EMULATOR_HOST breaks uploads (../shared/notes/cloud-test-equipment.md).
    // An auth client that adds nothing: fake-gcs-server checks no token, and no credential lookup may start.
    storage = new Storage({ projectId: PROJECT, apiEndpoint: fake.apiEndpoint, authClient: new PassThroughClient() });
  });
  after(() => fake.stop());

  test('a bucket with versioning and uniform access; the settings fake-gcs-server keeps and the ones it ignores', async (t) => {
    t.diagnostic(`fake-gcs-server v${fake.version} ready in ${fake.readyMs} ms`);
    const [bucket] = await storage.createBucket('encore-test-uploads', { location: 'EUROPE-WEST1', versioning: { enabled: true }, iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' }, labels: { 'encore-env': 'prod' } });
    const [metadata] = await bucket.getMetadata();
    assert.equal(metadata.versioning?.enabled, true);
    const ignored: string[] = [];
    if (metadata.iamConfiguration?.uniformBucketLevelAccess?.enabled !== true) ignored.push('iamConfiguration.uniformBucketLevelAccess');
    if (metadata.iamConfiguration?.publicAccessPrevention !== 'enforced') ignored.push('iamConfiguration.publicAccessPrevention');
    if (metadata.labels?.['encore-env'] !== 'prod') ignored.push('labels');
    if (String(metadata.location ?? '').toUpperCase() !== 'EUROPE-WEST1') ignored.push('location');
    // The driver must check these settings in its own unit tests: the emulator cannot tell it they were sent.
    t.diagnostic(`fake-gcs-server gap: createBucket ignores ${ignored.length > 0 ? ignored.join(', ') : 'nothing this test checks'}`);
  });

  test('the state lock and the state object: create-if-absent (ifGenerationMatch: 0) and compare-and-set on the generation', async () => {
    const bucket = storage.bucket('encore-test-uploads');
    const lock = bucket.file('environments/prod/lock.json');
    await lock.save(JSON.stringify({ holder: 'dev@example.com', host: 'laptop' }), { preconditionOpts: { ifGenerationMatch: 0 } });
    await assert.rejects(lock.save('{"holder":"other"}', { preconditionOpts: { ifGenerationMatch: 0 } }), (err: Error & { code?: number }) => err.code === 412, 'a second lock is refused');

    const state = bucket.file('environments/prod/state.json');
    await state.save('{"version":1}', { preconditionOpts: { ifGenerationMatch: 0 } });
    const [first] = await state.getMetadata();
    await state.save('{"version":2}', { preconditionOpts: { ifGenerationMatch: Number(first.generation) } });
    await assert.rejects(state.save('{"version":3}', { preconditionOpts: { ifGenerationMatch: Number(first.generation) } }), (err: Error & { code?: number }) => err.code === 412, 'a stale generation is refused');
    assert.equal((await state.download())[0].toString(), '{"version":2}');

    const [lockMetadata] = await lock.getMetadata();
    await lock.delete({ ifGenerationMatch: Number(lockMetadata.generation) });
    assert.equal((await lock.exists())[0], false);
  });
});
