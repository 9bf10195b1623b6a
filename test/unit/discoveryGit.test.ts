// Git branch discovery on real repositories made with `git init` in temp folders.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { discoverGitBranches } from '../../src/session/gitBranches';

const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'discovery-git-')));
after(() => rmSync(root, { recursive: true, force: true }));
// Keeps git from finding a repository above the temp folder, and from reading the machine's global config.
const env = { ...process.env, GIT_CEILING_DIRECTORIES: root, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd, env, encoding: 'utf8' });
}

function repo(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  git(dir, 'init', '-q', '-b', 'main');
  return dir;
}

function commit(dir: string, file = 'README.md'): void {
  writeFileSync(path.join(dir, file), `${Date.now()}\n`);
  git(dir, 'add', file);
  git(dir, 'commit', '-q', '-m', `change ${file}`);
}

test('local branches and the current one, also from a subfolder of the repository', async () => {
  const dir = repo('shop');
  commit(dir);
  git(dir, 'branch', 'release');
  git(dir, 'branch', 'feature/checkout');
  git(dir, 'checkout', '-q', 'release');
  mkdirSync(path.join(dir, 'backend'));
  for (const folder of [dir, path.join(dir, 'backend')]) {
    assert.deepEqual(await discoverGitBranches(folder, { env }), {
      folder,
      isRepo: true,
      branches: ['feature/checkout', 'main', 'release'],
      current: 'release',
      problems: [],
    });
  }
});

test('a branch that shares its name with a tag keeps its exact name', async () => {
  const dir = repo('tagged');
  commit(dir);
  git(dir, 'tag', 'v1');
  git(dir, 'branch', 'v1');
  const found = await discoverGitBranches(dir, { env });
  assert.deepEqual(found.branches, ['main', 'v1']);
});

test('a new repository without commits has no branches yet, but its current branch is known', async () => {
  const dir = repo('fresh');
  assert.deepEqual(await discoverGitBranches(dir, { env }), { folder: dir, isRepo: true, branches: [], current: 'main', problems: [] });
});

test('a detached HEAD has no current branch, and says so', async () => {
  const dir = repo('detached');
  commit(dir);
  commit(dir, 'second.txt');
  git(dir, 'checkout', '-q', '--detach', 'HEAD~1');
  const found = await discoverGitBranches(dir, { env });
  assert.deepEqual(found.branches, ['main']);
  assert.equal(found.current, undefined);
  assert.deepEqual(found.problems, ['HEAD is detached: no branch is checked out']);
});

test('outside a repository, without git, or for a missing folder: an empty result that says why', async () => {
  const plain = path.join(root, 'plain');
  mkdirSync(plain);
  assert.deepEqual(await discoverGitBranches(plain, { env }), {
    folder: plain,
    isRepo: false,
    branches: [],
    problems: [`${plain} is not in a git repository: type the branch name, or run "git init"`],
  });
  const dir = repo('nogit');
  const missingGit = await discoverGitBranches(dir, { env, git: path.join(root, 'no-such-git') });
  assert.equal(missingGit.isRepo, false);
  assert.deepEqual(missingGit.branches, []);
  assert.match(missingGit.problems[0], /^git was not found \(.*no-such-git\): install git or put it on PATH/);
  const gone = path.join(root, 'gone');
  assert.deepEqual(await discoverGitBranches(gone, { env }), { folder: gone, isRepo: false, branches: [], problems: [`${gone} is not a folder`] });
});
