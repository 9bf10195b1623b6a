// Test equipment: the Docker side of Artifact Registry, which the Artifact Registry fake does not have (it serves the
// repositories' API only). A real local registry (crane registry serve) behind a loopback proxy that asks for what
// Artifact Registry's Docker endpoint takes: Basic credentials with the user `oauth2accesstoken` and a live access
// token as the password (here: one the test bed's token server issued). Anything else is answered 401 with a
// challenge, as Artifact Registry does. The proxy records who called (never the token), so a test can show that the
// push and the digest read used the ADC access token.
// Not like Artifact Registry: its Docker endpoint answers with a Bearer challenge and a token exchange at /v2/token;
// this one takes the Basic credentials directly (the Docker config the build gets is the same).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRegistry, type TestRegistry } from '../../scripts/registry.mjs';

export interface DockerCall {
  method: string;
  path: string;
  status: number;
  /** `oauth2accesstoken` with an accepted token, `rejected` for other credentials, `none` without. */
  caller: 'oauth2accesstoken' | 'rejected' | 'none';
}

export interface ArtifactRegistryDocker {
  /** host:port, what the Artifact Registry fake reports as the repositories' Docker location. */
  host: string;
  calls: DockerCall[];
  close(): Promise<void>;
}

export async function startArtifactRegistryDocker(accepted: (token: string) => boolean): Promise<ArtifactRegistryDocker> {
  const upstream: TestRegistry = await startRegistry();
  const calls: DockerCall[] = [];
  const server = http.createServer((req, res) => {
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, token] = basic ? splitOnce(Buffer.from(basic, 'base64').toString('utf8')) : [undefined, undefined];
    const caller: DockerCall['caller'] = basic === undefined ? 'none' : user === 'oauth2accesstoken' && token !== undefined && accepted(token) ? 'oauth2accesstoken' : 'rejected';
    const call: DockerCall = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, status: 0, caller };
    calls.push(call);
    if (caller !== 'oauth2accesstoken') {
      call.status = 401;
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="Artifact Registry stand-in"', 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const forward = http.request({ host: '127.0.0.1', port: Number(upstream.host.split(':')[1]), method: req.method, path: req.url, headers }, (answer) => {
      call.status = answer.statusCode ?? 0;
      const out = { ...answer.headers };
      // Upload locations name the registry's own address when absolute: keep the client on the proxy.
      if (typeof out.location === 'string') out.location = out.location.replace(`http://${upstream.host}`, `http://${host}`);
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    forward.on('error', (err) => {
      call.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(err.message);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    calls,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await upstream.stop();
    },
  };
}

function splitOnce(text: string): [string, string | undefined] {
  const colon = text.indexOf(':');
  return colon < 0 ? [text, undefined] : [text.slice(0, colon), text.slice(colon + 1)];
}
