// Test equipment: reading an AWS SDK request as the service would (which service, which operation, which resource),
// and writing answers in each service's own wire format, so the shim in front of moto can log, fault and answer
// calls in a way the real SDK clients parse exactly as they parse AWS. Protocols as the 3.1127 clients use them:
// awsQuery (STS, IAM, RDS, ElastiCache, SNS), ec2Query, awsJson 1.0/1.1 (SQS; Secrets Manager, ECR), restJson (EKS,
// the IAM Identity Center portal), restXml (S3).
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type WireProtocol = 'query' | 'ec2' | 'json' | 'rest-json' | 'rest-xml';

/** One request as the shim understood it. */
export interface AwsRequest {
  /** The SigV4 signing name: sts, ec2, eks, iam, rds, elasticache, sns, sqs, s3, secretsmanager, ecr; `sso` for the portal. */
  service: string;
  region: string;
  /** The operation, e.g. CreateCluster; `<METHOD> <path>` when the shim does not know the route. */
  action: string;
  protocol: WireProtocol;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Form parameters (query protocols: the body, or the URL query of a GET). */
  params: URLSearchParams;
  /** The parsed body of a JSON protocol (an empty object when there is none). */
  json: Record<string, unknown>;
  /** Named parts of a REST path (EKS `name`, `nodegroupName`, `addonName`, `principalArn`; S3 `bucket`, `key`). */
  pathParams: Record<string, string>;
}

const PROTOCOLS: Record<string, WireProtocol> = {
  sts: 'query', iam: 'query', rds: 'query', elasticache: 'query', sns: 'query',
  ec2: 'ec2', sqs: 'json', secretsmanager: 'json', ecr: 'json', eks: 'rest-json', sso: 'rest-json', s3: 'rest-xml',
};

/** `Credential=AKID/20260101/us-east-1/eks/aws4_request` from the Authorization header or a presigned URL. */
export function credentialScope(headers: IncomingHttpHeaders, query: URLSearchParams): { accessKeyId: string; region: string; service: string } | undefined {
  const auth = String(headers.authorization ?? '');
  const credential = /Credential=([^,\s]+)/.exec(auth)?.[1] ?? query.get('X-Amz-Credential') ?? undefined;
  if (!credential) return undefined;
  const [accessKeyId, , region, service] = credential.split('/');
  return service ? { accessKeyId, region, service } : undefined;
}

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  action: string;
}

const route = (method: string, template: string, action: string): Route => {
  const names: string[] = [];
  const source = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${source}$`), names, action };
};

/** The EKS operations of the REST API (the paths of the EKS API reference). */
const EKS_ROUTES: Route[] = [
  route('POST', '/clusters', 'CreateCluster'),
  route('GET', '/clusters', 'ListClusters'),
  route('GET', '/clusters/{name}', 'DescribeCluster'),
  route('DELETE', '/clusters/{name}', 'DeleteCluster'),
  route('POST', '/clusters/{name}/update-config', 'UpdateClusterConfig'),
  route('POST', '/clusters/{name}/updates', 'UpdateClusterVersion'),
  route('GET', '/clusters/{name}/updates', 'ListUpdates'),
  route('GET', '/clusters/{name}/updates/{updateId}', 'DescribeUpdate'),
  route('POST', '/clusters/{name}/node-groups', 'CreateNodegroup'),
  route('GET', '/clusters/{name}/node-groups', 'ListNodegroups'),
  route('GET', '/clusters/{name}/node-groups/{nodegroupName}', 'DescribeNodegroup'),
  route('DELETE', '/clusters/{name}/node-groups/{nodegroupName}', 'DeleteNodegroup'),
  route('POST', '/clusters/{name}/node-groups/{nodegroupName}/update-config', 'UpdateNodegroupConfig'),
  route('POST', '/clusters/{name}/node-groups/{nodegroupName}/update-version', 'UpdateNodegroupVersion'),
  route('POST', '/clusters/{name}/access-entries', 'CreateAccessEntry'),
  route('GET', '/clusters/{name}/access-entries', 'ListAccessEntries'),
  route('GET', '/clusters/{name}/access-entries/{principalArn}', 'DescribeAccessEntry'),
  route('POST', '/clusters/{name}/access-entries/{principalArn}', 'UpdateAccessEntry'),
  route('DELETE', '/clusters/{name}/access-entries/{principalArn}', 'DeleteAccessEntry'),
  route('POST', '/clusters/{name}/access-entries/{principalArn}/access-policies', 'AssociateAccessPolicy'),
  route('GET', '/clusters/{name}/access-entries/{principalArn}/access-policies', 'ListAssociatedAccessPolicies'),
  route('DELETE', '/clusters/{name}/access-entries/{principalArn}/access-policies/{policyArn}', 'DisassociateAccessPolicy'),
  route('POST', '/clusters/{name}/addons', 'CreateAddon'),
  route('GET', '/clusters/{name}/addons', 'ListAddons'),
  route('GET', '/clusters/{name}/addons/{addonName}', 'DescribeAddon'),
  route('POST', '/clusters/{name}/addons/{addonName}/update', 'UpdateAddon'),
  route('DELETE', '/clusters/{name}/addons/{addonName}', 'DeleteAddon'),
  route('GET', '/addons/supported-versions', 'DescribeAddonVersions'),
  route('POST', '/tags/{resourceArn}', 'TagResource'),
  route('GET', '/tags/{resourceArn}', 'ListTagsForResource'),
  route('DELETE', '/tags/{resourceArn}', 'UntagResource'),
];

const SSO_ROUTES: Route[] = [
  route('GET', '/federation/credentials', 'GetRoleCredentials'),
  route('GET', '/assignment/roles', 'ListAccountRoles'),
  route('GET', '/assignment/accounts', 'ListAccounts'),
];

function matchRoute(routes: Route[], method: string, path: string): { action: string; pathParams: Record<string, string> } | undefined {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.pattern.exec(path);
    if (!m) continue;
    const pathParams: Record<string, string> = Object.create(null);
    r.names.forEach((name, i) => (pathParams[name] = decodeURIComponent(m[i + 1])));
    return { action: r.action, pathParams };
  }
  return undefined;
}

/** S3 subresources whose operation name is not simply Bucket + the capitalised subresource. */
const S3_SUBRESOURCE_NAMES: Record<string, string> = {
  lifecycle: 'LifecycleConfiguration', notification: 'NotificationConfiguration', cors: 'Cors', acl: 'Acl',
  publicAccessBlock: 'PublicAccessBlock', ownershipControls: 'OwnershipControls', policyStatus: 'PolicyStatus',
};
const S3_SUBRESOURCES = ['versioning', 'encryption', 'publicAccessBlock', 'policy', 'policyStatus', 'tagging', 'lifecycle', 'cors', 'location', 'ownershipControls', 'acl', 'notification', 'versions', 'uploads', 'delete', 'object-lock', 'logging', 'website', 'replication'];

function s3Action(method: string, path: string, query: URLSearchParams, headers: IncomingHttpHeaders): { action: string; pathParams: Record<string, string> } {
  const [, bucket = '', ...rest] = path.split('/');
  const key = rest.map((p) => decodeURIComponent(p)).join('/');
  const pathParams: Record<string, string> = Object.create(null);
  if (bucket) pathParams.bucket = decodeURIComponent(bucket);
  if (key) pathParams.key = key;
  if (!bucket) return { action: method === 'GET' ? 'ListBuckets' : `${method} /`, pathParams };
  const sub = S3_SUBRESOURCES.find((s) => query.has(s));
  if (!key) {
    if (sub === 'delete' && method === 'POST') return { action: 'DeleteObjects', pathParams };
    if (sub === 'versions') return { action: 'ListObjectVersions', pathParams };
    if (sub === 'uploads') return { action: 'ListMultipartUploads', pathParams };
    if (sub === 'location') return { action: 'GetBucketLocation', pathParams };
    if (sub) {
      const name = S3_SUBRESOURCE_NAMES[sub] ?? sub[0].toUpperCase() + sub.slice(1);
      const verb = { GET: 'Get', PUT: 'Put', DELETE: 'Delete' }[method] ?? method;
      return { action: `${verb}Bucket${name}`, pathParams };
    }
    const plain: Record<string, string> = { PUT: 'CreateBucket', HEAD: 'HeadBucket', DELETE: 'DeleteBucket', GET: query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects' };
    return { action: plain[method] ?? `${method} bucket`, pathParams };
  }
  if (sub === 'tagging') return { action: `${{ GET: 'Get', PUT: 'Put', DELETE: 'Delete' }[method] ?? method}ObjectTagging`, pathParams };
  if (query.has('uploads')) return { action: 'CreateMultipartUpload', pathParams };
  if (query.has('uploadId')) return { action: { PUT: 'UploadPart', POST: 'CompleteMultipartUpload', DELETE: 'AbortMultipartUpload', GET: 'ListParts' }[method] ?? method, pathParams };
  if (method === 'PUT' && headers['x-amz-copy-source']) return { action: 'CopyObject', pathParams };
  const plain: Record<string, string> = { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' };
  return { action: plain[method] ?? `${method} object`, pathParams };
}

export function parseRequest(method: string, rawUrl: string, headers: IncomingHttpHeaders, body: Buffer): AwsRequest {
  const url = new URL(rawUrl, 'http://shim');
  const query = url.searchParams;
  const rawPath = url.pathname;
  const scope = credentialScope(headers, query);
  // Unsigned calls: the IAM Identity Center portal (a bearer token in x-amz-sso_bearer_token), and STS's
  // AssumeRoleWithWebIdentity / AssumeRoleWithSAML (the token is the credential).
  const unsignedSts = /(^|&)Action=AssumeRoleWith(WebIdentity|SAML)(&|$)/.test(method === 'GET' ? url.search.slice(1) : body.toString('utf8'));
  const service = scope?.service ?? (headers['x-amz-sso_bearer_token'] ? 'sso' : unsignedSts ? 'sts' : 'unknown');
  const protocol = PROTOCOLS[service] ?? 'query';
  const contentType = String(headers['content-type'] ?? '');
  const params = protocol === 'query' || protocol === 'ec2'
    ? new URLSearchParams(method === 'GET' ? url.search : contentType.includes('x-www-form-urlencoded') ? body.toString('utf8') : '')
    : new URLSearchParams();
  let json: Record<string, unknown> = {};
  if ((protocol === 'json' || protocol === 'rest-json') && body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      json = {};
    }
  }
  let action = `${method} ${rawPath}`;
  let pathParams: Record<string, string> = Object.create(null);
  if (protocol === 'query' || protocol === 'ec2') action = params.get('Action') ?? action;
  else if (protocol === 'json') action = String(headers['x-amz-target'] ?? '').split('.').pop() || action;
  else if (protocol === 'rest-json') {
    const found = matchRoute(service === 'sso' ? SSO_ROUTES : EKS_ROUTES, method, rawPath);
    if (found) ({ action, pathParams } = found);
  } else if (protocol === 'rest-xml') ({ action, pathParams } = s3Action(method, rawPath, query, headers));
  const region = scope?.region ?? String(headers['x-amz-region'] ?? 'us-east-1');
  return { service, region, action, protocol, method, path: rawPath, query, headers, body, params, json, pathParams };
}

export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The bytes as moto sent them (an S3 object may not be text); written instead of `body` while `body` is unchanged. */
  raw?: Buffer;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** An error in the service's own format, so the SDK throws the named exception with this message. */
export function errorAnswer(req: Pick<AwsRequest, 'protocol' | 'service'>, status: number, code: string, message: string): WireAnswer {
  const requestId = randomUUID();
  const base = { 'x-amzn-requestid': requestId, 'x-amz-request-id': requestId };
  switch (req.protocol) {
    case 'query':
      return {
        status,
        headers: { ...base, 'content-type': 'text/xml' },
        body: `<ErrorResponse><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case 'ec2':
      return {
        status,
        headers: { ...base, 'content-type': 'text/xml;charset=UTF-8' },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    case 'json':
      return {
        status,
        headers: { ...base, 'content-type': req.service === 'sqs' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1' },
        body: JSON.stringify({ __type: code, message }),
      };
    case 'rest-json':
      return { status, headers: { ...base, 'content-type': 'application/json', 'x-amzn-errortype': code }, body: JSON.stringify({ message }) };
    case 'rest-xml':
      return {
        status,
        headers: { ...base, 'content-type': 'application/xml' },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId></Error>`,
      };
  }
}

/** A query-protocol success with no result members (`<XResponse><ResponseMetadata>…`). */
export function emptyQueryAnswer(action: string, xmlns: string): WireAnswer {
  const requestId = randomUUID();
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<${action}Response xmlns="${xmlns}"><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

export function jsonAnswer(status: number, value: unknown): WireAnswer {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() }, body: JSON.stringify(value) };
}

/** The throttling error each service really answers with, and its HTTP status. */
export function throttleAnswer(req: Pick<AwsRequest, 'protocol' | 'service'>): WireAnswer {
  switch (req.protocol) {
    case 'ec2':
      return errorAnswer(req, 503, 'RequestLimitExceeded', 'Request limit exceeded. (injected by the test shim)');
    case 'rest-xml':
      return errorAnswer(req, 503, 'SlowDown', 'Please reduce your request rate. (injected by the test shim)');
    case 'query':
      return errorAnswer(req, 400, 'Throttling', 'Rate exceeded (injected by the test shim)');
    default:
      return errorAnswer(req, req.protocol === 'rest-json' ? 429 : 400, 'ThrottlingException', 'Rate exceeded (injected by the test shim)');
  }
}

export function internalErrorAnswer(req: Pick<AwsRequest, 'protocol' | 'service'>): WireAnswer {
  const code = req.protocol === 'rest-xml' || req.protocol === 'ec2' ? 'InternalError' : 'InternalFailure';
  return errorAnswer(req, 500, code, 'We encountered an internal error. Please try again. (injected by the test shim)');
}

/** The error code in an answer (for the call log), whatever the protocol. */
export function errorCodeOf(status: number, headers: Record<string, string | string[] | undefined>, body: string): string | undefined {
  if (status < 300) return undefined;
  const header = headers['x-amzn-errortype'];
  if (typeof header === 'string' && header) return header.split(':')[0];
  const xml = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
  if (xml) return xml;
  try {
    const parsed = JSON.parse(body) as { __type?: string; code?: string };
    return (parsed.__type ?? parsed.code)?.split('#').pop();
  } catch {
    return undefined;
  }
}

/**
 * moto answers an operation it does not implement with an HTML page (a Flask 404 or 500). Judged by the body: moto
 * labels some good answers text/html too (S3 CreateBucket).
 */
export function isHtml(body: string): boolean {
  return /^\s*<(!doctype html|html[\s>])/i.test(body);
}
