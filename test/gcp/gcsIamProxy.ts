// fake-gcs-server answers bucket IAM (GET/PUT /storage/v1/b/{bucket}/iam) 404 and drops a bucket's iamConfiguration
// (uniform bucket-level access, public access prevention) and labels (the provider's mark), all of which Cloud
// Storage keeps and the GCP provider sets. This loopback proxy forwards every request to fake-gcs-server, except bucket IAM, which it serves from an
// IamPolicies store as Cloud Storage's JSON API does (etag concurrency, a missing bucket 404), and it keeps the
// iamConfiguration and labels a bucket insert or patch sent, adding them back to the bucket's metadata. What it covered is
// counted, so a test reports the gap instead of hiding it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { IamPolicies, type Binding } from './fakes/iamPolicies';

export interface GcsIamProxy {
  /** host:port of the proxy, for the storage endpoint override. */
  hostPort: string;
  policies: IamPolicies;
  /** Bucket IAM requests served here because fake-gcs-server does not serve them. */
  served: number;
  /** Bucket metadata answers to which the kept iamConfiguration and labels were added. */
  restored: number;
  stop(): Promise<void>;
}

export async function startGcsIamProxy(upstream: string): Promise<GcsIamProxy> {
  const target = new URL(upstream);
  const policies = new IamPolicies();
  const state = { served: 0, restored: 0 };
  const kept = new Map<string, { iamConfiguration?: object; labels?: object }>();
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, bucket?: string) => {
    const out = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (up) => {
      const keep = bucket ? kept.get(bucket) : undefined;
      if (!keep || up.statusCode !== 200) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const metadata = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        state.restored += 1;
        json(res, 200, {
          ...metadata,
          ...(keep.iamConfiguration ? { iamConfiguration: { ...(metadata.iamConfiguration as object | undefined), ...keep.iamConfiguration } } : {}),
          ...(keep.labels ? { labels: { ...(metadata.labels as object | undefined), ...keep.labels } } : {}),
        });
      });
    });
    out.on('error', (err) => res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${err.message}`));
    out.end(body);
  };
  const exists = (bucket: string) => new Promise<boolean>((resolve) => {
    http.get({ host: target.hostname, port: target.port, path: `/storage/v1/b/${encodeURIComponent(bucket)}` }, (r) => {
      r.resume();
      resolve(r.statusCode === 200);
    }).on('error', () => resolve(false));
  });
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://proxy');
        const iam = /^\/storage\/v1\/b\/([^/]+)\/iam$/.exec(url.pathname);
        const bucketPath = /^\/storage\/v1\/b\/([^/]+)$/.exec(url.pathname);
        const sent = () => (body.length > 0 ? (JSON.parse(body.toString('utf8')) as { name?: string; iamConfiguration?: object; labels?: object }) : {});
        const remember = (bucket: string, spec: { iamConfiguration?: object; labels?: object }) => {
          const now = kept.get(bucket) ?? {};
          if (spec.iamConfiguration) now.iamConfiguration = { ...now.iamConfiguration, ...spec.iamConfiguration };
          if (spec.labels) now.labels = { ...now.labels, ...spec.labels };
          kept.set(bucket, now);
        };
        if (url.pathname === '/storage/v1/b' && req.method === 'POST') {
          const spec = sent();
          if (spec.name) remember(spec.name, spec);
          return forward(req, res, body, spec.name);
        }
        if (bucketPath) {
          const bucket = decodeURIComponent(bucketPath[1]!);
          if (req.method === 'PATCH' || req.method === 'PUT') remember(bucket, sent());
          if (req.method === 'DELETE') kept.delete(bucket);
          return forward(req, res, body, req.method === 'DELETE' ? undefined : bucket);
        }
        if (!iam || (req.method !== 'GET' && req.method !== 'PUT')) return forward(req, res, body);
        state.served += 1;
        const bucket = decodeURIComponent(iam[1]!);
        if (!(await exists(bucket))) return json(res, 404, { error: { code: 404, message: 'The specified bucket does not exist.', errors: [{ reason: 'notFound', message: 'The specified bucket does not exist.' }] } });
        const wire = (p: ReturnType<IamPolicies['get']>) => ({ kind: 'storage#policy', resourceId: `projects/_/buckets/${bucket}`, version: p.version, bindings: p.bindings, etag: p.etag.toString('base64') });
        if (req.method === 'GET') return json(res, 200, wire(policies.get(bucket)));
        try {
          const policy = JSON.parse(body.toString('utf8')) as { version?: number; bindings?: Binding[]; etag?: string };
          return json(res, 200, wire(policies.set(bucket, { version: policy.version, bindings: policy.bindings, etag: policy.etag ? Buffer.from(policy.etag, 'base64') : undefined })));
        } catch (err) {
          const status = (err as { code?: number }).code === 10 ? 412 : 400;
          return json(res, status, { error: { code: status, message: (err as Error).message } });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    hostPort: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    policies,
    get served() {
      return state.served;
    },
    get restored() {
      return state.restored;
    },
    async stop() {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}
