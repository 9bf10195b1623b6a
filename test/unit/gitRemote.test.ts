// The app's GitHub repository from its git remote (session/gitRemote.ts): what the AWS deploy role's trust names.
// The URL forms git and GitHub use (https with or without .git and a user, ssh://, scp-like), anything else refused;
// and the remote chosen from a real git repository (origin, else the only one), with a clear reason when none fits.
// Run: npm test -- unit test/unit/gitRemote.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { githubRepository, githubRepositoryOf } from '../../src/session/gitRemote';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'git-remote-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('GitHub remote URLs: https, ssh and scp-like, with or without .git', () => {
  for (const [url, want] of [
    ['https://github.com/acme/shop.git', 'acme/shop'],
    ['https://github.com/acme/shop', 'acme/shop'],
    ['https://github.com/acme/shop/', 'acme/shop'],
    ['https://x-access-token@github.com/acme/shop.git', 'acme/shop'],
    ['git@github.com:acme/shop.git', 'acme/shop'],
    ['git@github.com:acme/shop', 'acme/shop'],
    ['ssh://git@github.com/acme/shop.git', 'acme/shop'],
    ['ssh://git@github.com:22/acme/shop', 'acme/shop'],
    ['  git@github.com:Acme-Corp/my.site.github.io.git\n', 'Acme-Corp/my.site.github.io'],
    ['https://github.com/acme/shop_v2-api', 'acme/shop_v2-api'],
  ] as const) {
    assert.equal(githubRepositoryOf(url), want, url);
  }
});

test('anything that is not a GitHub repository is refused (null), never guessed', () => {
  for (const url of [
    'https://gitlab.com/acme/shop.git',
    'git@gitlab.com:acme/shop.git',
    'https://github.com.evil.example/acme/shop',
    'https://evil.example/github.com/acme/shop',
    'http://github.com/acme/shop',
    'https://github.example.com/acme/shop',
    'https://github.com/acme',
    'https://github.com/acme/shop/tree/main',
    'git@github.com:acme/shop/extra.git',
    'git@github.com:ac me/shop.git',
    'https://github.com/acme/sh;op',
    '/srv/git/shop.git',
    '../shop',
    '',
  ]) {
    assert.equal(githubRepositoryOf(url), null, url);
  }
});

function repoWith(remotes: [string, string][]): string {
  const dir = mkdtempSync(path.join(tmp, 'repo-'));
  const env = { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  for (const [name, url] of remotes) execFileSync('git', ['remote', 'add', name, url], { cwd: dir, env });
  return dir;
}

test("the repository's remote: origin first, else the only one; a clear reason when there is none or it is not GitHub", () => {
  assert.deepEqual(githubRepository(repoWith([['upstream', 'git@github.com:other/shop.git'], ['origin', 'https://github.com/acme/shop.git']])), { repository: 'acme/shop' });
  assert.deepEqual(githubRepository(repoWith([['github', 'git@github.com:acme/shop.git']])), { repository: 'acme/shop' });
  const app = path.join(repoWith([['origin', 'git@github.com:acme/shop.git']]), 'apps', 'shop');
  mkdirSync(app, { recursive: true });
  assert.deepEqual(githubRepository(app), { repository: 'acme/shop' }, 'an app folder inside the repository');

  assert.deepEqual(githubRepository(repoWith([])), { repository: null, problem: 'the repository has no remote' });
  assert.deepEqual(githubRepository(repoWith([['a', 'git@github.com:acme/a.git'], ['b', 'git@github.com:acme/b.git']])), {
    repository: null, problem: 'the repository has several remotes and none is "origin" (a, b)',
  });
  // The user and token of a remote URL never reach the message.
  const gitlab = githubRepository(repoWith([['origin', 'https://alice:glpat-s3cr3t@gitlab.com/acme/shop.git']]));
  assert.deepEqual(gitlab, { repository: null, problem: 'the remote "origin" (https://gitlab.com/acme/shop.git) is not a GitHub repository' });
  assert.doesNotMatch(JSON.stringify(gitlab), /s3cr3t|alice/);

  const notGit = mkdtempSync(path.join(os.tmpdir(), 'not-a-repo-'));
  try {
    const got = githubRepository(notGit);
    assert.equal(got.repository, null);
    assert.match((got as { problem: string }).problem, /is not in a git repository/);
  } finally {
    rmSync(notGit, { recursive: true, force: true });
  }
});
