// The sample app's GCP environments applied end to end through the provider module (providerModule('gcp')): the
// real Google clients over TLS with ADC access tokens to the proto-driven fakes (GKE, Memorystore, Secret Manager,
// Artifact Registry, Resource Manager), over REST to the Cloud SQL, IAM and Compute/Service Networking fakes, to
// Google's own pstest (Pub/Sub) and fake-gcs-server (Cloud Storage); the in-cluster half on the test kube-apiserver,
// which the GKE fake's cluster points at and which takes the ADC access token through its token webhook, as GKE
// does. Then independent reads of what exists, a re-plan that changes nothing, and destroy.
import '../gcp/tls';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredGraph, DesiredResource } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import type { ProgressEvent } from '../../src/model/plan';
import { secretStatuses, setSecretValue } from '../../src/provisioning/appSecrets';
import { apply, destroy, planChanges } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { stateBucketName } from '../../src/provisioning/providers/gcp/stateBackend';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import type { PubsubFake } from '../../scripts/gcp-fakes.mjs';
import { playLoadBalancers } from '../aws/sampleEnvironment';
import { ArtifactRegistryFake } from '../gcp/fakes/artifactRegistry';
import { CloudSqlFake } from '../gcp/fakes/cloudSql';
import { ComputeFake } from '../gcp/fakes/compute';
import { GkeFake } from '../gcp/fakes/gke';
import { IamFake } from '../gcp/fakes/iam';
import { RedisFake } from '../gcp/fakes/redis';
import { SecretManagerFake } from '../gcp/fakes/secretManager';
import { FEDERATED_SUBJECT, TEST_PROJECT, TEST_PROJECT_NUMBER, TEST_REGION } from '../gcp/harness';
import { startGcpEnvironmentBed, type GcpEnvironmentBed } from '../gcp/sampleEnvironment';
import type { GcsIamProxy } from '../gcp/gcsIamProxy';
import { watchConnections } from '../gcp/localGoogle';
import type { TestKube } from '../kube/harness';
import type { TokenWebhook } from '../kube/tokenWebhook';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: TEST_PROJECT, region: TEST_REGION } };
const graph: DesiredGraph = desiredGraph(sample, env, { appId: 'sample-app' });
const byId = (id: string): DesiredResource => graph.resources.find((r) => r.id === id)!;
const devEnv: Environment = { ...env, name: 'dev', type: 'development' };
const devGraph = desiredGraph(sample, devEnv, { appId: 'sample-app' });

const connections = watchConnections();
let env0: GcpEnvironmentBed;
let kube: TestKube;
let webhook: TokenWebhook;
let dir: string;
let gke: GkeFake;
let redis: RedisFake;
let secrets: SecretManagerFake;
let registry: ArtifactRegistryFake;
let sql: CloudSqlFake;
let iam: IamFake;
let compute: ComputeFake;
let pubsubFake: PubsubFake;
let gcsIam: GcsIamProxy;

before(async () => {
  env0 = await startGcpEnvironmentBed();
  ({ kube, webhook, gke, redis, secrets, registry, sql, iam, compute, gcsIam } = env0);
  pubsubFake = env0.pubsub;
  dir = mkdtempSync(path.join(os.tmpdir(), 'gcp-apply-'));
});

after(async () => {
  await env0?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});

test("the sample app's GCP Production graph: apply, read what exists independently, plan again with no change, destroy with final backups", { timeout: 600_000 }, async (t) => {
  const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: 20, deleteTimeoutMs: 60_000 } });
  const identity = await opened.identity(new AbortController().signal);
  assert.equal(identity.scope, `GCP project ${TEST_PROJECT} in ${TEST_REGION}`);
  const backend = await opened.state();
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'prod');
  const lbs = playLoadBalancers(admin, 'prod');
  const events: ProgressEvent[] = [];
  const pubsub = new PubSub({ projectId: TEST_PROJECT, apiEndpoint: pubsubFake.emulatorHost, emulatorMode: true });
  const storage = new Storage({ projectId: TEST_PROJECT, apiEndpoint: `http://${gcsIam.hostPort}` });
  try {
    await opened.driver.preflight(new AbortController().signal);
    const applied = await apply(graph, { backend, driver: opened.driver, onProgress: (e) => events.push(e), retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    assert.equal(applied.result.done.length, graph.resources.length);
    const waits = events.filter((e) => e.phase === 'progress').map((e) => e.message);
    for (const what of [/GKE cluster .*: (RUNNING|PENDING|creating)/, /Cloud SQL instance .*: (PENDING|RUNNING|creating)/, /Memorystore instance .*: (in progress|creating)/]) {
      assert.ok(waits.some((m) => what.test(m)), `progress shows the wait ${what}: ${waits.join(' | ').slice(0, 600)}`);
    }

    // --- independent reads, from the fakes' own records ---
    for (const name of ['orders', 'users']) {
      const stored = sql.instances.get(`${TEST_PROJECT}/${byId(`gcp:sql:${name}`).name}`)!.instance;
      const s = stored.settings;
      assert.equal(s.availabilityType, 'REGIONAL', 'regional HA');
      assert.equal(s.backupConfiguration.enabled, true);
      assert.ok(Number(s.backupConfiguration.backupRetentionSettings.retainedBackups) >= 7, 'backups kept at least 7 days');
      assert.equal(s.backupConfiguration.pointInTimeRecoveryEnabled, true, 'point-in-time recovery');
      assert.equal(s.deletionProtectionEnabled, true, 'deletion protection');
      assert.equal(s.ipConfiguration.ipv4Enabled, false, 'no public IP');
      assert.equal(s.ipConfiguration.privateNetwork, `projects/${TEST_PROJECT}/global/networks/${byId('gcp:network').name}`, 'a private IP on the environment network');
    }
    const network = byId('gcp:network').name;
    assert.deepEqual([...compute.connections.keys()], [`projects/${TEST_PROJECT_NUMBER}/global/networks/${network}`], 'private services access is peered');
    // The private nodes' egress: a Cloud Router on the network in the region, with a NAT for every subnet range.
    const routers = [...compute.routers.values()];
    assert.equal(routers.length, 1, 'one Cloud Router');
    assert.equal(routers[0].network, compute.networks.get(network)!.selfLink, 'the router is on the environment network');
    assert.ok(String(routers[0].region).endsWith(`/regions/${TEST_REGION}`), 'in the environment region');
    assert.deepEqual((routers[0].nats as Any[]).map((n) => [n.natIpAllocateOption, n.sourceSubnetworkIpRangesToNat]), [['AUTO_ONLY', 'ALL_SUBNETWORKS_ALL_IP_RANGES']], 'one Cloud NAT over all the subnet ranges');
    const cluster = gke.clusters.get(`projects/${TEST_PROJECT}/locations/${TEST_REGION}/clusters/${byId('gcp:gke').name}`)!;
    assert.equal(cluster.workloadIdentityConfig.workloadPool, `${TEST_PROJECT}.svc.id.goog`);
    assert.equal(cluster.privateClusterConfig.enablePrivateNodes, true);
    const pools = (cluster.nodePools as Any[]).map((p) => p.name);
    assert.deepEqual(pools, [byId('gcp:gke-nodepool').name], 'only the graph\'s node pool');
    const pool = (cluster.nodePools as Any[])[0];
    const wanted = byId('gcp:gke-nodepool').settings.autoscaling as Any;
    assert.deepEqual([pool.autoscaling.enabled, Number(pool.autoscaling.totalMinNodeCount), Number(pool.autoscaling.totalMaxNodeCount)], [true, wanted.totalMinNodeCount, wanted.totalMaxNodeCount], 'the pool scales between the sizing answers');
    assert.equal(pool.config.workloadMetadataConfig.mode, 'GKE_METADATA');

    const [sub] = await pubsub.subscription(byId('gcp:pubsub-subscription:order-placed/notify-customer').name).getMetadata();
    assert.equal(sub.deadLetterPolicy?.deadLetterTopic, `projects/${TEST_PROJECT}/topics/${byId('gcp:pubsub-dead-letter:order-placed/notify-customer').name}`);
    assert.equal(sub.deadLetterPolicy?.maxDeliveryAttempts, (byId('gcp:pubsub-subscription:order-placed/notify-customer').settings.deadLetterPolicy as Any).maxDeliveryAttempts);
    assert.ok(Number(sub.retryPolicy?.maximumBackoff?.seconds) > 0, 'the retry policy from code');
    assert.equal(sub.enableMessageOrdering, true);
    const [held] = await pubsub.subscription((byId('gcp:pubsub-dead-letter:order-placed/notify-customer').settings.holdingSubscription as Any).name).getMetadata();
    assert.equal(held.topic, `projects/${TEST_PROJECT}/topics/${byId('gcp:pubsub-dead-letter:order-placed/notify-customer').name}`, 'dead letters are held');

    const bucket = byId('gcp:gcs:order-receipts').name;
    const [bucketMeta] = await storage.bucket(bucket).getMetadata();
    assert.equal(bucketMeta.versioning?.enabled, true);
    // fake-gcs-server drops uniform access and public access prevention and has no bucket IAM
    // (test/integration/gcpGoFakes.test.ts): the proxy in front of it keeps them, and says how often it did.
    const bucketRoles = gcsIam.policies.get(bucket).bindings.map((b) => [b.role, b.members]);
    assert.deepEqual(bucketRoles.filter(([, m]) => (m as string[]).some((x) => x.includes(byId('gcp:service-account:orders').name))).map(([r]) => r).sort(), ['roles/storage.objectCreator', 'roles/storage.objectViewer'].filter((r) => (byId('gcp:service-account:orders').settings.bindings as Any[]).some((b) => b.roles.includes(r))).sort(), 'orders holds exactly its roles on its bucket');
    assert.ok(!bucketRoles.some(([, m]) => (m as string[]).includes('allUsers')), 'a private bucket is not public');
    assert.deepEqual(bucketMeta.iamConfiguration?.uniformBucketLevelAccess?.enabled, true);
    assert.equal(bucketMeta.iamConfiguration?.publicAccessPrevention, 'enforced');
    t.diagnostic(`fake-gcs-server gap: it serves no bucket IAM and drops iamConfiguration and labels; the test proxy answered ${gcsIam.served} bucket IAM requests and restored the dropped fields in ${gcsIam.restored} answers`);

    for (const name of ['EmailApiKey', 'SessionSigningKey']) {
      const stored = secrets.secrets.get(`projects/${TEST_PROJECT}/secrets/${byId(`gcp:secret:${name}`).name}`);
      assert.ok(stored, `${name} is in Secret Manager`);
      assert.equal(stored.secret.labels['encore-env'], 'prod');
    }
    assert.ok(registry.repositories.get(`projects/${TEST_PROJECT}/locations/${TEST_REGION}/repositories/${byId('gcp:artifact-registry').name}`), 'the image repository');

    const ordersEmail = `${byId('gcp:service-account:orders').name}@${TEST_PROJECT}.iam.gserviceaccount.com`;
    assert.ok(iam.accounts.get(ordersEmail), 'the orders service account');
    assert.deepEqual(iam.membersOf(ordersEmail, 'roles/iam.workloadIdentityUser'), [`serviceAccount:${TEST_PROJECT}.svc.id.goog[prod/orders]`], 'bound to its Kubernetes ServiceAccount only');
    const [topicPolicy] = await pubsub.topic(byId('gcp:pubsub-topic:order-placed').name).iam.getPolicy();
    assert.deepEqual(topicPolicy.bindings?.map((b) => [b.role, b.members]), [['roles/pubsub.publisher', [`serviceAccount:${ordersEmail}`]]], 'orders may publish to its topic, nothing more');

    // --- the in-cluster half, on the test kube-apiserver through the GKE connection ---
    const sa = (await admin.find('v1', 'ServiceAccount', 'prod', 'orders')) as Any;
    assert.equal(sa.metadata.annotations['iam.gke.io/gcp-service-account'], ordersEmail, 'the orders ServiceAccount acts as its Google service account');
    const adminSecret = (await admin.find('v1', 'Secret', 'prod', 'encore-db-admin-orders')) as Any;
    const adminPassword = sql.passwordOf(TEST_PROJECT, byId('gcp:sql:orders').name, 'encore_admin');
    assert.ok(adminPassword && adminPassword.length >= 32);
    assert.equal(Buffer.from(adminSecret.data.password, 'base64').toString(), adminPassword, 'the database Job gets the password the driver set on the Cloud SQL administrator');
    const infra = JSON.parse(Buffer.from(((await admin.find('v1', 'Secret', 'prod', 'encore-infra-config')) as Any).data['infra.config.json'], 'base64').toString()) as Any;
    const gcpPubsub = (infra.pubsub as Any[]).find((p) => p.type === 'gcp_pubsub')!;
    assert.equal(gcpPubsub.project_id, TEST_PROJECT);
    assert.equal(gcpPubsub.topics['order-placed'].name, byId('gcp:pubsub-topic:order-placed').name);
    assert.equal((infra.object_storage as Any[]).find((o) => o.type === 'gcs')!.buckets['order-receipts'].name, bucket);
    assert.ok(webhook.reviews.some((r) => r.authenticated && r.username === FEDERATED_SUBJECT), 'the in-cluster half authenticated with the ADC access token');

    // --- an app secret's value: to Secret Manager as a version ---
    await setSecretValue(graph, opened.driver, 'EmailApiKey', 'sk-test-4242', new AbortController().signal);
    const stored = secrets.secrets.get(`projects/${TEST_PROJECT}/secrets/${byId('gcp:secret:EmailApiKey').name}`)!;
    assert.equal(stored.versions.at(-1)?.data.toString(), 'sk-test-4242');
    const copy = graph.resources.find((r) => r.providerType === 'k8s/v1/Secret' && r.source?.name === 'EmailApiKey')!;
    assert.equal(Buffer.from(((await admin.find('v1', 'Secret', 'prod', copy.name)) as Any).data.value, 'base64').toString(), 'sk-test-4242', 'and its in-cluster copy the pods read');
    const statuses = await secretStatuses(graph, opened.driver, new AbortController().signal);
    assert.deepEqual(statuses.map((s) => [s.secret.name, s.status]), [['EmailApiKey', 'set'], ['SessionSigningKey', 'unset']]);

    // --- state without a secret value ---
    const stateText = JSON.stringify(await backend.load());
    const authString = [...redis.instances.keys()].length > 0 ? (await (opened.driver.read(byId('gcp:memorystore:notifications'), new AbortController().signal)))?.outputs.authString?.value : undefined;
    assert.ok(typeof authString === 'string' && authString.length > 0);
    for (const value of [authString, 'sk-test-4242', adminPassword!]) assert.ok(!stateText.includes(value) && !JSON.stringify(events).includes(value), 'a secret value reached state or progress');

    // --- a second plan: nothing to change ---
    const again = await planChanges(graph, await backend.load(), opened.driver);
    const changing = again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${e.action} ${JSON.stringify(e.changes)}`);
    assert.deepEqual(changing, [], 'a re-plan right after apply changes nothing');

    // --- destroy: deletion protection lifted inside the confirmed destroy, a final backup of each database ---
    const gone = await destroy('prod', 'gcp', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.deepEqual(sql.deletes.map((d) => [d.instance, d.enableFinalBackup]).sort(), [[byId('gcp:sql:orders').name, true], [byId('gcp:sql:users').name, true]].sort());
    assert.equal(sql.instances.size, 0);
    assert.equal(gke.clusters.size, 0);
    assert.equal(redis.instances.size, 0);
    assert.equal(iam.accounts.size, 0);
    assert.equal(compute.networks.size + compute.subnetworks.size + compute.addresses.size + compute.connections.size + compute.routers.size, 0, 'the network and its parts are gone');
    assert.deepEqual((await pubsub.getTopics())[0].map((t) => t.name), []);
    // Only the state bucket is kept, holding the environment's (now empty) state, written through the same credentials.
    assert.deepEqual((await storage.getBuckets())[0].map((b) => b.name), [stateBucketName(TEST_PROJECT, TEST_REGION)]);
    assert.match(backend.location, /^gs:\/\/encore-state-/);
    const [stateObject] = await storage.bucket(stateBucketName(TEST_PROJECT, TEST_REGION)).file('environments/prod/state.json').getMetadata();
    assert.ok(Number(stateObject.generation) > 0, 'the state object was written in the GCS state bucket');
    assert.deepEqual([...secrets.secrets.keys()], []);
  } finally {
    await pubsub.close();
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
});

test('the sample app on GCP Development: a zonal cluster with a fixed pool, no private services access, databases and caches in the cluster', { timeout: 600_000 }, async () => {
  const opened = await (await providerModule('gcp')).open(devEnv, { appRoot: dir, timing: { pollIntervalMs: 20, deleteTimeoutMs: 60_000 } });
  const backend = await opened.state();
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'dev');
  const lbs = playLoadBalancers(admin, 'dev');
  try {
    assert.ok(!devGraph.resources.some((r) => r.providerType === 'sqladmin.googleapis.com/Instance' || r.providerType === 'redis.googleapis.com/Instance'));
    const applied = await apply(devGraph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    const nodes = devGraph.resources.find((r) => r.id === 'gcp:gke-nodepool')!;
    const cluster = [...gke.clusters.values()].find((c) => c.name === devGraph.resources.find((r) => r.id === 'gcp:gke')!.name)!;
    assert.equal(cluster.location, `${TEST_REGION}-b`, 'zonal');
    const pool = (cluster.nodePools as Any[]).find((p) => p.name === nodes.name)!;
    assert.equal(pool.autoscaling?.enabled ?? false, false, 'a fixed pool');
    assert.equal(Number(pool.initialNodeCount), nodes.settings.nodeCount);
    assert.equal(compute.connections.size, 0, 'no private services access in Development');
    assert.equal([...compute.routers.values()].filter((r) => (r.nats as Any[]).length === 1).length, 1, 'Development\'s private nodes get their Cloud NAT too');
    assert.ok(await admin.find('apps/v1', 'StatefulSet', 'dev', 'encore-postgres-orders'), 'the database runs in the cluster');
    const again = await planChanges(devGraph, await backend.load(), opened.driver);
    assert.deepEqual(again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${JSON.stringify(e.changes)}`), []);
    const gone = await destroy('dev', 'gcp', { backend, driver: opened.driver, confirm: 'dev', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.equal(gke.clusters.size, 0);
    assert.equal(compute.networks.size + compute.routers.size, 0);
  } finally {
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
});
