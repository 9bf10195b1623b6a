// Finding the user's Encore CLI and checking its version: parsing `encore version`, the version order, a missing
// CLI, one too old for a deploy or for the app's SDK, and something on PATH that is not Encore. The CLI run is the
// stand-in (test/deploy/encore-standin/encore), on this test's PATH only.
// Run: node --import tsx --test test/unit/deployEncoreCli.test.ts
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  buildArgs, checkEncore, compareVersions, EncoreCliError, findEncore, installedEncoreDir, MIN_ENCORE_VERSION, parseEncoreVersion,
} from '../../src/provisioning/deploy/encoreCli';
import { STANDIN, standinEnv } from '../deploy/encoreStandin';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'deploy-encore-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const withStandin = standinEnv;
// No encore on PATH, and a home without Encore's installer folder (the machine's own ~/.encore is never looked at).
const emptyPath = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: path.join(tmp, 'nothing'), HOME: path.join(tmp, 'no-home'), ENCORE_INSTALL: undefined });

test('encore version output is parsed, with pre-releases and trailing text', () => {
  assert.deepEqual(parseEncoreVersion('encore version v1.58.6\n'), { raw: 'v1.58.6', major: 1, minor: 58, patch: 6 });
  assert.deepEqual(parseEncoreVersion('encore version v1.59.0-beta.2 (darwin/arm64)'), { raw: 'v1.59.0-beta.2', major: 1, minor: 59, patch: 0, prerelease: 'beta.2' });
  assert.equal(parseEncoreVersion('encore version devel'), undefined);
  assert.equal(parseEncoreVersion('Usage: encore [command]'), undefined);
});

test('versions order numerically, a pre-release before its release', () => {
  assert.equal(compareVersions('1.50.0', '1.9.9'), 1);
  assert.equal(compareVersions('v1.50.0', '1.50.0'), 0);
  assert.equal(compareVersions('1.50.0-beta.1', '1.50.0'), -1);
  assert.equal(compareVersions('1.50.0', '1.50.0-rc.1'), 1);
  assert.equal(compareVersions('1.50.0-alpha', '1.50.0-beta'), -1);
  assert.equal(compareVersions('2.0.0', '1.99.99'), 1);
  assert.ok(compareVersions(MIN_ENCORE_VERSION, '1.0.0') > 0);
});

test('the encore on PATH is found; a configured path wins; none says how to install', () => {
  assert.equal(findEncore({ env: withStandin() }), STANDIN);
  assert.equal(findEncore({ configured: STANDIN, env: emptyPath() }), STANDIN);
  assert.throws(() => findEncore({ env: emptyPath() }), (err: EncoreCliError) =>
    err.code === 'missing' && /not installed, or not on PATH/.test(err.message) && /curl -L https:\/\/encore\.dev\/install\.sh \| bash/.test(err.message) && /brew install encoredev\/tap\/encore/.test(err.message));
  assert.throws(() => findEncore({ configured: path.join(tmp, 'no-such-encore'), env: withStandin() }), (err: EncoreCliError) => err.code === 'missing' && /does not exist or is not executable/.test(err.message));
  // A file named encore that is not executable is skipped.
  const dir = path.join(tmp, 'noexec');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'encore'), '#!/bin/sh\n');
  chmodSync(path.join(dir, 'encore'), 0o644);
  assert.throws(() => findEncore({ env: { PATH: dir } }), /not installed/);
});

test("the encore Encore's installer put in ~/.encore/bin (or $ENCORE_INSTALL/bin) is found when it is not on PATH", async () => {
  const home = path.join(tmp, 'home');
  const installed = path.join(home, '.encore', 'bin', 'encore');
  mkdirSync(path.dirname(installed), { recursive: true });
  symlinkSync(STANDIN, installed);
  const env = { ...emptyPath(), HOME: home };
  assert.equal(installedEncoreDir(env), path.dirname(installed));
  assert.equal(findEncore({ env }), installed);
  // The stand-in runs from there: the preflight reads its version (its `env node` needs only Node on PATH).
  assert.equal((await checkEncore({ env: { ...standinEnv(), PATH: path.dirname(process.execPath), HOME: home } })).path, installed);
  // One on PATH comes first.
  assert.equal(findEncore({ env: { ...withStandin(), HOME: home } }), STANDIN);
  // ENCORE_INSTALL moves the installer's folder; ~/.encore is then not looked at.
  const custom = path.join(tmp, 'custom-install');
  assert.throws(() => findEncore({ env: { ...env, ENCORE_INSTALL: custom } }), (err: EncoreCliError) => err.message.includes(`nor in ${path.join(custom, 'bin')}`));
  mkdirSync(path.join(custom, 'bin'), { recursive: true });
  symlinkSync(STANDIN, path.join(custom, 'bin', 'encore'));
  assert.equal(findEncore({ env: { ...env, ENCORE_INSTALL: custom } }), path.join(custom, 'bin', 'encore'));
});

test('checkEncore: the version of a current CLI is accepted', async () => {
  const check = await checkEncore({ env: withStandin() });
  assert.equal(check.path, STANDIN);
  assert.equal(check.version.raw, 'v1.58.6');
  assert.equal((await checkEncore({ env: withStandin({ ENCORE_STANDIN_VERSION: `v${MIN_ENCORE_VERSION}` }) })).version.raw, `v${MIN_ENCORE_VERSION}`);
});

test('checkEncore: a CLI older than the minimum is refused with the minimum and how to update', async () => {
  await assert.rejects(checkEncore({ env: withStandin({ ENCORE_STANDIN_VERSION: 'v1.49.9' }) }), (err: EncoreCliError) =>
    err.code === 'too-old' && err.message.includes('is v1.49.9, older than 1.50.0') && /encore version update/.test(err.message) && /install\.sh/.test(err.message));
  await assert.rejects(checkEncore({ env: withStandin({ ENCORE_STANDIN_VERSION: 'v1.50.0-beta.1' }) }), (err: EncoreCliError) => err.code === 'too-old');
});

test("checkEncore: a CLI older than the app's installed encore.dev is refused", async () => {
  const app = path.join(tmp, 'app');
  mkdirSync(path.join(app, 'node_modules', 'encore.dev'), { recursive: true });
  writeFileSync(path.join(app, 'node_modules', 'encore.dev', 'package.json'), JSON.stringify({ name: 'encore.dev', version: '1.60.1' }));
  await assert.rejects(checkEncore({ env: withStandin(), appRoot: app }), (err: EncoreCliError) =>
    err.code === 'too-old' && /uses encore\.dev 1\.60\.1, newer than the Encore CLI .* \(v1\.58\.6\)/.test(err.message));
  assert.equal((await checkEncore({ env: withStandin({ ENCORE_STANDIN_VERSION: 'v1.60.1' }), appRoot: app })).version.raw, 'v1.60.1');
  // No SDK installed (npm install not run yet): only the minimum applies.
  assert.equal((await checkEncore({ env: withStandin(), appRoot: tmp })).version.raw, 'v1.58.6');
});

test('checkEncore: an `encore` that is not Encore says what it printed', async () => {
  const dir = path.join(tmp, 'impostor');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'encore'), '#!/bin/sh\necho "encore: a different tool, 0.3"\nexit 2\n');
  chmodSync(path.join(dir, 'encore'), 0o755);
  await assert.rejects(checkEncore({ env: { ...process.env, PATH: dir } }), (err: EncoreCliError) =>
    err.code === 'unknown-version' && /did not report a version \(exit 2: encore: a different tool, 0\.3\)/.test(err.message));
});

test('the build arguments: --skip-config, --push with the image, --base when set', () => {
  assert.deepEqual(buildArgs('127.0.0.1:5000/app:abc'), ['build', 'docker', '--skip-config', '--push', '127.0.0.1:5000/app:abc']);
  assert.deepEqual(buildArgs('r/app:abc', 'node:22-slim'), ['build', 'docker', '--skip-config', '--push', 'r/app:abc', '--base', 'node:22-slim']);
});
