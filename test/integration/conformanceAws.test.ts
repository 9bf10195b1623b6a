// The driver conformance suite (test/conformance/driverConformance.ts) against the AWS driver on moto, through the
// real SDK clients and the shim (test/aws/shim.ts) for the transient failures and the calls that hang, with an SQS
// queue (as the planner makes a dead-letter queue) and an S3 bucket. The SDK retries a 500 itself (3 attempts, its
// default), so one transient failure the driver reports is three failed calls at the shim.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DesiredResource } from '../../src/model/desiredGraph';
import { openAwsConnection, type AwsConnection } from '../../src/provisioning/providers/aws/connection';
import { AwsDriver } from '../../src/provisioning/providers/aws/driver';
import { TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { driverConformance } from '../conformance/driverConformance';

const SDK_ATTEMPTS = 3;
let bed: AwsTestbed;
let connection: AwsConnection;
let n = 0;

interface Case {
  what: string;
  service: string;
  resource(name: string): DesiredResource;
  changed(r: DesiredResource): DesiredResource;
  createOutside(r: DesiredResource): Promise<void>;
}

const creds = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' };

const CASES: Case[] = [
  {
    what: 'SQS queue',
    service: 'sqs',
    resource: (name) => ({
      id: `aws:sqs-dlq:${name}`, kind: 'deadLetter', providerType: 'AWS::SQS::Queue', name, source: null,
      settings: { fifo: false, messageRetentionSeconds: 1_209_600, sqsManagedSse: true }, dependsOn: [], stateful: true, summary: `SQS queue ${name}`,
    }),
    changed: (r) => ({ ...r, settings: { ...r.settings, messageRetentionSeconds: 86_400 } }),
    createOutside: async (r) => {
      const sqs = new SQSClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: creds });
      await sqs.send(new CreateQueueCommand({ QueueName: r.name, Attributes: { MessageRetentionPeriod: '345600' } }));
      sqs.destroy();
    },
  },
  {
    what: 'S3 bucket',
    service: 's3',
    resource: (name) => ({
      id: `aws:s3:${name}`, kind: 'bucket', providerType: 'AWS::S3::Bucket', name, source: null,
      settings: { region: TEST_REGION, versioning: false, blockPublicAccess: true, publicRead: false, encryption: 'AES256', objectOwnership: 'BucketOwnerEnforced' },
      dependsOn: [], stateful: true, summary: `S3 bucket ${name}`,
    }),
    changed: (r) => ({ ...r, settings: { ...r.settings, versioning: true } }),
    createOutside: async (r) => {
      const s3 = new S3Client({ region: TEST_REGION, endpoint: bed.endpoint, forcePathStyle: true, credentials: creds });
      await s3.send(new CreateBucketCommand({ Bucket: r.name, CreateBucketConfiguration: { LocationConstraint: TEST_REGION } }));
      s3.destroy();
    },
  },
];

for (const c of CASES) {
  driverConformance({
    name: `the AWS driver on moto (${c.what})`,
    setup: async () => {
      bed = await startAwsTestbed();
      bed.awsHome({
        config: `[profile conformance]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`,
        credentials: '[conformance]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n',
      }).use();
      connection = await openAwsConnection({ profile: 'conformance' });
    },
    teardown: async () => {
      try {
        bed?.shim.assertAllSupported();
      } finally {
        await bed?.stop();
      }
    },
    driver: async () => new AwsDriver({ environment: 'conformance', connection, pollIntervalMs: 20 }),
    resource: async () => {
      const resource = c.resource(`conformance-${c.service}-${++n}-${Date.now().toString(36)}`);
      return { resource, changed: c.changed(resource) };
    },
    createOutside: (r) => c.createOutside(r),
    failTransiently: (times) => {
      const fault = bed.shim.addFault({ service: c.service, fault: 'error500', nth: Array.from({ length: times * SDK_ATTEMPTS }, (_, i) => i + 1) });
      return () => fault.remove();
    },
    hang: () => {
      const fault = bed.shim.addFault({ service: c.service, fault: 'hang' });
      return () => fault.remove();
    },
  });
}
