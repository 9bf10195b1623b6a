// The proto-driven GCP fakes (test/gcp/fakes/) through the real client libraries the provider uses, over real
// gRPC and HTTP on 127.0.0.1: what each fake implements, the faults a test can inject (errors, operations that take
// N polls, a disabled API, a missing permission) as the clients and explainGcpError see them, and that every method a
// fake does not implement answers UNIMPLEMENTED naming it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { watchConnections } from '../gcp/localGoogle';
import { ArtifactRegistryClient } from '@google-cloud/artifact-registry';
import { ClusterManagerClient } from '@google-cloud/container';
import { CloudRedisClient } from '@google-cloud/redis';
import { ProjectsClient } from '@google-cloud/resource-manager';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { SqlDatabasesServiceClient, SqlInstancesServiceClient, SqlOperationsServiceClient, SqlUsersServiceClient } from '@google-cloud/sql';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { UserRefreshClient } from 'google-auth-library';
import { explainGcpError } from '../../src/provisioning/providers/gcp/errors';
import { IamServiceAccounts } from '../../src/provisioning/providers/gcp/iamRest';
import { ArtifactRegistryFake } from '../gcp/fakes/artifactRegistry';
import { CloudSqlFake } from '../gcp/fakes/cloudSql';
import { GkeFake } from '../gcp/fakes/gke';
import { IamFake } from '../gcp/fakes/iam';
import { RedisFake } from '../gcp/fakes/redis';
import { ResourceManagerFake } from '../gcp/fakes/resourceManager';
import { SecretManagerFake } from '../gcp/fakes/secretManager';
import { FakeError } from '../gcp/googleErrors';
import { localTransporter } from '../gcp/localGoogle';
import { startTokenServer, type TokenServer } from '../gcp/tokenServer';

const PROJECT = 'encore-test';

// No probe of the metadata server (169.254.169.254) from a client that looks for credentials, and proof that every
// connection this file makes stays on loopback.
process.env.METADATA_SERVER_DETECTION = 'none';
const connections = watchConnections();
after(() => {
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});
const LOCATION = `projects/${PROJECT}/locations/europe-west1`;

/** The error a call rejects with, for assertions on its code and fields. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: number; reason?: string; errorInfoMetadata?: Record<string, string> }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: number };
  }
  throw new assert.AssertionError({ message: 'expected the call to fail' });
}

describe('GKE fake (ClusterManagerClient)', () => {
  let fake: GkeFake;
  let client: ClusterManagerClient;
  before(async () => {
    fake = await new GkeFake({ control: { endpoint: '127.0.0.1:6443', caPem: '-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n' } }).start();
    client = new ClusterManagerClient(fake.clientOptions());
  });
  after(async () => {
    await client.close();
    await fake.stop();
  });

  /** Polls a GKE operation as the provider will: GetOperation until DONE, counting the polls. */
  async function waitFor(operationName: string): Promise<{ polls: number; error?: unknown }> {
    for (let polls = 1; ; polls++) {
      const [op] = await client.getOperation({ name: `${LOCATION}/operations/${operationName}` });
      if (op.status === 'DONE') return { polls, ...(op.error ? { error: op.error } : {}) };
      assert.ok(polls < 20, 'the operation never finished');
    }
  }

  test('a Standard cluster with Workload Identity and an autoscaling node pool: created after N polls, read back RUNNING with the endpoint and CA given', async () => {
    fake.faults.operationPolls('CreateCluster', 3);
    const [op] = await client.createCluster({
      parent: LOCATION,
      cluster: {
        name: 'encore-prod',
        workloadIdentityConfig: { workloadPool: `${PROJECT}.svc.id.goog` },
        releaseChannel: { channel: 'REGULAR' },
        nodePools: [{ name: 'default', config: { machineType: 'e2-standard-4', workloadMetadataConfig: { mode: 'GKE_METADATA' } }, autoscaling: { enabled: true, minNodeCount: 1, maxNodeCount: 5 }, initialNodeCount: 1 }],
      },
    });
    assert.equal(op.status, 'RUNNING');
    assert.equal(op.operationType, 'CREATE_CLUSTER');
    const [during] = await client.getCluster({ name: `${LOCATION}/clusters/encore-prod` });
    assert.equal(during.status, 'PROVISIONING');
    assert.equal(during.endpoint, '', 'no endpoint before the cluster runs');
    assert.deepEqual(await waitFor(op.name!), { polls: 3 });

    const [cluster] = await client.getCluster({ name: `${LOCATION}/clusters/encore-prod` });
    assert.equal(cluster.status, 'RUNNING');
    assert.equal(cluster.endpoint, '127.0.0.1:6443');
    assert.match(Buffer.from(cluster.masterAuth!.clusterCaCertificate!, 'base64').toString(), /BEGIN CERTIFICATE/);
    assert.equal(cluster.workloadIdentityConfig?.workloadPool, `${PROJECT}.svc.id.goog`);
    const [pool] = await client.getNodePool({ name: `${LOCATION}/clusters/encore-prod/nodePools/default` });
    assert.deepEqual([pool.status, pool.autoscaling?.enabled, pool.autoscaling?.minNodeCount, pool.autoscaling?.maxNodeCount], ['RUNNING', true, 1, 5]);
    assert.equal(pool.config?.workloadMetadataConfig?.mode, 'GKE_METADATA');
  });

  test('one operation at a time per cluster; node pool autoscaling changed and read back; a second pool added', async () => {
    fake.faults.operationPolls('SetNodePoolAutoscaling', 1);
    const [op] = await client.setNodePoolAutoscaling({ name: `${LOCATION}/clusters/encore-prod/nodePools/default`, autoscaling: { enabled: true, minNodeCount: 2, maxNodeCount: 8 } });
    const busy = await rejection(client.createNodePool({ parent: `${LOCATION}/clusters/encore-prod`, nodePool: { name: 'extra', initialNodeCount: 1 } }));
    assert.equal(busy.code, GrpcStatus.FAILED_PRECONDITION);
    assert.match(busy.message, /Cluster is running incompatible operation/);
    await waitFor(op.name!);
    const [pool] = await client.getNodePool({ name: `${LOCATION}/clusters/encore-prod/nodePools/default` });
    assert.deepEqual([pool.autoscaling?.minNodeCount, pool.autoscaling?.maxNodeCount], [2, 8]);

    const [created] = await client.createNodePool({ parent: `${LOCATION}/clusters/encore-prod`, nodePool: { name: 'extra', initialNodeCount: 1, autoscaling: { enabled: true, minNodeCount: 0, maxNodeCount: 3 } } });
    await waitFor(created.name!);
    assert.equal((await client.getNodePool({ name: `${LOCATION}/clusters/encore-prod/nodePools/extra` }))[0].status, 'RUNNING');
  });

  test('Workload Identity turned on later through UpdateCluster round-trips; a wrong pool is refused', async () => {
    const [op] = await client.createCluster({ parent: LOCATION, cluster: { name: 'no-wi', nodePools: [{ name: 'p', initialNodeCount: 1 }] } });
    await waitFor(op.name!);
    const wrong = await rejection(client.updateCluster({ name: `${LOCATION}/clusters/no-wi`, update: { desiredWorkloadIdentityConfig: { workloadPool: 'other.svc.id.goog' } } }));
    assert.equal(wrong.code, GrpcStatus.INVALID_ARGUMENT);
    const [update] = await client.updateCluster({ name: `${LOCATION}/clusters/no-wi`, update: { desiredWorkloadIdentityConfig: { workloadPool: `${PROJECT}.svc.id.goog` } } });
    await waitFor(update.name!);
    assert.equal((await client.getCluster({ name: `${LOCATION}/clusters/no-wi` }))[0].workloadIdentityConfig?.workloadPool, `${PROJECT}.svc.id.goog`);
  });

  test('settings GKE refuses: autoscaling min above max, node pools on Autopilot', async () => {
    const minMax = await rejection(client.createCluster({ parent: LOCATION, cluster: { name: 'bad', nodePools: [{ name: 'p', autoscaling: { enabled: true, minNodeCount: 4, maxNodeCount: 2 } }] } }));
    assert.equal(minMax.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(minMax.message, /max_node_count \(2\) must be >= min_node_count \(4\)/);
    const autopilot = await rejection(client.createCluster({ parent: LOCATION, cluster: { name: 'ap', autopilot: { enabled: true }, nodePools: [{ name: 'p' }] } }));
    assert.match(autopilot.message, /Autopilot clusters manage their own node pools/);
    const [op] = await client.createCluster({ parent: LOCATION, cluster: { name: 'ap', autopilot: { enabled: true } } });
    await waitFor(op.name!);
    assert.equal((await client.getCluster({ name: `${LOCATION}/clusters/ap` }))[0].workloadIdentityConfig?.workloadPool, `${PROJECT}.svc.id.goog`, 'Autopilot has Workload Identity');
  });

  test('an operation that fails ends DONE with its error; delete, then NOT_FOUND', async () => {
    fake.failOperation('CreateCluster', new FakeError(GrpcStatus.RESOURCE_EXHAUSTED, "Insufficient regional quota to satisfy request: resource \"CPUS\": request requires '12.0' and is short '4.0'."));
    const [op] = await client.createCluster({ parent: LOCATION, cluster: { name: 'quota', nodePools: [{ name: 'p', initialNodeCount: 3 }] } });
    const done = await waitFor(op.name!);
    assert.match(String((done.error as { message?: string }).message), /Insufficient regional quota/);
    assert.equal((await client.getCluster({ name: `${LOCATION}/clusters/quota` }))[0].status, 'ERROR');
    const [deletion] = await client.deleteCluster({ name: `${LOCATION}/clusters/quota` });
    assert.equal(deletion.operationType, 'DELETE_CLUSTER');
    await waitFor(deletion.name!);
    assert.equal((await rejection(client.getCluster({ name: `${LOCATION}/clusters/quota` }))).code, GrpcStatus.NOT_FOUND);
  });

  test('faults: a disabled API and a missing permission, as explainGcpError reads them; methods the fake lacks are UNIMPLEMENTED by name', async () => {
    fake.faults.disableApi();
    const disabled = await rejection(client.getCluster({ name: `${LOCATION}/clusters/encore-prod` }));
    assert.equal(disabled.code, GrpcStatus.PERMISSION_DENIED);
    assert.equal(disabled.reason, 'SERVICE_DISABLED');
    assert.equal(explainGcpError(disabled, { project: PROJECT })?.details.command, `gcloud services enable container.googleapis.com --project ${PROJECT}`);
    fake.faults.clear();

    fake.faults.denyPermission('CreateCluster', 'container.clusters.create', `projects/${PROJECT}/locations/europe-west1`);
    const denied = await rejection(client.createCluster({ parent: LOCATION, cluster: { name: 'denied', initialNodeCount: 1 } }));
    const explained = explainGcpError(denied, { project: PROJECT, member: 'user:dev@example.com' });
    assert.equal(explained?.details.permission, 'container.clusters.create');
    assert.equal(explained?.details.role, 'roles/container.clusterAdmin');
    fake.faults.clear();

    fake.faults.fail('GetCluster', GrpcStatus.UNAVAILABLE, 'try later', { times: 1 });
    assert.equal((await rejection(client.getCluster({ name: `${LOCATION}/clusters/encore-prod` }, { retry: null as never }))).code, GrpcStatus.UNAVAILABLE);
    assert.equal((await client.getCluster({ name: `${LOCATION}/clusters/encore-prod` }))[0].name, 'encore-prod', 'the fault was for one call');

    // ListClusters is served (the provider finds its cluster by labels); ListNodePools is not called, so not served.
    const unimplemented = await rejection(client.listNodePools({ parent: `${LOCATION}/clusters/encore-prod` }));
    assert.equal(unimplemented.code, GrpcStatus.UNIMPLEMENTED);
    assert.match(unimplemented.message, /does not implement google\.container\.v1\.ClusterManager\.ListNodePools/);
  });
});

describe('Memorystore fake (CloudRedisClient, long-running operations)', () => {
  let fake: RedisFake;
  let client: CloudRedisClient;
  before(async () => {
    fake = await new RedisFake().start();
    client = new CloudRedisClient(fake.clientOptions());
  });
  after(async () => {
    await client.close();
    await fake.stop();
  });

  test('a standard-tier instance with a replica and AUTH: the operation takes N polls, the instance reads back READY', async () => {
    fake.faults.operationPolls('CreateInstance', 3);
    const [operation] = await client.createInstance({
      parent: LOCATION, instanceId: 'cache-orders',
      instance: { tier: 'STANDARD_HA', memorySizeGb: 5, replicaCount: 1, readReplicasMode: 'READ_REPLICAS_ENABLED', authEnabled: true, transitEncryptionMode: 'SERVER_AUTHENTICATION', connectMode: 'PRIVATE_SERVICE_ACCESS', authorizedNetwork: `projects/${PROJECT}/global/networks/encore` },
    });
    const pollsBefore = fake.callsOf('GetOperation').length;
    const [instance] = await operation.promise();
    assert.equal(fake.callsOf('GetOperation').length - pollsBefore, 3, 'gax polled the operation three times');
    // Enums in a decoded operation result are numbers (gax decodes the Any without enum names).
    assert.equal(instance.name, `${LOCATION}/instances/cache-orders`);
    const [read] = await client.getInstance({ name: instance.name! });
    assert.deepEqual([read.state, read.tier, read.memorySizeGb, read.replicaCount, read.transitEncryptionMode, read.port], ['READY', 'STANDARD_HA', 5, 1, 'SERVER_AUTHENTICATION', 6378]);
    const [auth] = await client.getInstanceAuthString({ name: instance.name! });
    assert.ok((auth.authString ?? '').length >= 16);
  });

  test('update through an operation; validation; delete', async () => {
    const name = `${LOCATION}/instances/cache-orders`;
    const [update] = await client.updateInstance({ updateMask: { paths: ['memory_size_gb'] }, instance: { name, memorySizeGb: 10 } });
    await update.promise();
    assert.equal((await client.getInstance({ name }))[0].memorySizeGb, 10);
    const refused = await rejection(client.updateInstance({ updateMask: { paths: ['tier'] }, instance: { name, tier: 'BASIC' } }));
    assert.match(refused.message, /field\(s\) tier cannot be updated/);
    const basic = await rejection(client.createInstance({ parent: LOCATION, instanceId: 'bad', instance: { tier: 'BASIC', memorySizeGb: 1, replicaCount: 1 } }));
    assert.equal(basic.code, GrpcStatus.INVALID_ARGUMENT);
    const [deletion] = await client.deleteInstance({ name });
    await deletion.promise();
    assert.equal((await rejection(client.getInstance({ name }))).code, GrpcStatus.NOT_FOUND);
    assert.equal((await rejection(client.listInstances({ parent: LOCATION }))).code, GrpcStatus.UNIMPLEMENTED);
  });
});

describe('Secret Manager fake (SecretManagerServiceClient)', () => {
  let fake: SecretManagerFake;
  let client: SecretManagerServiceClient;
  before(async () => {
    fake = await new SecretManagerFake().start();
    client = new SecretManagerServiceClient(fake.clientOptions());
  });
  after(async () => {
    await client.close();
    await fake.stop();
  });

  test('a secret, its versions, the latest value, and a per-service accessor binding with etag concurrency', async () => {
    const [secret] = await client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'StripeKey', secret: { replication: { automatic: {} }, labels: { 'encore-env': 'prod' } } });
    assert.equal(secret.name, `projects/${PROJECT}/secrets/StripeKey`);
    assert.equal((await rejection(client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'StripeKey', secret: { replication: { automatic: {} } } }))).code, GrpcStatus.ALREADY_EXISTS);
    await client.addSecretVersion({ parent: secret.name, payload: { data: Buffer.from('sk_test_1') } });
    const [v2] = await client.addSecretVersion({ parent: secret.name, payload: { data: Buffer.from('sk_test_2') } });
    assert.equal(v2.name, `${secret.name!}/versions/2`);
    const [latest] = await client.accessSecretVersion({ name: `${secret.name!}/versions/latest` });
    assert.equal(Buffer.from(latest.payload!.data as Uint8Array).toString(), 'sk_test_2');
    const [versions] = await client.listSecretVersions({ parent: secret.name });
    assert.deepEqual(versions.map((v) => v.name!.split('/').pop()), ['2', '1']);

    const [empty] = await client.getIamPolicy({ resource: secret.name });
    const member = `serviceAccount:svc-orders@${PROJECT}.iam.gserviceaccount.com`;
    const [policy] = await client.setIamPolicy({ resource: secret.name, policy: { bindings: [{ role: 'roles/secretmanager.secretAccessor', members: [member] }], etag: empty.etag } });
    assert.deepEqual(fake.policies.membersOf(secret.name!, 'roles/secretmanager.secretAccessor'), [member]);
    const stale = await rejection(client.setIamPolicy({ resource: secret.name, policy: { bindings: [], etag: empty.etag } }));
    assert.equal(stale.code, GrpcStatus.ABORTED, 'a write with an old etag is refused');
    assert.notDeepEqual(policy.etag, empty.etag);

    await client.deleteSecret({ name: secret.name });
    assert.equal((await rejection(client.getSecret({ name: secret.name }))).code, GrpcStatus.NOT_FOUND);
    assert.equal((await rejection(client.listSecrets({ parent: `projects/${PROJECT}` }))).code, GrpcStatus.UNIMPLEMENTED);
  });
});

describe('Artifact Registry fake (ArtifactRegistryClient)', () => {
  test('a Docker repository through an operation, its registry URI, a writer binding, delete', async () => {
    const fake = await new ArtifactRegistryFake().start();
    const client = new ArtifactRegistryClient(fake.clientOptions());
    try {
      const [operation] = await client.createRepository({ parent: LOCATION, repositoryId: 'encore-app', repository: { format: 'DOCKER', description: 'Images of the Encore app' } });
      const [repository] = await operation.promise();
      assert.equal(repository.name, `${LOCATION}/repositories/encore-app`);
      const [read] = await client.getRepository({ name: repository.name! });
      assert.equal(read.registryUri, `europe-west1-docker.pkg.dev/${PROJECT}/encore-app`);
      assert.equal(read.format, 'DOCKER');
      const ci = `serviceAccount:ci@${PROJECT}.iam.gserviceaccount.com`;
      await client.setIamPolicy({ resource: repository.name, policy: { bindings: [{ role: 'roles/artifactregistry.writer', members: [ci] }] } });
      assert.deepEqual((await client.getIamPolicy({ resource: repository.name }))[0].bindings?.map((b) => [b.role, b.members]), [['roles/artifactregistry.writer', [ci]]]);
      const [deletion] = await client.deleteRepository({ name: repository.name });
      await deletion.promise();
      assert.equal((await rejection(client.getRepository({ name: repository.name! }))).code, GrpcStatus.NOT_FOUND);
      assert.equal((await rejection(client.listDockerImages({ parent: repository.name }))).code, GrpcStatus.UNIMPLEMENTED);
    } finally {
      await client.close();
      await fake.stop();
    }
  });
});

describe('Resource Manager fake (ProjectsClient: project IAM)', () => {
  test('the project read by id, its policy read-modify-written with the etag, and permissions tested', async () => {
    const fake = await new ResourceManagerFake([{ projectId: PROJECT, projectNumber: '123456789012' }]).start();
    // @google-cloud/resource-manager is still on google-gax 5 and google-auth-library 10: its option types differ.
    const client = new ProjectsClient(fake.clientOptions() as unknown as ConstructorParameters<typeof ProjectsClient>[0]);
    try {
      const [project] = await client.getProject({ name: `projects/${PROJECT}` });
      assert.deepEqual([project.name, project.projectId, project.state], ['projects/123456789012', PROJECT, 'ACTIVE']);
      const [policy] = await client.getIamPolicy({ resource: `projects/${PROJECT}` });
      const member = `serviceAccount:svc-orders@${PROJECT}.iam.gserviceaccount.com`;
      await client.setIamPolicy({ resource: `projects/${PROJECT}`, policy: { bindings: [...(policy.bindings ?? []), { role: 'roles/cloudsql.client', members: [member] }], etag: policy.etag } });
      assert.deepEqual(fake.policies.membersOf(`projects/${PROJECT}`, 'roles/cloudsql.client'), [member]);
      assert.equal((await rejection(client.setIamPolicy({ resource: `projects/${PROJECT}`, policy: { bindings: [], etag: policy.etag } }))).code, GrpcStatus.ABORTED);
      const invalid = await rejection(client.setIamPolicy({ resource: `projects/${PROJECT}`, policy: { bindings: [{ role: 'roles/cloudsql.client', members: ['svc-orders'] }] } }));
      assert.match(invalid.message, /needs a type prefix/);

      fake.missingPermissions.add('container.clusters.create');
      const [tested] = await client.testIamPermissions({ resource: `projects/${PROJECT}`, permissions: ['container.clusters.create', 'cloudsql.instances.create'] });
      assert.deepEqual(tested.permissions, ['cloudsql.instances.create']);
      assert.equal((await rejection(client.getProject({ name: 'projects/other' }))).code, GrpcStatus.NOT_FOUND);
    } finally {
      await client.close();
      await fake.stop();
    }
  });
});

describe('REST fakes with real credentials: every call carries an ADC access token the token server issued', () => {
  let tokens: TokenServer;
  let auth: UserRefreshClient;
  before(async () => {
    tokens = await startTokenServer();
    const user = tokens.addUser({ email: 'dev@example.com' });
    auth = new UserRefreshClient({ clientId: user.clientId, clientSecret: user.clientSecret, refreshToken: user.refreshToken, transporter: localTransporter(tokens.url) });
  });
  after(() => tokens.stop());

  test('Cloud SQL Admin (the @google-cloud/sql REST clients): a production PostgreSQL instance, its settings read back, deletion protection, a final backup on delete', async () => {
    const fake = await new CloudSqlFake({ authorize: (token) => tokens.validate(token) !== null }).start();
    const options = fake.clientOptions(auth);
    const instances = new SqlInstancesServiceClient(options);
    const operations = new SqlOperationsServiceClient(options);
    const users = new SqlUsersServiceClient(options);
    const databases = new SqlDatabasesServiceClient(options);
    const wait = async (op: { name?: string | null }) => {
      for (let polls = 1; ; polls++) {
        const [current] = await operations.get({ project: PROJECT, operation: op.name });
        if (current.status === 'DONE') return { polls, error: current.error };
        assert.ok(polls < 20);
      }
    };
    try {
      // BoolValue and Int32Value fields are wrapper messages in the client ({ value }), plain values on the wire.
      const settings = {
        tier: 'db-custom-2-7680', edition: 'ENTERPRISE', availabilityType: 'REGIONAL', deletionProtectionEnabled: { value: true },
        dataDiskSizeGb: { value: 20 }, ipConfiguration: { ipv4Enabled: { value: false }, privateNetwork: `projects/${PROJECT}/global/networks/encore` },
        backupConfiguration: { enabled: { value: true }, pointInTimeRecoveryEnabled: { value: true }, transactionLogRetentionDays: { value: 7 }, backupRetentionSettings: { retainedBackups: { value: 14 }, retentionUnit: 'COUNT' } },
      } as const;
      fake.faults.operationPolls('Insert', 2);
      const [insert] = await instances.insert({ project: PROJECT, body: { name: 'encore-prod-orders', region: 'europe-west1', databaseVersion: 'POSTGRES_16', rootPassword: 'root-secret', settings } });
      assert.equal(insert.status, 'PENDING');
      assert.deepEqual(await wait(insert), { polls: 2, error: null });
      const [instance] = await instances.get({ project: PROJECT, instance: 'encore-prod-orders' });
      assert.equal(instance.state, 'RUNNABLE');
      assert.equal(instance.settings?.availabilityType, 'REGIONAL');
      assert.equal(instance.settings?.deletionProtectionEnabled?.value, true);
      assert.equal(instance.settings?.backupConfiguration?.pointInTimeRecoveryEnabled?.value, true);
      assert.equal(instance.settings?.backupConfiguration?.backupRetentionSettings?.retainedBackups?.value, 14);
      assert.deepEqual(instance.ipAddresses?.map((a) => a.type), ['PRIVATE']);
      assert.ok(!JSON.stringify(instance).includes('root-secret'), 'the root password is never answered');
      assert.ok(fake.calls.every((c) => tokens.validate(String(c.authorization).replace(/^Bearer /, '')) !== null), 'every call carried an ADC token');

      const [dbOp] = await databases.insert({ project: PROJECT, instance: 'encore-prod-orders', body: { name: 'orders' } });
      await wait(dbOp);
      const [userOp] = await users.insert({ project: PROJECT, instance: 'encore-prod-orders', body: { name: 'encore-orders', password: 'app-secret' } });
      await wait(userOp);
      assert.equal((await databases.get({ project: PROJECT, instance: 'encore-prod-orders', database: 'orders' }))[0].name, 'orders');
      assert.equal(fake.passwordOf(PROJECT, 'encore-prod-orders', 'encore-orders'), 'app-secret');

      const protectedDelete = await rejection(instances.delete({ project: PROJECT, instance: 'encore-prod-orders' }));
      assert.match(protectedDelete.message, /The instance is protected/);
      const [patch] = await instances.patch({ project: PROJECT, instance: 'encore-prod-orders', body: { settings: { deletionProtectionEnabled: { value: false } } } });
      await wait(patch);
      const [deletion] = await instances.delete({ project: PROJECT, instance: 'encore-prod-orders', enableFinalBackup: true, finalBackupTtlDays: 30 });
      await wait(deletion);
      assert.deepEqual(fake.deletes, [{ instance: 'encore-prod-orders', enableFinalBackup: true, finalBackupTtlDays: '30' }]);
      assert.equal((await rejection(instances.get({ project: PROJECT, instance: 'encore-prod-orders' }))).code, GrpcStatus.NOT_FOUND);
    } finally {
      await Promise.all([instances.close(), operations.close(), users.close(), databases.close()]);
      await fake.stop();
    }
  });

  test('Cloud SQL refuses what Cloud SQL refuses: a malformed tier, PITR logs kept as long as the backups, HA without backups; a call without a valid token is UNAUTHENTICATED; List is 501', async () => {
    const fake = await new CloudSqlFake({ authorize: (token) => tokens.validate(token) !== null }).start();
    const instances = new SqlInstancesServiceClient(fake.clientOptions(auth));
    const insert = (settings: Record<string, unknown>) => rejection(instances.insert({ project: PROJECT, body: { name: 'x', region: 'europe-west1', databaseVersion: 'POSTGRES_16', settings } }));
    try {
      assert.match((await insert({ tier: 'db-custom-3-7680' })).message, /number of vCPUs must be 1 or an even number/);
      assert.match((await insert({ tier: 'db-custom-2-1000' })).message, /memory must be a multiple of 256 MB/);
      const pitr = await insert({ tier: 'db-custom-1-3840', backupConfiguration: { enabled: { value: true }, pointInTimeRecoveryEnabled: { value: true }, transactionLogRetentionDays: { value: 7 }, backupRetentionSettings: { retainedBackups: { value: 7 } } } });
      assert.match(pitr.message, /transactionLogRetentionDays \(7\) must be less than retainedBackups \(7\)/);
      assert.match((await insert({ tier: 'db-custom-1-3840', availabilityType: 'REGIONAL' })).message, /requires automated backups/);
      assert.equal((await rejection(instances.list({ project: PROJECT }))).code, GrpcStatus.UNIMPLEMENTED);

      const stranger = new SqlInstancesServiceClient(fake.clientOptions(new UserRefreshClient({ clientId: 'x', clientSecret: 'y', refreshToken: 'z', transporter: localTransporter(tokens.url), credentials: { access_token: 'ya29.forged', expiry_date: Date.now() + 3600_000 } })));
      const refused = await rejection(stranger.get({ project: PROJECT, instance: 'x' }));
      assert.equal(refused.code, GrpcStatus.UNAUTHENTICATED);
      assert.equal(explainGcpError(refused)?.problem, 'unauthenticated');
      await stranger.close();
    } finally {
      await instances.close();
      await fake.stop();
    }
  });

  test('IAM service accounts (REST through google-auth-library): create, read, a Workload Identity binding that needs the pool to exist, delete', async () => {
    let poolExists = false;
    const fake = await new IamFake({ authorize: (token) => tokens.validate(token) !== null, workloadPoolExists: () => poolExists }).start();
    const iam = new IamServiceAccounts(auth, fake.endpoint);
    try {
      const account = await iam.create(PROJECT, 'svc-orders', { displayName: 'Encore service orders' });
      assert.equal(account.email, `svc-orders@${PROJECT}.iam.gserviceaccount.com`);
      assert.equal((await iam.get(PROJECT, account.email)).displayName, 'Encore service orders');
      await assert.rejects(iam.create(PROJECT, 'svc-orders'), (err: Error & { status?: number }) => err.status === 409);
      await assert.rejects(iam.create(PROJECT, 'x'), /Invalid account ID "x"/);

      const member = `serviceAccount:${PROJECT}.svc.id.goog[encore-prod/orders]`;
      const binding = { bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [member] }] };
      await assert.rejects(iam.setIamPolicy(PROJECT, account.email, binding), /Identity Pool does not exist \(encore-test\.svc\.id\.goog\)/);
      poolExists = true;
      const current = await iam.getIamPolicy(PROJECT, account.email);
      await iam.setIamPolicy(PROJECT, account.email, { ...binding, etag: current.etag });
      assert.deepEqual(fake.membersOf(account.email, 'roles/iam.workloadIdentityUser'), [member]);
      await assert.rejects(iam.setIamPolicy(PROJECT, account.email, { ...binding, etag: current.etag }), (err: Error & { status?: number }) => err.status === 409);

      fake.faults.denyPermission('DeleteServiceAccount', 'iam.serviceAccounts.delete', `projects/${PROJECT}/serviceAccounts/${account.email}`);
      const denied = await rejection(iam.delete(PROJECT, account.email));
      assert.equal(explainGcpError(denied, { project: PROJECT })?.details.role, 'roles/iam.serviceAccountAdmin');
      fake.faults.clear();
      await iam.delete(PROJECT, account.email);
      await assert.rejects(iam.get(PROJECT, account.email), (err: Error & { status?: number }) => err.status === 404);
      await assert.rejects(auth.request({ url: `${fake.endpoint}/v1/projects/${PROJECT}/serviceAccounts/${account.email}/keys`, method: 'POST', data: {} }), (err: Error & { status?: number }) => err.status === 501);
    } finally {
      await fake.stop();
    }
  });
});
