import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { GitBranches } from '../model/discovery';

export interface GitOptions {
  /** The git executable (default `git` on PATH). */
  git?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

type Run = { ok: true; stdout: string } | { ok: false; missing: boolean; stderr: string };

/**
 * The local branches of the repository that holds `folder`, and its current branch, for the "deploy on push to"
 * choice. Runs git directly (no shell). Outside a repository, or without git, the result is empty and says why.
 */
export async function discoverGitBranches(folder: string, options: GitOptions = {}): Promise<GitBranches> {
  const result: GitBranches = { folder, isRepo: false, branches: [], problems: [] };
  const isDir = await stat(folder).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    result.problems.push(`${folder} is not a folder`);
    return result;
  }
  const git = (args: string[]) => run(options.git ?? 'git', args, folder, options);

  // lstrip=2 gives the exact branch name; refname:short would turn a branch that shares a tag's name into "heads/x".
  const refs = await git(['for-each-ref', 'refs/heads', '--format=%(refname:lstrip=2)']);
  if (!refs.ok) {
    result.problems.push(
      refs.missing
        ? `git was not found (${options.git ?? 'git'}): install git or put it on PATH to choose a branch from the list`
        : /not a git repository/i.test(refs.stderr)
          ? `${folder} is not in a git repository: type the branch name, or run "git init"`
          : `git could not list the branches: ${firstLine(refs.stderr)}`,
    );
    return result;
  }
  result.isRepo = true;
  result.branches = refs.stdout.split('\n').map((l) => l.trim()).filter(Boolean);

  const head = await git(['rev-parse', '--abbrev-ref', 'HEAD']);
  if (head.ok && head.stdout.trim() !== 'HEAD') {
    result.current = head.stdout.trim();
  } else if (head.ok) {
    result.problems.push('HEAD is detached: no branch is checked out');
  } else {
    // A new repository has no commit yet, so HEAD names a branch that does not exist; symbolic-ref still knows it.
    const unborn = await git(['symbolic-ref', '--short', 'HEAD']);
    if (unborn.ok && unborn.stdout.trim()) result.current = unborn.stdout.trim();
    else result.problems.push(`git could not tell the current branch: ${firstLine(head.ok ? '' : head.stderr)}`);
  }
  return result;
}

function run(git: string, args: string[], cwd: string, options: GitOptions): Promise<Run> {
  // LC_ALL=C keeps git's messages in English for the checks above; GIT_OPTIONAL_LOCKS=0 keeps a read from taking
  // the index lock while the user works in the repository.
  const env = { ...(options.env ?? process.env), LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' };
  return new Promise((resolve) => {
    execFile(git, args, { cwd, env, timeout: options.timeoutMs ?? 10_000, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) resolve({ ok: true, stdout });
      else resolve({ ok: false, missing: (err as NodeJS.ErrnoException).code === 'ENOENT', stderr: stderr || err.message });
    });
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
