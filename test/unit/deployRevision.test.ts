// The git revision of an app folder, in temporary repositories made with the real git: commit, short commit,
// branch, dirty (modified, staged, untracked; not ignored; only under the app folder), detached HEAD, no commit, no
// repository, and git's environment kept safe (inherited GIT_DIR ignored, a repository's fsmonitor never run).
// Run: node --import tsx --test test/unit/deployRevision.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gitRevision, imageTag, RevisionError, safeGitEnv } from '../../src/provisioning/deploy/revision';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'deploy-revision-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const gitEnv = { ...safeGitEnv(), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1', HOME: tmp };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
let n = 0;

/** A repository with an app in `apps/web` (a monorepo layout) and one commit on `main`. */
function repo(): { root: string; app: string } {
  const root = path.join(tmp, `repo-${++n}`);
  const app = path.join(root, 'apps', 'web');
  mkdirSync(app, { recursive: true });
  git(root, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(app, 'encore.app'), '{"id":"web"}\n');
  writeFileSync(path.join(app, 'api.ts'), 'export {};\n');
  writeFileSync(path.join(root, 'README.md'), 'hi\n');
  writeFileSync(path.join(root, '.gitignore'), 'node_modules/\n.encore/\n');
  git(root, 'add', '.');
  git(root, 'commit', '-q', '-m', 'first');
  return { root, app };
}

const opts = { env: { ...process.env, HOME: tmp, GIT_CONFIG_NOSYSTEM: '1' } };

test('a clean checkout: the commit, its short form, the branch, not dirty', async () => {
  const { root, app } = repo();
  const rev = await gitRevision(app, opts);
  assert.equal(rev.commit, git(root, 'rev-parse', 'HEAD'));
  assert.match(rev.commit, /^[0-9a-f]{40}$/);
  assert.equal(rev.shortCommit, git(root, 'rev-parse', '--short', 'HEAD'));
  assert.ok(rev.commit.startsWith(rev.shortCommit));
  assert.deepEqual([rev.dirty, rev.changes, rev.branch, rev.repoRoot], [false, [], 'main', root]);
});

test('dirty: a modified file, a staged one, an untracked one, a name with spaces; ignored files do not count', async () => {
  const { root, app } = repo();
  writeFileSync(path.join(app, 'node_modules.txt'), 'x');
  mkdirSync(path.join(app, 'node_modules', 'encore.dev'), { recursive: true });
  writeFileSync(path.join(app, 'node_modules', 'encore.dev', 'index.js'), '');
  rmSync(path.join(app, 'node_modules.txt'));
  assert.equal((await gitRevision(app, opts)).dirty, false, 'ignored files made it dirty');
  writeFileSync(path.join(app, 'api.ts'), 'export const changed = 1;\n');
  writeFileSync(path.join(app, 'new file.ts'), '');
  writeFileSync(path.join(app, 'staged.ts'), '');
  git(root, 'add', 'apps/web/staged.ts');
  const rev = await gitRevision(app, opts);
  assert.equal(rev.dirty, true);
  assert.deepEqual(rev.changes.sort(), [' M apps/web/api.ts', '?? apps/web/new file.ts', 'A  apps/web/staged.ts'].sort());
});

test('a rename is one change; more than 20 changes are listed as 20 and still dirty', async () => {
  const { root, app } = repo();
  git(root, 'mv', 'apps/web/api.ts', 'apps/web/moved.ts');
  assert.deepEqual((await gitRevision(app, opts)).changes, ['R  apps/web/moved.ts']);
  for (let i = 0; i < 25; i++) writeFileSync(path.join(app, `f${i}.ts`), '');
  const rev = await gitRevision(app, opts);
  assert.equal(rev.changes.length, 20);
  assert.equal(rev.dirty, true);
});

test('changes outside the app folder do not make it dirty (they are not in its image)', async () => {
  const { root, app } = repo();
  writeFileSync(path.join(root, 'README.md'), 'changed\n');
  writeFileSync(path.join(root, 'other.txt'), '');
  assert.equal((await gitRevision(app, opts)).dirty, false);
  assert.equal((await gitRevision(root, opts)).dirty, true);
});

test('a detached HEAD has no branch; another branch is named', async () => {
  const { root, app } = repo();
  git(root, 'checkout', '-q', '-b', 'feature/x');
  assert.equal((await gitRevision(app, opts)).branch, 'feature/x');
  git(root, 'checkout', '-q', '--detach');
  const rev = await gitRevision(app, opts);
  assert.equal(rev.branch, undefined);
  assert.equal('branch' in rev, false);
});

test('no repository, and a repository without a commit, are clear errors', async () => {
  const plain = path.join(tmp, 'plain');
  mkdirSync(plain);
  await assert.rejects(gitRevision(plain, { ...opts, env: { ...opts.env, GIT_CEILING_DIRECTORIES: tmp } }), (err: RevisionError) => err.code === 'not-a-repo' && /git init/.test(err.message));
  const fresh = path.join(tmp, 'fresh');
  mkdirSync(fresh);
  git(fresh, 'init', '-q');
  await assert.rejects(gitRevision(fresh, opts), (err: RevisionError) => err.code === 'no-commit' && /no commit yet/.test(err.message));
  await assert.rejects(gitRevision(plain, { ...opts, git: path.join(tmp, 'no-git-here') }), (err: RevisionError) => err.code === 'no-git' && /install git/.test(err.message));
});

test("the caller's GIT_DIR and GIT_WORK_TREE are ignored: the app folder's own repository is read", async () => {
  const a = repo();
  const b = repo();
  git(b.root, 'commit', '-q', '--allow-empty', '-m', 'second');
  const rev = await gitRevision(a.app, { env: { ...opts.env, GIT_DIR: path.join(b.root, '.git'), GIT_WORK_TREE: b.root, GIT_INDEX_FILE: path.join(b.root, '.git', 'index') } });
  assert.equal(rev.commit, git(a.root, 'rev-parse', 'HEAD'));
  assert.notEqual(rev.commit, git(b.root, 'rev-parse', 'HEAD'));
});

test("a repository's core.fsmonitor program is never run", async () => {
  const { root, app } = repo();
  const marker = path.join(tmp, `fsmonitor-ran-${n}`);
  const hook = path.join(tmp, `fsmonitor-${n}.sh`);
  writeFileSync(hook, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
  git(root, 'config', 'core.fsmonitor', hook);
  await gitRevision(app, opts);
  assert.equal(existsSync(marker), false, 'git status ran the repository\'s fsmonitor hook');
});

test('the image tag: the short commit when clean; short commit, -dirty- and the UTC time when dirty', () => {
  assert.equal(imageTag({ shortCommit: '3f2c1d0', dirty: false }), '3f2c1d0');
  assert.equal(imageTag({ shortCommit: '3f2c1d0', dirty: true }, new Date('2026-03-04T05:06:07.890Z')), '3f2c1d0-dirty-20260304-050607');
  assert.match(imageTag({ shortCommit: 'abcdef1', dirty: true }), /^[\w][\w.-]{0,127}$/);
});
