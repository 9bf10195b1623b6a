/**
 * The bearer token an EKS cluster accepts, made without the aws CLI: `k8s-aws-v1.` followed by the unpadded base64url
 * of a presigned STS GetCallerIdentity URL whose signature covers the header `x-k8s-aws-id: <cluster name>`. The
 * cluster's authenticator replays the URL against STS with that header, so a token signed for another cluster fails
 * there. Made as aws-iam-authenticator (pkg/token) and `aws eks get-token` make it: X-Amz-Expires 60, and the
 * token counted good for 14 minutes (the authenticator accepts 15).
 *
 * Signed with the SDK's own SigV4 implementation (@smithy/signature-v4), loaded on first use.
 */

import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { regionInfo } from './regions';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** X-Amz-Expires of the presigned URL, as aws-iam-authenticator sets it. */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** How long the token is used before a new one is made (`aws eks get-token`'s expirationTimestamp). */
export const TOKEN_LIFETIME_MS = 14 * 60_000;

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /**
   * The STS endpoint the URL is presigned for: the connection's configured STS endpoint, if any, else the regional
   * public one (https://sts.<region>.amazonaws.com, or the partition's suffix), which is what EKS accepts.
   */
  stsEndpoint?: string;
  /** The signing time (tests make expired tokens with it). */
  now?: Date;
}

export interface EksToken {
  token: string;
  /** When to stop using it and make a new one. */
  expiresAt: Date;
}

export async function regionalStsEndpoint(region: string): Promise<string> {
  return `https://sts.${region}.${(await regionInfo(region)).dnsSuffix}`;
}

export async function eksToken(options: EksTokenOptions): Promise<EksToken> {
  const [{ SignatureV4 }, { HttpRequest, buildQueryString }, { Hash }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@smithy/core/protocols'),
    import('@smithy/core/serde'),
  ]);
  const endpoint = new URL(options.stsEndpoint ?? (await regionalStsEndpoint(options.region)));
  const signingDate = options.now ?? new Date();
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: endpoint.pathname || '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: endpoint.host, [CLUSTER_ID_HEADER]: options.clusterName },
  });
  const signed = await signer.presign(request, { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate });
  const url = `${endpoint.protocol}//${endpoint.host}${signed.path}?${buildQueryString(signed.query ?? {})}`;
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: new Date(signingDate.getTime() + TOKEN_LIFETIME_MS),
  };
}
