// The CLI's TypeScript (dist/cli/chunks/typescript.mjs) and its V8 code cache: the first run writes one at exit, the
// next ones use it; a damaged cache, or one V8 rejects, is not used, the parse is the same, and a new one is written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import vm from 'node:vm';
import { ts } from 'ts-morph';

const loader = path.join(__dirname, '..', '..', 'dist', 'cli', 'chunks', 'typescript.mjs');
const home = mkdtempSync(path.join(os.tmpdir(), 'encore-ts-cache-'));
process.on('exit', () => rmSync(home, { recursive: true, force: true }));
const dir = path.join(home, 'encore-environments', 'code-cache');

const SOURCE = 'export const answer: number = 6 * 7;\nfunction f<T>(x: T): T { return x; }\n';

/** A new process that loads the CLI's TypeScript and parses SOURCE: the code cache's state and its statements' kinds. */
function run(): { state: string; kinds: number[] } {
  const code = `const m = await import(${JSON.stringify(loader)}); const sf = m.ts.createSourceFile('a.ts', ${JSON.stringify(SOURCE)}, m.ts.ScriptTarget.Latest, true); console.log(JSON.stringify({ state: m.codeCacheState, kinds: sf.statements.map((s) => s.kind) }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, XDG_CACHE_HOME: home }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { state: string; kinds: number[] };
}

const cacheFiles = () => readdirSync(dir).filter((f) => f.startsWith('typescript-') && f.endsWith('.v8'));
// What the analyzer's own TypeScript parses (the same version as the bundle's).
const KINDS = ts.createSourceFile('a.ts', SOURCE, ts.ScriptTarget.Latest, true).statements.map((s) => s.kind);

test('the first run writes the code cache at exit, under its digest, for this user only; the next run uses it', () => {
  assert.deepEqual(run(), { state: 'absent', kinds: KINDS });
  const [file] = cacheFiles();
  assert.ok(file, 'a cache was written');
  const bytes = readFileSync(path.join(dir, file));
  assert.ok(createHash('sha256').update(bytes.subarray(32)).digest().equals(bytes.subarray(0, 32)), 'its first 32 bytes are the sha256 of the rest');
  assert.equal(statSync(path.join(dir, file)).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.deepEqual(run(), { state: 'accepted', kinds: KINDS });
  assert.deepEqual(readdirSync(dir), [file], 'no temp file is left');
});

test('a damaged or truncated cache is not used, and is replaced', () => {
  run();
  const file = path.join(dir, cacheFiles()[0]);
  const good = readFileSync(file);
  for (const bad of [Buffer.concat([good.subarray(0, 1000), Buffer.from([good[1000] ^ 0x01]), good.subarray(1001)]), good.subarray(0, good.length >> 1), good.subarray(0, 10)]) {
    writeFileSync(file, bad);
    assert.deepEqual(run(), { state: 'damaged', kinds: KINDS });
    assert.deepEqual(run(), { state: 'accepted', kinds: KINDS }, 'the damaged cache was replaced');
  }
});

test('a cache V8 rejects (made for another script) is not used, and is replaced', () => {
  run();
  const file = path.join(dir, cacheFiles()[0]);
  const foreign = new vm.Script('globalThis.x = 1 + 1;').createCachedData();
  writeFileSync(file, Buffer.concat([createHash('sha256').update(foreign).digest(), foreign]));
  assert.deepEqual(run(), { state: 'rejected', kinds: KINDS });
  assert.deepEqual(run(), { state: 'accepted', kinds: KINDS });
});
