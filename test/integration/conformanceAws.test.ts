// The driver conformance suite (test/conformance/driverConformance.ts) against the AWS driver on moto, through the
// real SDK clients and the shim (test/aws/shim.ts) for the transient failures and the calls that hang. The resource
// is an SQS queue as the planner makes a dead-letter queue. The SDK retries a 500 itself (3 attempts, its
// default), so one transient failure the driver reports is three failed calls at the shim.
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

driverConformance({
  name: 'the AWS driver on moto (SQS queue)',
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
    const name = `conformance-queue-${++n}-${Date.now().toString(36)}`;
    const resource: DesiredResource = {
      id: `aws:sqs-dlq:${name}`, kind: 'deadLetter', providerType: 'AWS::SQS::Queue', name, source: null,
      settings: { fifo: false, messageRetentionSeconds: 1_209_600, sqsManagedSse: true }, dependsOn: [], stateful: true, summary: `SQS queue ${name}`,
    };
    return { resource, changed: { ...resource, settings: { ...resource.settings, messageRetentionSeconds: 86_400 } } };
  },
  createOutside: async (r) => {
    const sqs = new SQSClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' } });
    await sqs.send(new CreateQueueCommand({ QueueName: r.name, Attributes: { MessageRetentionPeriod: '345600' } }));
    sqs.destroy();
  },
  failTransiently: (times) => {
    const fault = bed.shim.addFault({ service: 'sqs', fault: 'error500', nth: Array.from({ length: times * SDK_ATTEMPTS }, (_, i) => i + 1) });
    return () => fault.remove();
  },
  hang: () => {
    const fault = bed.shim.addFault({ service: 'sqs', fault: 'hang' });
    return () => fault.remove();
  },
});
