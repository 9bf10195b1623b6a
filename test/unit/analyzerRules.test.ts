// Every rule of Encore's parser that the analyzer reports, one small app each: the exact message and the exact range
// (marked ⟦…⟧ in the source). Each app must produce that diagnostic and nothing else. A rule that depends on how a
// resource is bound or on a path literal states which of Encore's lookups it mirrors (`lookup`); the accepted forms
// of both are in analyzerFixtures.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Severity } from '../../src/model/appModel';
import { testApp } from './analyzerApp';

const SQL = 'import { SQLDatabase } from "encore.dev/storage/sqldb";\n';
const API = 'import { api } from "encore.dev/api";\n';
const GW = 'import { api, Gateway, type Header } from "encore.dev/api";\nimport { authHandler } from "encore.dev/auth";\n';
const PUBSUB = 'import { Topic, Subscription } from "encore.dev/pubsub";\n';
const CRON = 'import { CronJob } from "encore.dev/cron";\nimport { api } from "encore.dev/api";\nexport const ep = api({}, async () => {});\n';
const CACHE = 'import { CacheCluster, StringKeyspace, StructKeyspace, IntKeyspace } from "encore.dev/storage/cache";\n';
const CLUSTER = `${CACHE}export const c = new CacheCluster("c", {});\n`;
const BUCKET = 'import { Bucket } from "encore.dev/storage/objects";\n';
const SECRET = 'import { secret } from "encore.dev/config";\n';
const METRICS = 'import { Counter, GaugeGroup } from "encore.dev/metrics";\n';
const SERVICE = 'import { Service } from "encore.dev/service";\n';
const TOPIC = `${PUBSUB}export const t = new Topic<{ a: string }>("t", { deliveryGuarantee: "at-least-once" });\n`;

/** Encore's bind lookup (parseutil): the nearest enclosing variable declaration whose initializer holds the call. */
const BIND = 'bind: nearest enclosing variable declaration';
/** Encore's bind lookup, and the `export default` it meets first. */
const BIND_DEFAULT = 'bind: nearest enclosing variable declaration or export default';
/** Encore's local relative path literal (LocalRelPath): parts are names or "."; no "..", not absolute, not empty. */
const PATH = 'path: local relative path';
/** Encore's secret parser: the enclosing functions of the call. */
const GLOBAL = 'secret: no enclosing function';

/** The messages that depend on a bind or a path: every rule giving one must say which lookup it mirrors. */
const LOOKUP_MESSAGES = [
  /^expected identifier as bind name$/, /^service definitions should not be bound/, /^service must be default export$/,
  /^API endpoint must be bound/, /^auth handler must be bound/, /^gateway must be bound/, /^secrets must be/, /^invalid path /,
  /^unable to read static assets directory/, /^file does not exist$/, /^migrations (directory does not exist|path is not)/,
];

interface Rule {
  files: Record<string, string>;
  /** Which of Encore's lookups the rule mirrors, for rules that depend on a bind or a path. */
  lookup?: string;
  message: string;
  severity?: Severity;
  withService?: boolean;
  /** Further diagnostics the same mistake causes, checked by message. */
  others?: string[];
}

const rules: Record<string, Rule> = {
  // ---- literals ----
  'config that is not an object literal': {
    files: { 'svc/db.ts': `${SQL}const cfg = {};\nexport const db = new SQLDatabase("x", ⟦cfg⟧);\n` },
    message: 'expected object literal',
  },
  'spread in a config': {
    files: { 'svc/db.ts': `${SQL}const base = {};\nexport const db = new SQLDatabase("x", { ⟦...base⟧ });\n` },
    message: 'spread operator unsupported',
  },
  'shorthand property in a config': {
    files: { 'svc/db.ts': `${SQL}const migrations = "./m";\nexport const db = new SQLDatabase("x", { ⟦migrations⟧ });\n` },
    message: 'prop type shorthand property not supported: write "migrations: migrations"',
  },
  'method in a config': {
    files: { 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", { ⟦migrations() { return "./m"; }⟧ });\n` },
    message: 'prop type method not supported',
  },
  'unknown key in a config': {
    files: { 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", { ⟦size⟧: 10 });\n` },
    message: 'unexpected field "size"',
  },
  'key set twice': {
    files: { 'svc/b.ts': `${BUCKET}export const b = new Bucket("b", { versioned: true, ⟦versioned⟧: false });\n` },
    message: 'field versioned set twice',
  },
  'resource name that is not a string literal': {
    files: { 'svc/db.ts': `${SQL}const name = "x";\nexport const db = new SQLDatabase(⟦name⟧);\n` },
    message: 'expected string literal',
  },
  'template string as a name': {
    files: { 'svc/db.ts': `${SQL}export const db = new SQLDatabase(⟦\`x\`⟧);\n` },
    message: 'expected string literal',
  },
  'missing resource name': {
    files: { 'svc/db.ts': `${SQL}export const db = ⟦new SQLDatabase()⟧;\n` },
    message: 'missing resource name as argument[0]',
  },
  'missing constructor arguments': {
    files: { 'svc/db.ts': `${SQL}// @ts-ignore\nexport const db = ⟦new SQLDatabase⟧;\n` },
    message: 'missing constructor arguments',
  },
  'boolean that is not a literal': {
    files: { 'svc/b.ts': `${BUCKET}export const b = new Bucket("b", { public: ⟦"yes"⟧ });\n` },
    message: 'expected boolean literal',
  },
  'inexact integer division': {
    files: { 'svc/s.ts': `${TOPIC}export const s = new Subscription(t, "s", { handler: async () => {}, maxConcurrency: ⟦7 / 2⟧ });\n` },
    message: 'inexact division',
  },
  'path outside the module': {
    lookup: PATH,
    files: { 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", { migrations: ⟦"../m"⟧ });\n` },
    message: 'invalid path "../m": expected a local relative path (not empty, no ".." and not absolute)',
  },
  'absolute path': {
    lookup: PATH,
    files: { 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", { migrations: ⟦"/srv/migrations"⟧ });\n` },
    message: 'invalid path "/srv/migrations": expected a local relative path (not empty, no ".." and not absolute)',
  },
  'empty path': {
    lookup: PATH,
    files: { 'svc/s.ts': `${API}export const s = api.static({ path: "/s/*p", dir: ⟦""⟧ });\n` },
    message: 'invalid path "": expected a local relative path (not empty, no ".." and not absolute)',
  },
  '".." after "." parts': {
    lookup: PATH,
    files: { 'svc/public/': '', 'svc/s.ts': `${API}export const s = api.static({ path: "/s/*p", dir: "./public", notFound: ⟦"./public/./../x.html"⟧ });\n` },
    message: 'invalid path "./public/./../x.html": expected a local relative path (not empty, no ".." and not absolute)',
  },
  'a destructuring declaration enclosing the resource': {
    lookup: BIND,
    files: { 'svc/s.ts': `${SECRET}export const ⟦[a, b]⟧ = [secret("A"), secret("B")];\n` },
    message: 'expected identifier as bind name',
    others: ['expected identifier as bind name'],
  },
  'destructured bind': {
    lookup: BIND,
    files: { 'svc/t.ts': `${PUBSUB}export const ⟦{ publish }⟧ = new Topic<{ a: string }>("t", {});\n` },
    message: 'expected identifier as bind name',
  },

  // ---- services ----
  'Service outside encore.service.ts': {
    files: { 'svc/other.ts': `${SERVICE}export default ⟦new Service("x")⟧;\n` },
    message: 'service declarations are only allowed in encore.service.ts',
  },
  'Service not the default export': {
    lookup: BIND_DEFAULT,
    files: { 'svc/encore.service.ts': `${SERVICE}⟦new Service("svc")⟧;\n` },
    message: 'service must be default export',
  },
  'Service bound to a variable': {
    lookup: BIND_DEFAULT,
    files: { 'svc/encore.service.ts': `${SERVICE}const s = ⟦new Service("svc")⟧;\nexport default s;\n` },
    message: 'service definitions should not be bound to a variable',
  },
  'two Services in one module': {
    files: { 'svc/encore.service.ts': `${SERVICE}export default new Service("svc");\n⟦new Service("other")⟧;\n` },
    message: 'cannot have multiple service declarations in the same module',
  },
  'encore.service.ts without a Service': {
    files: { 'svc/encore.service.ts': '⟦⟧export const x = 1;\n' },
    message: 'encore.service.ts must define a Service resource',
  },
  'a service nested in another': {
    files: { 'svc/inner/encore.service.ts': `${SERVICE}export default ⟦new Service("inner")⟧;\n` },
    message: 'service inner cannot be contained within service svc',
  },
  'two services with one name': {
    files: { 'zzz/encore.service.ts': `${SERVICE}export default new Service(⟦"svc"⟧);\n` },
    message: 'service svc defined twice',
  },

  // ---- endpoints ----
  'endpoint not exported': {
    lookup: BIND,
    files: { 'svc/api.ts': `${API}const hello = ⟦api({}, async () => {})⟧;\n` },
    message: 'API endpoint must be bound to an exported variable',
  },
  'endpoint without config': {
    files: { 'svc/api.ts': `${API}// @ts-ignore\nexport const hello = ⟦api()⟧;\n` },
    message: 'API endpoint must have a config object as its first argument',
  },
  'endpoint without handler': {
    files: { 'svc/api.ts': `${API}// @ts-ignore\nexport const hello = ⟦api({})⟧;\n` },
    message: 'API endpoint must have a handler function as its second argument',
  },
  'handler with type parameters': {
    files: { 'svc/api.ts': `${API}export const hello = api({}, ⟦async <T>(x: T) => {}⟧);\n` },
    message: 'endpoint handler cannot have type parameters',
  },
  'unknown HTTP method': {
    files: { 'svc/api.ts': `${API}export const hello = api({ method: ⟦"FETCH"⟧ }, async () => {});\n` },
    message: 'invalid method: invalid method',
  },
  '* mixed with methods': {
    files: { 'svc/api.ts': `${API}export const hello = api({ method: ⟦["*", "GET"]⟧ }, async () => {});\n` },
    message: 'invalid methods: cannot mix * and other methods',
  },
  'method that is neither string nor array': {
    files: { 'svc/api.ts': `${API}export const hello = api({ method: ⟦42⟧ }, async () => {});\n` },
    message: 'invalid methods: must be string or array of strings',
  },
  'path without leading slash': {
    files: { 'svc/api.ts': `${API}export const hello = api({ path: ⟦"hello"⟧ }, async () => {});\n` },
    message: "path must start with '/'",
  },
  'empty path segment': {
    files: { 'svc/api.ts': `${API}export const hello = api({ path: ⟦"/a//b"⟧ }, async () => {});\n` },
    message: 'path cannot contain empty path segment',
  },
  'wildcard not last': {
    files: { 'svc/api.ts': `${API}export const hello = api({ path: ⟦"/a/*rest/b"⟧ }, async () => {});\n` },
    message: 'wildcard segment must be at the end of the path',
  },
  'two endpoints with one name in a service': {
    files: {
      'svc/a.ts': `${API}export const hello = api({ path: "/a" }, async () => {});\n`,
      'svc/b.ts': `${API}export const hello = ⟦api({ path: "/b" }, async () => {})⟧;\n`,
    },
    message: 'api endpoints with conflicting names defined within the same service',
  },
  'two endpoints with one route': {
    files: {
      'svc/a.ts': `${API}export const a = api({ method: "GET", path: "/items/:id" }, async (req: { id: string }) => {});\n`,
      'svc/b.ts': `${API}export const b = api({ method: ["GET", "POST"], path: ⟦"/items/:key"⟧ }, async (req: { key: string }) => {});\n`,
    },
    message: 'api endpoints with conflicting paths defined',
  },
  'stream without type parameters': {
    files: { 'svc/s.ts': `${API}export const s = ⟦api.streamOut({}, async (stream) => {})⟧;\n` },
    message: 'missing type parameters in call to streamOut',
  },
  'stream with too many type parameters': {
    files: { 'svc/s.ts': `${API}export const s = ⟦api.streamOut<{ a: 1 }, { b: 2 }>({}, async (stream) => {})⟧;\n` },
    message: 'wrong number of type parameters, expected 1, found 2',
  },
  'path parameters without a request type': {
    files: { 'svc/api.ts': `${API}export const get = api({ path: ⟦"/items/:id"⟧ }, async () => {});\n` },
    message: 'request schema must be defined when having path parameters',
  },
  'path parameter missing from the request type': {
    files: { 'svc/api.ts': `${API}interface Req { key: string }\nexport const get = api({ path: ⟦"/items/:id"⟧ }, async (req: Req) => {});\n` },
    message: 'path parameter not found in request schema: id',
  },
  'request type that is not an interface': {
    files: { 'svc/api.ts': `${API}export const get = api({}, async (req: ⟦string⟧) => {});\n` },
    message: 'request and response types must be interfaces or void',
  },
  'static without dir': {
    files: { 'svc/s.ts': `${API}export const s = api.static(⟦{ path: "/s/*p" }⟧);\n` },
    message: "static assets must have the 'dir' field set",
  },
  'static dir that does not exist': {
    lookup: PATH,
    files: { 'svc/s.ts': `${API}export const s = api.static({ path: "/s/*p", dir: ⟦"./public"⟧ });\n` },
    message: "unable to read static assets directory: ENOENT: no such file or directory, stat '{root}/svc/public'",
  },
  'static path with two dynamic segments': {
    files: { 'svc/public/': '', 'svc/s.ts': `${API}export const s = api.static({ path: ⟦"/s/:a/*p"⟧, dir: "./public" });\n` },
    message: 'static assets path cannot contain multiple dynamic segments',
  },
  'static notFound that does not exist': {
    lookup: PATH,
    files: { 'svc/public/': '', 'svc/s.ts': `${API}export const s = api.static({ path: "/s/*p", dir: "./public", notFound: ⟦"./404.html"⟧ });\n` },
    message: 'file does not exist',
  },
  'static header value that is not a string': {
    files: { 'svc/public/': '', 'svc/s.ts': `${API}export const s = api.static({ path: "/s/*p", dir: "./public", headers: { "x-a": ⟦1⟧ } });\n` },
    message: 'header value must be a string or array of strings',
  },

  // ---- auth and gateway ----
  'auth handler not bound': {
    lookup: BIND,
    files: { 'svc/auth.ts': `${GW}⟦authHandler<{ a: Header<"A"> }, { b: string }>(async () => ({ b: "" }))⟧;\n` },
    message: 'auth handler must be bound to a variable',
  },
  'auth handler without a function': {
    files: { 'svc/auth.ts': `${GW}// @ts-ignore\nexport const h = ⟦authHandler<{ a: Header<"A"> }, { b: string }>()⟧;\n` },
    message: 'auth handler must have a handler function as its first argument',
  },
  'auth handler without a parameter type': {
    files: { 'svc/auth.ts': `${GW}export const h = authHandler(⟦async (p): Promise<{ b: string }> => ({ b: "" })⟧);\n` },
    message: 'auth handler must have an explicitly defined parameter type',
  },
  'auth handler parameters that are neither Header nor Query': {
    files: { 'svc/auth.ts': `${GW}export const h = authHandler<{ a: Header<"A">; ⟦b: string⟧ }, { c: string }>(async () => ({ c: "" }));\n` },
    message: 'authHandler parameter type can only consist of Query and Header fields',
  },
  'two auth handlers': {
    files: {
      'svc/a.ts': `${GW}export const a = authHandler<{ a: Header<"A"> }, { b: string }>(async () => ({ b: "" }));\n`,
      'svc/b.ts': `${GW}export const b = ⟦authHandler<{ a: Header<"A"> }, { b: string }>(async () => ({ b: "" }))⟧;\n`,
    },
    message: 'only one auth handler can be defined per application',
  },
  'gateway without config': {
    files: { 'svc/gw.ts': `${GW}// @ts-ignore\nexport const gw = ⟦new Gateway()⟧;\n` },
    message: 'missing config object',
  },
  'gateway with an unknown auth handler': {
    files: { 'svc/gw.ts': `${GW}const h = 1;\nexport const gw = new Gateway({ authHandler: ⟦h⟧ });\n` },
    message: 'cannot resolve auth handler',
  },
  'two gateways': {
    files: {
      'svc/a.ts': `${GW}export const a = new Gateway({});\n`,
      'svc/b.ts': `${GW}export const b = ⟦new Gateway({})⟧;\n`,
    },
    message: 'multiple gateways not yet supported',
  },
  'gateway outside every service': {
    lookup: BIND,
    withService: false,
    files: { 'gw.ts': `${GW}⟦new Gateway({})⟧;\n` },
    message: 'unable to determine service for gateway',
    // The generated entrypoints import the gateway by name, so Encore's build also needs it exported.
    others: ['gateway must be bound to an exported variable'],
  },

  // ---- SQL databases ----
  'unknown migration source': {
    files: { 'svc/m/': '', 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", { migrations: { path: "./m", source: ⟦"flyway"⟧ } });\n` },
    message: 'unexpected value for migration file source: flyway',
  },
  'migrations directory missing': {
    lookup: PATH,
    files: { 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", { migrations: ⟦"./migrations"⟧ });\n` },
    message: 'migrations directory does not exist',
  },
  'migrations path is a file': {
    lookup: PATH,
    files: { 'svc/m.sql': 'x', 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", { migrations: ⟦"./m.sql"⟧ });\n` },
    message: 'migrations path is not a directory',
  },
  'badly named migration': {
    files: { 'svc/m/1_a.up.sql': '', 'svc/m/add_b.sql': '', 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", { migrations: ⟦"./m"⟧ });\n` },
    message: 'invalid migration filename: add_b.sql',
  },
  'two databases with one name': {
    files: {
      'svc/a.ts': `${SQL}export const a = new SQLDatabase("main", {});\n`,
      'svc/b.ts': `${SQL}export const b = new SQLDatabase(⟦"main"⟧, {});\n`,
    },
    message: 'SQL Database with this name already defined',
  },
  'named database that does not exist': {
    files: { 'svc/db.ts': `${SQL}export const db = SQLDatabase.named(⟦"nope"⟧);\n` },
    message: 'resource not found: SQLDatabase { name: "nope" }',
  },
  'database used as a function': {
    files: { 'svc/db.ts': `${SQL}export const db = new SQLDatabase("x", {});\n// @ts-ignore\n⟦db⟧();\n` },
    message: 'invalid use of database resource',
  },

  // ---- Pub/Sub ----
  'topic without message type': {
    files: { 'svc/t.ts': `${PUBSUB}export const t = ⟦new Topic("t", {})⟧;\n` },
    message: 'missing message type parameter',
  },
  'topic without config': {
    files: { 'svc/t.ts': `${PUBSUB}// @ts-ignore\nexport const t = ⟦new Topic<{ a: string }>("t")⟧;\n` },
    message: 'missing required config object',
  },
  'unknown delivery guarantee': {
    files: { 'svc/t.ts': `${PUBSUB}export const t = new Topic<{ a: string }>("t", { deliveryGuarantee: ⟦"at-most-once"⟧ });\n` },
    message: 'invalid delivery guarantee',
  },
  'two topics with one name': {
    files: { 'svc/t.ts': `${TOPIC}export const t2 = new Topic<{ a: string }>(⟦"t"⟧, {});\n` },
    message: 'PubSub topic with this name already defined',
  },
  'topic name that is not kebab-case': {
    files: { 'svc/t.ts': `${PUBSUB}export const t = new Topic<{ a: string }>(⟦"user.signup"⟧, {});\n` },
    message: "topic name 'user.signup' is not kebab-case (name must only contain lowercase letters, numbers, and dashes (got '.' at position 4)): Encore's TypeScript parser accepts it, but its Go parser and some clouds reject it",
    severity: 'warning',
  },
  'subscription to an expression': {
    files: { 'svc/s.ts': `${TOPIC}export const s = new Subscription(⟦[t][0]⟧, "s", { handler: async () => {} });\n` },
    message: 'cannot use this expression for PubSub topic reference',
  },
  'subscription to an unknown name': {
    files: { 'svc/s.ts': `${PUBSUB}declare const other: any;\nexport const s = new Subscription(⟦other⟧, "s", { handler: async () => {} });\n` },
    message: 'cannot resolve topic reference',
  },
  'subscription to something that is not a topic': {
    files: { 'svc/s.ts': `${PUBSUB}${BUCKET}export const b = new Bucket("b", {});\nexport const s = new Subscription(⟦b⟧, "s", { handler: async () => {} });\n` },
    message: 'topic not found',
  },
  'subscription without handler': {
    files: { 'svc/s.ts': `${TOPIC}export const s = new Subscription(t, "s", ⟦{ maxConcurrency: 2 }⟧);\n` },
    message: 'field handler is required but is missing',
  },
  'two subscriptions with one name on a topic': {
    files: { 'svc/s.ts': `${TOPIC}export const a = new Subscription(t, "s", { handler: async () => {} });\nexport const b = new Subscription(t, ⟦"s"⟧, { handler: async () => {} });\n` },
    message: 'PubSub subscription with this name already defined on this topic',
  },
  'subscription outside every service': {
    withService: false,
    files: { 'topics.ts': `${TOPIC}⟦new Subscription(t, "s", { handler: async () => {} })⟧;\n` },
    message: 'unable to determine which service the subscription belongs to',
  },
  'topic ref without type argument': {
    files: { 'svc/t.ts': `${TOPIC}export const r = ⟦t.ref()⟧;\n` },
    message: 'expected a type argument in call to Topic.ref',
  },
  'topic ref without Publisher': {
    files: { 'svc/t.ts': `${TOPIC}type Subscriber = {};\nexport const r = ⟦t.ref<Subscriber>()⟧;\n` },
    message: 'no topic permissions found in type argument',
  },
  'topic method that is not publish or ref': {
    files: { 'svc/t.ts': `${TOPIC}// @ts-ignore\nexport const f = () => ⟦t.subscribe()⟧;\n` },
    message: 'invalid topic usage',
  },
  'invalid duration': {
    files: { 'svc/s.ts': `${TOPIC}export const s = new Subscription(t, "s", { handler: async () => {}, ackDeadline: ⟦"10 seconds"⟧ });\n` },
    message: 'invalid duration "10 seconds": expected e.g. "10s", "500ms", "1h30m"',
  },

  // ---- cron ----
  'cron with neither every nor schedule': {
    files: { 'svc/c.ts': `${CRON}export const c = new CronJob("c", ⟦{ endpoint: ep }⟧);\n` },
    message: 'expected either `every` or `schedule` to be set',
  },
  'cron with both every and schedule': {
    files: { 'svc/c.ts': `${CRON}export const c = new CronJob("c", ⟦{ endpoint: ep, every: "1h", schedule: "* * * * *" }⟧);\n` },
    message: 'expected either `every` or `schedule` to be set, not both',
  },
  'cron every that is not whole minutes': {
    files: { 'svc/c.ts': `${CRON}export const c = new CronJob("c", { endpoint: ep, every: ⟦"90s"⟧ });\n` },
    message: '`every` must be a multiple of 60 seconds',
  },
  'cron every over a day': {
    files: { 'svc/c.ts': `${CRON}export const c = new CronJob("c", { endpoint: ep, every: ⟦"25h"⟧ });\n` },
    message: '`every` must be at most 24 hours',
  },
  'cron every that does not divide a day': {
    files: { 'svc/c.ts': `${CRON}export const c = new CronJob("c", { endpoint: ep, every: ⟦"7m"⟧ });\n` },
    message: "`every` should divide 24 hours evenly: Encore's Go parser rejects 7 minutes, and the schedule restarts at midnight",
    severity: 'warning',
  },
  'cron expression with 6 fields': {
    files: { 'svc/c.ts': `${CRON}export const c = new CronJob("c", { endpoint: ep, schedule: ⟦"0 * * * * *"⟧ });\n` },
    message: 'invalid cron expression: must have exactly 5 fields (minute, hour, day of month, month, day of week), e.g. "* * * * *".',
  },
  'cron schedule that is not a string': {
    files: { 'svc/c.ts': `${CRON}export const c = new CronJob("c", { endpoint: ep, schedule: ⟦5⟧ });\n` },
    message: 'expected cron expression',
  },
  'cron endpoint that does not resolve': {
    files: { 'svc/c.ts': `${CRON}declare const other: any;\nexport const c = new CronJob("c", { endpoint: ⟦other⟧, every: "1h" });\n` },
    message: 'cannot resolve endpoint',
  },
  'cron endpoint that is not an endpoint': {
    files: { 'svc/c.ts': `${CRON}${BUCKET}export const b = new Bucket("b", {});\nexport const c = new CronJob("c", { endpoint: ⟦b⟧, every: "1h" });\n` },
    message: 'endpoint not found',
  },
  'two cron jobs with one name': {
    files: { 'svc/c.ts': `${CRON}export const a = new CronJob("c", { endpoint: ep, every: "1h" });\nexport const b = new CronJob(⟦"c"⟧, { endpoint: ep, every: "2h" });\n` },
    message: 'cron job with this name already defined',
  },

  // ---- caches ----
  'unknown eviction policy': {
    files: { 'svc/c.ts': `${CACHE}export const c = new CacheCluster("c", { evictionPolicy: ⟦"lru"⟧ });\n` },
    message: 'invalid eviction policy: must be one of noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-ttl, volatile-random',
  },
  'two cache clusters with one name': {
    files: { 'svc/c.ts': `${CLUSTER}export const d = new CacheCluster(⟦"c"⟧, {});\n` },
    message: 'cache cluster with this name already defined (to use it in several places, export the original CacheCluster object and import it, or use CacheCluster.named())',
  },
  'keyspace without config': {
    files: { 'svc/c.ts': `${CLUSTER}// @ts-ignore\nexport const k = ⟦new StringKeyspace<string>(c)⟧;\n` },
    message: 'keyspace constructor requires cluster and config arguments',
  },
  'keyspace without key type': {
    files: { 'svc/c.ts': `${CLUSTER}export const k = ⟦new StringKeyspace(c, { keyPattern: "k/:key" })⟧;\n` },
    message: 'missing key type parameter',
  },
  'keyspace with any key': {
    files: { 'svc/c.ts': `${CLUSTER}export const k = new StringKeyspace<⟦any⟧>(c, { keyPattern: "k/:key" });\n` },
    message: "'any' is not supported as a cache key type",
  },
  'keyspace on an unknown cluster': {
    files: { 'svc/c.ts': `${CACHE}declare const c: any;\nexport const k = new StringKeyspace<string>(⟦c⟧, { keyPattern: "k/:key" });\n` },
    message: 'could not resolve cache cluster reference',
  },
  'reserved key prefix': {
    files: { 'svc/c.ts': `${CLUSTER}export const k = new StringKeyspace<string>(c, { keyPattern: ⟦"__encore/:key"⟧ });\n` },
    message: 'the prefix `__encore` is reserved for internal use by Encore',
  },
  'basic key with another parameter name': {
    files: { 'svc/c.ts': `${CLUSTER}export const k = new IntKeyspace<string>(c, { keyPattern: ⟦"k/:id"⟧ });\n` },
    message: "KeyPattern parameter must be named ':key' for basic (non-struct) key types",
  },
  'struct key field that is not basic': {
    files: { 'svc/c.ts': `${CLUSTER}export const k = new StructKeyspace<{ a: ⟦string[]⟧ }, { v: string }>(c, { keyPattern: "k/:a" });\n` },
    message: "cache key field 'a' must be a basic type (string, number, or boolean)",
  },
  'struct key field missing from the pattern': {
    files: { 'svc/c.ts': `${CLUSTER}interface Key { a: string; b: number }\nexport const k = new StructKeyspace<Key, { v: string }>(c, { keyPattern: ⟦"k/:a"⟧ });\n` },
    message: "cache key field 'b' is not used in the keyPattern",
  },
  'pattern parameter missing from the key': {
    files: { 'svc/c.ts': `${CLUSTER}export const k = new StructKeyspace<{ a: string }, { v: string }>(c, { keyPattern: ⟦"k/:a/:z"⟧ });\n` },
    message: "keyPattern parameter 'z' does not exist in the key type",
  },
  'struct value that is not an object type': {
    files: { 'svc/c.ts': `${CLUSTER}export const k = new StructKeyspace<{ a: string }, ⟦string⟧>(c, { keyPattern: "k/:a" });\n` },
    message: 'StructKeyspace value type must be an interface or object type',
  },

  // ---- buckets ----
  'bucket name that is not kebab-case': {
    files: { 'svc/b.ts': `${BUCKET}export const b = new Bucket(⟦"Profile_Pics"⟧, {});\n` },
    message: "invalid bucket name 'Profile_Pics': name must start with a lowercase letter (got 'P')",
  },
  'two buckets with one name': {
    files: { 'svc/b.ts': `${BUCKET}export const a = new Bucket("b", {});\nexport const b = new Bucket(⟦"b"⟧, {});\n` },
    message: 'bucket with this name already defined',
  },
  'unsupported bucket operation': {
    files: { 'svc/b.ts': `${BUCKET}export const b = new Bucket("b", {});\n// @ts-ignore\nexport const x = () => ⟦b.copy("a", "b")⟧;\n` },
    message: 'unsupported bucket operation',
  },
  'publicUrl on a private bucket': {
    files: { 'svc/b.ts': `${BUCKET}export const b = new Bucket("b", {});\nexport const x = () => ⟦b.publicUrl("a")⟧;\n` },
    message: 'cannot call publicUrl on a non-public bucket',
  },
  'bucket ref without type argument': {
    files: { 'svc/b.ts': `${BUCKET}export const b = new Bucket("b", {});\nexport const r = ⟦b.ref()⟧;\n` },
    message: 'expected a type argument in call to Bucket.ref',
  },
  'bucket ref without permissions': {
    files: { 'svc/b.ts': `${BUCKET}type Nothing = {};\nexport const b = new Bucket("b", {});\nexport const r = ⟦b.ref<Nothing>()⟧;\n` },
    message: 'no bucket permissions found in type argument',
  },
  'named bucket that does not exist': {
    files: { 'svc/b.ts': `${BUCKET}export const b = Bucket.named(⟦"nope"⟧);\n` },
    message: 'resource not found: Bucket { name: "nope" }',
  },

  // ---- secrets ----
  'secret inside a function': {
    lookup: GLOBAL,
    files: { 'svc/s.ts': `${SECRET}export function f() {\n  const s = ⟦secret("Key")⟧;\n  return s;\n}\n` },
    message: 'secrets must be defined globally',
  },
  'secret not bound': {
    lookup: BIND,
    files: { 'svc/s.ts': `${SECRET}⟦secret("Key")⟧;\n` },
    message: 'secrets must be bound to a variable',
  },
  'secret in a function, bound by a declaration outside it': {
    lookup: GLOBAL,
    files: { 'svc/s.ts': `${SECRET}export const read = () => ⟦secret("Key")⟧();\n` },
    message: 'secrets must be defined globally',
  },
  'secret in a call with no enclosing declaration': {
    lookup: BIND,
    files: { 'svc/s.ts': `${SECRET}console.log(⟦secret("Key")⟧());\n` },
    message: 'secrets must be bound to a variable',
  },
  'endpoint bound through a helper to a declaration that is not exported': {
    lookup: BIND,
    files: { 'svc/api.ts': `${API}const wrap = <T>(x: T) => x;\nconst hello = wrap(⟦api({}, async () => {})⟧);\n` },
    message: 'API endpoint must be bound to an exported variable',
  },
  'secret with a computed name': {
    files: { 'svc/s.ts': `${SECRET}const n = "Key";\nexport const s = ⟦secret(n)⟧;\n` },
    message: 'secret() takes a single argument, the name of the secret as a string literal',
  },
  'secret outside every service': {
    lookup: BIND,
    withService: false,
    files: { 'lib/s.ts': `${SECRET}export const s = ⟦secret("Key")⟧;\n` },
    message: 'secrets must be loaded from within services',
  },

  // ---- metrics ----
  'metric name that is not snake_case': {
    files: { 'svc/m.ts': `${METRICS}export const m = new Counter(⟦"orders-placed"⟧);\n` },
    message: "invalid metric name 'orders-placed': name must only contain lowercase letters, numbers, and underscores (got '-' at position 6)",
  },
  'metric name with the reserved prefix': {
    files: { 'svc/m.ts': `${METRICS}export const m = new Counter(⟦"e_count"⟧);\n` },
    message: "invalid metric name 'e_count': name must not start with reserved prefix 'e_' (got 'e_count')",
  },
  'metric label named service': {
    files: { 'svc/m.ts': `${METRICS}export const m = new GaugeGroup<{ ⟦service: string⟧ }>("g");\n` },
    message: "invalid label name 'service': the label name 'service' is reserved and automatically added by the Encore runtime",
  },
  'metric label of another type': {
    files: { 'svc/m.ts': `${METRICS}export const m = new GaugeGroup<{ region: ⟦string[]⟧ }>("g");\n` },
    message: "invalid type for metric label 'region': Labels must be string, number, or boolean (or unions thereof)",
  },
  'two metrics with one name': {
    files: { 'svc/m.ts': `${METRICS}export const a = new Counter("n");\nexport const b = new Counter(⟦"n"⟧);\n` },
    message: "metric 'n' is defined multiple times; metrics must have unique names across the entire application",
  },

  // ---- names JavaScript already uses ----
  'database named after a built-in property': {
    files: { 'svc/db.ts': `${SQL}export const db = new SQLDatabase(⟦"constructor"⟧, {});\n` },
    message: "database name 'constructor' is a built-in JavaScript property name: Encore's TypeScript parser accepts it, but JavaScript code that looks resources up by name in plain objects mistakes it for the built-in property; choose another name",
    severity: 'warning',
  },
  'service named after a built-in property by its directory': {
    withService: false,
    files: { 'prototype/api.ts': `${API}export const hello = ⟦api({}, async () => {})⟧;\n` },
    message: "service name 'prototype' is a built-in JavaScript property name: Encore's TypeScript parser accepts it, but JavaScript code that looks resources up by name in plain objects mistakes it for the built-in property; choose another name",
    severity: 'warning',
  },

  // ---- placement ----
  'infrastructure declared inside a function': {
    files: { 'svc/b.ts': `${BUCKET}export function make() {\n  return ⟦new Bucket("b", {})⟧;\n}\n` },
    message: 'infrastructure must be declared at the top level of a module, not inside a function: Encore provisions it once per app',
    severity: 'warning',
  },
};

test('every rule that depends on a bind or a path says which of Encore\'s lookups it mirrors', () => {
  const unstated = Object.entries(rules)
    .filter(([, rule]) => LOOKUP_MESSAGES.some((re) => re.test(rule.message)) && rule.lookup === undefined)
    .map(([name]) => name);
  assert.deepEqual(unstated, []);
  for (const rule of Object.values(rules)) if (rule.lookup !== undefined) assert.ok([BIND, BIND_DEFAULT, PATH, GLOBAL].includes(rule.lookup));
});

for (const [name, rule] of Object.entries(rules)) {
  test(`rule: ${name}`, () => {
    const app = testApp(rule.files, { withService: rule.withService ?? true });
    try {
      assert.ok(app.marked, 'the fixture marks the expected range');
      const model = app.analyzer.analyze();
      const others = new Set(rule.others ?? []);
      const got = model.diagnostics
        .filter((d) => !others.delete(d.message))
        .map((d) => ({ file: d.file, range: d.range, severity: d.severity, message: d.message }));
      assert.deepEqual(got, [{ ...app.marked, severity: rule.severity ?? 'error', message: rule.message.replace('{root}', app.root) }]);
      assert.deepEqual([...others], [], 'the other diagnostics are reported too');
    } finally {
      app.cleanup();
    }
  });
}
