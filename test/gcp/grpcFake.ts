// A gRPC server on 127.0.0.1 built from the `.proto` definitions a Google client package ships
// (build/protos/protos.json), for the GCP APIs that have no fake of Google's own. A fake registers handlers for the
// methods the provider calls; every other method of its services answers UNIMPLEMENTED (code 12) naming the method,
// so a new call cannot pass unnoticed. Faults (faults.ts) are checked before every handler. Long-running operations
// (google.longrunning.Operations, served on the same port as the real APIs do) finish after N polls.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PassThroughClient } from 'google-auth-library';
import protobuf from 'protobufjs';
import { Faults } from './faults';
import { FakeError, notFound, statusDetailsBin } from './googleErrors';

/** The protos.json a Google client package ships (its `exports` hide the path from require.resolve). */
export function packageProtos(pkg: string): { file: string; json: protobuf.INamespace } {
  let dir = path.dirname(require.resolve(pkg));
  while (!existsSync(path.join(dir, 'package.json')) || JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== pkg) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the package folder of ${pkg}`);
    dir = up;
  }
  const file = path.join(dir, 'build', 'protos', 'protos.json');
  return { file, json: JSON.parse(readFileSync(file, 'utf8')) as protobuf.INamespace };
}

export interface CallRecord {
  service: string;
  method: string;
  request: Record<string, unknown>;
  /** The `authorization` metadata, when the client sent one (never over an insecure channel: see the report). */
  authorization?: string;
}

export interface CallContext {
  service: string;
  method: string;
  metadata: grpc.Metadata;
}

// Request and response messages are plain proto3 objects (camelCase fields, enums as strings, int64 as strings).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Message = Record<string, any>;
export type Handler = (request: Message, ctx: CallContext) => Message | Promise<Message>;

export interface GrpcFakeOptions {
  /** Shown in every message the fake makes up, e.g. "GKE fake". */
  name: string;
  /** The client package whose protos.json the fake serves, e.g. "@google-cloud/redis". */
  protosFrom: string;
  /** The API as Google names it, for SERVICE_DISABLED errors. */
  api: { service: string; title: string; projectNumber?: string };
  /** Handlers by fully qualified service name, then by method name as in the proto. */
  services: Record<string, Record<string, Handler>>;
  /** Serve google.longrunning.Operations (GetOperation, and UNIMPLEMENTED for the rest) on the same port. */
  longrunning?: boolean;
}

export interface StartOptions {
  /**
   * Serve TLS with this identity (test/gcp/tls.ts), so clients connect as to Google, with call credentials; and,
   * with `authorize`, refuse every call whose bearer token it does not accept, UNAUTHENTICATED as Google does.
   */
  tls?: { certPem: Buffer; keyPem: Buffer };
  authorize?: (token: string) => boolean;
}

interface PendingOperation {
  name: string;
  metadata?: { type: string; value: Message };
  polls: number;
  seen: number;
  started: number;
  /** When it is done unpolled (faults.ts); undefined: by polls alone. */
  deadlineMs?: number;
  done: boolean;
  finish: () => { type: string; value: Message } | FakeError | undefined;
  result?: { type: string; value: Message } | FakeError;
}

/** A google.protobuf.Timestamp for now. */
export function timestampNow(): { seconds: string; nanos: number } {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

export class GrpcFake {
  readonly faults: Faults;
  readonly calls: CallRecord[] = [];
  private readonly root: protobuf.Root;
  private readonly server = new grpc.Server();
  private readonly operations = new Map<string, PendingOperation>();
  private operationCount = 0;
  private authorize: ((token: string) => boolean) | undefined;
  private tls = false;
  port = 0;

  constructor(private readonly options: GrpcFakeOptions) {
    this.faults = new Faults({ projectNumber: '123456789012', ...options.api });
    const { json } = packageProtos(options.protosFrom);
    this.root = protobuf.Root.fromJSON(json);
    const definition = protoLoader.fromJSON(json, { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true });
    const services = { ...options.services };
    if (options.longrunning) services['google.longrunning.Operations'] = { GetOperation: (req) => this.getOperation(req.name as string) };
    for (const [serviceName, handlers] of Object.entries(services)) {
      const service = definition[serviceName] as grpc.ServiceDefinition | undefined;
      // proto-loader's definition holds message types too (they have a `format`); a service is a map of methods.
      if (!service || 'format' in service) {
        throw new Error(`${options.name}: ${options.protosFrom} has no service ${serviceName}`);
      }
      for (const method of Object.keys(handlers)) {
        if (!Object.values(service).some((m) => (m as { originalName?: string }).originalName === method || m.path.endsWith(`/${method}`))) {
          throw new Error(`${options.name}: ${serviceName} has no method ${method}`);
        }
      }
      this.server.addService(service, this.implementation(serviceName, service, handlers));
    }
  }

  private implementation(serviceName: string, service: grpc.ServiceDefinition, handlers: Record<string, Handler>): grpc.UntypedServiceImplementation {
    const impl: grpc.UntypedServiceImplementation = {};
    const shortService = serviceName.split('.').pop() as string;
    for (const [key, def] of Object.entries(service)) {
      const method = def.path.split('/').pop() as string;
      const handler = handlers[method];
      if (def.requestStream || def.responseStream) {
        // Streaming methods are never called by the provider; grpc-js answers them UNIMPLEMENTED when unregistered,
        // but a service must register every method, so answer as it would.
        impl[key] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
          call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: this.unimplemented(serviceName, method) });
        };
        continue;
      }
      impl[key] = (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
        const authorization = call.metadata.get('authorization')[0];
        this.calls.push({ service: serviceName, method, request: call.request, ...(authorization ? { authorization: String(authorization) } : {}) });
        if (this.authorize && !this.authorize(String(authorization ?? '').replace(/^Bearer /, ''))) {
          callback({ code: grpc.status.UNAUTHENTICATED, details: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.' });
          return;
        }
        if (!handler) {
          callback({ code: grpc.status.UNIMPLEMENTED, details: this.unimplemented(serviceName, method) });
          return;
        }
        const fault = method === 'GetOperation' && serviceName === 'google.longrunning.Operations' ? undefined : this.faults.check(shortService, method);
        if (fault) {
          callback(toServiceError(fault));
          return;
        }
        this.settle();
        this.faults.held(shortService, method)
          .then(() => handler(call.request, { service: serviceName, method, metadata: call.metadata }))
          .then(
            (response) => callback(null, response),
            (err: unknown) => {
              if (err instanceof FakeError) callback(toServiceError(err));
              else callback({ code: grpc.status.INTERNAL, details: `${this.options.name} failed in ${method}: ${err instanceof Error ? err.stack : String(err)}` });
            },
          );
      };
    }
    return impl;
  }

  private unimplemented(service: string, method: string): string {
    return `the ${this.options.name} does not implement ${service}.${method}: the provider started calling a method the fake does not know; add it to the fake (test/gcp/fakes/) with what Google's API does`;
  }

  /** Encodes `value` as a google.protobuf.Any of type `type` (a fully qualified message name in the served protos). */
  pack(type: string, value: Message): { typeUrl: string; value: Buffer } {
    const message = this.root.lookupType(type);
    const problem = message.verify(message.fromObject(value) as unknown as Record<string, unknown>);
    if (problem) throw new Error(`${this.options.name}: ${type} is not valid: ${problem}`);
    return { typeUrl: `type.googleapis.com/${type}`, value: Buffer.from(message.encode(message.fromObject(value)).finish()) };
  }

  /**
   * Starts a google.longrunning operation under `parent` (projects/P/locations/L) that is done after the number of
   * polls the faults say for the calling method; `finish` runs then (its side effects: the resource becomes ready) and gives
   * the response, or a FakeError the operation fails with.
   */
  startOperation(
    ctx: CallContext,
    parent: string,
    { metadata, finish }: { metadata?: { type: string; value: Message }; finish: PendingOperation['finish'] },
  ): Message {
    this.operationCount += 1;
    const name = `${parent}/operations/operation-${Date.now()}-${this.operationCount}`;
    const op: PendingOperation = { name, metadata, polls: this.faults.pollsFor(ctx.service.split('.').pop() as string, ctx.method), seen: 0, started: Date.now(), deadlineMs: this.faults.deadlineFor(ctx.service.split('.').pop() as string, ctx.method), done: false, finish };
    this.operations.set(name, op);
    this.advance(op);
    return this.operationMessage(op);
  }

  /** Finishes the operations that ran past the faults' deadline (none unless one is set). */
  protected settle(): void {
    for (const op of this.operations.values()) if (!op.done && this.faults.overdue(op.started, op.deadlineMs)) {
      op.seen = op.polls;
      this.advance(op);
    }
  }

  private advance(op: PendingOperation): void {
    if (op.done || op.seen < op.polls) return;
    op.done = true;
    op.result = op.finish();
  }

  private getOperation(name: string): Message {
    const op = this.operations.get(name);
    if (!op) throw notFound(`Operation "${name}"`);
    op.seen += 1;
    this.advance(op);
    return this.operationMessage(op);
  }

  private operationMessage(op: PendingOperation): Message {
    const message: Message = { name: op.name, done: op.done };
    if (op.metadata) message.metadata = this.pack(op.metadata.type, op.metadata.value);
    if (op.done) {
      if (op.result instanceof FakeError) message.error = { code: op.result.code, message: op.result.message, details: [] };
      else message.response = this.pack(op.result?.type ?? 'google.protobuf.Empty', op.result?.value ?? {});
    }
    return message;
  }

  async start({ tls, authorize }: StartOptions = {}): Promise<this> {
    const credentials = tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.certPem, private_key: tls.keyPem }], false) : grpc.ServerCredentials.createInsecure();
    this.tls = Boolean(tls);
    this.authorize = authorize;
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', credentials, (err, port) => (err ? reject(err) : resolve(port)));
    });
    return this;
  }

  /**
   * Options for a GAPIC client (ClusterManagerClient, CloudRedisClient, …) that talk to this fake: its port on
   * 127.0.0.1, an insecure channel and an auth client that adds nothing (gax sends no call credentials over it).
   */
  clientOptions(): { apiEndpoint: string; port: number; sslCreds: grpc.ChannelCredentials; authClient: PassThroughClient } {
    if (this.tls) throw new Error(`${this.options.name} serves TLS: give the client { apiEndpoint, port, authClient } (tlsClientOptions)`);
    return { apiEndpoint: '127.0.0.1', port: this.port, sslCreds: grpc.credentials.createInsecure(), authClient: new PassThroughClient() };
  }

  /** Options for a GAPIC client as the provider makes it (TLS, call credentials from ADC), pointed at this fake. */
  tlsClientOptions<A>(authClient: A): { apiEndpoint: string; port: number; authClient: A; 'grpc.ssl_target_name_override': string } {
    if (!this.tls) throw new Error(`${this.options.name} was started without TLS`);
    // The certificate names localhost too; TLS's server name may not be an IP address (RFC 6066).
    return { apiEndpoint: '127.0.0.1', port: this.port, authClient, 'grpc.ssl_target_name_override': 'localhost' };
  }

  /** Calls of `method` so far (qualified or not), for tests that check what the provider sent. */
  callsOf(method: string): CallRecord[] {
    return this.calls.filter((c) => c.method === method || `${c.service}.${c.method}`.endsWith(`.${method}`));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

function toServiceError(err: FakeError): Partial<grpc.ServiceError> {
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', statusDetailsBin(err));
  return { code: err.code, details: err.message, metadata };
}
