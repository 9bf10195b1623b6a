// Test equipment: the EKS half of the token webhook. It checks a `k8s-aws-v1.` token as EKS's authenticator
// (aws-iam-authenticator, pkg/token Verify) does: the base64url of a presigned STS GetCallerIdentity URL for the
// expected STS host, with only the expected query parameters, Action and Version right, `host` and `x-k8s-aws-id`
// among the signed headers, and not older than 15 minutes. Where EKS lets STS check the signature (which binds the
// token to the cluster name, a header the URL does not carry), this checks it itself by signing the same request
// again with the caller's secret, because moto does not check signatures. Then it replays the URL against STS (the
// shim in front of moto), with `x-k8s-aws-id`, as EKS does, and maps the caller's ARN to a Kubernetes user.
import { timingSafeEqual } from 'node:crypto';
import { HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ReviewedUser, TokenValidator, TokenVerdict } from './tokenWebhook';

const PREFIX = 'k8s-aws-v1.';
const CLUSTER_HEADER = 'x-k8s-aws-id';
/** aws-iam-authenticator accepts a token for 15 minutes after it was signed. */
const MAX_AGE_MS = 15 * 60_000;
const ALLOWED_PARAMS = new Set([
  'action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-security-token', 'x-amz-signature', 'x-amz-signedheaders',
]);

export interface EksTokenValidatorOptions {
  clusterName: string;
  /** The STS endpoint tokens must be presigned for (the connection's STS endpoint: the shim's URL here). */
  stsEndpoint: string;
  /** The secret (and session token) of an access key the tests handed out; undefined refuses the token. */
  secretFor(accessKeyId: string): { secretAccessKey: string; sessionToken?: string } | undefined;
  /** The Kubernetes user for a caller (by default its IAM principal ARN as the username); undefined refuses. */
  userFor?(principalArn: string, callerArn: string): ReviewedUser | undefined;
  now?(): number;
}

/** `arn:aws:sts::123:assumed-role/Name/session` → `arn:aws:iam::123:role/Name`, as the authenticator canonicalises. */
function canonicalPrincipal(arn: string): string {
  const assumed = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}

/** 20260101T120000Z → epoch ms, or NaN. */
function amzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Number.NaN;
}

export function eksTokenValidator(options: EksTokenValidatorOptions): TokenValidator {
  const expected = new URL(options.stsEndpoint);
  const now = options.now ?? Date.now;
  const refuse = (why: string): TokenVerdict => ({ refused: `EKS token refused: ${why}` });

  return {
    name: `eks:${options.clusterName}`,
    async validate(token) {
      if (!token.startsWith(PREFIX)) return undefined;
      const encoded = token.slice(PREFIX.length);
      if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return refuse('not base64url');
      let url: URL;
      try {
        url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
      } catch {
        return refuse('not a URL');
      }
      if (url.origin !== expected.origin) return refuse(`presigned for ${url.origin}, not the STS endpoint ${expected.origin}`);
      if (url.pathname !== '/') return refuse(`unexpected path ${url.pathname}`);
      const params = new Map<string, string>();
      for (const [key, value] of url.searchParams) {
        if (!ALLOWED_PARAMS.has(key.toLowerCase())) return refuse(`unexpected query parameter ${key}`);
        if (params.has(key)) return refuse(`query parameter ${key} given twice`);
        params.set(key, value);
      }
      if (params.get('Action') !== 'GetCallerIdentity') return refuse(`action ${params.get('Action')}, not GetCallerIdentity`);
      if (params.get('Version') !== '2011-06-15') return refuse(`version ${params.get('Version')}`);
      if (params.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return refuse('not SigV4');
      const signedHeaders = (params.get('X-Amz-SignedHeaders') ?? '').split(';');
      if (!signedHeaders.includes('host') || !signedHeaders.includes(CLUSTER_HEADER)) return refuse(`signed headers ${signedHeaders.join(';')} lack host or ${CLUSTER_HEADER}`);
      const [accessKeyId, day, region, service, terminator] = (params.get('X-Amz-Credential') ?? '').split('/');
      if (service !== 'sts' || terminator !== 'aws4_request' || !region) return refuse('the credential scope is not STS');
      const signedAt = amzDate(params.get('X-Amz-Date') ?? '');
      const expires = Number(params.get('X-Amz-Expires'));
      if (Number.isNaN(signedAt) || !params.get('X-Amz-Date')!.startsWith(day)) return refuse('bad X-Amz-Date');
      if (!Number.isInteger(expires) || expires <= 0 || expires > 900) return refuse(`bad X-Amz-Expires ${params.get('X-Amz-Expires')}`);
      if (now() - signedAt > MAX_AGE_MS) return refuse(`expired: signed ${Math.round((now() - signedAt) / 60_000)} minutes ago`);
      if (signedAt - now() > 5 * 60_000) return refuse('signed in the future');

      // The signature, over the cluster name this webhook serves.
      const secret = options.secretFor(accessKeyId);
      if (!secret) return refuse('unknown access key');
      if (secret.sessionToken !== params.get('X-Amz-Security-Token') && (secret.sessionToken || params.get('X-Amz-Security-Token'))) return refuse('session token does not match');
      const signer = new SignatureV4({
        credentials: { accessKeyId, secretAccessKey: secret.secretAccessKey, sessionToken: secret.sessionToken },
        region,
        service: 'sts',
        sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: true,
      });
      const again = await signer.presign(
        new HttpRequest({
          method: 'GET', protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: '/',
          query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
          headers: { host: url.host, [CLUSTER_HEADER]: options.clusterName },
        }),
        { expiresIn: expires, signingDate: new Date(signedAt) },
      );
      const want = Buffer.from(String(again.query?.['X-Amz-Signature'] ?? ''));
      const got = Buffer.from(params.get('X-Amz-Signature') ?? '');
      if (want.length !== got.length || !timingSafeEqual(want, got)) return refuse(`signature does not match (not signed for cluster ${options.clusterName}, or altered)`);

      // Who it is: the URL replayed against STS, with the cluster header, as EKS does.
      const answer = await fetch(url, { headers: { [CLUSTER_HEADER]: options.clusterName } });
      const body = await answer.text();
      const callerArn = /<Arn>([^<]+)<\/Arn>/.exec(body)?.[1];
      if (answer.status !== 200 || !callerArn) return refuse(`STS answered ${answer.status}: ${body.slice(0, 200)}`);
      const principal = canonicalPrincipal(callerArn);
      const user = options.userFor ? options.userFor(principal, callerArn) : { username: principal, uid: `aws-iam-authenticator:${principal}` };
      return user ? { user } : refuse(`no access for ${principal}`);
    },
  };
}
