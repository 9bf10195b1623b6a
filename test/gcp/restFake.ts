// An HTTP server on 127.0.0.1 for Google APIs reached over REST: the routes come from the `google.api.http`
// annotations in the protos a client package ships (its REST fallback sends exactly those requests), or are given
// by hand for an API with no GAPIC client (IAM service accounts). Requests are decoded with the proto types (enums
// as strings, int64 as strings), so a fake sees what Google would. A route without a handler, and any path no
// route knows, answers 501 UNIMPLEMENTED naming the method. Every request must carry a bearer token the test's
// token server issued, when `authorize` is given. Faults (faults.ts) are checked before every handler.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { status as GrpcStatus } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { fromProto3JSON, toProto3JSON, type JSONObject } from 'proto3-json-serializer';
import { Faults } from './faults';
import { FakeError, restError } from './googleErrors';
import { packageProtos, type Message } from './grpcFake';

export type RestHandler = (request: Message, ctx: { service: string; method: string; headers: IncomingMessage['headers'] }) => Message | Promise<Message>;

export interface RestRoute {
  service: string;
  method: string;
  verb: string;
  /** The path template, e.g. /v1/projects/{project}/instances/{instance} or /v1/{name=projects/*}:getIamPolicy. */
  template: string;
  /** Which request field holds the HTTP body: '*' (the whole request), a field name, or none. */
  body?: string;
  /** The request type, to decode the query and body as proto3 JSON; absent for hand-written routes. */
  requestType?: protobuf.Type;
  pattern: RegExp;
  params: string[];
}

export interface RestCall {
  service: string;
  method: string;
  request: Message;
  authorization?: string;
}

function compile(template: string): { pattern: RegExp; params: string[] } {
  const params: string[] = [];
  let source = '';
  for (const part of template.split(/(\{[^}]+\})/)) {
    const variable = /^\{([^}=]+)(?:=([^}]+))?\}$/.exec(part);
    if (!variable) {
      source += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    params.push(variable[1]);
    const segments = variable[2] ?? '*';
    source += `(${segments.split('/').map((s) => (s === '**' ? '.+' : s === '*' ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')})`;
  }
  return { pattern: new RegExp(`^${source}$`), params };
}

/** A query parameter as the JSON value its field's type takes (bools and numbers are strings in a URL). */
function queryValue(type: protobuf.Type | undefined, key: string, value: string): unknown {
  const field = type?.fields[key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())];
  if (!field) return value;
  if (field.type === 'bool') return value === 'true';
  if (['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'double', 'float'].includes(field.type)) return Number(value);
  return value;
}

/** Sets `a.b.c` on an object, as REST path and query parameters name nested request fields. */
function setPath(target: Message, dotted: string, value: unknown): void {
  const keys = dotted.split('.').map((k) => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Message;
  node[keys[keys.length - 1]] = value;
}

export interface RestFakeOptions {
  name: string;
  api: { service: string; title: string; projectNumber?: string };
  /** Routes from a client package's protos: fully qualified service names whose methods get routes. */
  protos?: { from: string; services: string[] };
  /** Routes written by hand: `VERB template` → method name, for APIs without protos here. */
  manualRoutes?: { service: string; method: string; verb: string; template: string; body?: string }[];
  handlers: Record<string, RestHandler>;
  /** Returns true for a bearer token the test accepts; without it, any request passes. */
  authorize?: (token: string) => boolean | Promise<boolean>;
}

export class RestFake {
  readonly faults: Faults;
  readonly calls: RestCall[] = [];
  readonly routes: RestRoute[] = [];
  private readonly server: Server;
  port = 0;

  constructor(private readonly options: RestFakeOptions) {
    this.faults = new Faults({ projectNumber: '123456789012', ...options.api });
    if (options.protos) {
      const root = protobuf.Root.fromJSON(packageProtos(options.protos.from).json);
      for (const serviceName of options.protos.services) {
        const service = root.lookupService(serviceName);
        for (const method of Object.values(service.methods)) {
          const http = Object.entries(method.options ?? {}).filter(([k]) => k.startsWith('(google.api.http).'));
          const verbEntry = http.find(([k]) => /\.(get|post|put|patch|delete)$/.test(k));
          if (!verbEntry) continue;
          const verb = verbEntry[0].split('.').pop()!.toUpperCase();
          const body = http.find(([k]) => k === '(google.api.http).body')?.[1] as string | undefined;
          const template = String(verbEntry[1]);
          this.routes.push({
            service: service.name, method: method.name, verb, template, body,
            requestType: root.lookupType(method.requestType.replace(/^\./, '')),
            ...compile(template),
          });
        }
      }
    }
    for (const route of options.manualRoutes ?? []) this.routes.push({ ...route, ...compile(route.template) });
    for (const method of Object.keys(options.handlers)) {
      if (!this.routes.some((r) => r.method === method || `${r.service}.${r.method}` === method)) throw new Error(`${options.name}: no route for handler ${method}`);
    }
    this.server = createServer((req, res) => void this.serve(req, res));
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const verb = (req.method ?? 'GET').toUpperCase();
    let route: RestRoute | undefined;
    let match: RegExpExecArray | null = null;
    for (const candidate of this.routes) {
      if (candidate.verb !== verb) continue;
      match = candidate.pattern.exec(url.pathname);
      if (match) {
        route = candidate;
        break;
      }
    }
    if (!route || !match) {
      const err = new FakeError(GrpcStatus.UNIMPLEMENTED, `the ${this.options.name} does not know ${verb} ${url.pathname}: the provider started calling a method the fake does not know; add it to the fake (test/gcp/fakes/)`);
      const { status, body } = restError(err);
      this.send(res, status, body);
      return;
    }
    const authorization = req.headers.authorization;
    try {
      const request: Message = {};
      for (const [key, value] of url.searchParams) {
        if (key.startsWith('$') || key === 'alt') continue;
        setPath(request, key, queryValue(route.requestType, key, value));
      }
      route.params.forEach((param, i) => setPath(request, param, decodeURIComponent(match![i + 1])));
      if (raw && route.body) {
        const parsed = JSON.parse(raw) as Message;
        if (route.body === '*') Object.assign(request, parsed);
        else setPath(request, route.body, parsed);
      }
      // Proto3 JSON in, proto3 JSON out (wrappers as plain values, enums as names, int64 as strings), as Google's
      // REST APIs read it; a field of the wrong type fails here as it would there.
      const decoded = route.requestType ? (toProto3JSON(fromProto3JSON(route.requestType, request as JSONObject)!) as Message) : request;
      this.calls.push({ service: route.service, method: route.method, request: decoded, ...(authorization ? { authorization } : {}) });
      if (this.options.authorize) {
        const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
        if (!token || !(await this.options.authorize(token))) {
          throw new FakeError(
            GrpcStatus.UNAUTHENTICATED,
            'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          );
        }
      }
      const handler = this.options.handlers[route.method] ?? this.options.handlers[`${route.service}.${route.method}`];
      if (!handler) {
        throw new FakeError(GrpcStatus.UNIMPLEMENTED, `the ${this.options.name} does not implement ${route.service}.${route.method} (${verb} ${route.template}): the provider started calling a method the fake does not know; add it to the fake (test/gcp/fakes/)`);
      }
      const fault = this.faults.check(route.service.split('.').pop()!, route.method);
      if (fault) throw fault;
      this.settle();
      await this.faults.held(route.service.split('.').pop()!, route.method);
      this.send(res, 200, await handler(decoded, { service: route.service, method: route.method, headers: req.headers }));
    } catch (err) {
      const fake = err instanceof FakeError ? err : new FakeError(GrpcStatus.INTERNAL, `${this.options.name} failed in ${route.method}: ${err instanceof Error ? err.stack : String(err)}`);
      const { status, body } = restError(fake);
      this.send(res, status, body);
    }
  }

  /** Finishes the fake's operations that ran past the faults' deadline; fakes with operations override it. */
  protected settle(): void {}

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  callsOf(method: string): RestCall[] {
    return this.calls.filter((c) => c.method === method || `${c.service}.${c.method}`.endsWith(`.${method}`));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
