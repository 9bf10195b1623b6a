// Issue 9, the environments file's part: deep nesting (item 4), a FIFO in the file's place (item 8), a bound on
// the problems reported (item 11), and saves that change only what changed, keep a BOM and write through symbolic
// links (item 13). Every bad file is left byte for byte as it was.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { InvalidFileError } from '../../src/environments/errors';
import { readEnvironments } from '../../src/environments/readEnvironments';
import { EnvStore } from '../../src/environments/store';
import { validateDocument, validateEnvironment } from '../../src/environments/validate';
import { MAX_PROBLEMS } from '../../src/environments/problems';
import { buildTree } from '../../src/extension/tree/treeData';
import { readOptional } from '../../src/files/readOptional';
import type { Environment } from '../../src/model/environment';
import { eu, fileText, leftovers, prod, scratchApp, staging } from './envStoreFixtures';

const FILE = 'encore.environments.json';
const repoRoot = path.join(__dirname, '..', '..');

/** Runs `work` and fails if it has not settled within `ms` (a FIFO read blocks for ever otherwise). */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (it hangs)`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- item 4: nesting ------------------------------------------------------------------------------------------

for (const depth of [2_000, 10_000]) {
  test(`a file of ${depth.toLocaleString('en-US')} nested [ is one problem "nested too deeply" at its place, and stays untouched`, async () => {
    const root = scratchApp('env-deep-');
    const file = path.join(root, FILE);
    // About 4 KB at 2,000: closed, so it is valid JSON and reaches every check after the parser.
    const text = `{"environments": [\n${'['.repeat(depth)}${']'.repeat(depth)}\n]}\n`;
    writeFileSync(file, text);
    const loaded = await new EnvStore(root).load();
    assert.equal(loaded.ok, false);
    assert.deepEqual(!loaded.ok && loaded.errors.map((e) => [e.line, e.column, e.message]), [
      [2, 63, 'nested too deeply: more than 64 levels of [ and { (a valid environments file needs 6)'],
    ]);
    const read = await readEnvironments(root);
    assert.equal(read.kind, 'invalid');
    await assert.rejects(new EnvStore(root).create(staging), InvalidFileError);
    assert.equal(readFileSync(file, 'utf8'), text);
    assert.deepEqual(leftovers(root), []);
  });
}

test('nesting inside strings does not count, and a file just within the bound gets its ordinary problems', async () => {
  const root = scratchApp('env-deep-');
  writeFileSync(path.join(root, FILE), JSON.stringify({ environments: [{ ...staging, deploy: { trigger: 'push', branch: '['.repeat(200) } }] }));
  assert.equal((await new EnvStore(root).load()).ok, true);
  writeFileSync(path.join(root, FILE), `{"environments": ${'['.repeat(63)}${']'.repeat(63)}}`);
  const loaded = await new EnvStore(root).load();
  assert.ok(!loaded.ok && loaded.errors.length === 1 && loaded.errors[0].message === 'must be an object', JSON.stringify(loaded));
});

test('the checks walk deep values (from code, not a file) without recursion', () => {
  let deep: unknown = 'AKIAABCDEFGHIJKLMNOP';
  for (let i = 0; i < 100_000; i++) deep = i % 2 ? [deep] : { nested: deep };
  const problems = validateDocument({ environments: [{ ...staging, deep }] });
  assert.ok(problems.some((p) => p.message.startsWith('this value looks like key material')));
  assert.ok(validateEnvironment({ ...staging, provider: deep }).length > 0);
});

// ---- item 8: a FIFO in the file's place -------------------------------------------------------------------------

test('an environments file that is a FIFO, or a link to one, is refused at once for load and save, and stays a FIFO', async () => {
  for (const viaLink of [false, true]) {
    const root = scratchApp('env-fifo-');
    const file = path.join(root, FILE);
    if (viaLink) {
      execFileSync('mkfifo', [path.join(root, 'pipe')]);
      symlinkSync('pipe', file);
    } else {
      execFileSync('mkfifo', [file]);
    }
    const store = new EnvStore(root);
    const loaded = await within(5_000, 'load', store.load());
    assert.equal(loaded.ok, false);
    assert.match(!loaded.ok ? loaded.errors[0].message : '', /^cannot read the file: .*encore\.environments\.json is a named pipe \(FIFO\), not a regular file$/);
    const read = await within(5_000, 'readEnvironments', readEnvironments(root));
    assert.equal(read.kind, 'invalid');
    await within(5_000, 'create', assert.rejects(store.create(staging), InvalidFileError));
    assert.ok(statSync(file).isFIFO(), 'the FIFO was replaced');
    assert.equal(lstatSync(file).isSymbolicLink(), viaLink);
  }
});

for (const [what, make, expected] of [
  ['a FIFO', (file: string) => execFileSync('mkfifo', [file]), /is a named pipe \(FIFO\), not a regular file/],
  ['2,000 nested [', (file: string) => writeFileSync(file, `{"environments": ${'['.repeat(2_000)}${']'.repeat(2_000)}}`), /line 1, column 81: nested too deeply/],
] as const) {
  test(`the CLI refuses an environments file that is ${what} with a message, instead of hanging or overflowing`, { timeout: 60_000 }, async () => {
    const root = scratchApp('env-cli-');
    writeFileSync(path.join(root, 'encore.app'), '{"id": "", "lang": "typescript"}');
    make(path.join(root, FILE));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src', 'cli', 'main.ts'), 'plan', '--env', 'staging', '--offline', root], { cwd: repoRoot });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await within(45_000, 'encore-env plan', new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    assert.notEqual(code, 0);
    assert.match(stderr, expected);
    assert.doesNotMatch(stderr, /Maximum call stack/);
  });
}

test('a FIFO where discovery reads a config file is a problem, not a hang', async () => {
  const root = scratchApp('env-fifo-discovery-');
  const fifo = path.join(root, 'config');
  execFileSync('mkfifo', [fifo]);
  const problems: string[] = [];
  assert.equal(await within(5_000, 'readOptional', readOptional(fifo, problems)), undefined);
  assert.deepEqual(problems, [`cannot read ${fifo}: ${fifo} is a named pipe (FIFO), not a regular file`]);
  assert.equal(await readOptional(path.join(root, 'missing'), problems), undefined);
  assert.equal(problems.length, 1);
});

// ---- item 11: a bound on the problems ---------------------------------------------------------------------------

test('a file with tens of thousands of problems reports the first ones and how many more, everywhere', async () => {
  const root = scratchApp('env-many-');
  const file = path.join(root, FILE);
  const envs = Array.from({ length: 24_000 }, (_, i) => ({ ...staging, name: `Env_${i}`, colour: 'red' }));
  const text = `${JSON.stringify({ environments: envs }, null, 2)}\n`;
  writeFileSync(file, text);
  const started = Date.now();
  const loaded = await new EnvStore(root).load();
  const ms = Date.now() - started;
  assert.equal(loaded.ok, false);
  if (loaded.ok) return;
  assert.equal(loaded.errors.length, MAX_PROBLEMS);
  const last = loaded.errors.at(-1)!;
  assert.equal(last.message, `…and ${(48_000 - MAX_PROBLEMS + 1).toLocaleString('en-US')} more problems: fix the ones above first`);
  assert.ok(last.line > loaded.errors.at(-2)!.line);
  const read = await readEnvironments(root);
  assert.equal(read.kind === 'invalid' && read.message.split('\n').length, MAX_PROBLEMS);
  const error = await new EnvStore(root).create(eu).catch((err: unknown) => err);
  assert.ok(error instanceof InvalidFileError && error.message.split('\n').length === MAX_PROBLEMS + 1);
  const tree = buildTree([{ root, description: '', environments: { ok: false, file, errors: loaded.errors }, model: { kind: 'pending' } }], () => ({ resources: [], warnings: [] }) as never);
  const errorNode = tree.children.get('')![0];
  assert.equal(tree.children.get(errorNode)!.length, MAX_PROBLEMS);
  assert.equal(readFileSync(file, 'utf8'), text);
  assert.ok(ms < 20_000, `loading took ${ms} ms`);
});

test('the tree caps the error nodes of any problem list it is given', () => {
  const errors = Array.from({ length: 5_000 }, (_, i) => ({ message: 'unexpected character', path: '', line: i + 1, column: 1, offset: i * 2, length: 1 }));
  const tree = buildTree([{ root: '/app', description: '', environments: { ok: false, file: '/app/x', errors }, model: { kind: 'pending' } }], () => ({ resources: [], warnings: [] }) as never);
  const children = tree.children.get(tree.children.get('')![0])!;
  assert.equal(children.length, MAX_PROBLEMS);
  const last = tree.nodes.get(children.at(-1)!);
  assert.ok(last?.kind === 'problem' && last.description === `…and ${(5_000 - MAX_PROBLEMS + 1).toLocaleString('en-US')} more problems: fix the ones above first`, JSON.stringify(last));
});

// ---- item 13: in-place edits, the BOM, symbolic links -----------------------------------------------------------

/** A hand-kept file: a BOM, four-space indentation, CRLF, one environment on a single line, odd spacing. */
function handKept(): { text: string; parts: string[] } {
  const parts = [
    '{"name": "staging",   "type": "development", "deploy": {"trigger": "push", "branch": "main"}, "provider": {"kind": "kubernetes", "context": "kind-dev", "namespace": "shop-staging"}}',
    `{\r\n            "name": "prod", "type": "production",\r\n            "deploy": { "trigger": "manual" },\r\n            "provider": { "kind": "aws", "region": "eu-west-1", "profile": "shop" },\r\n            "sizing": {"databases": {"users": {"cpu": 2, "memoryGiB": 8, "diskGiB": 50}}, "services": {"orders": {"minInstances": 2, "maxInstances": 10}}}\r\n        }`,
    `{ "name": "eu", "type": "production", "deploy": { "trigger": "push", "branch": "release" },\r\n          "provider": { "kind": "gcp", "project": "shop-prod-123", "region": "europe-west1" } }`,
  ];
  const text = `\uFEFF{\r\n    "$schema": "./schemas/encore.environments.schema.json",\r\n    "environments": [\r\n        ${parts.join(',\r\n        ')}\r\n    ]\r\n}\r\n`;
  return { text, parts };
}

test('update, create and delete change only their environment; the BOM, the style and every other byte stay', async () => {
  const root = scratchApp('env-inplace-');
  const file = path.join(root, FILE);
  const { text, parts } = handKept();
  writeFileSync(file, text);
  const store = new EnvStore(root);
  const loaded = await store.load();
  assert.ok(loaded.ok, JSON.stringify(loaded));
  assert.deepEqual(loaded.environments, [staging, prod, eu]);

  const moved: Environment = { ...prod, provider: { kind: 'aws', region: 'us-east-1', profile: 'shop' } };
  await store.update('prod', moved);
  let now = readFileSync(file, 'utf8');
  assert.ok(now.startsWith('\uFEFF{\r\n    "$schema"'), 'the BOM and the head stay');
  assert.ok(now.includes(parts[0]) && now.includes(parts[2]), 'the untouched environments keep their bytes');
  assert.ok(!now.includes(parts[1]));
  const written = `{\r\n            "name": "prod",\r\n            "type": "production",\r\n            "deploy": {\r\n                "trigger": "manual"\r\n            },`;
  assert.ok(now.includes(written), now);
  assert.equal(now.replace(/\r\n/g, '').includes('\n'), false, 'every line ends in CRLF');

  await store.create({ ...staging, name: 'preview' });
  now = readFileSync(file, 'utf8');
  assert.ok(now.includes(parts[0]) && now.includes(parts[2]));
  assert.ok(now.endsWith(`    }\r\n    ]\r\n}\r\n`) && now.includes(`,\r\n        {\r\n            "name": "preview",`), now);

  await store.delete('staging');
  now = readFileSync(file, 'utf8');
  assert.ok(now.startsWith(`\uFEFF{\r\n    "$schema": "./schemas/encore.environments.schema.json",\r\n    "environments": [\r\n        {\r\n            "name": "prod"`), now);
  assert.ok(now.includes(parts[2]));
  await store.delete('preview');
  now = readFileSync(file, 'utf8');
  assert.ok(now.includes(`${parts[2]}\r\n    ]\r\n}\r\n`), now);
  const again = await new EnvStore(root).load();
  assert.deepEqual(again.ok && again.environments, [moved, eu]);
  for (const name of ['prod', 'eu']) await store.delete(name);
  assert.equal(readFileSync(file, 'utf8'), '\uFEFF{\r\n    "$schema": "./schemas/encore.environments.schema.json",\r\n    "environments": []\r\n}\r\n');
  await store.create(staging);
  const last = await new EnvStore(root).load();
  assert.deepEqual(last.ok && last.environments, [staging]);
  assert.ok(readFileSync(file, 'utf8').startsWith('\uFEFF{\r\n    "$schema": "./schemas/encore.environments.schema.json",\r\n    "environments": [\r\n        {\r\n            "name": "staging",'));
  assert.deepEqual(leftovers(root), []);
});

test('a save through a symbolic link replaces the file it points to, and the link stays a link', async () => {
  const base = scratchApp('env-link-');
  const app = path.join(base, 'app');
  const shared = path.join(base, 'shared');
  mkdirSync(app);
  mkdirSync(shared);
  const target = path.join(shared, 'environments.json');
  writeFileSync(target, fileText([staging]));
  const link = path.join(app, FILE);
  symlinkSync(path.join('..', 'shared', 'environments.json'), link);
  const store = new EnvStore(app);
  await store.create(prod);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link was replaced by a file');
  assert.equal(readlinkSync(link), path.join('..', 'shared', 'environments.json'));
  const loaded = await new EnvStore(app).load();
  assert.deepEqual(loaded.ok && loaded.environments, [staging, prod]);
  assert.deepEqual(readdirSync(shared), ['environments.json'], 'no temp file is left beside the target');
  assert.deepEqual(readdirSync(app), [FILE]);
});

test('a save through a link to nothing is refused with a message, and the link is left as it was', async () => {
  const app = scratchApp('env-dangling-');
  const link = path.join(app, FILE);
  writeFileSync(link, fileText([staging]));
  const store = new EnvStore(app);
  assert.ok((await store.load()).ok);
  // The file becomes a link to nothing after the store read it.
  execFileSync('rm', [link]);
  symlinkSync('gone.json', link);
  const error = await store.create(prod).catch((err: unknown) => err as Error);
  assert.ok(error instanceof Error);
  assert.match(error.message, /is a symbolic link to gone\.json, which cannot be reached \(ENOENT\); nothing was written/);
  assert.equal(readlinkSync(link), 'gone.json');
  assert.deepEqual(leftovers(app), []);
});
