// AWS error explanations (errors.ts) for the shapes the SDK throws; the integration tests get the same errors from
// the real SDK against moto. Here: the message formats of AccessDenied across services, and the SDK's own texts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainAwsError, parseAccessDenied } from '../../src/provisioning/providers/aws/errors';

const ctx = { profile: 'dev', region: 'eu-west-1', service: 'EKS', operation: 'CreateCluster' };

test('AccessDenied names the action and the resource, in each service\'s wording', () => {
  assert.deepEqual(
    parseAccessDenied('User: arn:aws:iam::123456789012:user/dev is not authorized to perform: eks:CreateCluster on resource: arn:aws:eks:eu-west-1:123456789012:cluster/prod because no identity-based policy allows the eks:CreateCluster action'),
    { action: 'eks:CreateCluster', resource: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod', principal: 'arn:aws:iam::123456789012:user/dev' },
  );
  assert.deepEqual(
    parseAccessDenied('User: arn:aws:sts::123456789012:assumed-role/Dev/alice is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::123456789012:role/encore-orders with an explicit deny in a service control policy'),
    { action: 'iam:CreateRole', resource: 'arn:aws:iam::123456789012:role/encore-orders', principal: 'arn:aws:sts::123456789012:assumed-role/Dev/alice' },
  );
  // S3 and SQS put the resource in quotes; some services name no resource.
  assert.deepEqual(
    parseAccessDenied('User: arn:aws:iam::123456789012:user/dev is not authorized to perform: s3:CreateBucket on resource: "arn:aws:s3:::encore-state" because no identity-based policy allows the s3:CreateBucket action'),
    { action: 's3:CreateBucket', resource: 'arn:aws:s3:::encore-state', principal: 'arn:aws:iam::123456789012:user/dev' },
  );
  assert.deepEqual(parseAccessDenied('User: arn:aws:iam::123456789012:user/dev is not authorized to perform: sts:GetServiceBearerToken'), {
    action: 'sts:GetServiceBearerToken', resource: undefined, principal: 'arn:aws:iam::123456789012:user/dev',
  });
});

test('the SDK\'s IAM Identity Center texts become an sso-login problem with the command to run', async () => {
  for (const message of [
    "The SSO session token associated with profile=dev was not found or is invalid. To refresh this SSO session run 'aws sso login' with the corresponding profile.",
    "Token is expired. To refresh this SSO session run 'aws sso login' with the corresponding profile.",
    'The SSO session associated with this profile has expired. To refresh this SSO session run aws sso login with the corresponding profile.',
  ]) {
    const err = await explainAwsError(Object.assign(new Error(message), { name: 'CredentialsProviderError' }), { ...ctx, ssoProfile: true });
    assert.equal(err.problem, 'sso-login', message);
    assert.deepEqual(err.action?.args, ['sso', 'login', '--profile', 'dev']);
    assert.equal(err.code, 'unavailable');
  }
});

test('a DNS failure for a region that does not exist names the region; for a real one, the host', async () => {
  const dns = (host: string) => Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
  const unknown = await explainAwsError(dns('eks.eu-wst-1.amazonaws.com'), { ...ctx, region: 'eu-wst-1' });
  assert.equal(unknown.problem, 'unknown-region');
  const offline = await explainAwsError(dns('eks.eu-west-1.amazonaws.com'), ctx);
  assert.equal(offline.problem, 'unreachable');
  assert.match(offline.message, /EKS CreateCluster could not reach eks\.eu-west-1\.amazonaws\.com: its host name does not resolve/);
});

test('throttling after the SDK\'s retries is transient; a server error too; other service errors keep AWS\'s message', async () => {
  const service = (name: string, message: string, status: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
  assert.equal((await explainAwsError(service('ThrottlingException', 'Rate exceeded', 429), ctx)).code, 'transient');
  assert.equal((await explainAwsError(service('ServiceUnavailable', 'try later', 503), ctx)).code, 'transient');
  const invalid = await explainAwsError(service('InvalidParameterException', 'Subnets are in the same AZ', 400), ctx);
  assert.equal(invalid.code, 'invalid');
  assert.equal(invalid.message, 'EKS CreateCluster failed for profile dev, region eu-west-1 (InvalidParameterException): Subnets are in the same AZ');
});
