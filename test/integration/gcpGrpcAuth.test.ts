// The gRPC clients as the provider makes them — only the endpoint differs from production: TLS, and call
// credentials from Application Default Credentials (loadAdc), checked by the fakes against the test token server.
// This covers what insecure channels cannot: gax sends no call credentials over them.
import { testTls } from '../gcp/tls';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClusterManagerClient } from '@google-cloud/container';
import { CloudRedisClient } from '@google-cloud/redis';
import { ProjectsClient } from '@google-cloud/resource-manager';
import { UserRefreshClient } from 'google-auth-library';
import { loadAdc, type LoadedAdc } from '../../src/provisioning/providers/gcp/adc';
import { explainGcpError } from '../../src/provisioning/providers/gcp/errors';
import { GkeFake } from '../gcp/fakes/gke';
import { RedisFake } from '../gcp/fakes/redis';
import { ResourceManagerFake } from '../gcp/fakes/resourceManager';
import { localTransporter, watchConnections } from '../gcp/localGoogle';
import { startTokenServer, type TokenServer } from '../gcp/tokenServer';

const PROJECT = 'encore-test';
const LOCATION = `projects/${PROJECT}/locations/europe-west1`;
process.env.METADATA_SERVER_DETECTION = 'none';
const connections = watchConnections();

let tokens: TokenServer;
let adc: LoadedAdc;
let config: string;
const accepted = (token: string) => tokens.validate(token) !== null;

before(async () => {
  tokens = await startTokenServer();
  config = mkdtempSync(path.join(os.tmpdir(), 'encore-gcp-grpc-auth-'));
  mkdirSync(config, { recursive: true });
  const user = tokens.addUser({ email: 'dev@example.com' });
  writeFileSync(path.join(config, 'application_default_credentials.json'), JSON.stringify({ type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken }), { mode: 0o600 });
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.CLOUDSDK_CONFIG = config;
  adc = await loadAdc({ transporter: localTransporter(tokens.url), projectId: PROJECT });
});

after(async () => {
  await tokens.stop();
  rmSync(config, { recursive: true, force: true });
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});

test('GKE, Memorystore (gax 6) and Resource Manager (gax 5) send the ADC access token over TLS; the fakes accept it', async () => {
  const gke = await new GkeFake().start({ tls: testTls, authorize: accepted });
  const redis = await new RedisFake().start({ tls: testTls, authorize: accepted });
  const projects = await new ResourceManagerFake([{ projectId: PROJECT, projectNumber: '123456789012' }]).start({ tls: testTls, authorize: accepted });
  const clusterManager = new ClusterManagerClient(gke.tlsClientOptions(adc.client));
  const cloudRedis = new CloudRedisClient(redis.tlsClientOptions(adc.client));
  const projectsClient = new ProjectsClient(projects.tlsClientOptions(adc.client) as unknown as ConstructorParameters<typeof ProjectsClient>[0]);
  try {
    const [op] = await clusterManager.createCluster({ parent: LOCATION, cluster: { name: 'encore-prod', initialNodeCount: 1 } });
    assert.equal(op.operationType, 'CREATE_CLUSTER');
    const [operation] = await cloudRedis.createInstance({ parent: LOCATION, instanceId: 'cache', instance: { tier: 'BASIC', memorySizeGb: 1 } });
    await operation.promise();
    assert.equal((await projectsClient.getProject({ name: `projects/${PROJECT}` }))[0].projectId, PROJECT);

    for (const fake of [gke, redis, projects]) {
      assert.ok(fake.calls.length > 0);
      for (const call of fake.calls) {
        assert.match(call.authorization ?? '', /^Bearer ya29\.test-/, `${call.method} carried a bearer token`);
        assert.equal(tokens.validate(call.authorization!.slice('Bearer '.length))?.email, 'dev@example.com');
      }
    }
  } finally {
    await Promise.all([clusterManager.close(), cloudRedis.close(), projectsClient.close()]);
    await Promise.all([gke.stop(), redis.stop(), projects.stop()]);
  }
});

test('a token the server never issued is UNAUTHENTICATED, and explained as such', async () => {
  const gke = await new GkeFake().start({ tls: testTls, authorize: accepted });
  const forged = new UserRefreshClient({ clientId: 'x', clientSecret: 'y', refreshToken: 'z', transporter: localTransporter(tokens.url), credentials: { access_token: 'ya29.forged', expiry_date: Date.now() + 3600_000 } });
  const client = new ClusterManagerClient(gke.tlsClientOptions(forged));
  try {
    await assert.rejects(client.getCluster({ name: `${LOCATION}/clusters/x` }), (err: Error & { code?: number }) => {
      assert.equal(err.code, 16);
      assert.equal(explainGcpError(err)?.problem, 'unauthenticated');
      return true;
    });
  } finally {
    await client.close();
    await gke.stop();
  }
});
