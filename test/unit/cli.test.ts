// The built CLI bundle, run as a user runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

test('commands of later features exit 3 and say which feature brings them', () => {
  const analyze = run('analyze');
  assert.equal(analyze.code, 3);
  assert.match(analyze.stderr, /encore-env analyze is not available in this version yet\. It arrives with the application model/);
  const plan = run('plan', '--env', 'staging');
  assert.equal(plan.code, 3);
  assert.match(plan.stderr, /It arrives with the provisioning engine/);
});

test('usage errors exit 2', () => {
  assert.equal(run('frobnicate').code, 2);
  assert.equal(run('apps', '--colour').code, 2);
  assert.equal(run().code, 2);
  assert.equal(run('--help').code, 0);
});

test('a directory that does not exist exits 1 with the reason', () => {
  const { code, stderr } = run('apps', 'no/such/dir');
  assert.equal(code, 1);
  assert.match(stderr, /^encore-env: cannot read .*no\/such\/dir: ENOENT/);
});
