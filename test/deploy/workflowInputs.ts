// The inputs of the expected workflow files in test/fixtures/deploy/, shared by the unit and the actionlint tests.
import type { WorkflowInput } from '../../src/provisioning/deploy/workflow';

export const AWS_INPUT: WorkflowInput = {
  environment: 'production', branch: 'main', appPath: '.', encoreVersion: '1.58.6',
  cloud: { kind: 'aws', roleArn: 'arn:aws:iam::123456789012:role/encore-deploy-sample-app-production', region: 'eu-west-1' },
};
export const KUBE_INPUT: WorkflowInput = { environment: 'staging', branch: 'release/v2+next', appPath: 'apps/sample-app', encoreVersion: '1.58.6', cloud: { kind: 'kubernetes' } };
// The names the plan gives environment "prod" in the GCP test bed's project (encore-test, number 123456789012), so
// setup-ci's file in test/integration/gcpCiIdentity.test.ts is this one byte for byte.
export const GCP_INPUT: WorkflowInput = {
  environment: 'prod', branch: 'main', appPath: '.', encoreVersion: '1.58.6',
  cloud: {
    kind: 'gcp',
    workloadIdentityProvider: 'projects/123456789012/locations/global/workloadIdentityPools/encore-prod/providers/github',
    serviceAccount: 'encore-deploy-prod@encore-test.iam.gserviceaccount.com',
  },
};
