// Issue 9 item 1, the CLI's end of it: a Production environment of an app whose databases and cache are named like
// built-in JavaScript properties (`__proto__`, `constructor`, `prototype`, `hasOwnProperty`). The terminal sizing
// questions are asked for each, the answers are saved under those names as own keys of the environments file, the
// saved file plans with those answers (no question left, each database sized as answered), and Object.prototype is
// left as it was.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { CliIO } from '../../src/cli/provision/commands';
import { terminalSizing } from '../../src/cli/provision/sizing';
import type { Environment } from '../../src/model/environment';
import { EnvironmentSession } from '../../src/session';

const NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty'];
const repo = path.join(__dirname, '..', '..');
const root = mkdtempSync(path.join(os.tmpdir(), 'cli-sizing-proto-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
}

write('encore.app', '{"id": "proto-app"}\n');
write('package.json', '{"name": "proto-app", "type": "module"}\n');
write('store/encore.service.ts', 'import { Service } from "encore.dev/service";\nexport default new Service("store");\n');
write('store/migrations/1_init.up.sql', 'CREATE TABLE t (id int);\n');
write('store/db.ts', [
  'import { api } from "encore.dev/api";',
  'import { SQLDatabase } from "encore.dev/storage/sqldb";',
  'import { CacheCluster, StringKeyspace } from "encore.dev/storage/cache";',
  ...NAMES.map((n, i) => `export const db${i} = new SQLDatabase("${n}", { migrations: "./migrations" });`),
  'export const cache = new CacheCluster("constructor", {});',
  'export const keys = new StringKeyspace<string>(cache, { keyPattern: "k/:key" });',
  'export const ping = api({ expose: true, method: "GET", path: "/ping" }, async () => {',
  ...NAMES.map((_, i) => `  await db${i}.exec\`SELECT 1\`;`),
  '  await keys.get("k");',
  '});',
  '',
].join('\n'));
const prod: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1' } };
const envFile = path.join(root, 'encore.environments.json');
writeFileSync(envFile, `${JSON.stringify({ environments: [prod] }, null, 2)}\n`);

test('sizing questions for resources named like built-ins are asked, saved as own keys, and planned with', async () => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort();
  const asked: string[] = [];
  // Each database's vCPU question gets its own answer; every other question takes the default.
  const cpu = new Map(NAMES.map((n, i) => [n, [1, 4, 8, 16][i]]));
  const io: CliIO = {
    out: () => {}, err: () => {}, interactive: true, signal: new AbortController().signal,
    ask: async (q) => {
      asked.push(q.trim());
      const m = /^(.+) database: vCPUs/.exec(q.trim());
      return m && cpu.has(m[1]) ? String(cpu.get(m[1])) : '';
    },
  };
  const s = await EnvironmentSession.open({
    appRoot: root, environment: 'prod', model: () => new AppAnalyzer(root).analyze(),
    hooks: { askSizing: terminalSizing(io), note: () => {} },
  });
  assert.equal(await s.size(), true);
  for (const n of NAMES) assert.ok(asked.some((q) => q.startsWith(`${n} database: vCPUs`)), `asked about ${n}: ${asked.join(' | ')}`);
  assert.ok(asked.some((q) => q.startsWith('constructor cache')), asked.join(' | '));

  const saved = JSON.parse(readFileSync(envFile, 'utf8')).environments[0];
  for (const n of NAMES) {
    assert.ok(Object.hasOwn(saved.sizing.databases, n), `databases.${n} is an own key of the saved file`);
    assert.equal(saved.sizing.databases[n].cpu, cpu.get(n));
  }
  assert.ok(Object.hasOwn(saved.sizing.caches, 'constructor'));
  assert.equal(typeof saved.sizing.caches.constructor.memoryGiB, 'number');
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), before, 'Object.prototype gained nothing');
  assert.equal(({} as Record<string, unknown>).cpu, undefined);

  // The saved file, read back by a new process: nothing new to ask about, and each database sized as answered.
  const r = spawnSync(process.execPath, [path.join(repo, 'dist', 'cli.js'), 'plan', '--env', 'prod', '--offline', '--json', root], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /new in Production environment/);
  const plan = JSON.parse(r.stdout) as { entries: { id: string; summary: string }[] };
  const summaries = NAMES.map((n) => plan.entries.find((e) => e.id === `aws:rds:${n}`)?.summary);
  summaries.forEach((sum, i) => assert.ok(sum, `the plan has the RDS instance of ${NAMES[i]}`));
  assert.equal(new Set(summaries).size, NAMES.length, `each database gets the instance class of its own answer: ${summaries.join(' | ')}`);
});
