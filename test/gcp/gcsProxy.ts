// Test equipment: a loopback HTTP proxy in front of fake-gcs-server. The Storage client under test is pointed at it
// and every request is forwarded untouched; the proxy records what went on the wire (method, path, query, the JSON
// body of a metadata request, the status), so a test can assert what the client sent where the fake ignores it
// (uniform access, public access prevention, labels), and it can hold a request unanswered (an upload in flight when
// the process that sent it is killed), or refuse one as Cloud Storage refuses a caller without the permission.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The request body when it is JSON (bucket and object metadata), else undefined. */
  json?: unknown;
  bodyBytes: number;
  status: number | 'held' | 'dropped';
}

export interface GcsProxy {
  apiEndpoint: string;
  calls: ProxiedCall[];
  /** Holds the next request matching `match` (never forwarded, never answered); resolves when one arrives. */
  holdNext(match: (call: ProxiedCall) => boolean): Promise<ProxiedCall>;
  /** Forwards the next request matching `match`, then drops the connection instead of answering: the work was done, the client never hears. */
  dropAnswerNext(match: (call: ProxiedCall) => boolean): void;
  /** Answers every request matching `match` 403 (the JSON API's error body), unforwarded, until the returned function is called. */
  forbid(match: (call: ProxiedCall) => boolean): () => void;
  close(): Promise<void>;
}

export async function startGcsProxy(target: string): Promise<GcsProxy> {
  const calls: ProxiedCall[] = [];
  const holds: { match: (call: ProxiedCall) => boolean; resolve: (call: ProxiedCall) => void }[] = [];
  const held = new Set<http.ServerResponse>();
  const drops: ((call: ProxiedCall) => boolean)[] = [];
  const forbidden = new Set<(call: ProxiedCall) => boolean>();
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      let json: unknown;
      if (String(req.headers['content-type'] ?? '').startsWith('application/json')) {
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          json = undefined;
        }
      }
      const call: ProxiedCall = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, json, bodyBytes: body.length, status: 'held' };
      calls.push(call);
      const hold = holds.findIndex((h) => h.match(call));
      if (hold >= 0) {
        held.add(res);
        holds.splice(hold, 1)[0]!.resolve(call);
        return;
      }
      if ([...forbidden].some((m) => m(call))) {
        call.status = 403;
        const text = JSON.stringify({ error: { code: 403, message: 'The caller does not have storage.buckets.get access to the Google Cloud Storage bucket. Permission \'storage.buckets.get\' denied on resource (or it may not exist).', errors: [{ domain: 'global', reason: 'forbidden' }] } });
        res.writeHead(403, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) }).end(text);
        return;
      }
      const drop = drops.findIndex((m) => m(call));
      if (drop >= 0) drops.splice(drop, 1);
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (answer) => {
          if (drop >= 0) {
            call.status = 'dropped';
            answer.resume();
            req.socket.destroy();
            return;
          }
          call.status = answer.statusCode ?? 0;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', (err) => {
        call.status = 502;
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${err.message}`);
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    apiEndpoint: `http://127.0.0.1:${port}`,
    calls,
    holdNext: (match) => new Promise((resolve) => holds.push({ match, resolve })),
    dropAnswerNext: (match) => void drops.push(match),
    forbid: (match) => {
      forbidden.add(match);
      return () => void forbidden.delete(match);
    },
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
