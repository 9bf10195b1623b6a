/**
 * The git revision a deploy builds: the commit of the app folder's repository, whether the app folder has changes
 * that commit does not (modified, staged or untracked files: they go into the image too), and the branch.
 *
 * git runs with a safe environment, since the workspace is not necessarily trusted and the caller's environment may
 * come from a git hook: no shell; inherited GIT_* variables (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, …) removed so
 * git looks at this folder and nothing else; no prompts, no pager, English messages; optional locks off so a read
 * never takes the index lock from the user; and core.fsmonitor off, because a repository's config can name a program
 * for it that `git status` would run.
 */

import { execFile } from 'node:child_process';

export interface Revision {
  /** The commit's full sha. */
  commit: string;
  /** git's abbreviation of it (at least 7 characters, longer when needed to be unique). */
  shortCommit: string;
  /** The app folder has changes the commit does not have. */
  dirty: boolean;
  /** Up to 20 of those changes, as `git status --porcelain` lists them (`M src/a.ts`, `?? new.ts`), for display. */
  changes: string[];
  /** The branch checked out; undefined for a detached HEAD. */
  branch?: string;
  /** The repository's top folder. */
  repoRoot: string;
}

export type RevisionErrorCode = 'no-git' | 'not-a-repo' | 'no-commit' | 'unsafe-repo' | 'git-failed';

export class RevisionError extends Error {
  override readonly name = 'RevisionError';
  constructor(message: string, readonly code: RevisionErrorCode, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface RevisionOptions {
  git?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const MAX_CHANGES = 20;

/** The environment git runs with: the caller's, minus every GIT_* variable, plus the settings above. */
export function safeGitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!/^GIT_/i.test(k)) env[k] = v;
  return { ...env, LC_ALL: 'C', LANGUAGE: 'C', GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', PAGER: 'cat' };
}

const SAFE_CONFIG = ['-c', 'core.fsmonitor=false', '-c', 'core.untrackedCache=false', '--no-pager'];

function git(folder: string, args: string[], options: RevisionOptions): Promise<string> {
  const bin = options.git ?? 'git';
  return new Promise((resolve, reject) => {
    execFile(bin, [...SAFE_CONFIG, ...args], { cwd: folder, env: safeGitEnv(options.env), timeout: options.timeoutMs ?? 15_000, windowsHide: true, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException;
      const said = (stderr || e.message).trim();
      if (e.code === 'ENOENT' && e.syscall?.startsWith('spawn')) {
        return reject(new RevisionError(`git was not found (${bin}): a deploy records the git commit it builds; install git or put it on PATH.`, 'no-git', { cause: err }));
      }
      if (/not a git repository/i.test(said)) {
        return reject(new RevisionError(`${folder} is not in a git repository: a deploy records the commit it builds. Run "git init" and commit the app, then deploy.`, 'not-a-repo', { cause: err }));
      }
      if (/dubious ownership/i.test(said)) {
        return reject(new RevisionError(`git refuses the repository of ${folder}: it belongs to another user ("dubious ownership"). If you trust it, run: git config --global --add safe.directory <its folder>`, 'unsafe-repo', { cause: err }));
      }
      reject(Object.assign(new RevisionError(`git ${args.join(' ')} failed in ${folder}: ${said.split('\n')[0]}`, 'git-failed', { cause: err }), { stderr: said }));
    });
  });
}

/** The revision of the app in `appFolder`. */
export async function gitRevision(appFolder: string, options: RevisionOptions = {}): Promise<Revision> {
  const repoRoot = (await git(appFolder, ['rev-parse', '--show-toplevel'], options)).trim();
  let commit: string;
  try {
    commit = (await git(appFolder, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], options)).trim();
  } catch (err) {
    if (err instanceof RevisionError && err.code === 'git-failed') {
      throw new RevisionError(`The repository of ${appFolder} has no commit yet: commit the app, then deploy.`, 'no-commit', { cause: err });
    }
    throw err;
  }
  const shortCommit = (await git(appFolder, ['rev-parse', '--short', 'HEAD'], options)).trim();
  // `-- .` limits the status to the app folder (a monorepo's other folders do not go into the image); -z keeps
  // names with spaces or quotes intact.
  const status = await git(appFolder, ['status', '--porcelain=v1', '-z', '--untracked-files=normal', '--ignore-submodules=none', '--', '.'], options);
  const entries = parsePorcelainZ(status);
  let branch: string | undefined;
  try {
    branch = (await git(appFolder, ['symbolic-ref', '--quiet', '--short', 'HEAD'], options)).trim() || undefined;
  } catch (err) {
    // Exit 1 with no message: HEAD is detached.
    if (!(err instanceof RevisionError && err.code === 'git-failed')) throw err;
  }
  return { commit, shortCommit, dirty: entries.length > 0, changes: entries.slice(0, MAX_CHANGES), ...(branch ? { branch } : {}), repoRoot };
}

/** `XY path\0` entries (renames carry their source as a second NUL-terminated field), as `XY path` lines. */
function parsePorcelainZ(text: string): string[] {
  const fields = text.split('\0');
  const out: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    out.push(f);
    if (f[0] === 'R' || f[0] === 'C') i++;
  }
  return out;
}

/**
 * The image tag of a build: the short commit for a clean tree; for a dirty one the short commit, `-dirty-` and the
 * UTC build time, so a build of uncommitted changes never overwrites the image of the commit itself.
 */
export function imageTag(revision: Pick<Revision, 'shortCommit' | 'dirty'>, now: Date = new Date()): string {
  if (!revision.dirty) return revision.shortCommit;
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `${revision.shortCommit}-dirty-${stamp}`;
}
