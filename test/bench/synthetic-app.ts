// Writes a synthetic Encore.ts app for the analyzer benchmark: by default 100 services of 13 files each (about 1,300
// .ts files), using every kind of infrastructure the analyzer recognises (../shared/notes/encore-app-model.md,
// sections 0-1): endpoints of every kind, SQL databases with migrations and `.named` references, topics with
// publishers and cross-service subscriptions, cron jobs (`every` and `schedule`), cache clusters with keyspaces,
// buckets with operations and references, secrets, metrics, one auth handler and the gateway, calls through
// `~encore/clients`, and plain helper modules. The app is valid: Encore would build it, the analyzer must report no
// error, and it type-checks standalone (`tsc --noEmit -p <dir>`) against the ambient `encore.dev` declarations it
// carries in encore-dev.d.ts. Deterministic: the same options give byte-identical files.
//
// CLI: node --import tsx test/bench/synthetic-app.ts <dir> [--services N] [--seed N]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Prng } from '../prng';

export interface SyntheticAppOptions {
  services?: number;
  seed?: number;
}

export interface SyntheticApp {
  /** The app root (the directory holding encore.app). */
  root: string;
  /** Every file written. */
  files: number;
}

/** What the generated app declares, for checks against the analyzer's model. */
export interface SyntheticAppShape {
  services: string[];
  /** The service holding the auth handler and the gateway. */
  authService: string;
  endpoints: number;
  databases: number;
  topics: number;
  subscriptions: number;
  cronJobs: number;
  caches: number;
  keyspaces: number;
  buckets: number;
  secrets: number;
  metrics: number;
}

const WORDS = [
  'accounts', 'billing', 'catalog', 'cart', 'checkout', 'inventory', 'shipping', 'payments', 'reviews', 'search',
  'profiles', 'invoices', 'ledger', 'audit', 'reports', 'media', 'messaging', 'loyalty', 'pricing', 'tax',
  'orders', 'returns', 'warehouse', 'vendors', 'coupons',
];

const EVICTION_POLICIES = [
  'noeviction', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-ttl',
  'volatile-random',
];

/** The service names for `count` services: a word and a two-digit number, unique, valid identifiers. */
export function serviceNames(count: number, seed = 1): string[] {
  const rng = new Prng(seed);
  const words = rng.shuffle(WORDS);
  return Array.from({ length: count }, (_, i) => `${words[i % words.length]}${String(i).padStart(2, '0')}`);
}

/** The counts of each kind of declaration in the app `generateSyntheticApp` writes with the same options. */
export function syntheticAppShape(options: SyntheticAppOptions = {}): SyntheticAppShape {
  const plans = planApp(options);
  const sum = (f: (p: ServicePlan) => number): number => plans.reduce((n, p) => n + f(p), 0);
  return {
    services: plans.map((p) => p.name),
    authService: plans[0].name,
    // api.ts: 6; admin.ts: feed, webhook, deleteItem, report, and assets in some; cron.ts: 2.
    endpoints: sum((p) => 12 + (p.staticAssets ? 1 : 0)),
    databases: plans.length,
    topics: sum((p) => 1 + (p.auditTopic ? 1 : 0)),
    subscriptions: sum((p) => p.subscribesTo.length + p.auditSubscriptions.length),
    cronJobs: 2 * plans.length,
    caches: plans.length,
    keyspaces: sum((p) => 4 + (p.sharedCache ? 1 : 0) + (p.namedCache ? 1 : 0)),
    buckets: plans.length,
    // <Service>ApiKey per service, SharedSigningKey, and SessionSigningKey of the auth handler.
    secrets: plans.length + 2,
    metrics: sum((p) => 3 + (p.gaugeGroup ? 1 : 0)),
  };
}

function planApp(options: SyntheticAppOptions): ServicePlan[] {
  const count = options.services ?? 100;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(count) || count < 3) throw new Error(`a synthetic app needs at least 3 services, not ${count}`);
  const names = serviceNames(count, seed);
  const rng = new Prng(seed ^ 0x5eed);
  return names.map((_, i) => planService(rng, names, i));
}

export function generateSyntheticApp(dir: string, options: SyntheticAppOptions = {}): SyntheticApp {
  const plans = planApp(options);
  const names = plans.map((p) => p.name);
  const root = path.resolve(dir);
  let files = 0;
  const write = (rel: string, text: string): void => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    files++;
  };

  write('encore.app', '{"id":"","lang":"typescript"}\n');
  write('package.json', `${JSON.stringify(PACKAGE_JSON, null, 2)}\n`);
  write('tsconfig.json', `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  write('encore-dev.d.ts', ENCORE_DEV_DTS);

  for (const plan of plans) {
    for (const [rel, text] of serviceFiles(plan, names[0])) write(`${plan.name}/${rel}`, text);
  }
  write('encore.gen/clients/index.ts', clientsModule(names));
  write('encore.gen/auth/index.ts', authModule(names[0]));
  return { root, files };
}

/** The random choices for one service, made up front so the files agree with each other. */
interface ServicePlan {
  index: number;
  name: string;
  /** PascalCase of the name. */
  pascal: string;
  migrations: number;
  versioned: boolean;
  public: boolean;
  orderingAttribute: boolean;
  /** A second topic, exactly-once, published through a `ref<Publisher>`. */
  auditTopic: boolean;
  /** Services whose item-changed topic this one subscribes to. */
  subscribesTo: string[];
  /** Services with an audit topic this one subscribes to (through their audit topic). */
  auditSubscriptions: string[];
  /** The service whose database this one reaches through `SQLDatabase.named`. */
  namedDb: string;
  /** The service whose `db` this one imports. */
  importedDb: string;
  /** The service whose bucket this one downloads from through an import. */
  importedBucket: string;
  /** The service whose bucket this one reaches through `ref<Downloader>()`. */
  refBucket: string;
  /** The service whose bucket this one reaches through `Bucket.named`, if any. */
  namedBucket: string | null;
  /** The service this one calls through ~encore/clients. */
  calls: string;
  /** A keyspace on another service's cache cluster (imported), if any. */
  sharedCache: string | null;
  /** A keyspace on another service's cache cluster through `CacheCluster.named`, if any. */
  namedCache: string | null;
  every: string;
  schedule: string;
  evictionPolicy: string;
  staticAssets: boolean;
  streamHandshake: boolean;
  gaugeGroup: boolean;
  pageSize: number;
}

function planService(rng: Prng, names: string[], index: number): ServicePlan {
  const name = names[index];
  const others = names.filter((n) => n !== name);
  const hasAudit = (i: number): boolean => i % 3 === 0;
  const auditOthers = names.filter((n, i) => n !== name && hasAudit(i));
  const subscribesTo = rng.shuffle(others).slice(0, rng.int(1, 3));
  // Two different services, so the named and the imported database get different local names.
  const [namedDb, importedDb] = rng.shuffle(others);
  return {
    index,
    name,
    pascal: name[0].toUpperCase() + name.slice(1),
    migrations: rng.int(2, 3),
    versioned: rng.chance(0.5),
    public: rng.chance(0.2),
    orderingAttribute: rng.chance(0.4),
    auditTopic: hasAudit(index),
    subscribesTo,
    auditSubscriptions: index % 4 === 1 && auditOthers.length > 0 ? [rng.pick(auditOthers)] : [],
    namedDb,
    importedDb,
    importedBucket: rng.pick(others),
    refBucket: rng.pick(others),
    namedBucket: index % 6 === 2 ? rng.pick(others) : null,
    calls: rng.pick(others),
    sharedCache: index % 7 === 3 ? rng.pick(others) : null,
    namedCache: index % 11 === 5 ? rng.pick(others) : null,
    every: rng.pick(['15m', '30m', '1h', '2h', '6h', '1h30m', '12h', '24h']),
    schedule: rng.pick(['0 4 * * *', '*/10 * * * *', '30 2 * * 1', '0 */6 * * *', '15 3 1 * *']),
    evictionPolicy: rng.pick(EVICTION_POLICIES),
    staticAssets: index % 10 === 4,
    streamHandshake: rng.chance(0.5),
    gaugeGroup: rng.chance(0.3),
    pageSize: rng.int(20, 200),
  };
}

const pascal = (name: string): string => name[0].toUpperCase() + name.slice(1);

function serviceFiles(p: ServicePlan, authService: string): [string, string][] {
  const files: [string, string][] = [
    ['encore.service.ts', serviceModule(p)],
    ['api.ts', apiModule(p)],
    ['admin.ts', adminModule(p)],
    ['db.ts', dbModule(p)],
    ['store.ts', storeModule(p)],
    ['events.ts', eventsModule(p)],
    ['subscribers.ts', subscribersModule(p)],
    ['cron.ts', cronModule(p)],
    ['cache.ts', cacheModule(p)],
    ['storage.ts', storageModule(p)],
    ['config.ts', configModule(p)],
    ['metrics.ts', metricsModule(p)],
    ['util.ts', utilModule(p)],
    ...migrations(p),
  ];
  if (p.staticAssets) {
    files.push(['assets/index.html', `<!doctype html>\n<title>${p.name}</title>\n<h1>${p.name}</h1>\n`]);
    files.push(['assets/404.html', '<!doctype html>\n<title>Not found</title>\n']);
  }
  if (p.name === authService) files.push(['auth.ts', authHandlerModule()]);
  return files;
}

function serviceModule(p: ServicePlan): string {
  return `import { Service } from "encore.dev/service";

// The ${p.name} service: everything below this directory belongs to it.
export default new Service("${p.name}");
`;
}

function apiModule(p: ServicePlan): string {
  const s = p.name;
  return `import { api, APIError } from "encore.dev/api";
import log from "encore.dev/log";
import { getAuthData } from "~encore/auth";
import { ${p.calls} } from "~encore/clients";
import { itemViews, prices } from "./cache";
import { ${p.gaugeGroup ? 'latencyByRegion, ' : ''}requestsTotal, errorsTotal } from "./metrics";
import type { Item } from "./store";
import { getItem as loadItem, insertItem, listItems as loadItems, updateItem as saveItem } from "./store";
import { saveDocument } from "./storage";
import { clamp, slugify } from "./util";

export interface GetItemParams {
  id: number;
}

export interface ItemList {
  items: Item[];
  total: number;
}

export interface CreateItemRequest {
  name: string;
  priceCents: number;
}

export interface UpdateItemRequest {
  id: number;
  name: string;
  priceCents: number;
}

export interface Pong {
  service: string;
  ok: boolean;
}

export const getItem = api(
  { expose: true, method: "GET", path: "/${s}/items/:id" },
  async ({ id }: GetItemParams): Promise<Item> => {
    requestsTotal.increment();
    const item = await loadItem(id);
    if (!item) {
      errorsTotal.with({ kind: "not_found", retryable: false }).increment();
      throw APIError.notFound(\`item \${id} not found\`);
    }
    await itemViews.increment(id);
    const cached = await prices.get({ itemId: id, currency: "EUR" });
    return cached ? { ...item, priceCents: cached.cents } : item;
  },
);

export const listItems = api(
  { expose: true, method: "GET", path: "/${s}/items" },
  async (): Promise<ItemList> => {
    requestsTotal.increment();
${p.gaugeGroup ? '    const started = Date.now();\n' : ''}    const items = await loadItems(${p.pageSize});${p.gaugeGroup ? '\n    latencyByRegion.with({ region: "eu" }).set((Date.now() - started) / 1000);' : ''}
    return { items, total: items.length };
  },
);

export const createItem = api(
  { expose: true, auth: true, method: "POST", path: "/${s}/items" },
  async (req: CreateItemRequest): Promise<Item> => {
    const caller = getAuthData();
    if (!caller) throw APIError.unauthenticated("sign in to create items");
    if (req.name.trim() === "") throw APIError.invalidArgument("name is required");
    const item = await insertItem({ name: req.name, priceCents: clamp(req.priceCents, 0, 10_000_000) });
    await saveDocument(item.id, JSON.stringify({ ...item, slug: slugify(item.name), createdBy: caller.userID }));
    log.info("item created", { service: "${s}", id: item.id });
    return item;
  },
);

export const updateItem = api(
  { expose: true, auth: ${p.index % 2 === 0}, method: ["PUT", "PATCH"], path: "/${s}/items/:id" },
  async (req: UpdateItemRequest): Promise<Item> => {
    const item = await saveItem(req.id, { name: req.name, priceCents: req.priceCents });
    if (!item) throw APIError.notFound(\`item \${req.id} not found\`);
    await prices.set({ itemId: item.id, currency: "EUR" }, { cents: item.priceCents, fetchedAt: new Date().toISOString() });
    return item;
  },
);

// Private: reachable from other services only.
export const ping = api({}, async (): Promise<Pong> => {
  return { service: "${s}", ok: true };
});

export const pingNeighbour = api(
  { expose: false, method: "POST", path: "/${s}/neighbour" },
  async (): Promise<Pong> => {
    const pong = await ${p.calls}.ping();
    return { service: pong.service, ok: pong.ok };
  },
);
`;
}

function adminModule(p: ServicePlan): string {
  const s = p.name;
  const named = `${p.namedDb}Db`;
  const imported = `${p.importedDb}Db`;
  const bucket = `${p.importedBucket}Uploads`;
  const refBucket = `${p.refBucket}Archive`;
  const lines: string[] = [];
  lines.push(`import { api, APIError, StreamOut } from "encore.dev/api";`);
  lines.push(`import { SQLDatabase } from "encore.dev/storage/sqldb";`);
  if (p.namedBucket) lines.push(`import { Bucket } from "encore.dev/storage/objects";`);
  lines.push(`import type { Downloader } from "encore.dev/storage/objects";`);
  if (p.auditTopic) lines.push(`import type { Publisher } from "encore.dev/pubsub";`);
  lines.push(`import { db as ${imported} } from "../${p.importedDb}/db";`);
  if (p.importedBucket === p.refBucket) {
    lines.push(`import { uploads as ${bucket} } from "../${p.importedBucket}/storage";`);
  } else {
    lines.push(`import { uploads as ${bucket} } from "../${p.importedBucket}/storage";`);
    lines.push(`import { uploads as ${p.refBucket}Uploads } from "../${p.refBucket}/storage";`);
  }
  if (p.auditTopic) lines.push(`import { auditEvents, type AuditEvent } from "./events";`);
  lines.push(`import { queueDepth } from "./metrics";`);
  lines.push(`import { countItems, deleteItem as removeItem, allItemIds } from "./store";`);
  lines.push(`import { removeDocument } from "./storage";`);
  lines.push(`import { decodeText, objectKey } from "./util";`);
  lines.push('');
  lines.push(`// The database of ${p.namedDb}, reached by name rather than through an import.`);
  lines.push(`const ${named} = SQLDatabase.named("${p.namedDb}");`);
  lines.push(`const ${refBucket} = ${p.refBucket}Uploads.ref<Downloader>();`);
  if (p.namedBucket) lines.push(`const ${p.namedBucket}Shared = Bucket.named("${p.namedBucket}-uploads");`);
  if (p.auditTopic) lines.push(`const auditPublisher = auditEvents.ref<Publisher<AuditEvent>>();`);
  lines.push(`
export interface DeleteItemParams {
  id: number;
}

export interface Report {
  items: number;
  ${p.namedDb}Items: number;
  ${p.importedDb}Items: number;
  latestArchive: string;
}

export interface FeedEvent {
  id: number;
  at: string;
}
`);
  if (p.streamHandshake) {
    lines.push(`export interface FeedHandshake {
  since: number;
}

export const feed = api.streamOut<FeedHandshake, FeedEvent>(
  { expose: true, auth: true, path: "/${s}/feed" },
  async (handshake: FeedHandshake, stream: StreamOut<FeedEvent>): Promise<void> => {
    for await (const id of allItemIds()) {
      if (id > handshake.since) await stream.send({ id, at: new Date().toISOString() });
    }
    await stream.close();
  },
);
`);
  } else {
    lines.push(`export const feed = api.streamOut<FeedEvent>(
  { expose: true, path: "/${s}/feed" },
  async (stream: StreamOut<FeedEvent>): Promise<void> => {
    for await (const id of allItemIds()) await stream.send({ id, at: new Date().toISOString() });
    await stream.close();
  },
);
`);
  }
  lines.push(`export const webhook = api.raw(
  { expose: true, method: "POST", path: "/${s}/webhook" },
  async (req, resp) => {
    let received = 0;
    for await (const chunk of req) received += chunk.length;
    queueDepth.set(received);
    resp.statusCode = 204;
    resp.setHeader("X-Received-Bytes", received);
    resp.end();
  },
);

export const deleteItem = api(
  { expose: true, auth: true, method: "DELETE", path: "/${s}/items/:id" },
  async ({ id }: DeleteItemParams): Promise<void> => {
    if (id <= 0) throw APIError.invalidArgument("id must be positive");
    await removeItem(id);
    await removeDocument(id);${p.auditTopic ? `\n    await auditPublisher.publish({ action: "delete", itemId: id, at: new Date().toISOString() });` : ''}
  },
);

export const report = api(
  { expose: true, auth: true, method: "GET", path: "/${s}/report" },
  async (): Promise<Report> => {
    const named = await ${named}.queryRow<{ total: number }>\`SELECT count(*)::int AS total FROM items\`;
    const imported = await ${imported}.queryRow<{ total: number }>\`SELECT count(*)::int AS total FROM items\`;
    const archive = await ${bucket}.download(objectKey("report", 1));
    const previous = await ${refBucket}.download(objectKey("report", 0));${p.namedBucket ? `\n    const shared = await ${p.namedBucket}Shared.exists(objectKey("report", 1));` : ''}
    return {
      items: await countItems(),
      ${p.namedDb}Items: named?.total ?? 0,
      ${p.importedDb}Items: imported?.total ?? 0,
      latestArchive: decodeText(archive) || decodeText(previous)${p.namedBucket ? ' || String(shared)' : ''},
    };
  },
);
`);
  if (p.staticAssets) {
    lines.push(`export const assets = api.static({
  expose: true,
  path: "/${s}/assets/*path",
  dir: "./assets",
  notFound: "./assets/404.html",
  notFoundStatus: 404,
});
`);
  }
  return lines.join('\n');
}

function dbModule(p: ServicePlan): string {
  return `import { SQLDatabase } from "encore.dev/storage/sqldb";

// The ${p.name} database; its schema is in ./migrations.
export const db = new SQLDatabase("${p.name}", {
  migrations: "./migrations",
});
`;
}

function migrations(p: ServicePlan): [string, string][] {
  const out: [string, string][] = [
    [
      'migrations/1_create_items.up.sql',
      `CREATE TABLE items (\n  id BIGSERIAL PRIMARY KEY,\n  name TEXT NOT NULL,\n  price_cents INTEGER NOT NULL,\n  created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n`,
    ],
    ['migrations/2_add_updated_at.up.sql', 'ALTER TABLE items ADD COLUMN updated_at TIMESTAMPTZ;\n'],
  ];
  if (p.migrations >= 3) {
    out.push([
      'migrations/3_create_audit_log.up.sql',
      `CREATE TABLE audit_log (\n  id BIGSERIAL PRIMARY KEY,\n  item_id BIGINT NOT NULL REFERENCES items (id),\n  action TEXT NOT NULL,\n  at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n`,
    ]);
  }
  return out;
}

function storeModule(p: ServicePlan): string {
  return `// Data access of the ${p.name} service: every query goes through its own database.
import { db } from "./db";
import { itemChanged } from "./events";
import { clamp, PAGE_SIZE } from "./util";

export interface Item {
  id: number;
  name: string;
  priceCents: number;
  createdAt: string;
}

export interface NewItem {
  name: string;
  priceCents: number;
}

export async function getItem(id: number): Promise<Item | null> {
  return db.queryRow<Item>\`
    SELECT id, name, price_cents AS "priceCents", created_at::text AS "createdAt" FROM items WHERE id = \${id}\`;
}

export async function listItems(limit: number): Promise<Item[]> {
  return db.queryAll<Item>\`
    SELECT id, name, price_cents AS "priceCents", created_at::text AS "createdAt"
    FROM items ORDER BY id LIMIT \${clamp(limit, 1, PAGE_SIZE)}\`;
}

export async function insertItem(item: NewItem): Promise<Item> {
  const row = await db.queryRow<Item>\`
    INSERT INTO items (name, price_cents) VALUES (\${item.name}, \${item.priceCents})
    RETURNING id, name, price_cents AS "priceCents", created_at::text AS "createdAt"\`;
  if (!row) throw new Error("insert into items returned no row");
  await itemChanged.publish({ itemId: row.id, change: "created", priceCents: row.priceCents });
  return row;
}

export async function updateItem(id: number, item: NewItem): Promise<Item | null> {
  const row = await db.queryRow<Item>\`
    UPDATE items SET name = \${item.name}, price_cents = \${item.priceCents}, updated_at = now() WHERE id = \${id}
    RETURNING id, name, price_cents AS "priceCents", created_at::text AS "createdAt"\`;
  if (row) await itemChanged.publish({ itemId: row.id, change: "updated", priceCents: row.priceCents });
  return row;
}

export async function deleteItem(id: number): Promise<void> {
  await db.exec\`DELETE FROM items WHERE id = \${id}\`;
  await itemChanged.publish({ itemId: id, change: "deleted", priceCents: 0 });
}

export async function countItems(): Promise<number> {
  const row = await db.rawQueryRow<{ total: number }>("SELECT count(*)::int AS total FROM items");
  return row?.total ?? 0;
}

export async function* allItemIds(): AsyncGenerator<number> {
  for await (const row of db.query<{ id: number }>\`SELECT id FROM items ORDER BY id\`) yield row.id;
}
`;
}

function eventsModule(p: ServicePlan): string {
  const ordering = p.orderingAttribute ? `\n  orderingAttribute: "itemId",` : '';
  let text = `import { Topic } from "encore.dev/pubsub";

export interface ItemChanged {
  itemId: number;
  change: "created" | "updated" | "deleted";
  priceCents: number;
}

// Published on every change to an item of ${p.name}; other services subscribe to it.
export const itemChanged = new Topic<ItemChanged>("${p.name}-item-changed", {
  deliveryGuarantee: "at-least-once",${ordering}
});
`;
  if (p.auditTopic) {
    text += `
export interface AuditEvent {
  action: string;
  itemId: number;
  at: string;
}

export const auditEvents = new Topic<AuditEvent>("${p.name}-audit", {
  deliveryGuarantee: "exactly-once",
});
`;
  }
  return text;
}

function subscribersModule(p: ServicePlan): string {
  const lines = [
    `import { Subscription } from "encore.dev/pubsub";`,
    `import log from "encore.dev/log";`,
    `import { itemViews } from "./cache";`,
    `import { errorsTotal } from "./metrics";`,
  ];
  for (const other of p.subscribesTo) {
    lines.push(`import { itemChanged as ${other}ItemChanged } from "../${other}/events";`);
  }
  lines.push(`import type { ItemChanged } from "../${p.subscribesTo[0]}/events";`);
  for (const other of p.auditSubscriptions) {
    lines.push(`import { auditEvents as ${other}Audit, type AuditEvent } from "../${other}/events";`);
  }
  lines.push('');
  p.subscribesTo.forEach((other, k) => {
    const handler = `handle${pascal(other)}ItemChanged`;
    lines.push(`async function ${handler}(event: ItemChanged): Promise<void> {
  if (event.change === "deleted") {
    await itemViews.delete(event.itemId);
    return;
  }
  if (event.priceCents < 0) errorsTotal.with({ kind: "negative_price", retryable: false }).increment();
  log.info("${other} changed an item", { itemId: event.itemId, change: event.change });
}
`);
    const options: string[] = [`  handler: ${handler},`];
    if (k % 2 === 0) options.push('  maxConcurrency: 20,');
    if (k === 1) options.push('  ackDeadline: "45s",', '  messageRetention: "72h",');
    if (k !== 1) options.push('  retryPolicy: { minBackoff: "5s", maxBackoff: "10m", maxRetries: 50 },');
    lines.push(`export const on${pascal(other)}ItemChanged = new Subscription(${other}ItemChanged, "${p.name}-on-${other}-item-changed", {
${options.join('\n')}
});
`);
  });
  for (const other of p.auditSubscriptions) {
    lines.push(`export const on${pascal(other)}Audit = new Subscription(${other}Audit, "${p.name}-audit-copy", {
  handler: async (event: AuditEvent): Promise<void> => {
    errorsTotal.with({ kind: event.action, retryable: true }).increment();
  },
});
`);
  }
  return lines.join('\n');
}

function cronModule(p: ServicePlan): string {
  return `import { api } from "encore.dev/api";
import { CronJob } from "encore.dev/cron";
import log from "encore.dev/log";
import { countItems } from "./store";
import { listDocuments, removeDocumentNamed } from "./storage";

// Called by the cleanup job; private.
export const cleanup = api({}, async (): Promise<void> => {
  const names = await listDocuments();
  for (const name of names.filter((n) => n.endsWith(".tmp"))) await removeDocumentNamed(name);
  log.info("cleanup done", { removed: names.length });
});

export const cleanupJob = new CronJob("${p.name}-cleanup", {
  title: "Remove temporary documents of ${p.name}",
  every: "${p.every}",
  endpoint: cleanup,
});

export const digest = api({}, async (): Promise<{ total: number }> => {
  return { total: await countItems() };
});

export const digestJob = new CronJob("${p.name}-digest", {
  title: "Daily digest of ${p.name}",
  schedule: "${p.schedule}",
  endpoint: digest,
});
`;
}

function cacheModule(p: ServicePlan): string {
  const imports = ['CacheCluster', 'IntKeyspace', 'StringKeyspace', 'StringSetKeyspace', 'StructKeyspace', 'expireInHours', 'expireInMinutes'];
  let text = `import { ${imports.join(', ')} } from "encore.dev/storage/cache";
${p.sharedCache ? `import { cache as ${p.sharedCache}Cache } from "../${p.sharedCache}/cache";\n` : ''}
export const cache = new CacheCluster("${p.name}-cache", {
  evictionPolicy: "${p.evictionPolicy}",
});

// Views per item, reset daily.
export const itemViews = new IntKeyspace<number>(cache, {
  keyPattern: "views/:key",
  defaultExpiry: expireInHours(24),
});

export const sessions = new StringKeyspace<string>(cache, {
  keyPattern: "session/:key",
  defaultExpiry: expireInMinutes(30),
});

export const tags = new StringSetKeyspace<number>(cache, {
  keyPattern: "tags/:key",
});

export interface PriceKey {
  itemId: number;
  currency: string;
}

export interface CachedPrice {
  cents: number;
  fetchedAt: string;
}

export const prices = new StructKeyspace<PriceKey, CachedPrice>(cache, {
  keyPattern: "price/:itemId/:currency",
  defaultExpiry: expireInMinutes(10),
});
`;
  if (p.sharedCache) {
    text += `
// Kept on ${p.sharedCache}'s cluster, which ${p.name} shares.
export const sharedLocks = new StringKeyspace<string>(${p.sharedCache}Cache, {
  keyPattern: "${p.name}/locks/:key",
  defaultExpiry: expireInMinutes(1),
});
`;
  }
  if (p.namedCache) {
    text += `
const ${p.namedCache}Cluster = CacheCluster.named("${p.namedCache}-cache");

export const remoteCounters = new IntKeyspace<string>(${p.namedCache}Cluster, {
  keyPattern: "${p.name}/counters/:key",
});
`;
  }
  return text;
}

function storageModule(p: ServicePlan): string {
  const config = [p.versioned ? '  versioned: true,' : '', p.public ? '  public: true,' : ''].filter(Boolean);
  let text = `import { Bucket } from "encore.dev/storage/objects";
import { decodeText, encodeText, objectKey } from "./util";

export const uploads = new Bucket("${p.name}-uploads", {
${config.length > 0 ? config.join('\n') : '  versioned: false,'}
});

export async function saveDocument(id: number, body: string): Promise<string> {
  const attrs = await uploads.upload(objectKey("doc", id), encodeText(body), { contentType: "application/json" });
  return attrs.etag;
}

export async function loadDocument(id: number): Promise<string | null> {
  if (!(await uploads.exists(objectKey("doc", id)))) return null;
  return decodeText(await uploads.download(objectKey("doc", id)));
}

export async function documentSize(id: number): Promise<number> {
  return (await uploads.attrs(objectKey("doc", id))).size;
}

export async function listDocuments(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of uploads.list({ prefix: "doc/" })) names.push(entry.name);
  return names;
}

export async function removeDocument(id: number): Promise<void> {
  await uploads.remove(objectKey("doc", id));
}

export async function removeDocumentNamed(name: string): Promise<void> {
  await uploads.remove(name);
}

export async function uploadUrl(id: number): Promise<string> {
  return (await uploads.signedUploadUrl(objectKey("doc", id), { ttl: 600 })).url;
}

export async function downloadUrl(id: number): Promise<string> {
  return (await uploads.signedDownloadUrl(objectKey("doc", id), { ttl: 300 })).url;
}
`;
  if (p.public) {
    text += `
export function publicLink(id: number): string {
  return uploads.publicUrl(objectKey("doc", id));
}
`;
  }
  return text;
}

function configModule(p: ServicePlan): string {
  return `import { secret } from "encore.dev/config";
import { hashText } from "./util";

// Set per environment with \`encore secret set\`; never committed.
const apiKey = secret("${p.pascal}ApiKey");
const signingKey = secret("SharedSigningKey");

export function authorizationHeader(): string {
  return \`Bearer \${apiKey()}\`;
}

export function sign(payload: string): string {
  return hashText(\`\${signingKey()}:\${payload}\`);
}
`;
}

function metricsModule(p: ServicePlan): string {
  const imports = p.gaugeGroup ? 'Counter, CounterGroup, Gauge, GaugeGroup' : 'Counter, CounterGroup, Gauge';
  let text = `import { ${imports} } from "encore.dev/metrics";

export const requestsTotal = new Counter("${p.name}_requests_total");

export interface ErrorLabels {
  kind: string;
  retryable: boolean;
}

export const errorsTotal = new CounterGroup<ErrorLabels>("${p.name}_errors_total");

export const queueDepth = new Gauge("${p.name}_queue_depth");
`;
  if (p.gaugeGroup) {
    text += `
export interface RegionLabels {
  region: string;
}

export const latencyByRegion = new GaugeGroup<RegionLabels>("${p.name}_latency_seconds");
`;
  }
  return text;
}

function utilModule(p: ServicePlan): string {
  return `// Plain helpers of the ${p.name} service; no Encore resources here.

export const PAGE_SIZE = ${p.pageSize};

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

export function objectKey(prefix: string, id: number): string {
  return \`\${prefix}/\${id.toString().padStart(${p.index % 4 + 6}, "0")}.json\`;
}

export function encodeText(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function decodeText(data: Uint8Array): string {
  let text = "";
  for (const byte of data) text += String.fromCharCode(byte);
  return text;
}

export function hashText(text: string): string {
  let h = ${(p.index * 2654435761) >>> 0};
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0");
}
`;
}

function authHandlerModule(): string {
  return `import { APIError, Gateway, Header } from "encore.dev/api";
import { authHandler } from "encore.dev/auth";
import { secret } from "encore.dev/config";
import { hashText } from "./util";

const sessionKey = secret("SessionSigningKey");

interface AuthParams {
  authorization: Header<"Authorization">;
}

export interface AuthData {
  userID: string;
}

export const auth = authHandler<AuthParams, AuthData>(async (params) => {
  const token = params.authorization.replace(/^Bearer /, "");
  const [userID, signature] = token.split(".");
  if (!userID || !signature) throw APIError.unauthenticated("missing token");
  if (hashText(\`\${sessionKey()}:\${userID}\`) !== signature) throw APIError.unauthenticated("invalid token");
  return { userID };
});

export const gateway = new Gateway({ authHandler: auth });
`;
}

/** What Encore generates as ~encore/clients (under encore.gen, which the walk skips). */
function clientsModule(names: string[]): string {
  return `// Generated service clients, as Encore writes them to encore.gen/clients.\n${names
    .map((n) => `export * as ${n} from "../../${n}/api";`)
    .join('\n')}\n`;
}

function authModule(authService: string): string {
  return `// Generated, as Encore writes it to encore.gen/auth.
import type { AuthData } from "../../${authService}/auth";

export declare function getAuthData(): AuthData | null;
`;
}

const PACKAGE_JSON = {
  name: 'synthetic-encore-app',
  private: true,
  version: '0.0.1',
  description: 'A synthetic Encore.ts app written by test/bench/synthetic-app.ts for the analyzer benchmark',
  type: 'module',
  dependencies: { 'encore.dev': '^1.50.0' },
  devDependencies: { typescript: '^5.8.0' },
};

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022'],
    module: 'ES2022',
    moduleResolution: 'bundler',
    types: [],
    paths: { '~encore/*': ['./encore.gen/*'] },
    strict: true,
    noEmit: true,
    isolatedModules: true,
    skipLibCheck: true,
  },
  include: ['**/*.ts'],
};

const ENCORE_DEV_DTS = `// Ambient declarations of the parts of the encore.dev SDK the synthetic app uses, so the app type-checks with
// "tsc --noEmit -p ." without installing encore.dev. Written by test/bench/synthetic-app.ts. Each module is
// self-contained (no imports), so Encore's parser finds no resources here.

declare module "encore.dev/api" {
  export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "TRACE" | "CONNECT" | "*";

  export interface APIOptions {
    method?: Method | Method[];
    path?: string;
    expose?: boolean;
    auth?: boolean;
    bodyLimit?: number | null;
    tags?: string[];
    sensitive?: boolean;
  }

  export interface StaticOptions {
    dir: string;
    path?: string;
    expose?: boolean;
    auth?: boolean;
    notFound?: string;
    notFoundStatus?: number;
    headers?: Record<string, string | string[]>;
  }

  export interface IncomingMessage {
    method?: string;
    url?: string;
    headers: Record<string, string | string[] | undefined>;
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  }

  export interface ServerResponse {
    statusCode: number;
    setHeader(name: string, value: string | number): void;
    end(body?: string | Uint8Array): void;
  }

  export type Header<Name extends string = string, T extends string | number | boolean = string> = T & { readonly __header?: Name };
  export type Query<T extends string | number | boolean = string, Name extends string = string> = T & { readonly __query?: Name };

  export interface StreamOut<T> {
    send(message: T): Promise<void>;
    close(): Promise<void>;
  }

  export interface StreamIn<T> extends AsyncIterable<T> {
    recv(): Promise<T>;
  }

  export interface StreamInOut<I, O> extends StreamIn<I>, StreamOut<O> {}

  export interface StaticAssets {
    readonly dir: string;
  }

  export type Endpoint<P, R> = (params: P) => Promise<R>;
  export type RawEndpoint = (req: IncomingMessage, resp: ServerResponse) => Promise<void>;
  export type StreamOutEndpoint<H, O> = (handshake: H) => Promise<AsyncIterable<O>>;

  export interface Api {
    <R = void>(options: APIOptions, fn: () => Promise<R>): () => Promise<R>;
    <P, R = void>(options: APIOptions, fn: (params: P) => Promise<R>): Endpoint<P, R>;
    raw(options: APIOptions, fn: (req: IncomingMessage, resp: ServerResponse) => Promise<void>): RawEndpoint;
    streamOut<H, O>(options: APIOptions, fn: (handshake: H, stream: StreamOut<O>) => Promise<void>): StreamOutEndpoint<H, O>;
    streamOut<O>(options: APIOptions, fn: (stream: StreamOut<O>) => Promise<void>): StreamOutEndpoint<void, O>;
    streamIn<I, R>(options: APIOptions, fn: (stream: StreamIn<I>) => Promise<R>): () => Promise<R>;
    streamInOut<I, O>(options: APIOptions, fn: (stream: StreamInOut<I, O>) => Promise<void>): () => Promise<void>;
    static(options: StaticOptions): StaticAssets;
  }

  export const api: Api;

  export class APIError extends Error {
    readonly code: string;
    static notFound(message: string): APIError;
    static invalidArgument(message: string): APIError;
    static unauthenticated(message: string): APIError;
    static permissionDenied(message: string): APIError;
    static internal(message: string): APIError;
  }

  export interface GatewayConfig {
    authHandler?: unknown;
  }

  export class Gateway {
    constructor(config: GatewayConfig);
  }
}

declare module "encore.dev/auth" {
  export type AuthHandler<P, A> = (params: P) => Promise<A | null>;
  export function authHandler<P, A>(fn: (params: P) => Promise<A | null>): AuthHandler<P, A>;
}

declare module "encore.dev/service" {
  export interface ServiceConfig {
    middlewares?: unknown[];
  }
  export class Service {
    constructor(name: string, config?: ServiceConfig);
    readonly name: string;
  }
}

declare module "encore.dev/log" {
  export type Fields = Record<string, string | number | boolean | null | undefined>;
  export interface Logger {
    info(message: string, fields?: Fields): void;
    warn(message: string, fields?: Fields): void;
    error(message: string, fields?: Fields): void;
    with(fields: Fields): Logger;
  }
  const log: Logger;
  export default log;
}

declare module "encore.dev/config" {
  export type Secret<Name extends string> = (() => string) & { readonly __secret?: Name };
  export function secret<Name extends string>(name: Name): Secret<Name>;
}

declare module "encore.dev/storage/sqldb" {
  export type MigrationsConfig = string | { path: string; source?: "prisma" | "drizzle" | "drizzle/v1" };
  export interface SQLDatabaseConfig {
    migrations?: MigrationsConfig;
  }
  export type Row = Record<string, unknown>;
  export class SQLDatabase {
    constructor(name: string, config?: SQLDatabaseConfig);
    static named(name: string): SQLDatabase;
    readonly connectionString: string;
    query<T = Row>(strings: TemplateStringsArray, ...params: unknown[]): AsyncGenerator<T>;
    queryRow<T = Row>(strings: TemplateStringsArray, ...params: unknown[]): Promise<T | null>;
    queryAll<T = Row>(strings: TemplateStringsArray, ...params: unknown[]): Promise<T[]>;
    exec(strings: TemplateStringsArray, ...params: unknown[]): Promise<void>;
    rawQueryRow<T = Row>(query: string, ...params: unknown[]): Promise<T | null>;
    rawQueryAll<T = Row>(query: string, ...params: unknown[]): Promise<T[]>;
    rawExec(query: string, ...params: unknown[]): Promise<void>;
  }
}

declare module "encore.dev/pubsub" {
  export type DeliveryGuarantee = "at-least-once" | "exactly-once";
  export interface TopicConfig<T> {
    deliveryGuarantee?: DeliveryGuarantee;
    orderingAttribute?: keyof T & string;
  }
  export interface Publisher<T> {
    publish(message: T): Promise<string>;
  }
  export class Topic<T extends object> implements Publisher<T> {
    constructor(name: string, config: TopicConfig<T>);
    readonly name: string;
    publish(message: T): Promise<string>;
    ref<P extends Publisher<T>>(): P;
  }
  export interface RetryPolicy {
    minBackoff?: string;
    maxBackoff?: string;
    maxRetries?: number;
  }
  export interface SubscriptionConfig<T> {
    handler: (message: T) => Promise<void>;
    maxConcurrency?: number;
    ackDeadline?: string;
    messageRetention?: string;
    retryPolicy?: RetryPolicy;
  }
  export class Subscription<T extends object> {
    constructor(topic: Topic<T>, name: string, config: SubscriptionConfig<T>);
  }
}

declare module "encore.dev/cron" {
  export interface CronJobConfig {
    title?: string;
    endpoint: () => Promise<unknown>;
    every?: string;
    schedule?: string;
  }
  export class CronJob {
    constructor(name: string, config: CronJobConfig);
  }
}

declare module "encore.dev/storage/cache" {
  export type EvictionPolicy =
    | "noeviction"
    | "allkeys-lru"
    | "allkeys-lfu"
    | "allkeys-random"
    | "volatile-lru"
    | "volatile-lfu"
    | "volatile-ttl"
    | "volatile-random";
  export interface CacheClusterConfig {
    evictionPolicy?: EvictionPolicy;
  }
  export class CacheCluster {
    constructor(name: string, config?: CacheClusterConfig);
    static named(name: string): CacheCluster;
  }
  export interface Expiry {
    readonly __expiry?: true;
  }
  export function expireIn(ms: number): Expiry;
  export function expireInSeconds(seconds: number): Expiry;
  export function expireInMinutes(minutes: number): Expiry;
  export function expireInHours(hours: number): Expiry;
  export function expireDailyAt(hour: number, minute: number, second: number): Expiry;
  export const neverExpire: Expiry;
  export const keepTTL: Expiry;
  export interface KeyspaceConfig {
    keyPattern: string;
    defaultExpiry?: Expiry;
  }
  export interface WriteOptions {
    expiry?: Expiry;
  }
  class Keyspace<K> {
    constructor(cluster: CacheCluster, config: KeyspaceConfig);
    delete(...keys: K[]): Promise<void>;
    expire(key: K, expiry: Expiry): Promise<void>;
  }
  export class StringKeyspace<K> extends Keyspace<K> {
    get(key: K): Promise<string | undefined>;
    set(key: K, value: string, options?: WriteOptions): Promise<void>;
    append(key: K, value: string): Promise<number>;
  }
  export class IntKeyspace<K> extends Keyspace<K> {
    get(key: K): Promise<number | undefined>;
    set(key: K, value: number, options?: WriteOptions): Promise<void>;
    increment(key: K, delta?: number): Promise<number>;
    decrement(key: K, delta?: number): Promise<number>;
  }
  export class FloatKeyspace<K> extends Keyspace<K> {
    get(key: K): Promise<number | undefined>;
    set(key: K, value: number, options?: WriteOptions): Promise<void>;
    increment(key: K, delta?: number): Promise<number>;
  }
  export class StringListKeyspace<K> extends Keyspace<K> {
    pushRight(key: K, ...values: string[]): Promise<number>;
    getRange(key: K, from: number, to: number): Promise<string[]>;
  }
  export class NumberListKeyspace<K> extends Keyspace<K> {
    pushRight(key: K, ...values: number[]): Promise<number>;
    getRange(key: K, from: number, to: number): Promise<number[]>;
  }
  export class StringSetKeyspace<K> extends Keyspace<K> {
    add(key: K, ...values: string[]): Promise<number>;
    contains(key: K, value: string): Promise<boolean>;
    items(key: K): Promise<string[]>;
  }
  export class NumberSetKeyspace<K> extends Keyspace<K> {
    add(key: K, ...values: number[]): Promise<number>;
    contains(key: K, value: number): Promise<boolean>;
  }
  export class StructKeyspace<K, V> extends Keyspace<K> {
    get(key: K): Promise<V | undefined>;
    set(key: K, value: V, options?: WriteOptions): Promise<void>;
  }
}

declare module "encore.dev/storage/objects" {
  export interface BucketConfig {
    public?: boolean;
    versioned?: boolean;
  }
  export interface ObjectAttrs {
    name: string;
    size: number;
    version?: string;
    etag: string;
    contentType?: string;
  }
  export interface ListEntry {
    name: string;
    size: number;
    etag: string;
  }
  export interface UploadOptions {
    contentType?: string;
    preconditions?: { notExists?: boolean };
  }
  export interface SignedUrlOptions {
    ttl?: number;
  }
  export interface Lister {
    list(options?: { prefix?: string; limit?: number }): AsyncGenerator<ListEntry>;
  }
  export interface Attrser {
    attrs(name: string): Promise<ObjectAttrs>;
    exists(name: string): Promise<boolean>;
  }
  export interface Uploader {
    upload(name: string, data: Uint8Array, options?: UploadOptions): Promise<ObjectAttrs>;
  }
  export interface SignedUploader {
    signedUploadUrl(name: string, options?: SignedUrlOptions): Promise<{ url: string }>;
  }
  export interface Downloader {
    download(name: string): Promise<Uint8Array>;
  }
  export interface SignedDownloader {
    signedDownloadUrl(name: string, options?: SignedUrlOptions): Promise<{ url: string }>;
  }
  export interface Remover {
    remove(name: string): Promise<void>;
  }
  export interface PublicUrler {
    publicUrl(name: string): string;
  }
  export class Bucket
    implements Lister, Attrser, Uploader, SignedUploader, Downloader, SignedDownloader, Remover, PublicUrler
  {
    constructor(name: string, config?: BucketConfig);
    static named(name: string): Bucket;
    list(options?: { prefix?: string; limit?: number }): AsyncGenerator<ListEntry>;
    attrs(name: string): Promise<ObjectAttrs>;
    exists(name: string): Promise<boolean>;
    upload(name: string, data: Uint8Array, options?: UploadOptions): Promise<ObjectAttrs>;
    signedUploadUrl(name: string, options?: SignedUrlOptions): Promise<{ url: string }>;
    download(name: string): Promise<Uint8Array>;
    signedDownloadUrl(name: string, options?: SignedUrlOptions): Promise<{ url: string }>;
    remove(name: string): Promise<void>;
    publicUrl(name: string): string;
    ref<P>(): P;
  }
}

declare module "encore.dev/metrics" {
  export type Labels = Record<string, string | number | boolean>;
  export interface MetricConfig {}
  export class Counter {
    constructor(name: string, config?: MetricConfig);
    increment(value?: number): void;
  }
  export class CounterGroup<L extends object> {
    constructor(name: string, config?: MetricConfig);
    with(labels: L): Counter;
  }
  export class Gauge {
    constructor(name: string, config?: MetricConfig);
    set(value: number): void;
  }
  export class GaugeGroup<L extends object> {
    constructor(name: string, config?: MetricConfig);
    with(labels: L): Gauge;
  }
}
`;

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name: string): number | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const value = Number(args.splice(i, 2)[1]);
    if (!Number.isInteger(value)) throw new Error(`${name} needs an integer`);
    return value;
  };
  const services = option('--services');
  const seed = option('--seed');
  if (args.length !== 1) {
    console.error('usage: node --import tsx test/bench/synthetic-app.ts <dir> [--services N] [--seed N]');
    process.exit(2);
  }
  const { root, files } = generateSyntheticApp(args[0], { services, seed });
  console.log(`${root}: ${files} files`);
}
