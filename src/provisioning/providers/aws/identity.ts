/**
 * Who the connection acts as: STS GetCallerIdentity, which needs no permission, so it is the first call of every
 * session and what the form, the plan and the status bar show before anything is created.
 */

import type { AwsConnection } from './connection';
import { describeSource } from './credentials';

export interface CallerIdentity {
  account: string;
  /** arn:aws:iam::123456789012:user/alice, arn:aws:sts::123456789012:assumed-role/Admin/alice, … */
  arn: string;
  userId: string;
  region: string;
  profile: string | undefined;
  /** Where the credentials came from, in words ("profile dev (IAM Identity Center)"). */
  source: string;
}

export async function callerIdentity(connection: AwsConnection, signal?: AbortSignal): Promise<CallerIdentity> {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const sts = new STSClient(connection.clientConfig('STS'));
  try {
    const answer = await connection.call('STS', 'GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal }));
    if (!answer.Account || !answer.Arn) throw new Error(`STS GetCallerIdentity answered without an account or ARN (request ${answer.$metadata.requestId ?? 'unknown'})`);
    return {
      account: answer.Account,
      arn: answer.Arn,
      userId: answer.UserId ?? '',
      region: connection.region,
      profile: connection.profile,
      source: describeSource(connection.source),
    };
  } finally {
    sts.destroy();
  }
}

/**
 * The IAM principal behind an STS ARN, as EKS access entries and IAM policies name it: an assumed role's session ARN
 * `arn:aws:sts::123:assumed-role/Path/Name/session` is the role `arn:aws:iam::123:role/Name` (the path is not in the
 * session ARN; aws-iam-authenticator and EKS make the same simplification). Users and roles pass through.
 */
export function principalArn(arn: string): string {
  const assumed = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}
