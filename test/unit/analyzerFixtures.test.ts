// Small fixture apps (test/fixtures/apps/) for two of Encore's lookups, each with the exact diagnostics it must get,
// or none, and the built CLI's exit code on the apps Encore accepts (issue 14):
// - Encore's local relative path literal (`migrations`, a static `dir`, `notFound`): every part a name or ".", so ".",
//   "./" and "./public" are accepted; a ".." part, an absolute path and an empty string are refused.
// - Encore's bind lookup: a resource is bound to the nearest enclosing variable declaration whose initializer holds
//   the call (a secret called in place, inside an object, an array, a `new` expression's arguments or a nested call;
//   an endpoint, auth handler or cache cluster passed through a helper). A secret with no enclosing declaration is
//   "secrets must be bound to a variable"; one inside a function is "secrets must be defined globally".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { modelJson } from '../../src/analyzer/modelJson';

const repo = path.join(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures', 'apps');
const cli = path.join(repo, 'dist', 'cli.js');

function analyse(name: string) {
  const model = new AppAnalyzer(path.join(fixtures, name)).analyze();
  return { model, json: modelJson(model) };
}

/** Diagnostics as `file:line:column severity message`, 1-based as editors show them. */
function diagnostics(json: ReturnType<typeof modelJson>): string[] {
  return json.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.severity} ${d.message}`);
}

function cliAnalyze(name: string) {
  const result = spawnSync(process.execPath, [cli, 'analyze', path.join(fixtures, name)], { cwd: repo, encoding: 'utf8' });
  return { code: result.status, stderr: result.stderr, stdout: result.stdout };
}

const PATH_PROBLEM = 'expected a local relative path (not empty, no ".." and not absolute)';

test('local-paths: ".", "./", "./public", "./404.html", "./" and "./migrations/." are accepted as Encore accepts them', () => {
  const { model, json } = analyse('local-paths');
  assert.deepEqual(diagnostics(json), []);
  assert.deepEqual(json.endpoints.map((e) => [e.name, e.path]), [
    ['dotted', '/dotted/*path'],
    ['here', '/here/*path'],
    ['hereSlash', '/slash/*path'],
    ['pub', '/public/*path'],
  ]);
  // "./" and "." are the module's own directory; "./migrations/." is ./migrations.
  assert.deepEqual(model.databases.map((d) => [d.name, d.migrationsDir, d.migrations.map((m) => m.filename)]), [
    ['events', 'store/drizzle', ['0000_create_events.sql']],
    ['orders', 'store/migrations', ['1_create_orders.up.sql']],
    ['store', 'store', ['1_create_items.up.sql']],
  ]);
  const r = cliAnalyze('local-paths');
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('refused-paths: a ".." part, an absolute path and an empty string are refused, each at its literal', () => {
  const { json } = analyse('refused-paths');
  assert.deepEqual(diagnostics(json), [
    `svc/paths.ts:5:56-5:71 error invalid path "../svc/public": ${PATH_PROBLEM}`,
    `svc/paths.ts:6:58-6:71 error invalid path "/srv/public": ${PATH_PROBLEM}`,
    `svc/paths.ts:7:62-7:64 error invalid path "": ${PATH_PROBLEM}`,
    `svc/paths.ts:8:86-8:108 error invalid path "./public/../404.html": ${PATH_PROBLEM}`,
    `svc/paths.ts:9:53-9:59 error invalid path "./..": ${PATH_PROBLEM}`,
    `svc/paths.ts:10:61-10:78 error invalid path "/var/migrations": ${PATH_PROBLEM}`,
    `svc/paths.ts:11:53-11:55 error invalid path "": ${PATH_PROBLEM}`,
  ]);
  assert.equal(cliAnalyze('refused-paths').code, 1);
});

test('secret-binds: secrets called in place, in objects, arrays, constructor arguments and nested calls bind to the enclosing const', () => {
  const { json } = analyse('secret-binds');
  assert.deepEqual(diagnostics(json), []);
  assert.deepEqual(json.secrets, ['DatabaseUrl', 'GitHubToken', 'KEY', 'SENTRY_DSN', 'StripeKey', 'TokenA', 'TokenB', 'URL'].map((name) => ({ name, services: ['svc'] })));
  const r = cliAnalyze('secret-binds');
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('refused-secrets: no enclosing declaration, or declared inside a function, are the errors Encore gives', () => {
  const { json } = analyse('refused-secrets');
  assert.deepEqual(diagnostics(json), [
    'svc/config.ts:4:1-4:16 error secrets must be bound to a variable',
    'svc/config.ts:5:13-5:29 error secrets must be bound to a variable',
    'svc/config.ts:9:10-9:30 error secrets must be defined globally',
    'svc/config.ts:11:27-11:44 error secrets must be defined globally',
  ]);
  assert.equal(cliAnalyze('refused-secrets').code, 1);
});

test('enclosing-binds: an endpoint, an auth handler and a cache cluster passed through a helper bind to the enclosing const', () => {
  const { json } = analyse('enclosing-binds');
  assert.deepEqual(diagnostics(json), []);
  assert.deepEqual(json.endpoints, [{ service: 'shop', name: 'hello', kind: 'api', methods: ['GET'], path: '/hello', access: 'public' }]);
  assert.deepEqual(json.authHandler, { name: 'auth', service: 'shop' });
  assert.deepEqual(json.gateway, { name: 'api-gateway', service: 'shop', authHandler: 'auth' });
  assert.deepEqual(json.caches, [{ name: 'sessions', evictionPolicy: 'allkeys-lru', keyspaces: [{ keyPattern: 'session/:key', service: 'shop' }] }]);
  assert.deepEqual(json.cronJobs, [{ name: 'nightly', title: 'nightly', schedule: 'schedule:0 3 * * *', endpoint: 'shop.hello' }]);
  const r = cliAnalyze('enclosing-binds');
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
