import type {
  AppModel,
  Bucket,
  CacheCluster,
  CronJob,
  Database,
  Declaration,
  Position,
  Range,
  Secret,
  Service,
  Subscription,
  Topic,
} from '../model/appModel';
import { declarations } from '../model/appModel';
import { escapeMarkdown as text, markdownCode } from '../model/markdown';
import { kindLabel } from './codeLens';

/** The declaration of `file` under `position`; the innermost one when ranges nest. */
export function declarationAt(model: AppModel, file: string, position: Position): Declaration | undefined {
  let best: Declaration | undefined;
  for (const d of declarations(model)) {
    if (d.file !== file || !contains(d.range, position)) continue;
    if (!best || (contains(best.range, d.range.start) && contains(best.range, d.range.end))) best = d;
  }
  return best;
}

function contains(range: Range, p: Position): boolean {
  const afterStart = p.line > range.start.line || (p.line === range.start.line && p.character >= range.start.character);
  const beforeEnd = p.line < range.end.line || (p.line === range.end.line && p.character <= range.end.character);
  return afterStart && beforeEnd;
}

/**
 * A markdown summary of the resource a declaration makes: what Encore provisions for it and which services use it,
 * the facts an environment's infrastructure is computed from. Text the app chose (names, titles, paths, patterns) is
 * escaped (`text`) or in a code span (`code`), so an app's `![](…)`, links or HTML show as written; values from the
 * analyzer's fixed vocabularies (methods, access, delivery guarantees, eviction policies, operations) need neither.
 */
export function renderHover(model: AppModel, decl: Declaration): string {
  const lines = details(model, decl);
  return [`**Encore ${kindLabel[decl.kind]}** ${code(decl.name)}`, '', ...lines.map((l) => `- ${l}`)].join('\n');
}

function details(model: AppModel, decl: Declaration): string[] {
  const byName = <T extends { name: string }>(list: T[]) => list.find((x) => x.name === decl.name);
  switch (decl.kind) {
    case 'service': {
      const s = byName(model.services);
      return s ? serviceLines(model, s) : [];
    }
    case 'database': {
      const d = byName(model.databases);
      return d ? databaseLines(d) : [];
    }
    case 'topic': {
      const t = byName(model.topics);
      return t ? topicLines(model, t) : [];
    }
    case 'subscription': {
      // Subscription names are unique per topic only: pick the one declared here.
      const s = model.subscriptions.find((x) => x.name === decl.name && sameLocation(x.declaration, decl));
      return s ? subscriptionLines(s) : [];
    }
    case 'cronJob': {
      const c = byName(model.cronJobs);
      return c ? cronLines(c) : [];
    }
    case 'cache': {
      const c = byName(model.caches);
      return c ? cacheLines(c) : [];
    }
    case 'bucket': {
      const b = byName(model.buckets);
      return b ? bucketLines(b) : [];
    }
    case 'secret': {
      const s = byName(model.secrets);
      return s ? secretLines(s) : [];
    }
  }
}

function databaseLines(d: Database): string[] {
  let migrations: string;
  if (d.migrationsDir === null) migrations = 'Migrations: none (no migrations directory)';
  else if (d.migrations.length === 0) migrations = `Migrations: none yet in ${code(d.migrationsDir || '.')}`;
  else {
    const latest = d.migrations.reduce((a, b) => (b.number > a.number ? b : a));
    migrations = `Migrations: ${count(d.migrations.length, 'migration')} in ${code(d.migrationsDir || '.')}, latest ${code(latest.filename)}`;
  }
  return [migrations, `Used by: ${services(d.usedBy)}`];
}

function topicLines(model: AppModel, t: Topic): string[] {
  const subs = model.subscriptions.filter((s) => s.topic === t.name);
  return [
    `Delivery guarantee: ${t.deliveryGuarantee}`,
    `Ordering attribute: ${t.orderingAttribute === null ? 'none' : code(t.orderingAttribute)}`,
    `Publishers: ${services(t.publishers)}`,
    `Subscriptions: ${subs.length === 0 ? 'none' : subs.map((s) => `${code(s.name)} (service ${code(s.service)})`).join(', ')}`,
  ];
}

function subscriptionLines(s: Subscription): string[] {
  const r = s.retryPolicy;
  return [
    `Topic: ${code(s.topic)}`,
    `Service: ${code(s.service)}`,
    `Ack deadline: ${duration(s.ackDeadlineMs)}, message retention: ${duration(s.messageRetentionMs)}`,
    `Retries: up to ${r.maxRetries}, backoff from ${duration(r.minBackoffMs)} to ${duration(r.maxBackoffMs)}`,
    `Max concurrency: ${s.maxConcurrency === null ? 'default' : s.maxConcurrency}`,
  ];
}

function cronLines(c: CronJob): string[] {
  return [
    `Title: ${text(c.title)}`,
    `Schedule: ${describeSchedule(c.schedule)}`,
    `Endpoint: ${c.endpoint ? code(`${c.endpoint.service}.${c.endpoint.name}`) : 'not resolved'}`,
  ];
}

function cacheLines(c: CacheCluster): string[] {
  const keyspaces = c.keyspaces.map((k) => `${code(k.keyPattern)} (${k.kind}${k.service ? `, service ${code(k.service)}` : ''})`);
  return [
    `Eviction policy: ${c.evictionPolicy}`,
    `Keyspaces: ${keyspaces.length === 0 ? 'none' : keyspaces.join(', ')}`,
    `Used by: ${services(c.usedBy)}`,
  ];
}

function bucketLines(b: Bucket): string[] {
  const usage = Object.keys(b.usage)
    .sort()
    .map((service) => `service ${code(service)} (${b.usage[service].join(', ')})`);
  return [
    `Public: ${b.public ? 'yes' : 'no'}, versioned: ${b.versioned ? 'yes' : 'no'}`,
    `Used by: ${usage.length === 0 ? 'no service' : usage.join('; ')}`,
  ];
}

function secretLines(s: Secret): string[] {
  const lines = [`Loaded by: ${services(s.services)}`];
  if (s.declarations.length > 1) lines.push(`Declared in ${s.declarations.length} places`);
  return lines;
}

function serviceLines(model: AppModel, s: Service): string[] {
  const endpoints = model.endpoints.filter((e) => e.service === s.name);
  const lines = [
    `Root: ${code(s.root === '' ? '.' : `${s.root}/`)}`,
    `Endpoints: ${endpoints.length === 0 ? 'none' : capped(endpoints.map((e) => `${code(e.name)} (${e.methods.join(', ')} ${text(e.path)}, ${e.access})`), 10)}`,
  ];
  const uses = (what: string, names: string[]) => names.length > 0 && lines.push(`${what}: ${names.map(code).join(', ')}`);
  uses('Databases', model.databases.filter((d) => d.usedBy.includes(s.name)).map((d) => d.name));
  uses('Publishes to', model.topics.filter((t) => t.publishers.includes(s.name)).map((t) => t.name));
  uses('Subscriptions', model.subscriptions.filter((x) => x.service === s.name).map((x) => x.name));
  uses('Caches', model.caches.filter((c) => c.usedBy.includes(s.name)).map((c) => c.name));
  uses('Buckets', model.buckets.filter((b) => Object.hasOwn(b.usage, s.name)).map((b) => b.name));
  uses('Secrets', model.secrets.filter((x) => x.services.includes(s.name)).map((x) => x.name));
  return lines;
}

/** Encore's normalised schedule (`every:<minutes>` or `schedule:<cron>`) in words, with the raw form. */
export function describeSchedule(schedule: string): string {
  const every = /^every:(\d+)$/.exec(schedule);
  if (every) {
    const minutes = Number(every[1]);
    const words =
      minutes % 1440 === 0 ? count(minutes / 1440, 'day') : minutes % 60 === 0 ? count(minutes / 60, 'hour') : count(minutes, 'minute');
    return `every ${words}`;
  }
  const cron = /^schedule:(.*)$/.exec(schedule);
  return cron ? `cron ${code(cron[1])} (UTC)` : code(schedule);
}

/** A duration in the largest unit that divides it: 30 s, 10 min, 7 days. */
export function duration(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's']];
  for (const [size, unit] of units) {
    if (ms >= size && ms % size === 0) return unit === 'day' ? count(ms / size, 'day') : `${ms / size} ${unit}`;
  }
  return `${ms} ms`;
}

function services(names: string[]): string {
  if (names.length === 0) return 'no service';
  return `${names.length === 1 ? 'service' : 'services'} ${names.map(code).join(', ')}`;
}

/** The first `max` items, then how many more there are (a big service can have dozens of endpoints). */
function capped(items: string[], max: number): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Inline code that shows any text verbatim, backticks included (names come from the app's string literals). */
export const code = markdownCode;

function sameLocation(a: { file: string; range: Range }, b: { file: string; range: Range }): boolean {
  return (
    a.file === b.file &&
    a.range.start.line === b.range.start.line &&
    a.range.start.character === b.range.start.character
  );
}
