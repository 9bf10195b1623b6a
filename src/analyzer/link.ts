// Joins the per-file facts into the AppModel: service discovery, references between resources, usage across imports,
// app-wide rules (uniqueness, one auth handler, ...) and their diagnostics.
import path from 'node:path';
import type {
  Access, AppModel, AuthHandler, Bucket, BucketOperation, CacheCluster, CronJob, Database, Diagnostic, Endpoint, Gateway,
  Location, Metric, Range, Secret, Service, Subscription, Topic,
} from '../model/appModel';
import type { FileFacts, ResourceData, ResourceFact, UsageFact } from './facts';
import type { MigrationsRead } from './migrations';
import { isBuiltinPropertyName } from '../model/reservedNames';
import { builtinNameWarning, parseApiPath } from './validate';
import { compareText } from './compareText';

type Of<K extends ResourceData['kind']> = ResourceFact & { data: Extract<ResourceData, { kind: K }> };

/** A resource with the file declaring it. */
interface Placed<K extends ResourceData['kind'] = ResourceData['kind']> {
  fact: Of<K>;
  file: string;
}

export type MigrationsReader = (dirFromRoot: string, source: Extract<ResourceData, { kind: 'database' }>['source']) => MigrationsRead;

// Maps: method and type names come from the app (`bucket.constructor()` is no operation).
const BUCKET_METHODS = new Map<string, BucketOperation>([
  ['list', 'list'],
  ['exists', 'metadata'],
  ['attrs', 'metadata'],
  ['upload', 'write'],
  ['signedUploadUrl', 'signed-upload-url'],
  ['signedDownloadUrl', 'signed-download-url'],
  ['download', 'read'],
  ['remove', 'delete'],
  ['publicUrl', 'public-url'],
]);
const BUCKET_PERMISSIONS = new Map<string, BucketOperation>([
  ['Lister', 'list'],
  ['Attrser', 'metadata'],
  ['Uploader', 'write'],
  ['SignedUploader', 'signed-upload-url'],
  ['Downloader', 'read'],
  ['SignedDownloader', 'signed-download-url'],
  ['Remover', 'delete'],
  ['PublicUrler', 'public-url'],
]);
const METRIC_METHODS = new Set(['increment', 'set', 'with', 'ref']);

/**
 * Where each file's imports lead. Kept across links by the analyzer, which starts a new one whenever a file appears
 * or disappears (that is all resolution depends on), so an edit does not resolve the app's imports again.
 */
export class ImportTargets {
  private readonly byFile = new WeakMap<FileFacts, Map<string, string | null>>();

  constructor(private readonly files: ReadonlyMap<string, FileFacts>) {}

  target(facts: FileFacts, local: string): string | null {
    let map = this.byFile.get(facts);
    if (!map) this.byFile.set(facts, (map = new Map()));
    let target = map.get(local);
    if (target === undefined) {
      const imp = facts.imports.get(local);
      target = imp ? this.resolveModule(facts.dir, imp.specifier) : null;
      map.set(local, target);
    }
    return target;
  }

  /** Where each specifier leads from each folder: many files import the same modules (a new process resolves all). */
  private readonly byModule = new Map<string, string | null>();

  private resolveModule(dir: string, specifier: string): string | null {
    const key = `${dir}\0${specifier}`;
    let target = this.byModule.get(key);
    if (target === undefined) {
      const base = path.resolve(dir, specifier);
      const candidates = [`${base}.ts`, `${base}${path.sep}index.ts`, base];
      if (/\.m?js$/.test(base)) candidates.unshift(base.replace(/\.m?js$/, '.ts'));
      target = candidates.find((c) => this.files.has(c)) ?? null;
      this.byModule.set(key, target);
    }
    return target;
  }
}

export function link(
  root: string,
  files: ReadonlyMap<string, FileFacts>,
  readMigrations: MigrationsReader,
  imports: ImportTargets = new ImportTargets(files),
  /** Diagnostics of no single file's facts (what the walk could not look at). */
  walkDiagnostics: readonly Diagnostic[] = [],
): AppModel {
  return new Linker(root, files, readMigrations, imports, walkDiagnostics).run();
}

class Linker {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly binds = new Map<string, Map<string, Placed>>();
  private readonly byKind = new Map<ResourceData['kind'], Placed[]>();
  private roots: { dir: string; name: string }[] = [];
  private readonly serviceCache = new Map<string, string | null>();

  constructor(
    private readonly root: string,
    private readonly files: ReadonlyMap<string, FileFacts>,
    private readonly readMigrations: MigrationsReader,
    private readonly imports: ImportTargets,
    private readonly walkDiagnostics: readonly Diagnostic[],
  ) {}

  run(): AppModel {
    this.diagnostics.push(...this.walkDiagnostics);
    for (const facts of this.files.values()) {
      if (facts.diagnostics.length > 0) this.diagnostics.push(...facts.diagnostics);
      if (facts.resources.length === 0) continue;
      const { binds, placed } = placedOf(facts);
      for (const p of placed) {
        let list = this.byKind.get(p.fact.data.kind);
        if (!list) this.byKind.set(p.fact.data.kind, (list = []));
        list.push(p);
      }
      if (binds.size > 0) this.binds.set(facts.file, binds);
    }
    const services = this.discoverServices();
    const endpoints = this.endpoints();
    const databases = this.databases();
    const topics = this.topics();
    const subscriptions = this.subscriptions(topics);
    const cronJobs = this.cronJobs();
    const caches = this.caches();
    const buckets = this.buckets();
    const metrics = this.metrics();
    this.namedRefs();
    this.usage(databases, topics, caches, buckets, metrics);
    const { gateway, authHandler } = this.gatewayAndAuth();
    const model: AppModel = {
      root: this.root,
      services,
      endpoints,
      databases: [...databases.values()].map((d) => d.model),
      topics: [...topics.values()].map((t) => t.model),
      subscriptions,
      cronJobs,
      caches: [...caches.values()].map((c) => c.model),
      buckets: [...buckets.values()].map((b) => b.model),
      secrets: this.secrets(),
      gateway,
      authHandler,
      metrics: [...metrics.values()].map((m) => m.model),
      diagnostics: this.diagnostics.sort(compareDiagnostics),
    };
    for (const list of [model.databases, model.topics, model.caches, model.buckets, model.metrics] as { name: string }[][]) {
      list.sort((a, b) => compareText(a.name, b.name));
    }
    for (const d of model.databases) d.usedBy.sort();
    for (const t of model.topics) t.publishers.sort();
    for (const c of model.caches) c.usedBy.sort();
    for (const m of model.metrics) m.services.sort();
    for (const b of model.buckets) for (const ops of Object.values(b.usage)) ops.sort();
    return model;
  }

  // ---- services ----------------------------------------------------------------------------------------------------

  private discoverServices(): Service[] {
    const services: Service[] = [];
    // The first Service of each encore.service.ts; a second one in the same file is that file's own error.
    const strong = this.of('service')
      .filter((p) => p.fact.name !== null && p.fact.defaultExport && this.files.get(p.file)?.serviceFile)
      .filter((p, i, all) => all.findIndex((q) => q.file === p.file) === i)
      .sort((a, b) => depth(a.file) - depth(b.file) || compareText(a.file, b.file));
    const named = new Map<string, Service>();
    for (const p of strong) {
      const dir = path.dirname(p.file);
      const name = p.fact.name!;
      const outer = this.roots.find((r) => isWithin(dir, r.dir));
      if (outer) {
        this.error(p.file, p.fact.range, `service ${name} cannot be contained within service ${outer.name}`);
        continue;
      }
      if (named.has(name)) {
        this.error(p.file, p.fact.nameRange, `service ${name} defined twice`);
        continue;
      }
      const service: Service = { name, root: this.rel(dir), declaration: { file: p.file, range: p.fact.range } };
      named.set(name, service);
      services.push(service);
      this.roots.push({ dir, name });
    }
    // Weak roots: directories of files binding endpoints, subscriptions, gateways or auth handlers.
    const weakDirs = new Set<string>();
    for (const kind of ['api', 'subscription', 'gateway', 'authHandler'] as const) {
      for (const p of this.of(kind)) if (p.fact.bind !== null) weakDirs.add(path.dirname(p.file));
    }
    const weak: { dir: string; name: string }[] = [];
    for (const dir of [...weakDirs].sort((a, b) => depth(a) - depth(b) || compareText(a, b))) {
      if (this.roots.some((r) => isWithin(dir, r.dir)) || weak.some((w) => isWithin(dir, w.dir))) continue;
      const name = path.basename(dir);
      weak.push({ dir, name });
      if (named.has(name)) {
        const first = this.fileIn(dir, ['api', 'subscription', 'gateway', 'authHandler']);
        if (first) this.error(first.file, first.fact.range, `service ${name} defined twice`);
        continue;
      }
      const service: Service = { name, root: this.rel(dir) };
      named.set(name, service);
      services.push(service);
      if (isBuiltinPropertyName(name)) {
        // Named after its directory: the warning goes on the declaration that made the directory a service.
        const first = this.fileIn(dir, ['api', 'subscription', 'gateway', 'authHandler']);
        if (first) this.warning(first.file, first.fact.range, builtinNameWarning('service', name));
      }
    }
    this.roots.push(...weak);
    // Innermost first, so a file belongs to the deepest root containing it.
    this.roots.sort((a, b) => b.dir.length - a.dir.length);
    return services.sort((a, b) => compareText(a.name, b.name));
  }

  private serviceOf(file: string): string | null {
    const dir = this.files.get(file)?.dir ?? path.dirname(file);
    let cached = this.serviceCache.get(dir);
    if (cached === undefined) {
      cached = this.roots.find((r) => isWithin(dir, r.dir))?.name ?? null;
      this.serviceCache.set(dir, cached);
    }
    return cached;
  }

  // ---- resources ---------------------------------------------------------------------------------------------------

  private endpoints(): Endpoint[] {
    const out: Endpoint[] = [];
    const names = new Set<string>();
    const routes = new Map<string, Location>();
    for (const p of this.of('api')) {
      if (p.fact.name === null) continue;
      const service = this.serviceOf(p.file);
      if (service === null) {
        this.error(p.file, p.fact.range, 'unable to determine service for file');
        continue;
      }
      const data = p.fact.data;
      const methods = data.methods ?? ['POST'];
      const defaulted = data.path === null;
      const endpointPath = data.path ?? `/${service}.${p.fact.name}`;
      if (defaulted) {
        const parsed = parseApiPath(endpointPath);
        if ('error' in parsed) {
          this.error(p.file, p.fact.range, `${parsed.error} (no path provided, so defaulting to ${endpointPath})`);
          continue;
        }
      }
      const key = `${service}\0${p.fact.name}`;
      if (names.has(key)) {
        this.error(p.file, p.fact.range, 'api endpoints with conflicting names defined within the same service');
        continue;
      }
      names.add(key);
      // A defaulted path is one literal segment, so it is its own shape.
      const shape = data.routeShape ?? endpointPath;
      {
        for (const method of methods) {
          const route = `${service}\0${method}\0${shape}`;
          if (routes.has(route)) {
            this.error(p.file, data.pathRange ?? p.fact.range, 'api endpoints with conflicting paths defined');
            break;
          }
          routes.set(route, { file: p.file, range: p.fact.range });
        }
      }
      const access: Access = !data.expose ? 'private' : data.auth ? 'auth' : 'public';
      out.push({
        service, name: p.fact.name, kind: data.endpointKind, methods, path: endpointPath, access,
        declaration: { file: p.file, range: p.fact.range },
      });
    }
    return out.sort((a, b) => compareText(a.service, b.service) || compareText(a.name, b.name));
  }

  private databases(): Map<string, { model: Database; placed: Placed<'database'> }> {
    const out = new Map<string, { model: Database; placed: Placed<'database'> }>();
    for (const p of this.of('database')) {
      const name = p.fact.name;
      if (name === null) continue;
      if (out.has(name)) {
        this.error(p.file, p.fact.nameRange, 'SQL Database with this name already defined');
        continue;
      }
      const data = p.fact.data;
      let migrations: Database['migrations'] = [];
      if (data.migrationsDir !== null) {
        const read = this.readMigrations(data.migrationsDir, data.source);
        migrations = read.migrations;
        if (read.error !== null) this.error(p.file, data.migrationsRange ?? p.fact.range, read.error);
      }
      out.set(name, {
        placed: p,
        model: { name, migrationsDir: data.migrationsDir, migrations, usedBy: [], declaration: { file: p.file, range: p.fact.range } },
      });
    }
    return out;
  }

  private topics(): Map<string, { model: Topic; placed: Placed<'topic'> }> {
    const out = new Map<string, { model: Topic; placed: Placed<'topic'> }>();
    for (const p of this.of('topic')) {
      const name = p.fact.name;
      if (name === null) continue;
      if (out.has(name)) {
        this.error(p.file, p.fact.nameRange, 'PubSub topic with this name already defined');
        continue;
      }
      const { deliveryGuarantee, orderingAttribute } = p.fact.data;
      out.set(name, { placed: p, model: { name, deliveryGuarantee, orderingAttribute, publishers: [], declaration: { file: p.file, range: p.fact.range } } });
    }
    return out;
  }

  private subscriptions(topics: Map<string, { model: Topic; placed: Placed<'topic'> }>): Subscription[] {
    const out: Subscription[] = [];
    const seen = new Set<string>();
    for (const p of this.of('subscription')) {
      const d = p.fact.data;
      if (p.fact.name === null || d.topicRef === null) continue;
      const target = this.resolve(p.file, d.topicRef.local);
      if (!target) {
        this.error(p.file, d.topicRef.range, 'cannot resolve topic reference');
        continue;
      }
      if (target.fact.data.kind !== 'topic' || target.fact.name === null) {
        this.error(p.file, d.topicRef.range, 'topic not found');
        continue;
      }
      const topic = target.fact.name;
      if (!topics.has(topic)) continue;
      const service = this.serviceOf(p.file);
      if (service === null) {
        this.error(p.file, p.fact.range, 'unable to determine which service the subscription belongs to');
        continue;
      }
      const key = `${topic}\0${p.fact.name}`;
      if (seen.has(key)) {
        this.error(p.file, p.fact.nameRange, 'PubSub subscription with this name already defined on this topic');
        continue;
      }
      seen.add(key);
      out.push({
        topic, name: p.fact.name, service, ackDeadlineMs: d.ackDeadlineMs, messageRetentionMs: d.messageRetentionMs,
        retryPolicy: { minBackoffMs: d.minBackoffMs, maxBackoffMs: d.maxBackoffMs, maxRetries: d.maxRetries },
        maxConcurrency: d.maxConcurrency, declaration: { file: p.file, range: p.fact.range },
      });
    }
    return out.sort((a, b) => compareText(a.topic, b.topic) || compareText(a.name, b.name));
  }

  private cronJobs(): CronJob[] {
    const out: CronJob[] = [];
    const seen = new Set<string>();
    for (const p of this.of('cronJob')) {
      const d = p.fact.data;
      const name = p.fact.name;
      if (name === null) continue;
      if (seen.has(name)) {
        this.error(p.file, p.fact.nameRange, 'cron job with this name already defined');
        continue;
      }
      seen.add(name);
      let endpoint: CronJob['endpoint'] = null;
      if (d.endpointRef) {
        const target = this.resolve(p.file, d.endpointRef.local);
        if (!target) this.error(p.file, d.endpointRef.range, 'cannot resolve endpoint');
        else if (target.fact.data.kind !== 'api' || target.fact.name === null) this.error(p.file, d.endpointRef.range, 'endpoint not found');
        else {
          const service = this.serviceOf(target.file);
          if (service !== null) endpoint = { service, name: target.fact.name };
        }
      }
      if (d.schedule === null) continue;
      out.push({ name, title: d.title ?? name, schedule: d.schedule, endpoint, declaration: { file: p.file, range: p.fact.range } });
    }
    return out.sort((a, b) => compareText(a.name, b.name));
  }

  private caches(): Map<string, { model: CacheCluster; placed: Placed<'cache'> }> {
    const out = new Map<string, { model: CacheCluster; placed: Placed<'cache'> }>();
    for (const p of this.of('cache')) {
      const name = p.fact.name;
      if (name === null) continue;
      if (out.has(name)) {
        this.error(p.file, p.fact.nameRange, 'cache cluster with this name already defined (to use it in several places, export the original CacheCluster object and import it, or use CacheCluster.named())');
        continue;
      }
      out.set(name, { placed: p, model: { name, evictionPolicy: p.fact.data.evictionPolicy, keyspaces: [], usedBy: [], declaration: { file: p.file, range: p.fact.range } } });
    }
    for (const p of this.of('keyspace')) {
      const ref = p.fact.data.clusterRef;
      if (!ref) continue;
      const cluster = this.realTarget(this.resolve(p.file, ref.local));
      const entry = cluster?.fact.data.kind === 'cache' && cluster.fact.name !== null ? out.get(cluster.fact.name) : undefined;
      if (!entry) {
        this.error(p.file, ref.range, 'could not resolve cache cluster reference');
        continue;
      }
      const service = this.serviceOf(p.file);
      if (p.fact.data.keyPattern !== null) {
        entry.model.keyspaces.push({ keyPattern: p.fact.data.keyPattern, kind: p.fact.data.className, service, declaration: { file: p.file, range: p.fact.range } });
      }
      if (service !== null && !entry.model.usedBy.includes(service)) entry.model.usedBy.push(service);
    }
    return out;
  }

  private buckets(): Map<string, { model: Bucket; placed: Placed<'bucket'> }> {
    const out = new Map<string, { model: Bucket; placed: Placed<'bucket'> }>();
    for (const p of this.of('bucket')) {
      const name = p.fact.name;
      if (name === null) continue;
      if (out.has(name)) {
        this.error(p.file, p.fact.nameRange, 'bucket with this name already defined');
        continue;
      }
      out.set(name, { placed: p, model: { name, public: p.fact.data.public, versioned: p.fact.data.versioned, usage: byService(), declaration: { file: p.file, range: p.fact.range } } });
    }
    return out;
  }

  private metrics(): Map<string, { model: Metric; placed: Placed<'metric'> }> {
    const out = new Map<string, { model: Metric; placed: Placed<'metric'> }>();
    for (const p of this.of('metric')) {
      const name = p.fact.name;
      if (name === null) continue;
      if (out.has(name)) {
        this.error(p.file, p.fact.nameRange, `metric '${name}' is defined multiple times; metrics must have unique names across the entire application`);
        continue;
      }
      out.set(name, { placed: p, model: { name, kind: p.fact.data.metricKind, services: [], declaration: { file: p.file, range: p.fact.range } } });
    }
    return out;
  }

  private namedRefs(): void {
    const classes = { database: 'SQLDatabase', bucket: 'Bucket', cache: 'CacheCluster' } as const;
    for (const p of this.of('named')) {
      if (p.fact.name === null) continue;
      const target = this.namedTarget(p.fact.data.target, p.fact.name);
      if (!target) this.error(p.file, p.fact.nameRange, `resource not found: ${classes[p.fact.data.target]} { name: "${p.fact.name}" }`);
    }
  }

  private secrets(): Secret[] {
    const out = new Map<string, Secret>();
    for (const p of this.of('secret')) {
      if (p.fact.name === null) continue;
      const service = this.serviceOf(p.file);
      if (service === null) this.error(p.file, p.fact.range, 'secrets must be loaded from within services');
      let secret = out.get(p.fact.name);
      if (!secret) out.set(p.fact.name, (secret = { name: p.fact.name, services: [], declarations: [] }));
      secret.declarations.push({ file: p.file, range: p.fact.range });
      if (service !== null && !secret.services.includes(service)) secret.services.push(service);
    }
    const list = [...out.values()].sort((a, b) => compareText(a.name, b.name));
    for (const s of list) s.services.sort();
    return list;
  }

  private gatewayAndAuth(): { gateway: Gateway | null; authHandler: AuthHandler | null } {
    let authHandler: AuthHandler | null = null;
    for (const p of this.of('authHandler')) {
      if (p.fact.name === null) continue;
      if (authHandler) {
        this.error(p.file, p.fact.range, 'only one auth handler can be defined per application');
        continue;
      }
      authHandler = { name: p.fact.name, service: this.serviceOf(p.file), declaration: { file: p.file, range: p.fact.range } };
    }
    let gateway: Gateway | null = null;
    for (const p of this.of('gateway')) {
      if (gateway) {
        this.error(p.file, p.fact.range, 'multiple gateways not yet supported');
        continue;
      }
      const service = this.serviceOf(p.file);
      if (service === null) this.error(p.file, p.fact.range, 'unable to determine service for gateway');
      let handler: string | null = null;
      const ref = p.fact.data.authHandlerRef;
      if (ref) {
        const target = this.resolve(p.file, ref.local);
        if (!target || target.fact.data.kind !== 'authHandler') this.error(p.file, ref.range, 'cannot resolve auth handler');
        else handler = target.fact.name;
      }
      gateway = { name: 'api-gateway', service, authHandler: handler, declaration: { file: p.file, range: p.fact.range } };
    }
    return { gateway, authHandler };
  }

  // ---- usage -------------------------------------------------------------------------------------------------------

  private usage(
    databases: Map<string, { model: Database }>,
    topics: Map<string, { model: Topic }>,
    caches: Map<string, { model: CacheCluster }>,
    buckets: Map<string, { model: Bucket }>,
    metrics: Map<string, { model: Metric }>,
  ): void {
    for (const facts of this.files.values()) {
      if (facts.usages.length === 0) continue;
      const service = this.serviceOf(facts.file);
      for (const u of facts.usages) {
        const placed = this.realTarget(this.resolve(facts.file, u.local));
        if (!placed || placed.fact.name === null && placed.fact.data.kind !== 'keyspace') continue;
        const name = placed.fact.name ?? '';
        switch (placed.fact.data.kind) {
          case 'database': {
            if (u.kind === 'callee' || u.kind === 'other') this.error(facts.file, u.range, 'invalid use of database resource');
            else addTo(databases.get(name)?.model.usedBy, service);
            break;
          }
          case 'topic':
            this.topicUsage(facts.file, u, topics.get(name)?.model, service);
            break;
          case 'bucket':
            this.bucketUsage(facts.file, u, buckets.get(name)?.model, service);
            break;
          case 'cache':
            addTo(caches.get(name)?.model.usedBy, service);
            break;
          case 'keyspace': {
            const ref = placed.fact.data.clusterRef;
            const cluster = ref ? this.realTarget(this.resolve(placed.file, ref.local)) : null;
            if (cluster?.fact.name) addTo(caches.get(cluster.fact.name)?.model.usedBy, service);
            break;
          }
          case 'metric':
            if (u.kind === 'method' && u.member !== null && METRIC_METHODS.has(u.member)) addTo(metrics.get(name)?.model.services, service);
            break;
        }
      }
    }
  }

  private topicUsage(file: string, u: UsageFact, topic: Topic | undefined, service: string | null): void {
    if (!topic || u.kind !== 'method') return;
    if (u.member === 'ref') {
      if (u.typeNames.length === 0) return this.error(file, u.range, 'expected a type argument in call to Topic.ref');
      if (!u.typeNames.includes('Publisher')) return this.error(file, u.range, 'no topic permissions found in type argument');
    } else if (u.member !== 'publish') {
      return this.error(file, u.range, 'invalid topic usage');
    }
    addTo(topic.publishers, service);
  }

  private bucketUsage(file: string, u: UsageFact, bucket: Bucket | undefined, service: string | null): void {
    if (!bucket) return;
    let ops: BucketOperation[];
    if (u.kind === 'method' && u.member === 'ref') {
      if (u.typeNames.length === 0) {
        this.error(file, u.range, 'expected a type argument in call to Bucket.ref');
        return;
      }
      ops = u.typeNames.flatMap((t) => BUCKET_PERMISSIONS.get(t) ?? []);
      if (ops.length === 0) {
        this.error(file, u.range, 'no bucket permissions found in type argument');
        return;
      }
    } else if (u.kind === 'method' && u.member !== null) {
      const op = BUCKET_METHODS.get(u.member);
      if (!op) {
        this.error(file, u.range, 'unsupported bucket operation');
        return;
      }
      ops = [op];
    } else if (u.kind === 'callee' || u.kind === 'other') {
      this.error(file, u.range, 'invalid use of bucket resource');
      return;
    } else {
      return;
    }
    if (ops.includes('public-url') && !bucket.public) {
      this.error(file, u.range, 'cannot call publicUrl on a non-public bucket');
    }
    if (service === null) return;
    const list = (bucket.usage[service] ??= []);
    for (const op of ops) if (!list.includes(op)) list.push(op);
  }

  // ---- resolution --------------------------------------------------------------------------------------------------

  /** The resource a name stands for in a file: a bind of the file itself, or an exported bind it imports. */
  private resolve(file: string, local: string): Placed | null {
    const own = this.binds.get(file)?.get(local);
    if (own) return own;
    const facts = this.files.get(file);
    if (!facts) return null;
    const target = this.imports.target(facts, local);
    if (target === null) return null;
    const placed = this.binds.get(target)?.get(facts.imports.get(local)!.imported);
    return placed && placed.fact.exported ? placed : null;
  }

  /** Follows `X.named("name")` to the declared resource. */
  private realTarget(placed: Placed | null): Placed | null {
    if (!placed || placed.fact.data.kind !== 'named' || placed.fact.name === null) return placed;
    return this.namedTarget(placed.fact.data.target, placed.fact.name);
  }

  private namedTarget(kind: 'database' | 'bucket' | 'cache', name: string): Placed | null {
    return (this.of(kind).find((p) => p.fact.name === name) as Placed | undefined) ?? null;
  }

  private of<K extends ResourceData['kind']>(kind: K): Placed<K>[] {
    return (this.byKind.get(kind) ?? []) as unknown as Placed<K>[];
  }

  private fileIn(dir: string, kinds: ResourceData['kind'][]): Placed | undefined {
    for (const kind of kinds) {
      const found = this.of(kind).find((p) => path.dirname(p.file) === dir);
      if (found) return found;
    }
    return undefined;
  }

  private rel(dir: string): string {
    return path.relative(this.root, dir).split(path.sep).join('/');
  }

  private error(file: string, range: Range, message: string): void {
    this.diagnostics.push({ file, range, severity: 'error', message });
  }

  private warning(file: string, range: Range, message: string): void {
    this.diagnostics.push({ file, range, severity: 'warning', message });
  }
}

/** A file's resources with their binds; facts never change once extracted, so this is computed once per file. */
const placedCache = new WeakMap<FileFacts, { binds: Map<string, Placed>; placed: Placed[] }>();

function placedOf(facts: FileFacts): { binds: Map<string, Placed>; placed: Placed[] } {
  let entry = placedCache.get(facts);
  if (!entry) {
    const binds = new Map<string, Placed>();
    const placed = facts.resources.map((fact): Placed => ({ fact: fact as Of<ResourceData['kind']>, file: facts.file }));
    // Several resources can share a bind (`const c = new Client(secret("A")(), secret("B")())`): the outermost, which
    // comes first, is what the name stands for.
    for (const p of placed) if (p.fact.bind !== null && !binds.has(p.fact.bind)) binds.set(p.fact.bind, p);
    placedCache.set(facts, (entry = { binds, placed }));
  }
  return entry;
}

/** A record keyed by service name: null-prototype, so a service named "__proto__" or "constructor" is just a key. */
function byService<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function addTo(list: string[] | undefined, service: string | null): void {
  if (list && service !== null && !list.includes(service)) list.push(service);
}

function isWithin(dir: string, root: string): boolean {
  return dir === root || dir.startsWith(root + path.sep);
}

function depth(p: string): number {
  return p.split(path.sep).length;
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    compareText(a.file, b.file) ||
    a.range.start.line - b.range.start.line ||
    a.range.start.character - b.range.start.character ||
    compareText(a.message, b.message)
  );
}
