/**
 * The AWS services the provider calls, by the SDK's service id (`serviceId` in each client's metadata). The id is what
 * the standard endpoint configuration is keyed by: `AWS_ENDPOINT_URL_<ID>` (upper case, spaces as `_`) and a
 * `[services]` section's `<id>` key (lower case, spaces as `_`), as @smithy/core/endpoints derives them.
 */

export const AWS_SERVICE_IDS = [
  'STS', 'EC2', 'EKS', 'IAM', 'RDS', 'ElastiCache', 'SNS', 'SQS', 'S3', 'Secrets Manager', 'ECR',
  // The IAM Identity Center portal and its token service, called by the SSO credential provider.
  'SSO', 'SSO OIDC',
] as const;

export type AwsServiceId = (typeof AWS_SERVICE_IDS)[number];

/** `AWS_ENDPOINT_URL_SECRETS_MANAGER` for 'Secrets Manager'. */
export function endpointEnvName(serviceId: string): string {
  return ['AWS_ENDPOINT_URL', ...serviceId.split(' ').map((w) => w.toUpperCase())].join('_');
}

/** `secrets_manager` for 'Secrets Manager': the key of a `[services x]` section. */
export function endpointConfigKey(serviceId: string): string {
  return serviceId.split(' ').map((w) => w.toLowerCase()).join('_');
}
