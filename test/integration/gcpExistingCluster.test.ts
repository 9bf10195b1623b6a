// "Use an existing cluster" on GCP, end to end: the platform team's VPC network and subnet are made beforehand in
// the Compute fake and their GKE cluster (Workload Identity on, a node pool on the GKE metadata server) through the
// GKE fake with Google's own client, as a user's cluster would be; in one case the network already has a private
// services access connection of its own. Then the sample app's Production environment is applied onto it through the
// GCP provider module: no network, cluster, node pool or Cloud NAT of its own, Cloud SQL and Memorystore on the
// cluster's network, each service's Google service account bound to the cluster's Workload Identity pool, the
// in-cluster half on the test kube-apiserver reached as that cluster with the ADC access token. What exists is read
// back from the fakes' own records, not from the environment's state. Destroy leaves the cluster, its network and a
// connection that was there before exactly as they were, and deletes what the environment made.
import '../gcp/tls';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { ClusterManagerClient } from '@google-cloud/container';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredGraph, DesiredResource } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { isStateError } from '../../src/model/state';
import { apply, destroy, planChanges, unlock } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { openGcpConnection } from '../../src/provisioning/providers/gcp/connection';
import { descriptionMark } from '../../src/provisioning/providers/gcp/driver/common';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { playLoadBalancers } from '../aws/sampleEnvironment';
import { FakeError } from '../gcp/googleErrors';
import { FEDERATED_SUBJECT, TEST_PROJECT, TEST_PROJECT_NUMBER, TEST_REGION } from '../gcp/harness';
import { watchConnections } from '../gcp/localGoogle';
import { startGcpEnvironmentBed, type GcpEnvironmentBed } from '../gcp/sampleEnvironment';
import { crashGraph, type GcpCrashChildConfig } from './gcpCrashChild';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const NETWORK = 'platform';
const SUBNET = 'platform-nodes';
const FOREIGN_RANGE = 'platform-google-services';
const CONSUMER = `projects/${TEST_PROJECT_NUMBER}/global/networks/${NETWORK}`;
const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();

function environment(cluster: { name: string; location: string }, type: Environment['type'] = 'production'): Environment {
  return { name: type === 'production' ? 'prod' : 'dev', type, deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project: TEST_PROJECT, region: TEST_REGION, cluster } };
}

const connections = watchConnections();
let world: GcpEnvironmentBed;
let dir: string;
let gkeClient: ClusterManagerClient;

before(async () => {
  // An operation a killed run started finishes on its own, as on Google Cloud, though no one polls it (the crash case).
  world = await startGcpEnvironmentBed({ operationDeadlineMs: 1000 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'gcp-existing-'));
  const connection = await openGcpConnection({ project: TEST_PROJECT, region: TEST_REGION });
  gkeClient = new ClusterManagerClient(connection.gapicOptions('container'));
  // The platform team's network, as they made it: custom subnets, one in the region for the nodes.
  await computeCall('POST', `/compute/v1/projects/${TEST_PROJECT}/global/networks`, { name: NETWORK, autoCreateSubnetworks: false });
  await computeCall('POST', `/compute/v1/projects/${TEST_PROJECT}/regions/${TEST_REGION}/subnetworks`, { name: SUBNET, network: world.compute.networks.get(NETWORK)!.selfLink, ipCidrRange: '10.60.0.0/20' });
});

after(async () => {
  await gkeClient?.close();
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});

/** A Compute or Service Networking call to the fake (plain REST, as gcloud makes it), waited for until DONE. */
async function computeCall(method: string, route: string, body?: object): Promise<void> {
  const base = `http://127.0.0.1:${world.compute.port}`;
  const res = await fetch(`${base}${route}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const op = (await res.json()) as Any;
  assert.ok(res.ok, `${method} ${route}: ${JSON.stringify(op)}`);
  const opPath = op.selfLink ? new URL(String(op.selfLink)).pathname : `/v1/${String(op.name)}`;
  for (let i = 0; i < 20 && op.status !== 'DONE' && op.done !== true; i++) Object.assign(op, await (await fetch(`${base}${opPath}`)).json());
  assert.ok(op.status === 'DONE' || op.done === true, `${method} ${route} finished`);
  assert.ok(!op.error, JSON.stringify(op.error));
}

/** The platform team's GKE cluster, made with Google's client; Workload Identity on unless `workloadIdentity: false`. */
async function userCluster(name: string, location: string, options: { workloadIdentity?: boolean; metadataServer?: boolean; status?: string; network?: string } = {}): Promise<Any> {
  const wi = options.workloadIdentity !== false;
  const gkeMetadata = wi && options.metadataServer !== false;
  if (options.status === 'ERROR') world.gke.failOperation('CreateCluster', new FakeError(GrpcStatus.RESOURCE_EXHAUSTED, 'Insufficient regional quota to satisfy request: resource "CPUS"'));
  const [op] = (await gkeClient.createCluster({
    parent: `projects/${TEST_PROJECT}/locations/${location}`,
    cluster: {
      name, network: options.network ?? NETWORK, subnetwork: SUBNET, initialClusterVersion: '1.33',
      ...(wi ? { workloadIdentityConfig: { workloadPool: `${TEST_PROJECT}.svc.id.goog` } } : {}),
      nodePools: [{ name: 'platform-pool', initialNodeCount: 3, config: { machineType: 'e2-standard-4', workloadMetadataConfig: { mode: gkeMetadata ? 'GKE_METADATA' : 'GCE_METADATA' } } }],
    },
  })) as Any[];
  for (let i = 0; i < 20; i++) {
    const [now] = (await gkeClient.getOperation({ name: `projects/${TEST_PROJECT}/locations/${location}/operations/${String(op.name)}` })) as Any[];
    if (now.status === 'DONE' || now.status === 3) break;
  }
  const cluster = world.gke.clusters.get(`projects/${TEST_PROJECT}/locations/${location}/clusters/${name}`)!;
  assert.equal(cluster.status, options.status ?? 'RUNNING');
  return cluster;
}

async function removeUserCluster(name: string, location: string): Promise<void> {
  const [op] = (await gkeClient.deleteCluster({ name: `projects/${TEST_PROJECT}/locations/${location}/clusters/${name}` })) as Any[];
  for (let i = 0; i < 20 && world.gke.clusters.has(`projects/${TEST_PROJECT}/locations/${location}/clusters/${name}`); i++) {
    await gkeClient.getOperation({ name: `projects/${TEST_PROJECT}/locations/${location}/operations/${String(op.name)}` });
  }
}

const snapshot = (value: unknown) => JSON.parse(JSON.stringify(value)) as Any;

async function applyOnto(env: Environment, graph: DesiredGraph, check: (byId: (id: string) => DesiredResource) => Promise<void>, beforeApply?: () => Promise<void>): Promise<void> {
  const byId = (id: string): DesiredResource => graph.resources.find((r) => r.id === id)!;
  const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: 20, deleteTimeoutMs: 60_000 } });
  const backend = await opened.state();
  const admin = KubeClient.fromKubeConfig(world.kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, env.name);
  const lbs = playLoadBalancers(admin, env.name);
  try {
    await beforeApply?.();
    const applied = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    assert.equal(applied.result.done.length, graph.resources.length);
    await check(byId);
    const again = await planChanges(graph, await backend.load(), opened.driver);
    assert.deepEqual(again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${e.action} ${JSON.stringify(e.changes)}`), [], 'a re-plan right after apply changes nothing');
    const gone = await destroy(env.name, 'gcp', { backend, driver: opened.driver, confirm: env.name, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
  } finally {
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
}

test("the sample app's GCP Production onto an existing GKE cluster whose network has private services access already: used as it is, destroy leaves it", { timeout: 600_000 }, async () => {
  const CLUSTER = 'shared-platform';
  // The network's own private services access, made by the platform team before the environment.
  await computeCall('POST', `/compute/v1/projects/${TEST_PROJECT}/global/addresses`, { name: FOREIGN_RANGE, purpose: 'VPC_PEERING', addressType: 'INTERNAL', prefixLength: 16, network: world.compute.networks.get(NETWORK)!.selfLink });
  await computeCall('POST', '/v1/services/servicenetworking.googleapis.com/connections', { network: CONSUMER, reservedPeeringRanges: [FOREIGN_RANGE] });
  const foreignConnection = snapshot(world.compute.connections.get(CONSUMER));
  const cluster = await userCluster(CLUSTER, TEST_REGION);
  const clusterBefore = snapshot(cluster);
  const env = environment({ name: CLUSTER, location: TEST_REGION });
  const graph = desiredGraph(sample, env, { appId: 'sample-app' });
  const types = new Set(graph.resources.map((r) => r.providerType));
  for (const gone of ['compute.googleapis.com/Network', 'container.googleapis.com/Cluster', 'container.googleapis.com/NodePool']) assert.ok(!types.has(gone), `${gone} is planned`);

  // --- the plan: the cluster read only, the connection used as it is, nothing asks for adoption ---
  const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: 20 } });
  try {
    const plan = await planChanges(graph, await (await opened.state()).load(), opened.driver);
    const entry = (id: string) => plan.entries.find((e) => e.id === id)!;
    assert.equal(entry('gcp:gke').providerType, 'GCP::GKE::ExistingCluster');
    assert.match(entry('gcp:gke').summary, /existing GKE cluster shared-platform in europe-west1 \(read only: never created, changed or deleted\)/);
    assert.match(entry('gcp:gke').reason, /existing cluster: apply reads it and changes nothing/);
    assert.match(entry('gcp:private-services').reason, /exists already, not made by this tool: apply uses it as it is/);
    assert.ok(plan.entries.every((e) => !e.foreign), 'nothing asks to be adopted');
    assert.ok(!plan.entries.some((e) => e.id === 'gcp:network' || e.id === 'gcp:gke-nodepool'));
  } finally {
    await opened.dispose();
  }

  await applyOnto(env, graph, async (byId) => {
    // --- independent reads, from the fakes' own records ---
    const network = `projects/${TEST_PROJECT}/global/networks/${NETWORK}`;
    for (const name of ['orders', 'users']) {
      const s = world.sql.instances.get(`${TEST_PROJECT}/${byId(`gcp:sql:${name}`).name}`)!.instance.settings;
      assert.equal(s.ipConfiguration.privateNetwork, network, `${name}: a private IP on the cluster's network`);
      assert.equal(s.ipConfiguration.ipv4Enabled, false);
      assert.equal(s.availabilityType, 'REGIONAL');
    }
    const caches = [...world.redis.instances.values()] as Any[];
    assert.ok(caches.length > 0);
    for (const c of caches) assert.equal((c.instance ?? c).authorizedNetwork, network, "Memorystore on the cluster's network");
    assert.deepEqual(snapshot(world.compute.connections.get(CONSUMER)), foreignConnection, 'the connection that was there is unchanged');
    assert.deepEqual([...world.compute.connections.keys()], [CONSUMER]);
    assert.deepEqual([...world.compute.addresses.keys()], [FOREIGN_RANGE], 'no range of the environment: the existing ones are used');
    assert.deepEqual([...world.compute.networks.keys()], [NETWORK], 'no network of its own');
    assert.equal(world.compute.routers.size, 0, 'no Cloud Router or NAT of its own');
    assert.deepEqual([...world.gke.clusters.keys()], [`projects/${TEST_PROJECT}/locations/${TEST_REGION}/clusters/${CLUSTER}`], 'no cluster of its own');
    assert.deepEqual(snapshot(cluster), clusterBefore, 'the cluster is exactly as it was: no node pool, no update');
    const ordersEmail = `${byId('gcp:service-account:orders').name}@${TEST_PROJECT}.iam.gserviceaccount.com`;
    assert.deepEqual(world.iam.membersOf(ordersEmail, 'roles/iam.workloadIdentityUser'), [`serviceAccount:${cluster.workloadIdentityConfig.workloadPool}[prod/orders]`], "bound through the cluster's pool to its Kubernetes ServiceAccount only");
    // --- the in-cluster half, through the cluster's endpoint and CA with the ADC access token ---
    const admin = KubeClient.fromKubeConfig(world.kube.kubeConfig(), 'encore-test');
    const sa = (await admin.find('v1', 'ServiceAccount', 'prod', 'orders')) as Any;
    assert.equal(sa.metadata.annotations['iam.gke.io/gcp-service-account'], ordersEmail);
    assert.ok(world.webhook.reviews.some((r) => r.authenticated && r.username === FEDERATED_SUBJECT), 'the in-cluster half authenticated with the ADC access token');
  });

  // --- destroy left the cluster, its network and the foreign connection; what the environment made is gone ---
  assert.deepEqual(snapshot(world.gke.clusters.get(`projects/${TEST_PROJECT}/locations/${TEST_REGION}/clusters/${CLUSTER}`)), clusterBefore, 'the cluster is untouched by destroy');
  assert.deepEqual(snapshot(world.compute.connections.get(CONSUMER)), foreignConnection, 'the foreign connection is untouched');
  assert.deepEqual([...world.compute.addresses.keys()], [FOREIGN_RANGE]);
  assert.ok(world.compute.subnetworks.has(`${TEST_REGION}/${SUBNET}`) && world.compute.networks.has(NETWORK));
  assert.equal(world.sql.instances.size, 0);
  assert.equal(world.redis.instances.size, 0);
  assert.equal(world.iam.accounts.size, 0);
  const admin = KubeClient.fromKubeConfig(world.kube.kubeConfig(), 'encore-test');
  assert.equal(await admin.find('v1', 'Namespace', undefined, 'prod'), null, "the in-cluster half is gone with the environment's namespace");

  // The platform team takes their connection down again for the next case.
  await computeCall('POST', '/v1/services/servicenetworking.googleapis.com/connections/servicenetworking-googleapis-com:deleteConnection', { consumerNetwork: CONSUMER });
  await computeCall('DELETE', `/compute/v1/projects/${TEST_PROJECT}/global/addresses/${FOREIGN_RANGE}`);
  await removeUserCluster(CLUSTER, TEST_REGION);
});

test("an existing cluster whose network has no private services access: the environment makes it on a range of its own, and destroy takes away only that", { timeout: 600_000 }, async () => {
  const CLUSTER = 'team-cluster';
  const LOCATION = `${TEST_REGION}-c`;
  const cluster = await userCluster(CLUSTER, LOCATION);
  const clusterBefore = snapshot(cluster);
  const env = environment({ name: CLUSTER, location: LOCATION });
  const graph = desiredGraph(sample, env, { appId: 'sample-app' });
  // Only the two resources that concern the network: the rest of the environment is the first case's.
  const part: DesiredGraph = { ...graph, resources: graph.resources.filter((r) => r.id === 'gcp:gke' || r.id === 'gcp:private-services') };
  const range = graph.resources.find((r) => r.id === 'gcp:private-services')!.name;
  await applyOnto(env, part, async () => {
    const made = world.compute.connections.get(CONSUMER)!;
    assert.deepEqual(made.reservedPeeringRanges, [range], 'a connection on the range the environment reserved');
    const address = world.compute.addresses.get(range)!;
    assert.equal(address.network, world.compute.networks.get(NETWORK)!.selfLink, "the range is on the cluster's network");
    assert.equal(address.purpose, 'VPC_PEERING');
    assert.match(String(address.description), /environment prod, resource gcp:private-services/);
  });
  assert.equal(world.compute.connections.size, 0, 'the connection the environment made is gone');
  assert.equal(world.compute.addresses.size, 0, 'and its range');
  assert.deepEqual(snapshot(world.gke.clusters.get(`projects/${TEST_PROJECT}/locations/${LOCATION}/clusters/${CLUSTER}`)), clusterBefore, 'the cluster is untouched');

  // Another team adds its own range to the connection the environment made: destroy then takes only its range off it.
  await applyOnto(env, part, async () => {
    await computeCall('POST', `/compute/v1/projects/${TEST_PROJECT}/global/addresses`, { name: FOREIGN_RANGE, purpose: 'VPC_PEERING', addressType: 'INTERNAL', prefixLength: 16, network: world.compute.networks.get(NETWORK)!.selfLink });
    await computeCall('PATCH', '/v1/services/servicenetworking.googleapis.com/connections/servicenetworking-googleapis-com?updateMask=reservedPeeringRanges', { network: CONSUMER, reservedPeeringRanges: [range, FOREIGN_RANGE] });
  });
  assert.deepEqual(world.compute.connections.get(CONSUMER)?.reservedPeeringRanges, [FOREIGN_RANGE], "the connection stays for the other team's range, without the environment's");
  assert.deepEqual([...world.compute.addresses.keys()], [FOREIGN_RANGE]);
  await computeCall('POST', '/v1/services/servicenetworking.googleapis.com/connections/servicenetworking-googleapis-com:deleteConnection', { consumerNetwork: CONSUMER });
  await computeCall('DELETE', `/compute/v1/projects/${TEST_PROJECT}/global/addresses/${FOREIGN_RANGE}`);
  await removeUserCluster(CLUSTER, LOCATION);
});

test("the sample app's GCP Development onto an existing cluster: databases and caches in it, no private services access, destroy leaves the cluster", { timeout: 600_000 }, async () => {
  const CLUSTER = 'dev-platform';
  const LOCATION = `${TEST_REGION}-b`;
  const cluster = await userCluster(CLUSTER, LOCATION);
  const clusterBefore = snapshot(cluster);
  const env = environment({ name: CLUSTER, location: LOCATION }, 'development');
  const graph = desiredGraph(sample, env, { appId: 'sample-app' });
  assert.ok(!graph.resources.some((r) => r.id === 'gcp:private-services' || r.providerType === 'sqladmin.googleapis.com/Instance' || r.providerType === 'redis.googleapis.com/Instance'));
  await applyOnto(env, graph, async (byId) => {
    const admin = KubeClient.fromKubeConfig(world.kube.kubeConfig(), 'encore-test');
    const postgres = graph.resources.filter((r) => r.providerType === 'k8s/apps/v1/StatefulSet');
    assert.ok(postgres.length > 0);
    for (const r of postgres) assert.ok(await admin.find('apps/v1', 'StatefulSet', 'dev', r.name), `${r.name} runs in the existing cluster`);
    const email = `${byId('gcp:service-account:orders').name}@${TEST_PROJECT}.iam.gserviceaccount.com`;
    assert.deepEqual(world.iam.membersOf(email, 'roles/iam.workloadIdentityUser'), [`serviceAccount:${TEST_PROJECT}.svc.id.goog[dev/orders]`]);
    assert.equal(world.compute.connections.size + world.compute.addresses.size + world.compute.routers.size, 0, 'nothing on the network');
    assert.equal(world.gke.clusters.size, 1);
    assert.deepEqual(snapshot(cluster), clusterBefore);
  });
  assert.deepEqual(snapshot(world.gke.clusters.get(`projects/${TEST_PROJECT}/locations/${LOCATION}/clusters/${CLUSTER}`)), clusterBefore, 'destroy left the cluster as it was');
  assert.equal(world.iam.accounts.size, 0);
  await removeUserCluster(CLUSTER, LOCATION);
});

test('an existing cluster that is not there, not RUNNING, without Workload Identity or on a Shared VPC: apply refuses, saying what to check and the command that fixes it', { timeout: 120_000 }, async () => {
  const refusal = async (cluster: { name: string; location: string }): Promise<string> => {
    const env = environment(cluster, 'development');
    const whole = desiredGraph(sample, env, { appId: 'sample-app' });
    // The cluster alone: what does not wait for it (topics, buckets) would be made whatever the cluster is.
    const graph: DesiredGraph = { ...whole, resources: whole.resources.filter((r) => r.id === 'gcp:gke') };
    const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: 20 } });
    try {
      const applied = await apply(graph, { backend: await opened.state(), driver: opened.driver, retry: { attempts: 1, baseDelayMs: 10 } });
      assert.equal(applied.result.outcome, 'failed');
      assert.deepEqual(applied.result.done, [], 'nothing was made');
      return JSON.stringify(applied.result.failed);
    } finally {
      await opened.dispose();
    }
  };
  const missing = await refusal({ name: 'no-such-cluster', location: TEST_REGION });
  assert.match(missing, new RegExp(`no GKE cluster no-such-cluster in project ${TEST_PROJECT}, location ${TEST_REGION}`));
  assert.match(missing, new RegExp(`gcloud container clusters list --project ${TEST_PROJECT}`));

  const cluster = await userCluster('no-wi', TEST_REGION, { workloadIdentity: false });
  const before = snapshot(cluster);
  const noWi = await refusal({ name: 'no-wi', location: TEST_REGION });
  assert.match(noWi, /GKE cluster no-wi has Workload Identity off/);
  assert.match(noWi, new RegExp(`gcloud container clusters update no-wi --location ${TEST_REGION} --workload-pool=${TEST_PROJECT}\\.svc\\.id\\.goog`));
  assert.deepEqual(snapshot(cluster), before, 'the cluster was not changed to turn it on');
  await removeUserCluster('no-wi', TEST_REGION);

  const noMetadata = await userCluster('no-metadata', TEST_REGION, { metadataServer: false });
  const noMetadataBefore = snapshot(noMetadata);
  const noServer = await refusal({ name: 'no-metadata', location: TEST_REGION });
  assert.match(noServer, /no node pool of GKE cluster no-metadata runs the GKE metadata server/);
  assert.match(noServer, new RegExp(`gcloud container node-pools update platform-pool --cluster no-metadata --location ${TEST_REGION} --workload-metadata=GKE_METADATA`));
  assert.deepEqual(snapshot(noMetadata), noMetadataBefore);
  await removeUserCluster('no-metadata', TEST_REGION);

  // A Shared VPC cluster: its network is the host project's, whose private services access this tool does not set up.
  await userCluster('shared-vpc', TEST_REGION, { network: `projects/network-host-1/global/networks/${NETWORK}` });
  const sharedVpc = environment({ name: 'shared-vpc', location: TEST_REGION });
  const whole = desiredGraph(sample, sharedVpc, { appId: 'sample-app' });
  const opened = await (await providerModule('gcp')).open(sharedVpc, { appRoot: dir, timing: { pollIntervalMs: 20 } });
  try {
    const part: DesiredGraph = { ...whole, resources: whole.resources.filter((r) => r.id === 'gcp:gke' || r.id === 'gcp:private-services') };
    const applied = await apply(part, { backend: await opened.state(), driver: opened.driver, retry: { attempts: 1, baseDelayMs: 10 } });
    assert.equal(applied.result.outcome, 'failed');
    assert.match(JSON.stringify(applied.result.failed), /network platform is in project network-host-1 \(Shared VPC\)/);
    assert.equal(world.compute.addresses.size + world.compute.connections.size, 0, 'nothing was reserved or peered');
    const gone = await destroy(sharedVpc.name, 'gcp', { backend: await opened.state(), driver: opened.driver, confirm: sharedVpc.name, retry: { attempts: 1, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed));
  } finally {
    await opened.dispose();
  }
  await removeUserCluster('shared-vpc', TEST_REGION);

  await userCluster('broken', TEST_REGION, { status: 'ERROR' });
  const broken = await refusal({ name: 'broken', location: TEST_REGION });
  assert.match(broken, /GKE cluster broken is ERROR, not RUNNING/);
  assert.equal(world.iam.accounts.size, 0);
  await removeUserCluster('broken', TEST_REGION);
});

test('an apply killed inside the private services access step (after reserving its range, or after making the connection) is taken back by the next run: one range, one connection', { timeout: 300_000 }, async () => {
  const CLUSTER = 'crash-cluster';
  const LOCATION = `${TEST_REGION}-d`;
  await userCluster(CLUSTER, LOCATION);
  const env = environment({ name: CLUSTER, location: LOCATION });
  const graph = desiredGraph(sample, env, { appId: 'sample-app' });
  const part: DesiredGraph = { ...graph, resources: graph.resources.filter((r) => r.id === 'gcp:gke' || r.id === 'gcp:private-services') };
  const access = part.resources.find((r) => r.id === 'gcp:private-services')!;
  // What a killed run leaves: the range it reserved (with its mark), and in the second case the connection too.
  const leftBehind = async (withConnection: boolean) => {
    await computeCall('POST', `/compute/v1/projects/${TEST_PROJECT}/global/addresses`, { name: access.name, purpose: 'VPC_PEERING', addressType: 'INTERNAL', prefixLength: 20, network: world.compute.networks.get(NETWORK)!.selfLink, description: descriptionMark(access, { environment: 'prod' }) });
    if (withConnection) await computeCall('POST', '/v1/services/servicenetworking.googleapis.com/connections', { network: CONSUMER, reservedPeeringRanges: [access.name] });
  };
  for (const withConnection of [false, true]) {
    await leftBehind(withConnection);
    const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: 20 } });
    try {
      const plan = await planChanges(part, await (await opened.state()).load(), opened.driver);
      const entry = plan.entries.find((e) => e.id === 'gcp:private-services')!;
      if (withConnection) {
        assert.equal(entry.adopt, true);
        assert.equal(entry.foreign, false, 'its own connection asks for no adoption');
        assert.match(entry.reason, /made by an earlier run of this tool that did not record it/);
      } else assert.match(entry.reason, /new in the app/);
    } finally {
      await opened.dispose();
    }
    await applyOnto(env, part, async () => {
      assert.deepEqual([...world.compute.addresses.keys()], [access.name], 'one range: the one the killed run reserved');
      assert.deepEqual([...world.compute.connections.keys()], [CONSUMER], 'one connection');
      assert.deepEqual(world.compute.connections.get(CONSUMER)!.reservedPeeringRanges, [access.name]);
    });
    assert.equal(world.compute.connections.size + world.compute.addresses.size, 0, `${withConnection ? 'connection and range' : 'range'} of the killed run deleted by destroy`);
  }
  await removeUserCluster(CLUSTER, LOCATION);
});

test('an apply onto an existing cluster SIGKILLed at step boundaries, one run after another, converges: one range, one connection, the cluster untouched', { timeout: 900_000 }, async (t) => {
  const cluster = { name: 'killed-cluster', location: TEST_REGION };
  const userOwn = await userCluster(cluster.name, cluster.location);
  const clusterBefore = snapshot(userOwn);
  const env = environment(cluster);
  const graph = crashGraph(TEST_PROJECT, TEST_REGION, cluster);
  const steps = graph.resources.length;
  const run = (config: GcpCrashChildConfig) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'gcpCrashChild.ts')], {
      cwd: repo,
      env: { ...process.env, GCP_CRASH_CHILD: JSON.stringify(config), GCP_CRASH_PROJECT: TEST_PROJECT, GCP_CRASH_REGION: TEST_REGION, GCP_CRASH_CLUSTER: JSON.stringify(cluster) },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    return new Promise<{ exit: NodeJS.Signals | number | null; pid: number; output: string }>((resolve) => child.on('exit', (code, signal) => resolve({ exit: signal ?? code, pid: child.pid!, output })));
  };
  const admin = KubeClient.fromKubeConfig(world.kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'prod');
  const lbs = playLoadBalancers(admin, 'prod');
  const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: 20 } });
  const reports: string[] = [];
  try {
    const backend = await opened.state();
    // The first boundaries fall around the cluster's read and the private services access.
    for (const n of [1, 2, 3, 5, 9, 17]) {
      const child = await run({ appRoot: dir, killAt: n });
      if (child.exit !== 'SIGKILL') {
        assert.match(child.output, /result \{"outcome":"succeeded"/, `run before kill ${n}: ${child.output.slice(-1500)}`);
        reports.push(`kill ${n}: the run finished first`);
        break;
      }
      const refused = await apply(graph, { backend, driver: opened.driver }).then(() => null, (err: unknown) => err);
      assert.ok(isStateError(refused) && refused.code === 'locked', `after kill ${n}: expected the dead child's lock, got ${String(refused)}`);
      assert.equal((await unlock(backend)).broken?.pid, child.pid);
      const { state } = await backend.load();
      reports.push(`kill ${n}: ${Object.values(state?.resources ?? {}).filter((r) => r.status === 'ready').length} ready`);
    }
    const last = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(last.result.outcome, 'succeeded', `${reports.join('; ')}\n${JSON.stringify(last.result.failed, null, 2)}`);
    const again = await apply(graph, { backend, driver: opened.driver });
    assert.deepEqual(again.plan.counts, { create: 0, update: 0, delete: 0, keep: steps }, 'a further apply changes nothing');
    const range = graph.resources.find((r) => r.id === 'gcp:private-services')!.name;
    assert.deepEqual([...world.compute.addresses.keys()], [range], 'one range');
    assert.deepEqual(world.compute.connections.get(CONSUMER)?.reservedPeeringRanges, [range], 'one connection, on it');
    assert.equal(world.gke.clusters.size, 1, 'no cluster of its own');
    assert.deepEqual(snapshot(userOwn), clusterBefore, 'the cluster is untouched');
    const count = (type: string) => graph.resources.filter((r) => r.providerType === type).length;
    assert.equal(world.sql.instances.size, count('sqladmin.googleapis.com/Instance'));
    assert.equal(world.redis.instances.size, count('redis.googleapis.com/Instance'));
    const gone = await destroy('prod', 'gcp', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.equal(world.compute.connections.size + world.compute.addresses.size + world.sql.instances.size + world.redis.instances.size + world.iam.accounts.size, 0, 'nothing of the environment is left');
    assert.deepEqual(snapshot(world.gke.clusters.get(`projects/${TEST_PROJECT}/locations/${TEST_REGION}/clusters/${cluster.name}`)), clusterBefore, 'destroy left the cluster as it was');
    t.diagnostic(`crash safety on an existing GKE cluster: ${reports.join('; ')} (of ${steps} steps)`);
  } finally {
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
  await removeUserCluster(cluster.name, cluster.location);
});
