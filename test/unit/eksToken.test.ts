// The `k8s-aws-v1.` token (eksToken.ts) is the presigned URL aws-iam-authenticator makes. The signature is checked
// against SigV4 computed here from the specification with node:crypto (an oracle independent of the SDK's signer).
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { eksToken } from '../../src/provisioning/providers/aws/eksToken';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const decode = (token: string) => new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));

/** SigV4 query signing (AWS General Reference, "Create a signed AWS API request"), for GET with an empty body. */
function sigv4(url: URL, headers: Record<string, string>, secret: string, date: string, region: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers[n].trim()}\n`).join('');
  const canonical = ['GET', '/', query, canonicalHeaders, names.join(';'), createHash('sha256').update('').digest('hex')].join('\n');
  const scope = `${date.slice(0, 8)}/${region}/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of [date.slice(0, 8), region, 'sts', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}

test('the token is k8s-aws-v1. and the unpadded base64url of a presigned GetCallerIdentity for the regional STS', async () => {
  const now = new Date('2026-03-01T12:34:56Z');
  const { token, expiresAt } = await eksToken({ clusterName: 'prod', region: 'eu-west-1', credentials, now });
  assert.match(token, /^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
  const url = decode(token);
  assert.equal(url.origin, 'https://sts.eu-west-1.amazonaws.com');
  assert.equal(url.pathname, '/');
  const q = Object.fromEntries(url.searchParams);
  assert.deepEqual(Object.keys(q).sort(), ['Action', 'Version', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Signature', 'X-Amz-SignedHeaders']);
  assert.equal(q.Action, 'GetCallerIdentity');
  assert.equal(q.Version, '2011-06-15');
  assert.equal(q['X-Amz-Credential'], 'AKIDEXAMPLE/20260301/eu-west-1/sts/aws4_request');
  assert.equal(q['X-Amz-Date'], '20260301T123456Z');
  assert.equal(q['X-Amz-Expires'], '60');
  assert.equal(q['X-Amz-SignedHeaders'], 'host;x-k8s-aws-id');
  assert.equal(q['X-Amz-Signature'], sigv4(url, { host: url.host, 'x-k8s-aws-id': 'prod' }, credentials.secretAccessKey, q['X-Amz-Date'], 'eu-west-1'));
  assert.notEqual(q['X-Amz-Signature'], sigv4(url, { host: url.host, 'x-k8s-aws-id': 'other' }, credentials.secretAccessKey, q['X-Amz-Date'], 'eu-west-1'));
  assert.equal(expiresAt.toISOString(), '2026-03-01T12:48:56.000Z', 'used for 14 minutes, as aws eks get-token');
});

test('a session token is signed into the URL; a configured STS endpoint and other partitions are honoured', async () => {
  const session = await eksToken({ clusterName: 'prod', region: 'eu-west-1', credentials: { ...credentials, sessionToken: 'FwoGZXIvYXdzEXAMPLE' } });
  assert.equal(decode(session.token).searchParams.get('X-Amz-Security-Token'), 'FwoGZXIvYXdzEXAMPLE');
  assert.equal(decode((await eksToken({ clusterName: 'c', region: 'cn-north-1', credentials })).token).host, 'sts.cn-north-1.amazonaws.com.cn');
  const local = decode((await eksToken({ clusterName: 'c', region: 'eu-west-1', credentials, stsEndpoint: 'http://127.0.0.1:4566' })).token);
  assert.equal(local.origin, 'http://127.0.0.1:4566');
});

test('credentials may be a provider, called once per token', async () => {
  let calls = 0;
  await eksToken({ clusterName: 'c', region: 'eu-west-1', credentials: async () => (calls++, credentials) });
  assert.equal(calls, 1);
});
