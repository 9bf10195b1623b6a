// What the editor shows on declarations: the CodeLens titles and the hover summaries, from real models of the sample
// app and the analyzer's "everything" fixture, plus the edge cases a hand-made model states directly.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { declarations, type AppModel, type Database, type Declaration } from '../../src/model/appModel';
import { codeLenses } from '../../src/server/codeLens';
import { code, declarationAt, describeSchedule, duration, renderHover } from '../../src/server/hover';
import { testApp } from './analyzerApp';

/** markdown-it (installed with @vscode/vsce; it ships no type declarations), with HTML on: what a hover could show. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const md = new (require('markdown-it') as new (options: object) => { render(src: string): string })({ html: true, linkify: true });

const repoRoot = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repoRoot, 'examples', 'sample-app')).analyze();
const everything = new AppAnalyzer(path.join(repoRoot, 'test', 'fixtures', 'apps', 'everything')).analyze();

function hoverOf(model: AppModel, kind: Declaration['kind'], name: string): string {
  const decl = declarations(model).find((d) => d.kind === kind && d.name === name);
  assert.ok(decl, `${kind} ${name} is declared`);
  return renderHover(model, decl);
}

test('one lens per declaration of the file, titled "Encore: <kind> <name>", running encore.revealResource', () => {
  const notify = path.join(sample.root, 'notifications', 'notify.ts');
  assert.deepEqual(
    codeLenses(sample, notify).map((l) => [l.range.start.line, l.command?.title]),
    [
      [9, 'Encore: secret EmailApiKey'],
      [13, 'Encore: subscription notify-customer'],
      [32, 'Encore: cron job daily-digest'],
      [42, 'Encore: cron job purge-counters'],
    ],
  );
  const [db] = codeLenses(sample, path.join(sample.root, 'users', 'db.ts'));
  assert.deepEqual(db.command, { title: 'Encore: database users', command: 'encore.revealResource', arguments: [sample.root, 'database', 'users'] });
  assert.deepEqual(codeLenses(sample, path.join(sample.root, 'users', 'users.ts')), []);
  // Every declaration kind gets its lens somewhere in the fixture that has them all.
  const kinds = new Set(declarations(everything).flatMap((d) => codeLenses(everything, d.file)).map((l) => l.command!.title.split(' ')[1]));
  assert.deepEqual([...kinds].sort(), ['bucket', 'cache', 'cron', 'database', 'secret', 'service', 'subscription', 'topic']);
});

test('the hover is found anywhere inside the declaration and nowhere else', () => {
  const file = path.join(sample.root, 'users', 'db.ts');
  assert.equal(declarationAt(sample, file, { line: 2, character: 18 })?.name, 'users');
  assert.equal(declarationAt(sample, file, { line: 3, character: 5 })?.name, 'users');
  assert.equal(declarationAt(sample, file, { line: 4, character: 2 })?.name, 'users');
  assert.equal(declarationAt(sample, file, { line: 2, character: 17 }), undefined);
  assert.equal(declarationAt(sample, file, { line: 0, character: 0 }), undefined);
  assert.equal(declarationAt(sample, path.join(sample.root, 'orders', 'db.ts'), { line: 3, character: 5 })?.name, 'orders');
});

test('a database: its migrations, the latest one, and the services that use it', () => {
  assert.equal(
    hoverOf(sample, 'database', 'users'),
    '**Encore database** `users`\n\n' +
      '- Migrations: 2 migrations in `users/migrations`, latest `2_add_email.up.sql`\n' +
      '- Used by: service `users`',
  );
  assert.match(hoverOf(everything, 'database', 'billing'), /Used by: services `billing`, `catalog`/);
  assert.match(hoverOf(everything, 'database', 'analytics'), /Used by: no service/);
});

test('a topic: delivery guarantee, ordering attribute, publishers and subscriptions', () => {
  assert.equal(
    hoverOf(sample, 'topic', 'order-placed'),
    '**Encore topic** `order-placed`\n\n' +
      '- Delivery guarantee: at-least-once\n' +
      '- Ordering attribute: `userID`\n' +
      '- Publishers: service `orders`\n' +
      '- Subscriptions: `notify-customer` (service `notifications`)',
  );
  assert.match(hoverOf(everything, 'topic', 'invoices-paid'), /exactly-once[\s\S]*Ordering attribute: none/);
});

test('a subscription, a cron job, a cache, a bucket, a secret and a service', () => {
  assert.equal(
    hoverOf(sample, 'subscription', 'notify-customer'),
    '**Encore subscription** `notify-customer`\n\n' +
      '- Topic: `order-placed`\n- Service: `notifications`\n' +
      '- Ack deadline: 30 s, message retention: 7 days\n' +
      '- Retries: up to 20, backoff from 5 s to 5 min\n' +
      '- Max concurrency: 10',
  );
  assert.match(hoverOf(everything, 'subscription', 'record-payment'), /Retries: up to 100, backoff from 10 s to 10 min\n- Max concurrency: default/);
  assert.match(hoverOf(sample, 'cronJob', 'daily-digest'), /Title: Send the daily digest\n- Schedule: cron `0 8 \* \* \*` \(UTC\)\n- Endpoint: `notifications\.dailyDigest`/);
  assert.match(hoverOf(sample, 'cronJob', 'purge-counters'), /Schedule: every 1 hour/);
  assert.match(hoverOf(sample, 'cache', 'notifications'), /Eviction policy: allkeys-lru\n- Keyspaces: `sent-today\/:userID` \(IntKeyspace, service `notifications`\)\n- Used by: service `notifications`/);
  assert.match(hoverOf(sample, 'bucket', 'order-receipts'), /Public: no, versioned: yes\n- Used by: service `orders` \(signed-download-url, write\)/);
  assert.match(hoverOf(everything, 'bucket', 'documents'), /Used by: service `billing` \(write\); service `catalog` \(list, read\)/);
  assert.match(hoverOf(everything, 'secret', 'SharedToken'), /Loaded by: services `catalog`, `worker`\n- Declared in 2 places/);
  assert.equal(
    hoverOf(sample, 'service', 'orders'),
    '**Encore service** `orders`\n\n' +
      '- Root: `orders/`\n' +
      '- Endpoints: `place` (POST /orders, auth), `receipt` (GET /orders/\\:id/receipt, auth)\n' +
      '- Databases: `orders`\n- Publishes to: `order-placed`\n- Buckets: `order-receipts`',
  );
});

test('a database without a migrations directory, or with an empty one, says so', () => {
  const base = sample.databases.find((d) => d.name === 'users')!;
  const model = (db: Database): AppModel => ({ ...sample, databases: [db] });
  const decl: Declaration = { kind: 'database', name: 'users', ...base.declaration };
  assert.match(renderHover(model({ ...base, migrationsDir: null, migrations: [] }), decl), /Migrations: none \(no migrations directory\)/);
  assert.match(renderHover(model({ ...base, migrations: [] }), decl), /Migrations: none yet in `users\/migrations`/);
  // The latest migration is the highest number, whatever the order of the list.
  const shuffled = { ...base, migrations: [base.migrations[1], base.migrations[0]] };
  assert.match(renderHover(model(shuffled), decl), /latest `2_add_email\.up\.sql`/);
});

test('schedules, durations and names are written for people', () => {
  assert.equal(describeSchedule('every:1'), 'every 1 minute');
  assert.equal(describeSchedule('every:90'), 'every 90 minutes');
  assert.equal(describeSchedule('every:120'), 'every 2 hours');
  assert.equal(describeSchedule('every:1440'), 'every 1 day');
  assert.equal(describeSchedule('schedule:*/5 * * * *'), 'cron `*/5 * * * *` (UTC)');
  assert.equal(duration(30_000), '30 s');
  assert.equal(duration(90_000), '90 s');
  assert.equal(duration(600_000), '10 min');
  assert.equal(duration(7_200_000), '2 h');
  assert.equal(duration(604_800_000), '7 days');
  assert.equal(duration(86_400_000), '1 day');
  assert.equal(duration(1500), '1500 ms');
  assert.equal(code('users'), '`users`');
  assert.equal(code('a`b'), '``a`b``');
  assert.equal(code('`x'), '`` `x ``');
});

test('app text in hovers shows as text: no image, link, HTML or emphasis from names, titles, paths or patterns', () => {
  const evil = '![](https://evil.example/x.png) [click](https://evil.example) <img src=x> **b** `c`';
  const app = testApp({
    'svc/jobs.ts': [
      'import { api } from "encore.dev/api";',
      'import { CronJob } from "encore.dev/cron";',
      'import { CacheCluster, StringKeyspace } from "encore.dev/storage/cache";',
      'export const ep = api({ expose: true, method: "GET", path: "/a/![x](https:)" }, async () => {});',
      `export const job = new CronJob("j\`\`", { title: ${JSON.stringify(evil)}, endpoint: ep, every: "1h" });`,
      'export const c = new CacheCluster("c<b>", {});',
      'export const k = new StringKeyspace<string>(c, { keyPattern: "k/`x`/:key" });',
      '',
    ].join('\n'),
  });
  try {
    const model = app.analyzer.analyze();
    const cron = hoverOf(model, 'cronJob', 'j``');
    assert.equal(
      cron,
      '**Encore cron job** ``` j`` ```\n\n' +
        '- Title: \\!\\[\\]\\(https\\://evil\\.example/x\\.png\\) \\[click\\]\\(https\\://evil\\.example\\) \\<img src\\=x\\> \\*\\*b\\*\\* \\`c\\`\n' +
        '- Schedule: every 1 hour\n' +
        '- Endpoint: `svc.ep`',
    );
    const hovers = [cron, hoverOf(model, 'cache', 'c<b>'), hoverOf(model, 'service', 'svc')];
    assert.match(hovers[2], /`ep` \(GET \/a\/\\!\\\[x\\\]\\\(https\\:\\\), public\)/);
    for (const hover of hovers) {
      const html = md.render(hover);
      assert.doesNotMatch(html, /<(img|a|b|em|h\d)[\s>]/, html);
      assert.equal((html.match(/<strong>/g) ?? []).length, 1, html); // the hover's own title only
    }
  } finally {
    app.cleanup();
  }
});
