// The driver conformance suite (test/conformance/driverConformance.ts) against the GCP driver, through the real
// Google clients over TLS with ADC access tokens (an external_account file exchanged at the test token server):
// a Memorystore instance on the proto-driven fake (long-running operations that take polls, an update in place of
// its memory size). Transient failures are INTERNAL answers the clients do not retry
// themselves; a hang is a call the fake holds unanswered.
import '../gcp/tls';
import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { CloudRedisClient } from '@google-cloud/redis';
import type { DesiredResource } from '../../src/model/desiredGraph';
import { openGcpConnection, type GcpConnection } from '../../src/provisioning/providers/gcp/connection';
import { GcpDriver } from '../../src/provisioning/providers/gcp/driver';
import { driverConformance } from '../conformance/driverConformance';
import { ComputeFake } from '../gcp/fakes/compute';
import { RedisFake } from '../gcp/fakes/redis';
import { startGcpTestbed, TEST_PROJECT, TEST_PROJECT_NUMBER, TEST_REGION, type GcpTestbed } from '../gcp/harness';
import { watchConnections } from '../gcp/localGoogle';

let bed: GcpTestbed;
let connection: GcpConnection;
let n = 0;
let compute: ComputeFake;
const connections = watchConnections();

interface Case {
  what: string;
  fake: () => RedisFake;
  api: 'redis';
  resource(name: string): DesiredResource;
  changed(r: DesiredResource): DesiredResource;
  createOutside(fake: RedisFake, r: DesiredResource): Promise<void>;
}

const CASES: Case[] = [
  {
    what: 'Memorystore instance',
    fake: () => new RedisFake(),
    api: 'redis',
    resource: (name) => ({
      id: `gcp:memorystore:${name}`, kind: 'cache', providerType: 'redis.googleapis.com/Instance', name, source: null,
      settings: {
        tier: 'STANDARD_HA', memorySizeGb: 5, replicaCount: 1, readReplicasMode: 'READ_REPLICAS_ENABLED', redisVersion: 'REDIS_7_2', authEnabled: true,
        transitEncryptionMode: 'SERVER_AUTHENTICATION', connectMode: 'PRIVATE_SERVICE_ACCESS', authorizedNetwork: 'gcp:network', redisConfigs: { 'maxmemory-policy': 'allkeys-lru' },
      },
      dependsOn: [], stateful: false, summary: `Memorystore ${name}`,
    }),
    changed: (r) => ({ ...r, settings: { ...r.settings, memorySizeGb: 6 } }),
    createOutside: async (fake, r) => {
      const client = new CloudRedisClient(fake.tlsClientOptions(connection.auth));
      const [op] = await client.createInstance({
        parent: `projects/${TEST_PROJECT}/locations/${TEST_REGION}`, instanceId: r.name,
        instance: { tier: 'STANDARD_HA', memorySizeGb: 5, replicaCount: 1, readReplicasMode: 'READ_REPLICAS_ENABLED', redisVersion: 'REDIS_7_2', authEnabled: true, transitEncryptionMode: 'SERVER_AUTHENTICATION', connectMode: 'PRIVATE_SERVICE_ACCESS', redisConfigs: { 'maxmemory-policy': 'allkeys-lru' } },
      });
      await op.promise();
      await client.close();
    },
  },
];

for (const c of CASES) {
  let fake: RedisFake;
  driverConformance({
    name: `the GCP driver on the proto-driven fakes (${c.what})`,
    setup: async () => {
      bed = await startGcpTestbed();
      fake = await bed.grpc(c.api, c.fake());
      fake.faults.operationPolls('*', 2);
      compute = await new ComputeFake({ id: TEST_PROJECT, number: TEST_PROJECT_NUMBER }).start();
      bed.http('compute', `127.0.0.1:${compute.port}`);
      connection = await openGcpConnection({ project: TEST_PROJECT, region: TEST_REGION });
      // The instances go on the environment's network, made by the driver's own network handler.
      const network = new GcpDriver({ environment: 'conformance', connection, pollIntervalMs: 20 });
      const r: DesiredResource = {
        id: 'gcp:network', kind: 'network', providerType: 'compute.googleapis.com/Network', name: 'conformance-network', source: null,
        settings: { project: TEST_PROJECT, region: TEST_REGION, autoCreateSubnetworks: false, subnetCidr: '10.20.0.0/16', privateServicesAccess: false }, dependsOn: [], stateful: false, summary: 'network',
      };
      await network.create({ ...r, resolved: r.settings }, { signal: new AbortController().signal, progress: () => undefined });
      await network.dispose();
    },
    teardown: async () => {
      await compute?.stop();
      await bed?.stop();
      connections.stop();
      assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
      assert.ok(fake.calls.length > 0 && fake.calls.every((call) => bed.accepted(String(call.authorization).replace(/^Bearer /, ''))), 'every call carried an ADC access token');
    },
    driver: async () => new GcpDriver({ environment: 'conformance', connection, pollIntervalMs: 20 }),
    resource: async () => {
      const resource = c.resource(`conformance-${++n}-${Date.now().toString(36)}`.slice(0, 40));
      return { resource, changed: c.changed(resource) };
    },
    createOutside: (r) => c.createOutside(fake, r),
    failTransiently: (times) => {
      fake.faults.fail('*', GrpcStatus.INTERNAL, 'injected INTERNAL', { times });
      return () => fake.faults.clear();
    },
    hang: () => fake.faults.hang('*'),
  });
}
