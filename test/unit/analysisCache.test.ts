// The on-disk analysis cache: a warm run re-extracts nothing and gives the same model; a changed file, a changed
// folder beside it, a corrupted, truncated, foreign or forged cache never changes the model; runs at the same time
// leave a whole cache.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { FactsCache } from '../../src/analyzer/cache/factsCache';
import { statusSignature, statusTrusted } from '../../src/analyzer/cache/fileStatus';
import { modelJson } from '../../src/analyzer/modelJson';
import { ANALYSIS_CACHE_FILE, analyzeCached } from '../../src/cli/analysisCache';

const repo = path.join(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'encore-analysis-cache-'));
// The MAC's secret goes to a cache folder of this test's own.
process.env.XDG_CACHE_HOME = path.join(tmp, 'user-cache');
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

let apps = 0;
function copyApp(from = path.join(repo, 'examples', 'sample-app')): string {
  const root = path.join(tmp, `app-${apps++}`);
  cpSync(from, root, { recursive: true, filter: (src) => !src.includes(`${path.sep}.encore`) });
  return root;
}

const truth = (root: string) => modelJson(new AppAnalyzer(root).analyze());
const cached = async (root: string) => modelJson(await analyzeCached(root));
const secret = Buffer.alloc(32, 7);

test('a warm run uses every cached file and gives the model an uncached analysis gives', async () => {
  const root = copyApp();
  const want = truth(root);
  assert.deepEqual(await cached(root), want);
  const text = readFileSync(path.join(root, ANALYSIS_CACHE_FILE), 'utf8');
  assert.deepEqual(await cached(root), want);

  // In process: the warm analysis finds every file and so changes nothing in the cache.
  const cache = FactsCache.parse(text, readFileSync(path.join(process.env.XDG_CACHE_HOME!, 'encore-environments', 'analysis-cache.key')));
  assert.deepEqual(modelJson(new AppAnalyzer(root, { cache }).analyze()), want);
  assert.equal(cache.changed, false);
  assert.equal(cache.rejected, 0);
});

test('a changed file is extracted again; a deleted one leaves the cache', async () => {
  const root = copyApp();
  await cached(root);
  const file = path.join(root, 'users', 'users.ts');
  const original = readFileSync(file, 'utf8');
  assert.match(original, /path: "\/users\/:id"/);
  writeFileSync(file, original.replace('path: "/users/:id"', 'path: "/people/:id"'));
  const after = await cached(root);
  assert.deepEqual(after, truth(root));
  assert.ok(JSON.stringify(after).includes('/people/:id'));
  rmSync(file);
  assert.deepEqual(await cached(root), truth(root));
  assert.ok(!readFileSync(path.join(root, ANALYSIS_CACHE_FILE), 'utf8').includes(JSON.stringify(file)));
});

test('an edit that leaves a file\'s facts as they were keeps the linked model; one that moves them links again', async () => {
  const root = copyApp();
  // The whole model, declarations' positions included (modelJson leaves them out).
  const whole = (model: object) => JSON.parse(JSON.stringify(model)) as object;
  await analyzeCached(root);
  const file = path.join(root, 'users', 'users.ts');
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, `${original}\n// a comment at the end moves nothing\n`);
  const same = whole(await analyzeCached(root));
  assert.deepEqual(same, whole(new AppAnalyzer(root).analyze()));
  // A line at the top moves every declaration of the file: the model's positions change with it.
  writeFileSync(file, `// a comment at the top\n${original}`);
  const moved = whole(await analyzeCached(root));
  assert.deepEqual(moved, whole(new AppAnalyzer(root).analyze()));
  assert.notDeepEqual(moved, same);
  writeFileSync(file, original);
  assert.deepEqual(whole(await analyzeCached(root)), same);
});

test('what an extraction read beside the file (a static assets folder) is checked again on a warm run', async () => {
  const root = copyApp(path.join(repo, 'test', 'fixtures', 'apps', 'local-paths'));
  const want = truth(root);
  assert.deepEqual(await cached(root), want);
  rmSync(path.join(root, 'site', 'public'), { recursive: true, force: true });
  const gone = truth(root);
  assert.notDeepEqual(gone, want, 'the fixture reports a missing static folder');
  assert.deepEqual(await cached(root), gone);
  mkdirSync(path.join(root, 'site', 'public'));
  assert.deepEqual(await cached(root), truth(root));
});

test('flipped bytes anywhere in the cache never change the model', async () => {
  const root = copyApp();
  const want = truth(root);
  await cached(root);
  const cacheFile = path.join(root, ANALYSIS_CACHE_FILE);
  const good = readFileSync(cacheFile);
  // Positions spread over the whole file, and digits inside payloads: those keep the JSON valid but lie.
  const positions = Array.from({ length: 40 }, (_, i) => Math.floor((i * good.length) / 40));
  const text = good.toString('latin1');
  for (const m of text.matchAll(/"line":(\d)/g)) if (positions.length < 80) positions.push(m.index + m[0].length - 1);
  for (const at of positions) {
    const bad = Buffer.from(good);
    bad[at] = /[0-9]/.test(String.fromCharCode(bad[at])) ? ((bad[at] - 48 + 1) % 10) + 48 : bad[at] ^ 0x20;
    writeFileSync(cacheFile, bad);
    assert.deepEqual(await cached(root), want, `byte ${at} flipped`);
  }
  // A payload, or the linked model, that lies with valid JSON is rejected by its digest, which the MAC vouches for,
  // not by luck.
  const key = readFileSync(path.join(process.env.XDG_CACHE_HOME!, 'encore-environments', 'analysis-cache.key'));
  const lineDigit = /"line":(\d)/g;
  const lineDigits = [...text.matchAll(lineDigit)].map((m) => m.index + m[0].length - 1);
  // Where the parts are, from the header: the linked model, then the index, then the payloads.
  const headerEnd = text.indexOf('\n');
  const lengths = JSON.parse(text.slice(0, headerEnd)) as { linked: number; index: number };
  const linkedEnd = headerEnd + 1 + lengths.linked;
  const inPayload = lineDigits.find((at) => at > linkedEnd + 1 + lengths.index)!;
  const inLinked = lineDigits.find((at) => at < linkedEnd)!;
  assert.ok(inPayload !== undefined && inLinked !== undefined, 'the cache holds positions in the linked model and in a payload');
  const lie = (at: number) => `${text.slice(0, at)}${(Number(text[at]) + 1) % 10}${text.slice(at + 1)}`;
  const cache = FactsCache.parse(lie(inPayload), key);
  assert.deepEqual(modelJson(new AppAnalyzer(root, { cache }).analyze()), want);
  assert.equal(cache.rejected, 1);
  writeFileSync(cacheFile, lie(inLinked));
  assert.deepEqual(await cached(root), want);
  // Truncated and empty files.
  for (const bad of [good.subarray(0, good.length >> 1), Buffer.alloc(0), Buffer.from('null')]) {
    writeFileSync(cacheFile, bad);
    assert.deepEqual(await cached(root), want);
  }
});

test('a foreign cache (another app\'s, another user\'s, a forged one) is ignored', async () => {
  const a = copyApp();
  const b = copyApp();
  writeFileSync(path.join(b, 'orders', 'orders.ts'), `${readFileSync(path.join(b, 'orders', 'orders.ts'), 'utf8')}\n// b\n`);
  await cached(a);
  // Another app's cache: every key names another file.
  mkdirSync(path.dirname(path.join(b, ANALYSIS_CACHE_FILE)), { recursive: true });
  cpSync(path.join(a, ANALYSIS_CACHE_FILE), path.join(b, ANALYSIS_CACHE_FILE));
  assert.deepEqual(await cached(b), truth(b));

  // Facts made with another secret (another user, or a cache shipped with the app) for the right keys: rejected.
  const forged = FactsCache.empty(secret);
  const file = path.join(a, 'users', 'users.ts');
  const bytes = readFileSync(file);
  const real = new AppAnalyzer(a).analyze();
  const fake = { file, dir: path.dirname(file), imports: new Map(), resources: [], usages: [], diagnostics: [], serviceFile: false };
  forged.put(file, forged.keyOf(file, bytes), fake, []);
  writeFileSync(path.join(a, ANALYSIS_CACHE_FILE), forged.serialize());
  const model = await analyzeCached(a);
  assert.deepEqual(modelJson(model), modelJson(real));
  assert.ok(model.endpoints.some((e) => e.declaration.file === file));
});

test('analyses at the same time each finish with the right model and leave a whole cache', async () => {
  const root = copyApp();
  const cli = path.join(repo, 'dist', 'cli.js');
  const run = () =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'analyze', root, '--json'], { env: process.env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
  // Touching a different file before each round makes every run write.
  for (let round = 0; round < 3; round++) {
    writeFileSync(path.join(root, 'users', 'extra.ts'), `export const round = ${round};\n`);
    const runs = await Promise.all([run(), run(), run(), run()]);
    const now = truth(root);
    for (const r of runs) {
      assert.equal(r.code, 0, r.out);
      const [app] = JSON.parse(r.out) as object[];
      assert.deepEqual(JSON.parse(JSON.stringify(app)), JSON.parse(JSON.stringify({ root, lang: 'typescript', ...now })));
    }
    // The cache left is whole and holds every file: one more run (the CLI's, whose analyzer version the cache
    // carries) finds all of it and so does not write it again.
    const cacheFile = path.join(root, ANALYSIS_CACHE_FILE);
    const before = { text: readFileSync(cacheFile, 'utf8'), mtime: statSync(cacheFile).mtimeMs };
    const again = await run();
    assert.equal(again.code, 0, again.out);
    assert.deepEqual(statSync(cacheFile).mtimeMs, before.mtime);
    assert.equal(readFileSync(cacheFile, 'utf8'), before.text);
  }
});

test('a warm run reuses the linked model only while the migrations it read read the same', async () => {
  const root = copyApp();
  assert.deepEqual(await cached(root), truth(root));
  const cacheFile = path.join(root, ANALYSIS_CACHE_FILE);
  const before = readFileSync(cacheFile, 'utf8');
  assert.match(before.split('\n')[1], /^\{"probes":/, 'the cache holds the linked model');
  // Nothing changed: the linked model is used, and the cache is not written again.
  assert.deepEqual(await cached(root), truth(root));
  assert.equal(readFileSync(cacheFile, 'utf8'), before);
  // A new migration changes no source file, only what the link reads.
  writeFileSync(path.join(root, 'users', 'migrations', '9_more.up.sql'), 'SELECT 1;\n');
  const now = truth(root);
  assert.ok(JSON.stringify(now).includes('9_more.up.sql'));
  assert.deepEqual(await cached(root), now);
  rmSync(path.join(root, 'users', 'migrations', '9_more.up.sql'));
  assert.deepEqual(await cached(root), truth(root));
});

test('files whose status is as recorded are not read again; a change that keeps size and mtime is still seen', async () => {
  const root = copyApp();
  // Statuses younger than the margin are not recorded (an hour here: the copies were just made).
  await analyzeCached(root, { statMarginMs: 3_600_000 });
  const cacheFile = path.join(root, ANALYSIS_CACHE_FILE);
  const key = readFileSync(path.join(process.env.XDG_CACHE_HOME!, 'encore-environments', 'analysis-cache.key'));
  const warm = (statMarginMs?: number) => {
    const cache = FactsCache.parse(readFileSync(cacheFile), key, { statMarginMs });
    return { cache, model: modelJson(new AppAnalyzer(root, { cache }).analyze()) };
  };
  assert.equal(warm().cache.statHits, 0, 'statuses younger than the margin were not recorded');
  // A run that writes records the statuses it trusts (margin 0 here, so these fresh files count).
  const file = path.join(root, 'users', 'users.ts');
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, `${original}\n// one\n`);
  // A whole second, so that putting it back below gives the very same mtime.
  const mtime = Math.floor(Date.now() / 1000) - 60;
  utimesSync(file, mtime, mtime);
  await analyzeCached(root, { statMarginMs: 0 });
  const files = (await import('../../src/analyzer/walk')).listSourceFiles(root).files.length;
  const hit = warm(0);
  assert.equal(hit.cache.statHits, files);
  assert.deepEqual(hit.model, truth(root));
  assert.equal(hit.cache.changed, false);

  // The same size, the mtime put back: the ctime (which no one can set) still shows the change.
  const before = statSync(file);
  writeFileSync(file, `${original}\n// two\n`);
  utimesSync(file, mtime, mtime);
  assert.equal(statSync(file).size, before.size);
  assert.equal(statSync(file).mtimeMs, before.mtimeMs);
  const seen = warm(0);
  assert.equal(seen.cache.statHits, files - 1);
  assert.deepEqual(seen.model, truth(root));
  // And through the CLI's path: the changed file's new facts are in the model (a changed path, same length).
  writeFileSync(file, original.replace('path: "/users/:id"', 'path: "/peopl/:id"'));
  utimesSync(file, mtime, mtime);
  const after = await cached(root);
  assert.deepEqual(after, truth(root));
  assert.ok(JSON.stringify(after).includes('/peopl/:id'));
});

test('a status is trusted only once it is older than the margin, and only for a regular file', () => {
  const file = path.join(tmp, 'status-probe.ts');
  writeFileSync(file, 'export {};\n');
  const stat = statSync(file);
  const changed = Math.max(stat.mtimeMs, stat.ctimeMs);
  assert.equal(statusTrusted(stat, changed + 1999), false);
  assert.equal(statusTrusted(stat, changed + 2000), true);
  assert.equal(statusTrusted(stat, changed, 0), true);
  assert.equal(statusTrusted(statSync(tmp), Date.now() + 60_000), false, 'a folder');
  assert.notEqual(statusSignature(stat), statusSignature(statSync(tmp)));
});

test('extraction spread over worker threads gives what extraction on this thread gives', async () => {
  const { generateSyntheticApp } = await import('../bench/synthetic-app');
  const { root } = generateSyntheticApp(path.join(tmp, 'synthetic'), { services: 30, seed: 3 });
  const { listSourceFiles } = await import('../../src/analyzer/walk');
  const { extractFile } = await import('../../src/analyzer/extract');
  const { parallelExtraction } = await import('../../src/analyzer/parallelExtraction');
  const jobs = listSourceFiles(root).files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  assert.ok(jobs.length >= 300, `${jobs.length} files`);
  const worker = path.join(repo, 'dist', 'cli', 'extractWorker.mjs');
  const results = await parallelExtraction(worker, 2)(jobs, root);
  assert.equal(results.length, jobs.length);
  for (const [i, { file, text }] of jobs.entries()) {
    const probes: typeof results[number]['probes'] = [];
    assert.deepEqual(results[i], { facts: extractFile(file, text, root, probes), probes }, file);
  }
  // The CLI's cold and warm runs of the app give the model of the analyzer.
  const cli = (await import('node:child_process')).spawnSync(process.execPath, [path.join(repo, 'dist', 'cli.js'), 'analyze', '--json', root], { env: process.env, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const [app] = JSON.parse(cli.stdout) as object[];
  assert.deepEqual(JSON.parse(JSON.stringify(app)), JSON.parse(JSON.stringify({ root, lang: 'typescript', ...truth(root) })));
  assert.deepEqual(await cached(root), truth(root));
});

test('the threads of a cold analysis: the cores no other thread keeps busy now (by /proc/loadavg where there is one) but one', async () => {
  const { extractionThreads, idleCores, othersRunnable } = await import('../../src/analyzer/parallelExtraction');
  // The 4th field counts the threads runnable now, this one included.
  assert.equal(othersRunnable(() => '2.90 1.20 0.40 1/107 1943\n'), 0);
  assert.equal(othersRunnable(() => '0.01 0.02 0.00 3/240 77\n'), 2);
  assert.equal(othersRunnable(() => 'not what Linux writes'), null);
  assert.equal(othersRunnable(() => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); }), null, 'no /proc (macOS, Windows)');
  assert.equal(idleCores(2, 0), 2, 'an idle machine: both cores, even after a minute of load');
  assert.equal(idleCores(2, 1), 1);
  assert.equal(idleCores(8, 2.4), 6);
  assert.equal(idleCores(2, 3), 1, 'at least this thread');
  assert.equal(idleCores(1, 0), 1);
  // A core is left to V8's own threads (garbage collection, optimising compiles) of this one.
  assert.deepEqual([1, 2, 3, 8].map((idle) => extractionThreads(idle)), [1, 1, 2, 7]);
});
