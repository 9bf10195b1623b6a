// Resource names that are built-in JavaScript property names (`__proto__`, `constructor`, `prototype`,
// `hasOwnProperty`, and the rest of Object.prototype's), issue 9 item 1: an app declaring a database, cache cluster,
// topic, subscription, bucket, secret and service with each such name goes through the analyzer and modelJson. The
// model must hold every one of them, each declaration gets the warning, a service of such a name is not taken to use
// every bucket, and Object.prototype is left as it was.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { modelJson } from '../../src/analyzer/modelJson';
import type { Range } from '../../src/model/appModel';
import { BUILTIN_PROPERTY_NAMES, isBuiltinPropertyName } from '../../src/model/reservedNames';
import { declarationAt, renderHover } from '../../src/server/hover';
import { testApp } from './analyzerApp';

const NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', 'isPrototypeOf'];

const builtinWarning = (what: string, name: string) =>
  `${what} name '${name}' is a built-in JavaScript property name: Encore's TypeScript parser accepts it, but JavaScript code ` +
  'that looks resources up by name in plain objects mistakes it for the built-in property; choose another name';

function infraFile(name: string): string {
  return [
    'import { api } from "encore.dev/api";',
    'import { SQLDatabase } from "encore.dev/storage/sqldb";',
    'import { CacheCluster, StringKeyspace } from "encore.dev/storage/cache";',
    'import { Topic, Subscription } from "encore.dev/pubsub";',
    'import { Bucket } from "encore.dev/storage/objects";',
    'import { secret } from "encore.dev/config";',
    // Module specifiers are app data too.
    `import { x } from "${name}";`,
    `export const db = new SQLDatabase("${name}", {});`,
    `export const cache = new CacheCluster("${name}", {});`,
    'export const keys = new StringKeyspace<string>(cache, { keyPattern: "k/:key" });',
    `export const topic = new Topic<{ a: string }>("${name}", { deliveryGuarantee: "at-least-once" });`,
    `export const sub = new Subscription(topic, "${name}", { handler: async () => {} });`,
    `export const bucket = new Bucket("${name}", {});`,
    `export const key = secret("${name}");`,
    'export const use = api({}, async () => {',
    '  await db.exec`SELECT 1`;',
    '  await topic.publish({ a: key() });',
    '  await bucket.upload("k", Buffer.from(x));',
    '  await keys.get("k");',
    '});',
    '',
  ].join('\n');
}

test('the list of built-in property names covers Object.prototype', () => {
  for (const name of Object.getOwnPropertyNames(Object.prototype)) assert.ok(isBuiltinPropertyName(name), name);
  assert.ok(isBuiltinPropertyName('prototype'));
  assert.equal(isBuiltinPropertyName('orders'), false);
  assert.equal(isBuiltinPropertyName('hasownproperty'), false);
  assert.ok(BUILTIN_PROPERTY_NAMES.size >= 13);
});

test('resources named after built-in properties are modelled, warned about, and pollute nothing', () => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort();
  const files: Record<string, string> = {};
  NAMES.forEach((name, i) => {
    files[`s${i}/encore.service.ts`] = `import { Service } from "encore.dev/service";\nexport default new Service("${name}");\n`;
    files[`s${i}/infra.ts`] = infraFile(name);
  });
  // A bucket method that is a built-in property name is no bucket operation.
  files['s1/other.ts'] = 'import { bucket } from "./infra";\n// @ts-ignore\nexport const f = () => bucket.constructor();\n';
  const app = testApp(files, { withService: false });
  try {
    const model = app.analyzer.analyze();
    const json = modelJson(model);

    const sorted = [...NAMES].sort((a, b) => a.localeCompare(b));
    assert.deepEqual(json.services.map((s) => s.name), sorted);
    assert.deepEqual(json.databases.map((d) => [d.name, d.usedBy]), sorted.map((n) => [n, [n]]));
    assert.deepEqual(json.caches.map((c) => [c.name, c.keyspaces.map((k) => k.service)]), sorted.map((n) => [n, [n]]));
    assert.deepEqual(json.topics.map((t) => [t.name, t.publishers]), sorted.map((n) => [n, [n]]));
    assert.deepEqual(json.subscriptions.map((s) => [s.topic, s.name, s.service]), sorted.map((n) => [n, n, n]));
    assert.deepEqual(json.secrets, sorted.map((n) => ({ name: n, services: [n] })));
    assert.deepEqual(json.endpoints.map((e) => [e.service, e.name]), sorted.map((n) => [n, 'use']));
    for (const [list, where] of [[model.buckets, 'model'], [json.buckets, 'modelJson']] as const) {
      assert.deepEqual(list.map((b) => b.name), sorted, where);
      for (const b of list) {
        // Keyed by service name: a null-prototype object holding exactly its own users.
        assert.equal(Object.getPrototypeOf(b.usage), null, `${where}: ${b.name}`);
        assert.deepEqual(Object.entries(b.usage), [[b.name, ['write']]], `${where}: ${b.name}`);
      }
    }
    assert.deepEqual(JSON.parse(JSON.stringify(json.buckets.map((b) => b.usage))), sorted.map((n) => JSON.parse(JSON.stringify(Object.fromEntries([[n, ['write']]])))));

    // Every declaration named so gets the warning at its name.
    const warnings = model.diagnostics.filter((d) => d.message.includes('built-in JavaScript property name'));
    const expected: { file: string; message: string }[] = [];
    NAMES.forEach((name, i) => {
      expected.push({ file: `${app.root}/s${i}/encore.service.ts`, message: builtinWarning('service', name) });
      for (const what of ['database', 'cache cluster', 'topic', 'subscription', 'bucket', 'secret']) {
        expected.push({ file: `${app.root}/s${i}/infra.ts`, message: builtinWarning(what, name) });
      }
    });
    const key = (d: { file: string; message: string }) => `${d.file} ${d.message}`;
    assert.deepEqual(warnings.map(key).sort(), expected.map(key).sort());
    for (const w of warnings) {
      assert.equal(w.severity, 'warning');
      const name = NAMES.find((n) => w.message.includes(`'${n}'`))!;
      assert.equal(textAt(w.file, w.range), `"${name}"`, w.message);
    }
    // The rest: the kebab-case warnings and bucket-name errors those names get anyway, and the unsupported method.
    const rest = model.diagnostics.filter((d) => !warnings.includes(d)).map((d) => d.message);
    for (const m of rest) assert.match(m, /is not kebab-case|^invalid bucket name|^unsupported bucket operation$/);
    assert.equal(rest.filter((m) => m === 'unsupported bucket operation').length, 1);

    // The hover of the service "constructor" lists only the bucket it uses.
    const decl = model.services.find((s) => s.name === 'constructor')!.declaration!;
    const hover = renderHover(model, declarationAt(model, decl.file, decl.range.start)!);
    assert.match(hover, /Buckets: `constructor`$/m);

    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), before);
    for (const probe of ['write', 'db', 'use', ...NAMES]) {
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, probe), before.includes(probe), probe);
    }
  } finally {
    app.cleanup();
  }
});

function textAt(file: string, range: Range): string {
  return readFileSync(file, 'utf8').split('\n')[range.start.line].slice(range.start.character, range.end.character);
}
