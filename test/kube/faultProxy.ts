// Test equipment: an HTTP proxy on loopback between our client and the real kube-apiserver, which adds latency to
// every call and injects faults (500, 429, a hung request, a dropped connection) at chosen calls, and logs what it
// saw. It forwards everything else untouched (the bearer token included) over TLS verified against the server's CA.
// It serves TLS itself, with a certificate made by openssl on start: client-node refuses a plain http:// server
// unless TLS verification is switched off, which the code under test must never need.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { KubeServer } from './harness';

export type FaultKind = '500' | '429' | 'timeout' | 'drop';

export interface FaultRule {
  /** HTTP method; any when omitted. */
  method?: string;
  /** Tested against the path without the query string. */
  path: RegExp;
  /** Which matching calls (1-based, counted per rule) get the fault; every matching call when omitted. */
  nth?: number | number[];
  fault: FaultKind;
  /** Forward the call first, then fault the answer: the server did the work, the client never hears of it. */
  afterForward?: boolean;
}

export interface ActiveFault {
  /** Matching calls seen so far, and how many of them got the fault. */
  readonly seen: number;
  readonly fired: number;
  remove(): void;
}

export interface ProxiedCall {
  seq: number;
  method: string;
  path: string;
  query: string;
  /** The HTTP status the client got, or what happened instead. */
  status: number | 'timeout' | 'dropped' | 'error';
  fault?: FaultKind;
  /** Date.now() when the call arrived and when it ended, in ms. */
  start: number;
  end?: number;
}

export interface FaultProxy {
  /** https://127.0.0.1:PORT */
  url: string;
  /** The original kubeconfig with every cluster's server pointed at the proxy (same users and contexts). */
  kubeconfigPath: string;
  /** Added before forwarding every call; may be changed at any time. */
  latencyMs: number;
  readonly calls: ProxiedCall[];
  /** TLS connections clients opened to the proxy (a client that keeps connections alive opens few). */
  readonly connections: number;
  addFault(rule: FaultRule): ActiveFault;
  clearFaults(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function statusBody(code: number): string {
  const [reason, message] = code === 429 ? ['TooManyRequests', 'the server has received too many requests and has asked us to try again later (injected by the test proxy)'] : ['InternalError', 'Internal error occurred: injected by the test proxy'];
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

export async function startFaultProxy(kube: Pick<KubeServer, 'server' | 'caFile' | 'kubeconfigPath'>, options: { latencyMs?: number } = {}): Promise<FaultProxy> {
  const upstream = new URL(kube.server);
  const agent = new https.Agent({ keepAlive: true, ca: readFileSync(kube.caFile), maxSockets: Infinity });
  const rules: { rule: FaultRule; seen: number; fired: number }[] = [];
  const calls: ProxiedCall[] = [];
  const held = new Set<http.ServerResponse>();
  let closed = false;

  const pickFault = (method: string, pathname: string): FaultRule | undefined => {
    let chosen: FaultRule | undefined;
    for (const r of rules) {
      if ((r.rule.method && r.rule.method.toUpperCase() !== method) || !r.rule.path.test(pathname)) continue;
      r.seen++;
      const nth = r.rule.nth === undefined ? undefined : [r.rule.nth].flat();
      if (!chosen && (!nth || nth.includes(r.seen))) {
        r.fired++;
        chosen = r.rule;
      }
    }
    return chosen;
  };

  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-fault-proxy-'));
  const keyFile = path.join(dir, 'proxy.key');
  const certFile = path.join(dir, 'proxy.crt');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=encore-test-proxy', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2', '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the fault proxy needs openssl on PATH to make its certificate: ${(err as Error).message}`, { cause: err });
  }

  const server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const call: ProxiedCall = { seq: calls.length + 1, method: req.method ?? 'GET', path: url.pathname, query: url.search, status: 'error', start: Date.now() };
    calls.push(call);
    const finish = (status: ProxiedCall['status']) => {
      if (call.end !== undefined) return;
      call.status = status;
      call.end = Date.now();
    };
    // The client giving up (its own timeout) or the proxy closing ends a held call.
    res.on('finish', () => finish(res.statusCode));
    res.on('close', () => finish(call.fault === 'timeout' ? 'timeout' : call.fault === 'drop' ? 'dropped' : 'error'));

    const fault = pickFault(call.method, call.path);
    if (fault) call.fault = fault.fault;
    const inflict = () => {
      switch (fault!.fault) {
        case '500':
        case '429': {
          const code = Number(fault!.fault);
          res.writeHead(code, { 'Content-Type': 'application/json', ...(code === 429 ? { 'Retry-After': '1' } : {}) });
          res.end(statusBody(code));
          return;
        }
        case 'timeout':
          held.add(res);
          res.on('close', () => held.delete(res));
          return;
        case 'drop':
          req.socket.destroy();
          return;
      }
    };

    const forward = (body: Buffer) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== undefined) headers[k] = v;
      headers['content-length'] = String(body.length);
      const up = https.request(
        { protocol: 'https:', hostname: upstream.hostname, port: upstream.port, path: `${upstream.pathname.replace(/\/+$/, '')}${url.pathname}${url.search}`, method: call.method, headers, agent },
        (upRes) => {
          if (fault?.afterForward) {
            upRes.resume();
            upRes.on('end', inflict);
            return;
          }
          const out: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(upRes.headers)) if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== undefined) out[k] = v;
          res.writeHead(upRes.statusCode ?? 502, out);
          // Streamed, so a watch flows through as the server writes it.
          upRes.pipe(res);
          upRes.on('error', () => res.destroy());
        },
      );
      up.on('error', (err) => {
        if (res.headersSent) return res.destroy();
        res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `test proxy: upstream error: ${err.message}`, reason: 'InternalError', code: 502 }));
      });
      // A client that goes away takes its upstream call with it (a watch must not stay open).
      res.on('close', () => {
        if (!res.writableFinished) up.destroy();
      });
      up.end(body);
    };

    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        if (closed || res.destroyed) return;
        if (fault && !fault.afterForward) inflict();
        else forward(Buffer.concat(chunks));
      }, proxy.latencyMs);
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The same users and contexts; the clusters point at the proxy and trust its certificate.
  const config = parse(readFileSync(kube.kubeconfigPath, 'utf8')) as { clusters?: { cluster: Record<string, unknown> }[] };
  for (const c of config.clusters ?? []) {
    c.cluster.server = url;
    c.cluster['certificate-authority'] = certFile;
    delete c.cluster['certificate-authority-data'];
  }
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, stringify(config), { mode: 0o600 });

  let connections = 0;
  server.on('secureConnection', () => connections++);
  const proxy: FaultProxy = {
    url,
    kubeconfigPath,
    latencyMs: options.latencyMs ?? 0,
    calls,
    get connections() {
      return connections;
    },
    addFault(rule) {
      const entry = { rule, seen: 0, fired: 0 };
      rules.push(entry);
      return {
        get seen() {
          return entry.seen;
        },
        get fired() {
          return entry.fired;
        },
        remove() {
          const i = rules.indexOf(entry);
          if (i >= 0) rules.splice(i, 1);
        },
      };
    },
    clearFaults() {
      rules.length = 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const res of held) res.destroy();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
      agent.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return proxy;
}
