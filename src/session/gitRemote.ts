/**
 * The app's GitHub repository (`owner/name`), from its git remote: what the AWS deploy role's trust names. `origin`
 * first, else the only remote; git runs directly (no shell). Null when there is no GitHub remote, and why.
 */

import { execFileSync } from 'node:child_process';

export type GithubRepository = { repository: string } | { repository: null; problem: string };

/** `owner/name` from a GitHub remote URL (https, ssh or scp-like), or null for any other host. */
export function githubRepositoryOf(url: string): string | null {
  const m = /^(?:https:\/\/(?:[^@/]+@)?github\.com\/|ssh:\/\/git@github\.com(?::\d+)?\/|git@github\.com:)([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100}?)(?:\.git)?\/?$/.exec(url.trim());
  return m ? `${m[1]}/${m[2]}` : null;
}

export function githubRepository(folder: string, env: NodeJS.ProcessEnv = process.env): GithubRepository {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, env: { ...env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();
    } catch {
      return null;
    }
  };
  const remotes = git(['remote'])?.split('\n').filter(Boolean);
  if (!remotes) return { repository: null, problem: `${folder} is not in a git repository (or git is not installed)` };
  const remote = remotes.includes('origin') ? 'origin' : remotes.length === 1 ? remotes[0]! : null;
  if (!remote) return { repository: null, problem: remotes.length ? `the repository has several remotes and none is "origin" (${remotes.join(', ')})` : 'the repository has no remote' };
  const url = git(['remote', 'get-url', remote]) ?? '';
  const repository = githubRepositoryOf(url);
  return repository ? { repository } : { repository: null, problem: `the remote "${remote}" (${url.replace(/\/\/[^@/]*@/, '//')}) is not a GitHub repository` };
}
