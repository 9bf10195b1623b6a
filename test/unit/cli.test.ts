// The built CLI bundle, run as a user runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the bundle is executable through its shebang and prints its version', () => {
  assert.ok(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n'));
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.deepEqual(run('--version'), { code: 0, stdout: `${version}\n`, stderr: '' });
});

test('apps lists the sample app as JSON', () => {
  const { code, stdout } = run('apps', 'examples', '--json');
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), [{ root: path.join(root, 'examples', 'sample-app'), lang: 'typescript', id: null }]);
});

test('apps as text prints one line per app', () => {
  assert.deepEqual(run('apps', 'examples'), { code: 0, stdout: 'examples/sample-app\ttypescript\n', stderr: '' });
});

test('plan, apply, destroy and unlock need --env (exit 2); the rest is in cliProvision.test.ts', () => {
  for (const command of ['plan', 'apply', 'destroy', 'unlock']) {
    const r = run(command, 'examples/sample-app');
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^encore-env ${command}: --env NAME is required`));
  }
});

test('analyze --json prints one object per app with the documented keys, sorted', () => {
  const { code, stdout } = run('analyze', 'examples/sample-app', '--json');
  assert.equal(code, 0);
  const [app] = JSON.parse(stdout);
  assert.deepEqual(Object.keys(app), [
    'root', 'lang', 'services', 'endpoints', 'databases', 'topics', 'subscriptions', 'cronJobs', 'caches', 'buckets', 'secrets',
    'gateway', 'authHandler', 'metrics', 'diagnostics',
  ]);
  assert.deepEqual(app.databases, [
    { name: 'orders', migrations: ['1_create_orders.up.sql'], usedBy: ['orders'] },
    { name: 'users', migrations: ['1_create_users.up.sql', '2_add_email.up.sql'], usedBy: ['users'] },
  ]);
  assert.deepEqual(app.cronJobs[1], { name: 'purge-counters', title: 'Purge notification counters', schedule: 'every:60', endpoint: 'notifications.purgeCounters' });
  // Stable: a second run prints the same bytes.
  assert.equal(run('analyze', 'examples/sample-app', '--json').stdout, stdout);
});

test('analyze exits 1 on errors, prints them as file:line:column, and reports a Go app as not analysed', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-analyze-'));
  try {
    mkdirSync(path.join(dir, 'ts', 'svc'), { recursive: true });
    writeFileSync(path.join(dir, 'ts', 'encore.app'), '{"lang": "typescript"}');
    writeFileSync(path.join(dir, 'ts', 'svc', 'b.ts'), 'import { Bucket } from "encore.dev/storage/objects";\nexport const b = new Bucket("Bad_Name", {});\n');
    mkdirSync(path.join(dir, 'go'));
    writeFileSync(path.join(dir, 'go', 'encore.app'), '{"id": "legacy"}');
    const { code, stdout } = run('analyze', dir);
    assert.equal(code, 1);
    assert.match(stdout, /: a Go app: only Encore\.ts \(TypeScript\) apps are analysed yet, so this app was not analysed\n/);
    assert.match(stdout, /svc\/b\.ts:2:29: error: invalid bucket name 'Bad_Name': name must start with a lowercase letter \(got 'B'\)\n/);
    const json = JSON.parse(run('analyze', dir, '--json').stdout);
    assert.deepEqual(json.map((a: { lang: string }) => a.lang), ['go', 'typescript']);
    assert.deepEqual(json[1].diagnostics[0], {
      file: 'svc/b.ts', line: 2, column: 29, endLine: 2, endColumn: 39, severity: 'error',
      message: "invalid bucket name 'Bad_Name': name must start with a lowercase letter (got 'B')",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2', () => {
  assert.equal(run('frobnicate').code, 2);
  assert.equal(run('apps', '--colour').code, 2);
  assert.equal(run().code, 2);
  assert.equal(run('--help').code, 0);
});

test('a directory that does not exist is a usage error (exit 2) for every command, with the reason', () => {
  for (const command of ['apps', 'analyze']) {
    const { code, stderr } = run(command, 'no/such/dir');
    assert.equal(code, 2, command);
    assert.match(stderr, new RegExp(`^encore-env ${command}: .*no/such/dir does not exist\\n$`));
  }
  const plan = run('plan', '--env', 'dev', 'no/such/dir');
  assert.equal(plan.code, 2);
  assert.match(plan.stderr, /no\/such\/dir does not exist/);
});

test('apps and analyze refuse a repeated or unknown flag, and an option is never taken for the folder', () => {
  assert.match(run('analyze', '--json', '--json').stderr, /^encore-env analyze: --json is given twice; give it once\n$/);
  assert.equal(run('analyze', '-x').code, 2);
  assert.match(run('analyze', '-x').stderr, /^encore-env analyze: unknown option -x\n$/);
});

test('output to a reader that went away (`| head`) is dropped quietly, and the command exits with its own status', () => {
  // `true` exits without reading, before the CLI writes: every write meets a closed pipe (EPIPE).
  for (const args of [['analyze', 'examples/sample-app'], ['analyze', 'examples/sample-app', '--json'], ['--help']]) {
    const line = `${[process.execPath, cli, ...args].map((a) => `'${a}'`).join(' ')} | true; echo "\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', line], { cwd: root, encoding: 'utf8' });
    assert.deepEqual({ stdout: r.stdout, stderr: r.stderr }, { stdout: '0\n', stderr: '' }, args.join(' '));
  }
});
