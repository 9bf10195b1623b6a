// The form's GKE cluster picker against the GKE fake: the project's clusters from clusters.list on
// `projects/P/locations/-` (ADC from the test bed's external account, over TLS with call credentials, through
// gcloud's endpoint override), merged with a kubeconfig as gcloud writes it; and the refusals users meet (a disabled
// API, a missing permission, no ADC), each a problem for the field's hint, never a throw.
import '../gcp/tls';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClusterManagerClient } from '@google-cloud/container';
import { discoverGkeClusters } from '../../src/extension/form/gkeClusters';
import { openGcpConnection } from '../../src/provisioning/providers/gcp/connection';
import { listGkeClusters } from '../../src/provisioning/providers/gcp/discovery';
import { GkeFake } from '../gcp/fakes/gke';
import { startGcpTestbed, TEST_PROJECT, TEST_REGION, type GcpTestbed } from '../gcp/harness';
import { watchConnections } from '../gcp/localGoogle';

const connections = watchConnections();
const signal = () => new AbortController().signal;
let bed: GcpTestbed;
let gke: GkeFake;
let dir: string;

before(async () => {
  bed = await startGcpTestbed();
  gke = await bed.grpc('container', new GkeFake());
  // Clusters are made RUNNING at once: the picker lists, it does not wait.
  gke.faults.operationPolls('*', 0);
  dir = mkdtempSync(path.join(os.tmpdir(), 'gcp-gke-discovery-'));
  const connection = await openGcpConnection({ project: TEST_PROJECT, region: TEST_REGION });
  const client = new ClusterManagerClient(connection.gapicOptions('container'));
  try {
    const parent = (location: string) => `projects/${TEST_PROJECT}/locations/${location}`;
    await client.createCluster({ parent: parent(TEST_REGION), cluster: { name: 'shared', initialNodeCount: 1, workloadIdentityConfig: { workloadPool: `${TEST_PROJECT}.svc.id.goog` } } });
    await client.createCluster({ parent: parent(`${TEST_REGION}-b`), cluster: { name: 'legacy', initialNodeCount: 1 } });
    await client.createCluster({ parent: parent('us-central1'), cluster: { name: 'web', autopilot: { enabled: true } } });
    // Another project's cluster is never listed for this one.
    await client.createCluster({ parent: `projects/other-project-9/locations/${TEST_REGION}`, cluster: { name: 'theirs', initialNodeCount: 1 } });
  } finally {
    await client.close();
  }
  // Each cluster's own control-plane address, as GKE gives them (the fake gives all one).
  const endpoints: Record<string, string> = { shared: '34.76.10.1', legacy: '34.76.10.2', web: '34.76.10.3', theirs: '34.76.10.4' };
  for (const cluster of gke.clusters.values()) cluster.endpoint = endpoints[String(cluster.name)];
});

after(async () => {
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});

test('clusters.list over every location: each cluster with its location, status, mode and Workload Identity', async () => {
  const listing = await listGkeClusters({ project: TEST_PROJECT, region: TEST_REGION }, signal());
  assert.deepEqual(listing.problems, []);
  const byName = new Map((listing.clusters ?? []).map((c) => [c.name, c]));
  assert.deepEqual([...byName.keys()].sort(), ['legacy', 'shared', 'web']);
  assert.deepEqual(byName.get('shared'), { name: 'shared', location: TEST_REGION, status: 'RUNNING', autopilot: false, workloadPool: `${TEST_PROJECT}.svc.id.goog`, endpoints: ['34.76.10.1'] });
  assert.deepEqual(byName.get('legacy'), { name: 'legacy', location: `${TEST_REGION}-b`, status: 'RUNNING', autopilot: false, endpoints: ['34.76.10.2'] });
  assert.deepEqual(byName.get('web'), { name: 'web', location: 'us-central1', status: 'RUNNING', autopilot: true, workloadPool: `${TEST_PROJECT}.svc.id.goog`, endpoints: ['34.76.10.3'] });
  const call = gke.calls.findLast((c) => c.method === 'ListClusters');
  assert.match(call?.authorization ?? '', /^Bearer /, 'the list is asked with the ADC access token');
});

test('the picker\'s list: the API\'s clusters merged with the kubeconfig\'s contexts, by name and by server address', async () => {
  const kubeconfig = path.join(dir, 'config');
  const entry = (context: string, cluster: string, user: string, server: string) => ({ context, cluster, user, server });
  const entries = [
    entry(`gke_${TEST_PROJECT}_${TEST_REGION}_shared`, `gke_${TEST_PROJECT}_${TEST_REGION}_shared`, `gke_${TEST_PROJECT}_${TEST_REGION}_shared`, 'https://34.76.10.1'),
    // Renamed throughout: the gke-gcloud-auth-plugin user and the server say which cluster it is.
    entry('web-prod', 'web', 'me', 'https://34.76.10.3'),
    // Deleted since get-credentials ran.
    entry(`gke_${TEST_PROJECT}_asia-east1_old`, `gke_${TEST_PROJECT}_asia-east1_old`, `gke_${TEST_PROJECT}_asia-east1_old`, 'https://34.80.0.1'),
  ];
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config',
    'clusters:', ...entries.flatMap((e) => [`- name: ${e.cluster}`, '  cluster:', `    server: ${e.server}`, '    certificate-authority-data: Q0EgZGF0YQ==']),
    'contexts:', ...entries.flatMap((e) => [`- name: ${e.context}`, '  context:', `    cluster: ${e.cluster}`, `    user: ${e.user}`]),
    'users:', ...entries.flatMap((e) => [`- name: ${e.user}`, '  user:', '    exec:', '      apiVersion: client.authentication.k8s.io/v1beta1', '      command: gke-gcloud-auth-plugin', '      provideClusterInfo: true']),
    '',
  ].join('\n'));
  const found = await discoverGkeClusters(TEST_PROJECT, TEST_REGION, { listFromApi: true, env: { ...process.env, KUBECONFIG: kubeconfig }, homedir: dir }, signal());
  assert.equal(found.state, 'done');
  assert.deepEqual(found.problems, []);
  assert.deepEqual(found.clusters, [
    { value: `${TEST_REGION}/shared`, description: `Standard · running · Workload Identity on · context gke_${TEST_PROJECT}_${TEST_REGION}_shared` },
    {
      value: `${TEST_REGION}-b/legacy`,
      description: 'Standard · running · Workload Identity off',
      enableWorkloadIdentity: `gcloud container clusters update legacy --location ${TEST_REGION}-b --workload-pool=${TEST_PROJECT}.svc.id.goog`,
    },
    { value: 'us-central1/web', description: 'Autopilot · running · Workload Identity on · context web-prod' },
    { value: 'asia-east1/old', description: `context gke_${TEST_PROJECT}_asia-east1_old · in your kubeconfig, but GKE does not list it in ${TEST_PROJECT}` },
  ]);
  const sent = JSON.stringify(found);
  for (const token of bed.tokens.issued()) assert.ok(!sent.includes(token), 'no access token in what the page gets');
  assert.doesNotMatch(sent, /Q0EgZGF0YQ|34\.76\.10/, 'no certificate or address either');
});

test('a disabled API and a missing permission are problems that say what to do; the kubeconfig\'s clusters stay', async () => {
  gke.faults.disableApi();
  try {
    const listing = await listGkeClusters({ project: TEST_PROJECT, region: TEST_REGION }, signal());
    assert.equal(listing.clusters, undefined);
    assert.equal(listing.problems.length, 1);
    assert.match(listing.problems[0]!, /Kubernetes Engine API/);
    assert.match(listing.problems[0]!, /gcloud services enable container\.googleapis\.com/);
  } finally {
    gke.faults.clear();
  }
  gke.faults.denyPermission('ListClusters', 'container.clusters.list', `projects/${TEST_PROJECT}`);
  try {
    const kubeconfig = path.join(dir, 'config');
    const found = await discoverGkeClusters(TEST_PROJECT, TEST_REGION, { listFromApi: true, env: { ...process.env, KUBECONFIG: kubeconfig }, homedir: dir }, signal());
    assert.equal(found.problems.length, 1);
    assert.match(found.problems[0]!, /container\.clusters\.list/);
    assert.match(found.problems[0]!, /roles\/container\.clusterViewer/);
    assert.match(found.problems[0]!, /Your kubeconfig's clusters are listed; you can also type LOCATION\/NAME\./);
    assert.deepEqual(found.clusters.map((c) => c.value), [`${TEST_REGION}/shared`, 'asia-east1/old']);
  } finally {
    gke.faults.clear();
  }
});

test('without Application Default Credentials: the problem says how to log in, and nothing is asked of GKE', async () => {
  const saved = { adc: process.env.GOOGLE_APPLICATION_CREDENTIALS };
  const empty = mkdtempSync(path.join(dir, 'home-'));
  process.env.GOOGLE_APPLICATION_CREDENTIALS = path.join(empty, 'missing.json');
  const before = gke.calls.length;
  try {
    const listing = await listGkeClusters({ project: TEST_PROJECT, region: TEST_REGION }, signal());
    assert.equal(listing.clusters, undefined);
    assert.match(listing.problems[0] ?? '', /Could not list the GKE clusters of encore-test: .*(application-default login|GOOGLE_APPLICATION_CREDENTIALS)/);
    assert.equal(gke.calls.length, before);
  } finally {
    process.env.GOOGLE_APPLICATION_CREDENTIALS = saved.adc;
  }
  const bad = await listGkeClusters({ project: 'Not A Project!', region: TEST_REGION }, signal());
  assert.match(bad.problems[0] ?? '', /is not a GCP project id/);
});
