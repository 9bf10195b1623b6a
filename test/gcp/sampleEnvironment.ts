// Test equipment for applying a GCP environment end to end: the GCP test bed (harness.ts) with every fake the
// provider calls started and pointed at through gcloud's endpoint overrides, and the test kube-apiserver behind the
// GKE fake's clusters, accepting the ADC access token through its token webhook as GKE does, with cluster-admin for
// the credentials' identity (what GKE's IAM integration gives a project owner). fake-gcs-server sits behind a proxy
// that serves what it lacks (gcsIamProxy.ts).
import './tls';
import { readFileSync } from 'node:fs';
import { startGcsFake, startPubsubFake, type GcsFake, type PubsubFake } from '../../scripts/gcp-fakes.mjs';
import { bindClusterAdmin } from '../aws/sampleEnvironment';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenWebhook } from '../kube/tokenWebhook';
import { ArtifactRegistryFake } from './fakes/artifactRegistry';
import { CloudSqlFake } from './fakes/cloudSql';
import { ComputeFake } from './fakes/compute';
import { GkeFake } from './fakes/gke';
import { IamFake } from './fakes/iam';
import { RedisFake } from './fakes/redis';
import { ResourceManagerFake } from './fakes/resourceManager';
import { SecretManagerFake } from './fakes/secretManager';
import { startGcsIamProxy, type GcsIamProxy } from './gcsIamProxy';
import { gkeTokenValidator } from './gkeTokenValidator';
import { FEDERATED_SUBJECT, startGcpTestbed, TEST_PROJECT, TEST_PROJECT_NUMBER, type GcpTestbed } from './harness';

export interface GcpEnvironmentBed {
  bed: GcpTestbed;
  kube: TestKube;
  webhook: TokenWebhook;
  gke: GkeFake;
  redis: RedisFake;
  secrets: SecretManagerFake;
  registry: ArtifactRegistryFake;
  sql: CloudSqlFake;
  iam: IamFake;
  resourceManager: ResourceManagerFake;
  compute: ComputeFake;
  pubsub: PubsubFake;
  gcs: GcsFake;
  gcsIam: GcsIamProxy;
  stop(): Promise<void>;
}

/** `operationDeadlineMs`: operations also finish on their own after this long (a crash test's killed runs never poll theirs). */
export async function startGcpEnvironmentBed(options: { operationDeadlineMs?: number } = {}): Promise<GcpEnvironmentBed> {
  const bed = await startGcpTestbed();
  const gke = await bed.grpc('container', new GkeFake({ version: '1.33.5-gke.1080000' }));
  const redis = await bed.grpc('redis', new RedisFake());
  const secrets = await bed.grpc('secretmanager', new SecretManagerFake());
  const registry = await bed.grpc('artifactregistry', new ArtifactRegistryFake());
  const resourceManager = await bed.grpc('cloudresourcemanager', new ResourceManagerFake([{ projectId: TEST_PROJECT, projectNumber: TEST_PROJECT_NUMBER }]));
  for (const f of [gke, redis, secrets, registry]) f.faults.operationPolls('*', 2);
  const sql = await new CloudSqlFake({ authorize: bed.accepted }).start();
  sql.faults.operationPolls('*', 2);
  bed.http('sql', `127.0.0.1:${sql.port}`);
  // Workload Identity bindings need the project's pool, which exists once a cluster has Workload Identity.
  const iam = await new IamFake({ authorize: bed.accepted, workloadPoolExists: (project) => [...gke.clusters.values()].some((c) => c.workloadIdentityConfig?.workloadPool === `${project}.svc.id.goog`) }).start();
  bed.http('iam', `127.0.0.1:${iam.port}`);
  const compute = await new ComputeFake({ id: TEST_PROJECT, number: TEST_PROJECT_NUMBER }).start();
  compute.faults.operationPolls('*', 2);
  bed.http('compute', `127.0.0.1:${compute.port}`);
  bed.http('servicenetworking', `127.0.0.1:${compute.port}`);
  const pubsub = await startPubsubFake();
  bed.http('pubsub', pubsub.emulatorHost);
  const gcs = await startGcsFake();
  const gcsIam = await startGcsIamProxy(gcs.apiEndpoint);
  bed.http('storage', gcsIam.hostPort);
  for (const f of [gke, redis, secrets, registry, sql, iam, compute]) f.faults.operationDeadlineMs = options.operationDeadlineMs;
  const validate = gkeTokenValidator(bed.tokens);
  const webhook = await startTokenWebhook([{ name: 'gke', validate: async (token) => { const user = validate(token); return user ? { user } : undefined; } }]);
  const kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
  gke.setControlPlane({ endpoint: new URL(kube.server).host, caPem: readFileSync(kube.caFile, 'utf8') });
  await bindClusterAdmin(kube, FEDERATED_SUBJECT);
  return {
    bed, kube, webhook, gke, redis, secrets, registry, sql, iam, resourceManager, compute, pubsub, gcs, gcsIam,
    async stop() {
      await kube.stop();
      await webhook.close();
      await Promise.allSettled([sql.stop(), iam.stop(), compute.stop(), pubsub.stop(), gcsIam.stop(), gcs.stop()]);
      await bed.stop();
    },
  };
}
