// Test equipment: a loopback HTTP server in front of moto. The SDK clients under test are pointed at it with the
// standard endpoint configuration; it forwards every request to moto untouched (moto routes by the SigV4 scope) and
// lets a test control what moto cannot:
// - transitions: the next N describes of a named resource answer "creating" / "deleting" / "modifying" (or any
//   state the service has), then the real answer;
// - durations (for the benchmark): a resource reads "creating" until a scaled creation time has passed since its
//   create call, "deleting" likewise after its delete;
// - latency per call, and faults per service and action: throttling in the service's own error format, a 500, a
//   dropped connection, a call held unanswered;
// - a call log (service, action, resource, status, error code, who answered);
// - the calls moto lacks or gets wrong, answered as AWS documents them: the table in emulatorGaps.ts.
// An HTML page from moto (its answer to an operation it does not implement) becomes the error
// "not supported by the emulator: <service> <action>" and is recorded in `unsupported`, which the harness asserts
// empty after every test: an emulator gap fails a test visibly, never passes as a success.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { EMULATOR_GAPS, type AccessEntry, type CacheParameterGroup, type ClusterExtras, type EmulatorGap, type GapContext } from './emulatorGaps';
import { errorAnswer, errorCodeOf, internalErrorAnswer, isHtml, parseRequest, throttleAnswer, type AwsRequest, type WireAnswer } from './protocol';
import { kindByName, kindOf, stateName, type ResourceKind, type ResourceKindName } from './resources';

export type ShimFaultKind = 'throttle' | 'error500' | 'drop' | 'hang' | 'error';

export interface ShimFaultRule {
  service: string;
  /** Any action of the service when omitted. */
  action?: string;
  /** Only calls about this resource (the id the describe/create/delete names, an EKS cluster name, an S3 bucket). */
  resource?: string;
  /** Which matching calls (1-based, counted per rule) get the fault; every one when omitted. */
  nth?: number | number[];
  fault: ShimFaultKind;
  /** For fault 'error': the error AWS would answer (in the service's own format), e.g. 403 AccessDenied with its message. */
  error?: { status: number; code: string; message: string };
  /** Forward first, then fault the answer: AWS did the work, the client never hears of it. */
  afterForward?: boolean;
}

export interface ActiveRule {
  /** Matching calls seen so far, and how many got the fault or the state. */
  readonly seen: number;
  readonly fired: number;
  remove(): void;
}

export interface TransitionRule {
  kind: ResourceKindName;
  id: string;
  /** Answered in turn by the next describes of the resource: 'creating', 'deleting', 'modifying' or the service's own word. */
  states: string[];
}

export interface Durations {
  /** Multiplies every duration (0.001: a 15-minute EKS create takes 0.9 s). */
  scale: number;
  /** Unscaled milliseconds from the create call until the resource reads ready, per kind. */
  create?: Partial<Record<ResourceKindName, number>>;
  /** Unscaled milliseconds from the delete call until the resource is gone, per kind. */
  delete?: Partial<Record<ResourceKindName, number>>;
}

export interface ShimCall {
  seq: number;
  service: string;
  region: string;
  action: string;
  resource?: string;
  method: string;
  path: string;
  status: number | 'dropped' | 'held';
  errorCode?: string;
  answeredBy: 'moto' | 'shim' | 'fault';
  fault?: ShimFaultKind;
  /** The state a transition or duration answered instead of moto's. */
  state?: string;
  /** Date.now() when the call arrived and when its answer was written. */
  start: number;
  end?: number;
}

export interface UnsupportedCall {
  service: string;
  action: string;
  why: string;
}

export interface AwsShim {
  /** http://127.0.0.1:PORT: what AWS_ENDPOINT_URL or a profile's endpoint_url points at. */
  readonly endpoint: string;
  readonly motoEndpoint: string;
  readonly calls: ShimCall[];
  readonly unsupported: UnsupportedCall[];
  /** Added before each call is handled; a number, or per call. */
  latencyMs: number | ((req: AwsRequest) => number);
  addFault(rule: ShimFaultRule): ActiveRule;
  transition(rule: TransitionRule): ActiveRule;
  setDurations(durations: Durations | undefined): void;
  eks: {
    /** DescribeCluster of `name` answers this endpoint and CA (the test kube-apiserver's). */
    connect(name: string, connection: { endpoint: string; caPem: string }): void;
    /**
     * DescribeCluster of `name` answers this VPC and cluster security group in resourcesVpcConfig (AWS always does;
     * moto answers neither): the test makes the group EKS would make with the cluster.
     */
    vpcConfig(name: string, config: { vpcId: string; clusterSecurityGroupId: string }): void;
    accessEntries(region: string, name: string): AccessEntry[];
  };
  ecr: {
    /** Puts a registry behind ECR: GetAuthorizationToken answers a token for it (user AWS, this password), repository URIs name its host. */
    registry(registry: { host: string; password: string }): void;
  };
  elastiCache: {
    /** The parameter group the shim keeps (moto has none), for a test's independent check. */
    parameterGroup(region: string, name: string): CacheParameterGroup | undefined;
  };
  sso: {
    /** The portal's GetRoleCredentials accepts `accessToken` for this account and role and grants these credentials. */
    grant(grant: { accessToken: string; accountId: string; roleName: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } }): void;
  };
  /** The logged calls to a service (and action). */
  callsTo(service: string, action?: string): ShimCall[];
  /** Throws "not supported by the emulator: …" naming every such call seen since the last reset. */
  assertAllSupported(): void;
  /** Forgets rules, logs, durations and the shim's own records (call it with moto's reset). */
  reset(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length']);

const GAPS = new Map<string, EmulatorGap>(EMULATOR_GAPS.map((g) => [`${g.service}:${g.action}`, g]));

/** The resource a call is about, for the log and for fault rules. */
function resourceOf(req: AwsRequest, kind: { kind: ResourceKind; role: 'create' | 'delete' | 'describe' } | undefined): string | undefined {
  if (kind && kind.role !== 'create') return kind.kind[kind.role].id(req);
  if (kind) return kind.kind.create.id(req, { status: 0, headers: {}, body: '' });
  return req.pathParams.name ?? req.pathParams.bucket ?? undefined;
}

function placeholderCertificate(): string {
  // A real certificate (a client may parse the CA), for a cluster whose endpoint leads nowhere anyway.
  const pem = execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=kubernetes', '-days', '2', '-keyout', '/dev/null',
  ], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  return Buffer.from(pem).toString('base64');
}

export async function startShim(options: { motoEndpoint: string; latencyMs?: number }): Promise<AwsShim> {
  const moto = new URL(options.motoEndpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const calls: ShimCall[] = [];
  const unsupported: UnsupportedCall[] = [];
  const faults: { rule: ShimFaultRule; seen: number; fired: number }[] = [];
  const transitions: { rule: TransitionRule; seen: number; fired: number }[] = [];
  const held = new Set<http.ServerResponse>();
  let durations: Durations | undefined;
  // Per resource (`kind:id`): its last describe answer (for "deleting" after moto forgot it), create and delete times.
  const lastDescribe = new Map<string, WireAnswer>();
  const createdAt = new Map<string, number>();
  const deletedAt = new Map<string, number>();
  const clusters = new Map<string, ClusterExtras>();
  const connections = new Map<string, { endpoint: string; caPem: string }>();
  const vpcConfigs = new Map<string, { vpcId: string; clusterSecurityGroupId: string }>();
  let ecrRegistry: { host: string; password: string } | undefined;
  const tombstones = new Set<string>();
  const ssoGrants: GapContext['ssoGrants'] = new Map();
  const cacheParameterGroups: GapContext['cacheParameterGroups'] = new Map();
  let placeholderCa: string | undefined;
  let closed = false;

  /** Sends a request to moto and reads the whole answer. */
  const send = (method: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer): Promise<WireAnswer> =>
    new Promise((resolve, reject) => {
      const up = http.request({ hostname: moto.hostname, port: moto.port, method, path, headers: { ...headers, 'content-length': String(body.length) }, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
          // A HEAD answer's length is the object's, not the (empty) body's.
          if (method === 'HEAD' && res.headers['content-length']) out['content-length'] = res.headers['content-length'];
          resolve({ status: res.statusCode ?? 502, headers: out, body: raw.toString('utf8'), raw });
        });
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });

  const recordUnsupported = (req: AwsRequest, why: string): WireAnswer => {
    unsupported.push({ service: req.service, action: req.action, why });
    return errorAnswer(req, 501, 'NotSupportedByEmulator', `not supported by the emulator: ${req.service} ${req.action} (${why})`);
  };

  const ctx: GapContext = {
    upstream(req, call) {
      const service = call.service ?? req.service;
      const headers: http.OutgoingHttpHeaders = { host: `${moto.hostname}:${moto.port}` };
      // A presigned request carries its credential in the query: moto needs it in the header to route by it.
      const presigned = req.query.get('X-Amz-Credential');
      const auth = String(req.headers.authorization ?? (presigned ? `AWS4-HMAC-SHA256 Credential=${presigned}, SignedHeaders=host, Signature=${req.query.get('X-Amz-Signature') ?? ''}` : ''));
      if (auth) headers.authorization = auth.replace(/(Credential=[^/]+\/[^/]+\/[^/]+\/)[^/]+/, `$1${service}`);
      for (const name of ['x-amz-date', 'x-amz-security-token']) if (req.headers[name]) headers[name] = req.headers[name];
      for (const [name, param] of [['x-amz-date', 'X-Amz-Date'], ['x-amz-security-token', 'X-Amz-Security-Token']]) {
        if (!headers[name] && req.query.get(param)) headers[name] = req.query.get(param)!;
      }
      if (call.body !== undefined) headers['content-type'] = call.target ? 'application/x-amz-json-1.1' : service === 'eks' ? 'application/json' : service === 's3' ? 'application/xml' : 'application/x-www-form-urlencoded; charset=utf-8';
      if (call.target) headers['x-amz-target'] = call.target;
      return send(call.method, call.path, headers, Buffer.from(call.body ?? ''));
    },
    async callerArn(req) {
      const answer = await ctx.upstream(req, { service: 'sts', method: 'POST', path: '/', body: 'Action=GetCallerIdentity&Version=2011-06-15' });
      const arn = /<Arn>([^<]+)<\/Arn>/.exec(answer.body)?.[1];
      if (!arn) throw new Error(`moto's STS GetCallerIdentity answered ${answer.status} without an ARN: ${answer.body.slice(0, 200)}`);
      return arn;
    },
    eksCluster: (region, name) => clusters.get(`${region}/${name}`),
    setEksCluster(region, name, extras) {
      if (extras) clusters.set(`${region}/${name}`, extras);
      else clusters.delete(`${region}/${name}`);
    },
    eksConnection: (name) => connections.get(name),
    eksVpcConfig: (name) => vpcConfigs.get(name),
    ecrRegistry: () => ecrRegistry,
    placeholderCaData: () => (placeholderCa ??= placeholderCertificate()),
    tombstones,
    ssoGrants,
    cacheParameterGroups,
    unsupported: recordUnsupported,
  };

  const pickFault = (req: AwsRequest, resource: string | undefined): ShimFaultRule | undefined => {
    let chosen: ShimFaultRule | undefined;
    for (const f of faults) {
      const r = f.rule;
      if (r.service !== req.service || (r.action && r.action !== req.action) || (r.resource && r.resource !== resource)) continue;
      f.seen++;
      const nth = r.nth === undefined ? undefined : [r.nth].flat();
      if (!chosen && (!nth || nth.includes(f.seen))) {
        f.fired++;
        chosen = r;
      }
    }
    return chosen;
  };

  /** The state a describe of `key` answers instead of moto's, if a transition or duration says so. */
  const pickState = (kind: ResourceKind, id: string, key: string): string | undefined => {
    for (const t of transitions) {
      if (t.rule.kind !== kind.name || t.rule.id !== id) continue;
      if (t.fired < t.rule.states.length) {
        const state = t.rule.states[t.fired];
        t.seen++;
        t.fired++;
        return stateName(kind, state);
      }
    }
    if (!durations) return undefined;
    const now = Date.now();
    const deleted = deletedAt.get(key);
    const deleteMs = durations.delete?.[kind.name];
    if (deleted !== undefined && deleteMs !== undefined && now < deleted + deleteMs * durations.scale) return kind.states.deleting;
    const created = createdAt.get(key);
    const createMs = durations.create?.[kind.name];
    if (deleted === undefined && created !== undefined && createMs !== undefined && now < created + createMs * durations.scale) return kind.states.creating;
    return undefined;
  };

  /** moto's answer (or the gap table's), as AWS would give it: before transitions and durations. */
  const serve = async (req: AwsRequest, call?: ShimCall): Promise<WireAnswer> => {
    const gap = GAPS.get(`${req.service}:${req.action}`);
    let answer = gap?.answer ? await gap.answer(req, ctx) : undefined;
    if (answer) {
      if (call) call.answeredBy = 'shim';
    } else {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      answer = await send(req.method, `${req.path}${req.query.size ? `?${req.query}` : ''}`, headers, req.body);
    }
    if (isHtml(answer.body)) {
      if (call) call.answeredBy = 'shim';
      return recordUnsupported(req, `moto answered ${answer.status} with an HTML page`);
    }
    return gap?.rewrite ? gap.rewrite(req, answer, ctx) : answer;
  };

  /** The describe of one resource, sent by the shim as the caller of `req`. */
  const describeAs = (req: AwsRequest, kind: ResourceKind, id: string): Promise<WireAnswer> => {
    const d = kind.describe.request(id);
    const headers: http.IncomingHttpHeaders = { ...req.headers, 'content-type': d.body !== undefined ? 'application/x-www-form-urlencoded; charset=utf-8' : undefined };
    delete headers['x-amz-target'];
    return serve(parseRequest(d.method, d.path, headers, Buffer.from(d.body ?? '')));
  };

  const handle = async (req: AwsRequest, call: ShimCall): Promise<WireAnswer> => {
    const kind = kindOf(req);
    if (kind?.role === 'delete') {
      // Keep a describe body, so "deleting" can still be answered once moto has forgotten the resource.
      const id = kind.kind.delete.id(req);
      if (id && !lastDescribe.has(`${kind.kind.name}:${id}`)) {
        const found = await describeAs(req, kind.kind, id);
        if (found.status === 200) lastDescribe.set(`${kind.kind.name}:${id}`, found);
      }
    }
    let answer = await serve(req, call);
    if (kind) {
      const id = kind.role === 'create' ? kind.kind.create.id(req, answer) : kind.kind[kind.role].id(req);
      const key = id && `${kind.kind.name}:${id}`;
      if (key && answer.status === 200) {
        if (kind.role === 'create') {
          createdAt.set(key, Date.now());
          deletedAt.delete(key);
          lastDescribe.delete(key);
        } else if (kind.role === 'delete') {
          deletedAt.set(key, Date.now());
        }
      }
      if (key && kind.role === 'describe') {
        if (answer.status === 200) lastDescribe.set(key, answer);
        const base = answer.status === 200 ? answer : lastDescribe.get(key);
        const state = base ? pickState(kind.kind, id, key) : undefined;
        if (base && state) {
          call.state = state;
          answer = kind.kind.describe.withState(base, state);
        }
      }
    }
    return answer;
  };

  const write = (res: http.ServerResponse, answer: WireAnswer, head: boolean) => {
    const body = answer.raw && answer.raw.toString('utf8') === answer.body ? answer.raw : Buffer.from(answer.body, 'utf8');
    const headers = { ...answer.headers };
    if (!head || !headers['content-length']) headers['content-length'] = String(body.length);
    res.writeHead(answer.status, headers);
    res.end(head ? undefined : body);
  };

  const server = http.createServer((incoming, res) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      void (async () => {
        const req = parseRequest(incoming.method ?? 'GET', incoming.url ?? '/', incoming.headers, Buffer.concat(chunks));
        const kind = kindOf(req);
        const call: ShimCall = {
          seq: calls.length + 1, service: req.service, region: req.region, action: req.action, resource: resourceOf(req, kind),
          method: req.method, path: req.path, status: 'held', answeredBy: 'moto', start: Date.now(),
        };
        calls.push(call);
        const finish = (status: ShimCall['status'], answer?: WireAnswer) => {
          call.status = status;
          if (answer) call.errorCode = errorCodeOf(answer.status, answer.headers, answer.body);
          call.end = Date.now();
        };
        try {
          const latency = typeof shim.latencyMs === 'function' ? shim.latencyMs(req) : shim.latencyMs;
          if (latency > 0) await delay(latency);
          if (closed) return res.destroy();
          const fault = pickFault(req, call.resource);
          if (fault) call.fault = fault.fault;
          const inflict = () => {
            call.answeredBy = 'fault';
            switch (fault!.fault) {
              case 'throttle':
              case 'error500':
              case 'error': {
                const custom = fault!.error;
                const answer = fault!.fault === 'throttle' ? throttleAnswer(req)
                  : fault!.fault === 'error' && custom ? errorAnswer(req, custom.status, custom.code, custom.message)
                  : internalErrorAnswer(req);
                write(res, answer, req.method === 'HEAD');
                return finish(answer.status, answer);
              }
              case 'drop':
                incoming.socket.destroy();
                return finish('dropped');
              case 'hang':
                held.add(res);
                res.on('close', () => held.delete(res));
                return;
            }
          };
          if (fault && !fault.afterForward) return inflict();
          const answer = await handle(req, call);
          if (fault) return inflict();
          write(res, answer, req.method === 'HEAD');
          finish(answer.status, answer);
        } catch (err) {
          const answer = errorAnswer(req, 502, 'ShimError', `the test shim failed: ${(err as Error).message}`);
          if (!res.headersSent && !res.destroyed) write(res, answer, false);
          finish(502, answer);
        }
      })();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const rule = <T>(list: { rule: T; seen: number; fired: number }[], value: T): ActiveRule => {
    const entry = { rule: value, seen: 0, fired: 0 };
    list.push(entry);
    return {
      get seen() {
        return entry.seen;
      },
      get fired() {
        return entry.fired;
      },
      remove() {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
      },
    };
  };

  const shim: AwsShim = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    motoEndpoint: options.motoEndpoint,
    calls,
    unsupported,
    latencyMs: options.latencyMs ?? 0,
    addFault: (r) => rule(faults, r),
    transition(r) {
      kindByName(r.kind);
      return rule(transitions, r);
    },
    setDurations(d) {
      durations = d;
    },
    eks: {
      connect: (name, connection) => connections.set(name, connection),
      vpcConfig: (name, config) => void vpcConfigs.set(name, config),
      accessEntries: (region, name) => [...(clusters.get(`${region}/${name}`)?.accessEntries.values() ?? [])],
    },
    ecr: {
      registry: (r) => void (ecrRegistry = r),
    },
    elastiCache: {
      parameterGroup: (region, name) => cacheParameterGroups.get(`${region}/${name}`),
    },
    sso: {
      grant: (g) => ssoGrants.set(g.accessToken, { accountId: g.accountId, roleName: g.roleName, credentials: g.credentials }),
    },
    callsTo: (service, action) => calls.filter((c) => c.service === service && (!action || c.action === action)),
    assertAllSupported() {
      if (unsupported.length === 0) return;
      const lines = unsupported.map((u) => `not supported by the emulator: ${u.service} ${u.action} (${u.why})`);
      throw new Error(`${lines.join('\n')}\nAdd the call to test/aws/emulatorGaps.ts with AWS's documented answer, or avoid it.`);
    },
    reset() {
      calls.length = 0;
      unsupported.length = 0;
      faults.length = 0;
      transitions.length = 0;
      durations = undefined;
      shim.latencyMs = options.latencyMs ?? 0;
      for (const map of [lastDescribe, createdAt, deletedAt, clusters, connections, vpcConfigs, ssoGrants, cacheParameterGroups]) map.clear();
      tombstones.clear();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const res of held) res.destroy();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
      agent.destroy();
    },
  };
  return shim;
}
