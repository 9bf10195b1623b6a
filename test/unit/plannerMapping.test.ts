// What each provider and environment type maps every Encore resource to: the kinds and provider types per
// combination, and the settings that matter (backups, PITR, deletion protection, replicas, dead letters, public
// access, autoscaling), on the "everything" fixture and the sample app.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { primaryResource, type DesiredGraph } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { cronSchedule, desiredGraph } from '../../src/provisioning/planner';
import { byId, COMBOS, env, everything, kindTable, ofKind, sample } from './plannerHelpers';

const K8S_EVERYWHERE = {
  cronJob: ['k8s/batch/v1/CronJob'],
  database: ['postgres/Database'],
  deployment: ['k8s/apps/v1/Deployment'],
  infraConfig: ['k8s/v1/ConfigMap'],
  namespace: ['k8s/v1/Namespace'],
  service: ['k8s/v1/Service'],
  serviceAccount: ['k8s/v1/ServiceAccount'],
};
const IN_CLUSTER = { pvc: ['k8s/v1/PersistentVolumeClaim'], statefulSet: ['k8s/apps/v1/StatefulSet'], subscription: ['nsq/Channel'], topic: ['nsq/Topic'] };
const HPA = { hpa: ['k8s/autoscaling/v2/HorizontalPodAutoscaler'] };
const AWS_BASE = { cluster: ['AWS::EKS::Cluster'], iamRole: ['AWS::IAM::Role'], network: ['AWS::EC2::VPC'], nodePool: ['AWS::EKS::Nodegroup'], registry: ['AWS::ECR::Repository'], bucket: ['AWS::S3::Bucket'] };
const GCP_BASE = {
  cluster: ['container.googleapis.com/Cluster'],
  iamRole: ['iam.googleapis.com/ServiceAccount'],
  network: ['compute.googleapis.com/Network'],
  nodePool: ['container.googleapis.com/NodePool'],
  registry: ['artifactregistry.googleapis.com/Repository'],
  bucket: ['storage.googleapis.com/Bucket'],
};

const EXPECTED: Record<string, Record<string, string[]>> = {
  'aws production': {
    ...K8S_EVERYWHERE,
    ...HPA,
    ...AWS_BASE,
    // The cluster autoscaler: its Deployment, its IRSA role and its RBAC in the cluster.
    clusterAddon: ['k8s/apps/v1/Deployment'],
    iamRole: ['AWS::IAM::Role', 'k8s/rbac.authorization.k8s.io/v1/ClusterRole', 'k8s/rbac.authorization.k8s.io/v1/ClusterRoleBinding', 'k8s/rbac.authorization.k8s.io/v1/Role', 'k8s/rbac.authorization.k8s.io/v1/RoleBinding'],
    cache: ['AWS::ElastiCache::ReplicationGroup'],
    databaseServer: ['AWS::RDS::DBInstance'],
    deadLetter: ['AWS::SQS::Queue'],
    secret: ['AWS::SecretsManager::Secret', 'k8s/v1/Secret'],
    subscription: ['AWS::SQS::Queue'],
    topic: ['AWS::SNS::Topic'],
  },
  'aws development': { ...K8S_EVERYWHERE, ...IN_CLUSTER, ...AWS_BASE, secret: ['k8s/v1/Secret'] },
  'gcp production': {
    ...K8S_EVERYWHERE,
    ...HPA,
    ...GCP_BASE,
    cache: ['redis.googleapis.com/Instance'],
    databaseServer: ['sqladmin.googleapis.com/Instance'],
    deadLetter: ['pubsub.googleapis.com/Topic'],
    secret: ['k8s/v1/Secret', 'secretmanager.googleapis.com/Secret'],
    subscription: ['pubsub.googleapis.com/Subscription'],
    topic: ['pubsub.googleapis.com/Topic'],
  },
  'gcp development': { ...K8S_EVERYWHERE, ...IN_CLUSTER, ...GCP_BASE, secret: ['k8s/v1/Secret'] },
  'kubernetes production': { ...K8S_EVERYWHERE, ...IN_CLUSTER, ...HPA, bucket: ['minio/Bucket'], secret: ['k8s/v1/Secret'] },
  'kubernetes development': { ...K8S_EVERYWHERE, ...IN_CLUSTER, bucket: ['minio/Bucket'], secret: ['k8s/v1/Secret'] },
};

for (const [kind, type] of COMBOS) {
  test(`every resource kind on ${kind} ${type}, for both apps`, () => {
    const expected = Object.fromEntries(Object.entries(EXPECTED[`${kind} ${type}`]).sort(([a], [b]) => a.localeCompare(b)));
    assert.deepEqual(kindTable(desiredGraph(everything, env(kind, type))), expected);
    assert.deepEqual(kindTable(desiredGraph(sample, env(kind, type))), expected);
  });
}

test('every environment: a namespace, and per service a ServiceAccount, Deployment and Service; the gateway too', () => {
  for (const [kind, type] of COMBOS) {
    const g = desiredGraph(everything, env(kind, type));
    assert.equal(ofKind(g, 'namespace').length, 1);
    for (const s of ['analytics', 'billing', 'catalog', 'web', 'worker', 'encore-gateway']) {
      for (const k of ['serviceaccount', 'deployment', 'service']) byId(g, `k8s:${k}:${s}`);
      assert.equal(g.resources.some((r) => r.id === `k8s:hpa:${s}`), type === 'production', `${kind} ${type} HPA for ${s}`);
    }
    assert.deepEqual(byId(g, 'k8s:deployment:encore-gateway').source, { kind: 'gateway', name: 'api-gateway' });
    assert.deepEqual(byId(g, 'k8s:deployment:billing').settings.hostedServices, ['billing']);
  }
});

test('the namespace is the environment name, or the one the kubernetes provider gives', () => {
  assert.equal(byId(desiredGraph(sample, env('aws', 'production')), 'k8s:namespace').name, 'prod');
  const given = desiredGraph(sample, env('kubernetes', 'development', { provider: { kind: 'kubernetes', context: 'kind-dev', namespace: 'shop-staging' } }));
  assert.equal(given.namespace, 'shop-staging');
  assert.equal(byId(given, 'k8s:namespace').name, 'shop-staging');
  assert.equal(byId(given, 'k8s:namespace').summary, 'namespace shop-staging in context kind-dev');
  assert.match(JSON.stringify(byId(given, 'k8s:configmap:encore-infra-config').settings), /orders\.shop-staging\.svc\.cluster\.local:8080/);
});

test('Production on AWS: RDS with 7-day backups, PITR, deletion protection and Multi-AZ; ElastiCache with replicas', () => {
  const g = desiredGraph(sample, env('aws', 'production'));
  const rds = byId(g, 'aws:rds:users');
  assert.equal(rds.stateful, true);
  assert.deepEqual(rds.source, { kind: 'database', name: 'users' });
  assert.equal(rds.name, 'sample-app-prod-users');
  assert.equal(rds.settings.engine, 'postgres');
  assert.equal(rds.settings.instanceClass, 'db.m5.large');
  assert.ok((rds.settings.backupRetentionDays as number) >= 7);
  assert.equal(rds.settings.pointInTimeRecovery, true);
  assert.equal(rds.settings.deletionProtection, true);
  assert.equal(rds.settings.multiAZ, true);
  assert.equal(rds.settings.publiclyAccessible, false);
  // The Job that creates the database connects as the instance's administrator, whose password the cloud driver
  // copies into a Kubernetes Secret.
  assert.deepEqual(byId(g, 'database:users').dependsOn, ['aws:rds:users', 'k8s:secret:encore-db-users', 'k8s:secret:encore-db-admin-users']);
  assert.deepEqual(byId(g, 'k8s:secret:encore-db-admin-users').settings, { keys: { password: { from: '${aws:rds:users.masterPassword}' } } });
  const redis = byId(g, 'aws:elasticache:notifications');
  assert.equal(redis.settings.nodeType, 'cache.m6g.large');
  assert.equal(redis.settings.numCacheClusters, 2);
  assert.equal(redis.settings.automaticFailover, true);
  assert.equal(redis.settings.maxmemoryPolicy, 'allkeys-lru');
  assert.equal(redis.settings.transitEncryption, true);
  const nodes = byId(g, 'aws:eks-nodegroup');
  assert.equal(nodes.settings.autoscaler, 'cluster-autoscaler');
  assert.ok((nodes.settings.maxSize as number) > (nodes.settings.minSize as number));
});

test('Production on AWS: SNS topic, SQS queue per subscription with its own dead-letter queue, S3, Secrets Manager, IRSA', () => {
  const g = desiredGraph(sample, env('aws', 'production'));
  // order-placed has an ordering attribute, so it is FIFO end to end.
  const topic = byId(g, 'aws:sns:order-placed');
  assert.equal(topic.settings.fifo, true);
  assert.ok(topic.name.endsWith('.fifo'));
  const queue = byId(g, 'aws:sqs:order-placed/notify-customer');
  const dlq = byId(g, 'aws:sqs-dlq:order-placed/notify-customer');
  assert.equal(dlq.kind, 'deadLetter');
  assert.deepEqual(queue.settings.redrivePolicy, { deadLetterQueue: dlq.id, maxReceiveCount: 21 });
  assert.equal(queue.settings.subscribesTo, topic.id);
  assert.equal(queue.settings.visibilityTimeoutSeconds, 30);
  assert.deepEqual(queue.dependsOn, [topic.id, dlq.id]);
  assert.ok(queue.stateful && dlq.stateful);
  const bucket = byId(g, 'aws:s3:order-receipts');
  assert.equal(bucket.settings.versioning, true);
  assert.equal(bucket.settings.blockPublicAccess, true);
  assert.equal(bucket.stateful, true);
  assert.match(bucket.name, /^sample-app-prod-order-receipts-[0-9a-f]{8}$/);
  const publicBucket = byId(desiredGraph(everything, env('aws', 'production')), 'aws:s3:avatars');
  assert.equal(publicBucket.settings.blockPublicAccess, false);
  assert.equal(publicBucket.settings.publicRead, true);
  const sm = byId(g, 'aws:secretsmanager:EmailApiKey');
  assert.equal(sm.name, 'encore/sample-app/prod/EmailApiKey');
  assert.equal(sm.stateful, true);
  assert.deepEqual(byId(g, 'k8s:secret:encore-secret-email-api-key-1479c9').settings, { keys: { value: { syncFrom: sm.id } } });
  // Least privilege from usage: orders publishes order-placed and writes and signs downloads in order-receipts.
  assert.deepEqual(byId(g, 'aws:iam-role:orders').settings.statements, [
    { actions: ['sns:Publish'], resource: 'aws:sns:order-placed', resourceArn: '${aws:sns:order-placed.arn}' },
    { actions: ['s3:GetObject', 's3:PutObject'], resource: 'aws:s3:order-receipts', resourceArn: '${aws:s3:order-receipts.arn}' },
  ]);
  assert.deepEqual(byId(g, 'aws:iam-role:notifications').settings.statements, [
    {
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      resource: 'aws:sqs:order-placed/notify-customer', resourceArn: '${aws:sqs:order-placed/notify-customer.arn}',
    },
  ]);
  assert.ok(!g.resources.some((r) => r.id === 'aws:iam-role:users'), 'a service that touches no cloud resource gets no role');
  assert.deepEqual(byId(g, 'k8s:serviceaccount:orders').settings.annotations, { 'eks.amazonaws.com/role-arn': '${aws:iam-role:orders.arn}' });
});

test('Production on GCP: regional Cloud SQL with backups, PITR and deletion protection; Memorystore; Pub/Sub with dead-letter topics', () => {
  const g = desiredGraph(everything, env('gcp', 'production'));
  const sql = byId(g, 'gcp:sql:billing');
  assert.equal(sql.settings.tier, 'db-custom-1-3840');
  assert.equal(sql.settings.databaseVersion, 'POSTGRES_16');
  assert.equal(sql.settings.availabilityType, 'REGIONAL');
  assert.ok((sql.settings.backupRetainedCount as number) >= 7);
  assert.equal(sql.settings.pointInTimeRecovery, true);
  assert.equal(sql.settings.deletionProtection, true);
  assert.equal(sql.settings.ipv4Enabled, false);
  const redis = byId(g, 'gcp:memorystore:products');
  assert.equal(redis.settings.tier, 'STANDARD_HA');
  assert.equal(redis.settings.memorySizeGb, 5);
  assert.equal(redis.settings.replicaCount, 1);
  assert.deepEqual(redis.settings.redisConfigs, { 'maxmemory-policy': 'allkeys-lfu' });
  const sub = byId(g, 'gcp:pubsub-subscription:invoices-paid/record-payment');
  assert.deepEqual(sub.settings.deadLetterPolicy, { deadLetterTopic: 'gcp:pubsub-dead-letter:invoices-paid/record-payment', maxDeliveryAttempts: 100 });
  assert.equal(sub.settings.enableExactlyOnceDelivery, true);
  assert.equal(byId(g, 'gcp:pubsub-dead-letter:invoices-paid/record-payment').kind, 'deadLetter');
  assert.equal(byId(g, 'gcp:gcs:documents').settings.publicAccessPrevention, 'enforced');
  assert.equal(byId(g, 'gcp:gcs:avatars').settings.publicAccessPrevention, 'inherited');
  assert.equal(byId(g, 'gcp:secret:CatalogApiKey').providerType, 'secretmanager.googleapis.com/Secret');
  const pool = byId(g, 'gcp:gke-nodepool');
  assert.deepEqual(pool.settings.autoscaling, { totalMinNodeCount: 2, totalMaxNodeCount: 15, locationPolicy: 'BALANCED' });
  assert.equal(byId(g, 'gcp:gke').settings.location, 'europe-west1');
  assert.deepEqual(byId(g, 'gcp:service-account:billing').settings.bindings, [
    { roles: ['roles/pubsub.publisher'], resource: 'gcp:pubsub-topic:invoices-paid' },
    { roles: ['roles/storage.objectCreator'], resource: 'gcp:gcs:documents' },
  ]);
  assert.equal(byId(g, 'gcp:service-account:billing').settings.workloadIdentityUser, 'shop-prod-1.svc.id.goog[prod/billing]');
});

test('GKE Autopilot: a regional Autopilot cluster, no node pool of its own, the workloads waiting for the cluster', () => {
  for (const type of ['production', 'development'] as const) {
    const g = desiredGraph(sample, env('gcp', type, { provider: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1', autopilot: true } }));
    const gke = byId(g, 'gcp:gke');
    assert.equal(gke.settings.autopilot, true, type);
    assert.equal(gke.settings.location, 'europe-west1', `${type}: Autopilot clusters are regional`);
    assert.match(gke.summary, /GKE Autopilot .*regional \(europe-west1\), nodes run by GKE/);
    assert.ok(!g.resources.some((r) => r.kind === 'nodePool'), `${type}: no node pool`);
    const orders = byId(g, 'k8s:deployment:orders');
    assert.ok(orders.dependsOn.includes('gcp:gke') && !orders.dependsOn.includes('gcp:gke-nodepool'), orders.dependsOn.join(', '));
    for (const r of g.resources) for (const d of r.dependsOn) assert.ok(g.resources.some((x) => x.id === d), `${r.id} waits for ${d}, which is not planned`);
  }
  // Standard stays as it was: the setting only when Autopilot is asked for.
  const standard = desiredGraph(sample, env('gcp', 'development'));
  assert.equal(byId(standard, 'gcp:gke').settings.autopilot, undefined);
  assert.equal(byId(standard, 'gcp:gke').settings.location, 'europe-west1-b');
  assert.ok(byId(standard, 'gcp:gke-nodepool'));
});

test('Production on the kubernetes provider: the same split in the cluster, sized from the answers, backups not managed', () => {
  const e = env('kubernetes', 'production', {
    sizing: { databases: { users: { cpu: 2, memoryGiB: 8, diskGiB: 50 } }, caches: { notifications: { memoryGiB: 2, replicas: 2 } }, services: { orders: { minInstances: 3, maxInstances: 12 } } },
  });
  const g = desiredGraph(sample, e);
  assert.ok(!g.resources.some((r) => r.providerType.startsWith('AWS::') || r.providerType.includes('googleapis.com')), 'nothing outside the cluster');
  const pg = byId(g, 'k8s:statefulset:encore-postgres-users');
  assert.equal(pg.settings.replicas, 1);
  assert.deepEqual(pg.settings.resources, { requests: { cpu: '2', memory: '8192Mi' }, limits: { memory: '8192Mi' } });
  assert.match(pg.settings.backups as string, /^not managed/);
  assert.equal(byId(g, 'k8s:pvc:data-encore-postgres-users-0').settings.storageGiB, 50);
  assert.equal(pg.summary, 'users DB → StatefulSet postgres:16, 2 vCPU, 8 GiB, 50 GiB PVC, backups not managed');
  // Defaults for the database without an answer.
  assert.equal(byId(g, 'k8s:pvc:data-encore-postgres-orders-0').settings.storageGiB, 20);
  const redis = byId(g, 'k8s:statefulset:encore-redis-notifications');
  assert.equal(redis.settings.replicas, 3);
  assert.deepEqual(redis.settings.replication, { primary: 'encore-redis-notifications-0', replicas: 2, automaticFailover: false });
  for (const i of [0, 1, 2]) assert.ok(redis.dependsOn.includes(`k8s:pvc:data-encore-redis-notifications-${i}`));
  assert.deepEqual(redis.settings.args, ['--appendonly', 'yes', '--maxmemory', '1843mb', '--maxmemory-policy', 'allkeys-lru']);
  assert.ok((byId(g, 'k8s:statefulset:encore-nsqd').settings.args as string[]).includes('--mem-queue-size=0'), 'every message on disk');
  const hpa = byId(g, 'k8s:hpa:orders');
  assert.equal(hpa.settings.minReplicas, 3);
  assert.equal(hpa.settings.maxReplicas, 12);
  assert.equal(hpa.settings.requires, 'metrics-server in the cluster');
  assert.equal(byId(g, 'k8s:deployment:orders').settings.replicas, 3);
  assert.equal(byId(g, 'k8s:service:encore-gateway').settings.type, 'ClusterIP');
  assert.equal(byId(g, 'minio:bucket:order-receipts').settings.versioning, true);
});

test('Development, every provider: Postgres and Redis as one-replica StatefulSets on PVCs, NSQ, one instance per service, no HPA', () => {
  for (const kind of ['aws', 'gcp', 'kubernetes'] as const) {
    const g = desiredGraph(sample, env(kind, 'development'));
    for (const db of ['orders', 'users']) {
      const sts = byId(g, `k8s:statefulset:encore-postgres-${db}`);
      assert.equal(sts.settings.replicas, 1);
      assert.equal(sts.settings.image, 'postgres:16');
      assert.equal(byId(g, `k8s:pvc:data-encore-postgres-${db}-0`).stateful, true);
      assert.equal(primaryResource(g, { kind: 'database', name: db })?.id, sts.id);
    }
    assert.equal(byId(g, 'k8s:statefulset:encore-redis-notifications').settings.replicas, 1);
    assert.equal(byId(g, 'nsq:topic:order-placed').settings.nsqd, 'k8s:statefulset:encore-nsqd');
    assert.equal(ofKind(g, 'hpa').length, 0);
    assert.ok(ofKind(g, 'deployment').every((d) => d.settings.replicas === 1));
    assert.ok(!g.resources.some((r) => r.kind === 'databaseServer' || r.kind === 'cache' || r.kind === 'deadLetter'));
    assert.ok(!g.resources.some((r) => r.providerType.startsWith('AWS::SecretsManager') || r.providerType.startsWith('secretmanager.')));
  }
  assert.equal(byId(desiredGraph(sample, env('aws', 'development')), 'aws:s3:order-receipts').providerType, 'AWS::S3::Bucket');
  assert.equal(byId(desiredGraph(sample, env('gcp', 'development')), 'gcp:gcs:order-receipts').providerType, 'storage.googleapis.com/Bucket');
  const aws = byId(desiredGraph(sample, env('aws', 'development')), 'aws:eks-nodegroup').settings;
  assert.deepEqual([aws.minSize, aws.maxSize, aws.autoscaler], [2, 2, null]);
  const gcp = byId(desiredGraph(sample, env('gcp', 'development')), 'gcp:gke-nodepool').settings;
  assert.deepEqual([gcp.nodeCount, gcp.autoscaling], [2, null]);
  // A bigger app gets a bigger fixed pool: 45 workloads × 256 MiB + 2 Postgres + Redis + nsqd = 14 GiB.
  const big = { ...sample, services: [...sample.services, ...Array.from({ length: 40 }, (_, i) => ({ name: `s${i}`, root: `s${i}` }))] };
  assert.equal(byId(desiredGraph(big, env('aws', 'development')), 'aws:eks-nodegroup').settings.minSize, 5);
  assert.equal(byId(desiredGraph(big, env('gcp', 'development')), 'gcp:gke-nodepool').settings.nodeCount, 3);
});

test('app secrets become Kubernetes Secrets that name no value', () => {
  for (const [kind, type] of COMBOS) {
    const g = desiredGraph(everything, env(kind, type));
    const secrets = ofKind(g, 'secret').filter((r) => r.source?.kind === 'secret' && r.providerType === 'k8s/v1/Secret');
    assert.deepEqual(secrets.map((s) => s.source?.name), ['CatalogApiKey', 'SharedToken']);
    for (const s of secrets) {
      assert.deepEqual(Object.keys(s.settings.keys as object), ['value']);
      assert.equal(s.stateful, !(type === 'production' && kind !== 'kubernetes'), 'the only copy of a value is stateful');
    }
  }
});

test('a CronJob per cron job, with Encore schedules as cron expressions', () => {
  const g = desiredGraph(sample, env('gcp', 'production'));
  const digest = byId(g, 'k8s:cronjob:daily-digest');
  assert.equal(digest.settings.schedule, '0 8 * * *');
  assert.equal(digest.settings.timeZone, 'Etc/UTC');
  assert.deepEqual(digest.settings.request, {
    method: 'POST',
    url: 'http://notifications.prod.svc.cluster.local:8080/notifications.dailyDigest',
    headers: { 'X-Encore-Cron-Trigger': 'scheduled' },
    signWith: { secret: 'encore-service-auth', key: 'key', keyId: 1, appSlug: 'sample-app', envName: 'prod', caller: 'app:cron-daily-digest' },
  });
  assert.ok(digest.dependsOn.includes('k8s:deployment:notifications'));
  assert.equal(byId(g, 'k8s:cronjob:purge-counters').settings.schedule, '0 * * * *');
  // [Encore schedule, cron expression, run only at minutes of the day that are multiples of]
  const table: [string, string | null, number | null][] = [
    ['every:1', '* * * * *', null],
    ['every:5', '*/5 * * * *', null],
    ['every:30', '*/30 * * * *', null],
    ['every:60', '0 * * * *', null],
    ['every:120', '0 */2 * * *', null],
    ['every:360', '0 */6 * * *', null],
    ['every:1440', '0 0 * * *', null],
    // Divide a day but not an hour: fire at the common step and skip the runs in between.
    ['every:90', '*/30 * * * *', 90],
    ['every:45', '*/15 * * * *', 45],
    ['every:32', '*/4 * * * *', 32],
    ['every:160', '*/20 * * * *', 160],
    // Encore rejects intervals that do not divide 24 hours.
    ['every:7', null, null],
    ['every:300', null, null],
    ['every:0', null, null],
    ['schedule:0 4 15 * *', '0 4 15 * *', null],
    ['schedule:', null, null],
    ['nonsense', null, null],
  ];
  for (const [schedule, expression, multiple] of table) {
    const got = cronSchedule(schedule);
    assert.deepEqual(got, expression === null ? null : { expression, minuteOfDayMultipleOf: multiple }, schedule);
  }
  // The guarded schedules fire exactly at Encore's times over a whole day.
  for (const minutes of [90, 45, 32, 160, 16, 96, 480]) {
    const s = cronSchedule(`every:${minutes}`)!;
    const step = s.expression === '* * * * *' ? 1 : Number(/^\*\/(\d+) /.exec(s.expression)?.[1] ?? NaN);
    const fired: number[] = [];
    for (let m = 0; m < 24 * 60; m++) {
      const hit = Number.isNaN(step) ? matchesHourly(s.expression, m) : m % step === 0;
      if (hit && (s.minuteOfDayMultipleOf === null || m % s.minuteOfDayMultipleOf === 0)) fired.push(m);
    }
    assert.deepEqual(fired, Array.from({ length: (24 * 60) / minutes }, (_, i) => i * minutes), `every:${minutes}`);
  }
});

test('answered sizing changes instance classes, node types and autoscaling', () => {
  const sizing = { databases: { users: { cpu: 4, memoryGiB: 16, diskGiB: 100 } }, caches: { notifications: { memoryGiB: 20, replicas: 2 } }, services: { orders: { minInstances: 4, maxInstances: 30 } } };
  const aws = desiredGraph(sample, env('aws', 'production', { sizing }));
  assert.equal(byId(aws, 'aws:rds:users').settings.instanceClass, 'db.m5.xlarge');
  assert.equal(byId(aws, 'aws:rds:users').settings.allocatedStorageGiB, 100);
  assert.equal(byId(aws, 'aws:rds:orders').settings.instanceClass, 'db.m5.large', 'unanswered: the default');
  assert.equal(byId(aws, 'aws:elasticache:notifications').settings.nodeType, 'cache.r6g.xlarge');
  assert.equal(byId(aws, 'aws:elasticache:notifications').settings.numCacheClusters, 3);
  assert.deepEqual([byId(aws, 'k8s:hpa:orders').settings.minReplicas, byId(aws, 'k8s:hpa:orders').settings.maxReplicas], [4, 30]);
  const base = desiredGraph(sample, env('aws', 'production'));
  assert.ok((byId(aws, 'aws:eks-nodegroup').settings.maxSize as number) > (byId(base, 'aws:eks-nodegroup').settings.maxSize as number), 'more instances, more nodes');
  const gcp = desiredGraph(sample, env('gcp', 'production', { sizing }));
  assert.equal(byId(gcp, 'gcp:sql:users').settings.tier, 'db-custom-4-16384');
  assert.equal(byId(gcp, 'gcp:sql:orders').settings.tier, 'db-custom-1-3840');
  assert.deepEqual([byId(gcp, 'gcp:memorystore:notifications').settings.memorySizeGb, byId(gcp, 'gcp:memorystore:notifications').settings.replicaCount], [20, 2]);
  const none = desiredGraph(sample, env('aws', 'production', { sizing: { caches: { notifications: { replicas: 0 } } } }));
  assert.equal(byId(none, 'aws:elasticache:notifications').settings.automaticFailover, false);
  assert.equal(byId(none, 'aws:elasticache:notifications').summary, 'notifications cache → ElastiCache Redis cache.m6g.large, no replica');
});

test('summaries for the tree read well', () => {
  const summary = (g: DesiredGraph, id: string) => byId(g, id).summary;
  const aws = desiredGraph(sample, env('aws', 'production'));
  assert.equal(summary(aws, 'aws:rds:users'), 'users DB → RDS PostgreSQL db.m5.large, 7-day backups');
  assert.equal(summary(aws, 'aws:elasticache:notifications'), 'notifications cache → ElastiCache Redis cache.m6g.large, 1 replica, Multi-AZ');
  assert.equal(summary(aws, 'aws:sns:order-placed'), 'order-placed topic → SNS FIFO topic');
  assert.equal(summary(aws, 'aws:sqs:order-placed/notify-customer'), 'notify-customer subscription → SQS FIFO queue on order-placed, dead-letter after 20 retries');
  assert.equal(summary(aws, 'aws:s3:order-receipts'), 'order-receipts bucket → S3 bucket, private, versioned');
  assert.equal(summary(aws, 'aws:secretsmanager:EmailApiKey'), 'EmailApiKey secret → Secrets Manager secret (value set later)');
  assert.equal(summary(aws, 'k8s:deployment:orders'), 'orders service → Deployment, 2–10 instances');
  assert.equal(summary(aws, 'k8s:hpa:orders'), 'orders service → HPA 2–10 instances at 70% CPU');
  assert.equal(summary(aws, 'k8s:cronjob:daily-digest'), 'daily-digest cron → CronJob "0 8 * * *" calling notifications.dailyDigest');
  assert.equal(summary(aws, 'aws:eks-nodegroup'), 'nodes → m6i.large, autoscaling 2–13');
  assert.equal(summary(aws, 'k8s:configmap:encore-infra-config'), 'infra.config.json → Secret encore-infra-config (2 databases, 1 cache, 1 topic, 1 subscription, 1 bucket, 2 secrets)');
  const dev = desiredGraph(sample, env('kubernetes', 'development'));
  assert.equal(summary(dev, 'k8s:statefulset:encore-postgres-users'), 'users DB → StatefulSet postgres:16, 10 GiB PVC');
  assert.equal(summary(dev, 'k8s:statefulset:encore-redis-notifications'), 'notifications cache → StatefulSet redis:7.2, 1 GiB PVC');
  assert.equal(summary(dev, 'nsq:channel:order-placed/notify-customer'), 'notify-customer subscription → NSQ channel on order-placed, no dead-letter queue');
  assert.equal(summary(dev, 'minio:bucket:order-receipts'), 'order-receipts bucket → MinIO bucket, private, versioned');
  assert.equal(summary(dev, 'database:users'), 'users DB → database and role "users", 2 migrations');
  assert.equal(summary(dev, 'k8s:deployment:orders'), 'orders service → Deployment, 1 instance');
  const gcp = desiredGraph(everything, env('gcp', 'production'));
  assert.equal(summary(gcp, 'gcp:sql:billing'), 'billing DB → Cloud SQL PostgreSQL db-custom-1-3840, 7-day backups');
  assert.equal(summary(gcp, 'gcp:memorystore:products'), 'products cache → Memorystore Redis 5 GB, Standard HA, 1 read replica');
  assert.equal(summary(gcp, 'gcp:gcs:avatars'), 'avatars bucket → GCS bucket, public read');
  const k8sProd = desiredGraph(everything, env('kubernetes', 'production'));
  assert.equal(summary(k8sProd, 'k8s:statefulset:encore-redis-products'), 'products cache → StatefulSet redis:7.2, 5 GiB, 1 primary + 1 replica (no automatic failover), 10 GiB PVCs');
  assert.equal(summary(k8sProd, 'minio:bucket:avatars'), 'avatars bucket → MinIO bucket, public read inside the cluster');
});

test('primaryResource picks what stands for a declaration, or null when it is not provisioned', () => {
  const aws = desiredGraph(everything, env('aws', 'production'));
  assert.equal(primaryResource(aws, { kind: 'database', name: 'billing' })?.id, 'aws:rds:billing');
  assert.equal(primaryResource(aws, { kind: 'database', name: 'analytics' }), null);
  assert.equal(primaryResource(aws, { kind: 'cache', name: 'products' })?.id, 'aws:elasticache:products');
  assert.equal(primaryResource(aws, { kind: 'subscription', name: 'invoices-paid/record-payment' })?.id, 'aws:sqs:invoices-paid/record-payment');
  assert.equal(primaryResource(aws, { kind: 'secret', name: 'SharedToken' })?.id, 'aws:secretsmanager:SharedToken');
  assert.equal(primaryResource(aws, { kind: 'service', name: 'catalog' })?.id, 'k8s:deployment:catalog');
  assert.equal(primaryResource(aws, { kind: 'cronJob', name: 'nightly' })?.id, 'k8s:cronjob:nightly');
  const dev = desiredGraph(everything, env('kubernetes', 'development'));
  assert.equal(primaryResource(dev, { kind: 'cache', name: 'products' })?.id, 'k8s:statefulset:encore-redis-products');
  assert.equal(primaryResource(dev, { kind: 'bucket', name: 'avatars' })?.id, 'minio:bucket:avatars');
  assert.equal(primaryResource(dev, { kind: 'secret', name: 'SharedToken' })?.id, 'k8s:secret:encore-secret-shared-token-c3037c');
});

// Whether an hourly expression (every hour, or every H hours at minute 0) fires at minute-of-day m.
function matchesHourly(expression: string, m: number): boolean {
  const hours = expression === '0 * * * *' ? 1 : Number(/^0 \*\/(\d+) /.exec(expression)?.[1]);
  return m % 60 === 0 && (m / 60) % hours === 0;
}

test('deploy on push on a Kubernetes environment plans the CI identity: a ServiceAccount, a Role for its namespace only, the binding', () => {
  const push: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'kind-dev' } };
  const g = desiredGraph(sample, push);
  const ids = g.resources.map((r) => r.id);
  for (const id of ['k8s:serviceaccount:encore-deployer', 'k8s:role:encore-deployer', 'k8s:rolebinding:encore-deployer']) assert.ok(ids.includes(id), id);
  const role = byId(g, 'k8s:role:encore-deployer');
  assert.equal(role.providerType, 'k8s/rbac.authorization.k8s.io/v1/Role', 'a Role, never a ClusterRole');
  const verbs = (role.settings.rules as { resources: string[]; verbs: string[] }[]).flatMap((r) => r.resources.map((res) => `${res}:${r.verbs.join(',')}`));
  assert.deepEqual(verbs, ['deployments:get,list,watch,patch', 'pods:get,list', 'events:get,list', 'secrets:get,list,create,update,patch', 'leases:get,create,update,patch,delete']);
  assert.ok(!JSON.stringify(role.settings).includes('"*"'), 'no wildcards');
  assert.deepEqual(byId(g, 'k8s:rolebinding:encore-deployer').dependsOn.slice(-2), ['k8s:serviceaccount:encore-deployer', 'k8s:role:encore-deployer']);
  // A manual trigger has no CI (the AWS CI identity, a GitHub OIDC role, is tested in awsPolicies.test.ts).
  const manual = desiredGraph(sample, { ...push, deploy: { trigger: 'manual' } });
  assert.ok(!manual.resources.some((r) => r.id.includes('encore-deployer')));
});
