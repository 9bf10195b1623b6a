// A tiny OAuth 2.0 token server on 127.0.0.1 standing in for Google's token endpoints, so Application Default
// Credentials exchange real tokens in tests and no request leaves the machine:
//   POST /token                 oauth2.googleapis.com/token: refresh_token (authorized_user), jwt-bearer (service
//                               account keys, the assertion verified against the key's public half)
//   POST /v1/token              sts.googleapis.com/v1/token: token-exchange (external_account, a subject token the test
//                               registered)
//   POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken   iamcredentials (impersonation)
//   GET  /tokeninfo             oauth2.googleapis.com/tokeninfo
//   /computeMetadata/v1/...     the metadata server (GCE_METADATA_HOST=127.0.0.1:PORT)
// Every access token it issues is remembered with whom it was issued to, so fakes and the test kube-apiserver's token
// webhook can accept exactly those (validate()).
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenOwner {
  /** The email shown for the principal: a user's, a service account's, or the federated subject's. */
  email: string;
  kind: 'user' | 'service-account' | 'federated' | 'metadata';
  scope: string;
}

interface IssuedToken extends TokenOwner {
  expiresAt: number;
}

export interface TokenServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** A user's refresh token (what `gcloud auth application-default login` stores) with its client. */
  /** `idToken: false` answers refreshes without an id token (a login made without the openid scope). */
  addUser(user: { email: string; clientId?: string; clientSecret?: string; idToken?: boolean }): { refreshToken: string; clientId: string; clientSecret: string };
  /** Revokes a refresh token: the next refresh answers invalid_grant, as after a password change or `gcloud auth revoke`. */
  revoke(refreshToken: string): void;
  /** A service account key's public half, so jwt-bearer assertions signed with its private key are accepted. */
  addServiceAccount(account: { email: string; publicKeyPem: string; keyId: string }): void;
  /** A subject token (an OIDC token from CI, say) that STS exchanges for a federated token of `subject`. */
  addSubjectToken(token: string, subject: string, audience: string): void;
  /** What the metadata server answers: the default service account and the project. */
  setMetadata(metadata: { email: string; projectId: string; numericProjectId?: string }): void;
  /** Who an access token was issued to, or null (unknown, expired). Also accepts self-signed service-account JWTs. */
  validate(token: string): TokenOwner | null;
  /** Every request the server answered, by path, for tests that check which flow ran. */
  requests: { method: string; path: string; grantType?: string }[];
  /** Access tokens issued so far; a test checks none of them appear in output. */
  issued(): string[];
  stop(): Promise<void>;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signed: string; signature: Buffer } | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>,
      signed: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url'),
    };
  } catch {
    return null;
  }
}

/** An unsigned-looking but well-formed id token, as Google returns beside a user's access token (the email is what matters). */
function idToken(email: string, audience: string, issuer: string): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', kid: 'test', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ iss: issuer, aud: audience, azp: audience, sub: randomBytes(8).toString('hex'), email, email_verified: true, iat: now, exp: now + 3600 }));
  return `${header}.${payload}.${base64url(randomBytes(32))}`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams & { json?: Record<string, unknown> }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('json')) {
    const params = new URLSearchParams() as URLSearchParams & { json?: Record<string, unknown> };
    params.json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    return params;
  }
  return new URLSearchParams(text);
}

export async function startTokenServer(): Promise<TokenServer> {
  const users = new Map<string, { email: string; clientId: string; clientSecret: string; revoked: boolean; idToken: boolean }>();
  const serviceAccounts = new Map<string, { key: KeyObject; keyId: string }>();
  const subjectTokens = new Map<string, { subject: string; audience: string }>();
  const tokens = new Map<string, IssuedToken>();
  let metadata: { email: string; projectId: string; numericProjectId: string } | undefined;
  const requests: TokenServer['requests'] = [];

  const issue = (owner: TokenOwner, lifetime = 3600): { token: string; expiresIn: number } => {
    const token = `ya29.test-${randomBytes(24).toString('base64url')}`;
    tokens.set(token, { ...owner, expiresAt: Date.now() + lifetime * 1000 });
    return { token, expiresIn: lifetime };
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'application/text' : 'application/json', ...headers });
    res.end(text);
  };

  /** A service account's JWT (an assertion for /token, or a self-signed access JWT), verified against its key. */
  const verifyServiceAccountJwt = (jwt: string): string | null => {
    const decoded = decodeJwt(jwt);
    if (!decoded) return null;
    const iss = String(decoded.payload.iss ?? '');
    const account = serviceAccounts.get(iss);
    if (!account || decoded.header.alg !== 'RS256') return null;
    const ok = createVerify('RSA-SHA256').update(decoded.signed).verify(account.key, decoded.signature);
    const exp = Number(decoded.payload.exp ?? 0) * 1000;
    return ok && exp > Date.now() ? iss : null;
  };

  const validate = (token: string): TokenOwner | null => {
    const issued = tokens.get(token);
    if (issued) return issued.expiresAt > Date.now() ? { email: issued.email, kind: issued.kind, scope: issued.scope } : null;
    const email = verifyServiceAccountJwt(token);
    return email ? { email, kind: 'service-account', scope: 'https://www.googleapis.com/auth/cloud-platform' } : null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1');
    const form: Awaited<ReturnType<typeof readForm>> = req.method === 'POST' ? await readForm(req) : new URLSearchParams();
    const grantType = form.get('grant_type') ?? (form.json?.grant_type as string | undefined) ?? undefined;
    requests.push({ method: req.method ?? 'GET', path: path.pathname, ...(grantType ? { grantType } : {}) });

    if (path.pathname.startsWith('/computeMetadata/')) {
      if (req.headers['metadata-flavor'] !== 'Google') return send(res, 403, 'Missing Metadata-Flavor:Google header.');
      if (!metadata) return send(res, 404, 'not found', { 'Metadata-Flavor': 'Google' });
      const flavor = { 'Metadata-Flavor': 'Google' };
      const rest = path.pathname.replace(/^\/computeMetadata\/v1\/?/, '');
      if (rest === '' || rest === 'instance' || rest === 'instance/') return send(res, 200, 'ok', flavor);
      if (rest === 'project/project-id') return send(res, 200, metadata.projectId, flavor);
      if (rest === 'project/numeric-project-id') return send(res, 200, metadata.numericProjectId, flavor);
      if (rest === 'instance/service-accounts/default/email') return send(res, 200, metadata.email, flavor);
      if (rest === 'universe/universe-domain' || rest === 'universe/universe_domain') return send(res, 200, 'googleapis.com', flavor);
      if (rest === 'instance/service-accounts/default/token') {
        const { token, expiresIn } = issue({ email: metadata.email, kind: 'metadata', scope: 'https://www.googleapis.com/auth/cloud-platform' });
        return send(res, 200, { access_token: token, expires_in: expiresIn, token_type: 'Bearer' }, flavor);
      }
      return send(res, 404, `metadata path ${rest} is not served by the test metadata server`, flavor);
    }

    if (path.pathname === '/token' && req.method === 'POST') {
      if (grantType === 'refresh_token') {
        const user = users.get(form.get('refresh_token') ?? '');
        if (!user || user.revoked || user.clientId !== form.get('client_id') || user.clientSecret !== form.get('client_secret')) {
          return send(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
        }
        const scope = 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform';
        const { token, expiresIn } = issue({ email: user.email, kind: 'user', scope });
        return send(res, 200, { access_token: token, expires_in: expiresIn, token_type: 'Bearer', scope, ...(user.idToken ? { id_token: idToken(user.email, user.clientId, 'https://accounts.google.com') } : {}) });
      }
      if (grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        const email = verifyServiceAccountJwt(form.get('assertion') ?? '');
        if (!email) return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
        const { token, expiresIn } = issue({ email, kind: 'service-account', scope: String(decodeJwt(form.get('assertion') ?? '')?.payload.scope ?? '') });
        return send(res, 200, { access_token: token, expires_in: expiresIn, token_type: 'Bearer' });
      }
      return send(res, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${grantType ?? '(none)'} is not supported here` });
    }

    if (path.pathname === '/v1/token' && req.method === 'POST') {
      if (grantType !== 'urn:ietf:params:oauth:grant-type:token-exchange') return send(res, 400, { error: 'invalid_request', error_description: 'Invalid value for "grant_type".' });
      const subject = subjectTokens.get(form.get('subject_token') ?? '');
      if (!subject) return send(res, 400, { error: 'invalid_grant', error_description: 'The subject token is invalid or expired.' });
      if (subject.audience !== form.get('audience')) {
        return send(res, 400, { error: 'invalid_target', error_description: `The target service indicated by the "audience" parameters is invalid: ${form.get('audience') ?? ''}` });
      }
      const { token, expiresIn } = issue({ email: subject.subject, kind: 'federated', scope: form.get('scope') ?? '' });
      return send(res, 200, { access_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: expiresIn });
    }

    const impersonate = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(path.pathname);
    if (impersonate && req.method === 'POST') {
      const caller = validate(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
      if (!caller) return send(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
      const email = decodeURIComponent(impersonate[1]);
      const { token } = issue({ email, kind: 'service-account', scope: ((form.json?.scope as string[] | undefined) ?? []).join(' ') });
      return send(res, 200, { accessToken: token, expireTime: new Date(Date.now() + 3600_000).toISOString() });
    }

    if (path.pathname === '/tokeninfo') {
      // Google takes the token as a query parameter, a form field, or (as google-auth-library sends it) a bearer header.
      const token = path.searchParams.get('access_token') ?? form.get('access_token') ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const issued = tokens.get(token);
      if (!issued || issued.expiresAt <= Date.now()) return send(res, 400, { error: 'invalid_token', error_description: 'Invalid Value' });
      return send(res, 200, { email: issued.email, email_verified: 'true', scope: issued.scope, expires_in: String(Math.floor((issued.expiresAt - Date.now()) / 1000)), access_type: 'offline' });
    }
    return send(res, 404, { error: 'not_found', error_description: `${req.method ?? 'GET'} ${path.pathname} is not served by the test token server` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: 'internal', error_description: err instanceof Error ? err.message : String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    requests,
    addUser({ email, clientId = `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`, clientSecret = `GOCSPX-${randomBytes(12).toString('base64url')}`, idToken = true }) {
      const refreshToken = `1//test-${randomBytes(24).toString('base64url')}`;
      users.set(refreshToken, { email, clientId, clientSecret, revoked: false, idToken });
      return { refreshToken, clientId, clientSecret };
    },
    revoke(refreshToken) {
      const user = users.get(refreshToken);
      if (user) user.revoked = true;
    },
    addServiceAccount({ email, publicKeyPem, keyId }) {
      serviceAccounts.set(email, { key: createPublicKey(publicKeyPem), keyId });
    },
    addSubjectToken(token, subject, audience) {
      subjectTokens.set(token, { subject, audience });
    },
    setMetadata(next) {
      metadata = { numericProjectId: '123456789012', ...next };
    },
    validate,
    issued: () => [...tokens.keys()],
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
