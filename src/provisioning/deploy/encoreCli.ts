/**
 * The user's Encore CLI, which builds the image: Encore's TypeScript build needs its Rust parser and runtime, which
 * only Encore's installer installs (the npm package encore.dev ships no native binaries), so a deploy calls whatever
 * `encore` is on PATH (or the path the settings give), checks its version, and runs
 * `encore build docker --skip-config --push REPO:TAG [--base IMAGE]`: with --push the image is assembled in-process
 * and written straight to the registry (no Docker daemon), with the credentials of $DOCKER_CONFIG; --skip-config
 * leaves the infra config out, so the one image serves every environment.
 */

import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { MIN_ENCORE_VERSION } from './encoreMinimum';

export { MIN_ENCORE_VERSION };

export const INSTALL_HINT =
  'Install Encore with its installer: curl -L https://encore.dev/install.sh | bash (on macOS also: brew install encoredev/tap/encore; ' +
  'on Windows: iwr https://encore.dev/install.ps1 | iex), then open a new terminal so that `encore` is on PATH.';

export type EncoreCliErrorCode = 'missing' | 'too-old' | 'unknown-version' | 'build-failed';

export class EncoreCliError extends Error {
  override readonly name = 'EncoreCliError';
  constructor(
    message: string,
    readonly code: EncoreCliErrorCode,
    readonly details: { exitCode?: number | null; signal?: string | null; lastLines?: string[] } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface EncoreVersion {
  /** As printed, e.g. `v1.58.6` or `v1.59.0-beta.2`. */
  raw: string;
  major: number;
  minor: number;
  patch: number;
  prerelease?: string;
}

/** `encore version v1.58.6` (possibly with more after it) → the version; undefined when there is none. */
export function parseEncoreVersion(output: string): EncoreVersion | undefined {
  const m = /\bencore version (v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?)/.exec(output);
  if (!m) return undefined;
  return { raw: m[1]!, major: Number(m[2]), minor: Number(m[3]), patch: Number(m[4]), ...(m[5] ? { prerelease: m[5] } : {}) };
}

function parsePlain(version: string): EncoreVersion {
  const v = parseEncoreVersion(`encore version ${version}`);
  if (!v) throw new Error(`"${version}" is not a version`);
  return v;
}

/** Semantic-version order: numbers first, a pre-release before its release. */
export function compareVersions(a: EncoreVersion | string, b: EncoreVersion | string): number {
  const x = typeof a === 'string' ? parsePlain(a) : a;
  const y = typeof b === 'string' ? parsePlain(b) : b;
  const byNumber = x.major - y.major || x.minor - y.minor || x.patch - y.patch;
  if (byNumber !== 0) return Math.sign(byNumber);
  if (x.prerelease === y.prerelease) return 0;
  if (!x.prerelease) return 1;
  if (!y.prerelease) return -1;
  return x.prerelease < y.prerelease ? -1 : 1;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where Encore's installer puts the CLI: `$ENCORE_INSTALL/bin`, by default `~/.encore/bin`. The installer adds it to
 * the shell's profile only, so an editor started from a desktop launcher may not have it on PATH.
 */
export function installedEncoreDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ENCORE_INSTALL) return path.join(env.ENCORE_INSTALL, 'bin');
  const home = env.HOME ?? env.USERPROFILE;
  return home ? path.join(home, '.encore', 'bin') : undefined;
}

/**
 * The `encore` executable: `configured` when given (a path from the settings), else the first on PATH, else the one
 * Encore's installer put in installedEncoreDir(). Throws a `missing` EncoreCliError that says how to install it.
 */
export function findEncore(options: { configured?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const env = options.env ?? process.env;
  if (options.configured) {
    if (isExecutable(options.configured)) return options.configured;
    throw new EncoreCliError(`The Encore CLI set in the settings, ${options.configured}, does not exist or is not executable. Fix the path, or clear it to use the \`encore\` on PATH. ${INSTALL_HINT}`, 'missing');
  }
  const names = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').map((ext) => `encore${ext.toLowerCase()}`) : ['encore'];
  const installed = installedEncoreDir(env);
  const dirs = [...(env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean), ...(installed ? [installed] : [])];
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  const where = installed ? ` (nor in ${installed}, where its installer puts it)` : '';
  throw new EncoreCliError(`The Encore CLI (\`encore\`) is not installed, or not on PATH${where}: a deploy builds the app with it. ${INSTALL_HINT}`, 'missing');
}

/** Runs a short command and resolves to its exit code and output (for `encore version`). */
function capture(bin: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; signal?: AbortSignal; timeoutMs?: number }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal, timeout: options.timeoutMs ?? 30_000 });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** What `encore version` reports. */
export async function encoreVersion(bin: string, options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<EncoreVersion> {
  let result: { code: number | null; output: string };
  try {
    result = await capture(bin, ['version'], options);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new EncoreCliError(`${bin} could not be run (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). ${INSTALL_HINT}`, 'missing', {}, { cause: err });
  }
  const version = parseEncoreVersion(result.output);
  if (result.code !== 0 || !version) {
    const said = result.output.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
    throw new EncoreCliError(`\`${bin} version\` did not report a version (exit ${result.code}${said ? `: ${said}` : ''}): this does not look like Encore's CLI. ${INSTALL_HINT}`, 'unknown-version');
  }
  return version;
}

/** The encore.dev SDK version an app has installed (its node_modules), or undefined when it has none installed. */
export function appSdkVersion(appRoot: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path.join(appRoot, 'node_modules', 'encore.dev', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

export interface EncoreCheck {
  path: string;
  version: EncoreVersion;
}

/**
 * The preflight of a deploy: the CLI is there, reports a version, that version is at least MIN_ENCORE_VERSION, and,
 * given the app's folder, at least the encore.dev version the app has installed.
 */
export async function checkEncore(options: { configured?: string; env?: NodeJS.ProcessEnv; appRoot?: string; signal?: AbortSignal } = {}): Promise<EncoreCheck> {
  const bin = findEncore(options);
  const version = await encoreVersion(bin, options);
  if (compareVersions(version, MIN_ENCORE_VERSION) < 0) {
    throw new EncoreCliError(
      `The Encore CLI at ${bin} is ${version.raw}, older than ${MIN_ENCORE_VERSION}, the oldest a deploy supports (the release line the app template's encore.dev ^1.50 needs). ` +
        'Update it with `encore version update`, or reinstall: curl -L https://encore.dev/install.sh | bash (Homebrew: brew upgrade encoredev/tap/encore).',
      'too-old',
    );
  }
  const sdk = options.appRoot ? appSdkVersion(options.appRoot) : undefined;
  if (sdk && /^\d+\.\d+\.\d+/.test(sdk) && compareVersions(version, sdk) < 0) {
    throw new EncoreCliError(
      `The app uses encore.dev ${sdk}, newer than the Encore CLI at ${bin} (${version.raw}): Encore builds an app only with a CLI at least as new as its SDK. Update the CLI with \`encore version update\`.`,
      'too-old',
    );
  }
  return { path: bin, version };
}

// ---------------------------------------------------------------------------------------------------------------
// the build

export interface BuildLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface BuildOptions {
  /** The encore executable (from checkEncore). */
  encore: string;
  /** The app's folder (where encore.app is). */
  appRoot: string;
  /** `REPO:TAG`, e.g. `127.0.0.1:5000/sample-app:3f2c1d0`. */
  image: string;
  /** `--base`: the base image from the environment's settings. */
  base?: string;
  /** The child's environment (with DOCKER_CONFIG pointing at the temporary config). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Each line of output as it comes, ANSI colours removed. */
  onLine?: (line: BuildLine) => void;
  /** How long the process group gets after SIGTERM before SIGKILL (default 5 s). */
  killGraceMs?: number;
}

export const LAST_LINES = 20;

// eslint-disable-next-line no-control-regex -- ANSI escape sequences are control characters by definition
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

/** The arguments of the build: `build docker --skip-config --push REPO:TAG [--base IMAGE]`. */
export function buildArgs(image: string, base?: string): string[] {
  return ['build', 'docker', '--skip-config', '--push', image, ...(base ? ['--base', base] : [])];
}

/** Splits a stream into lines; a spinner's `\r` rewrites keep only their last state. */
function lineSplitter(emit: (line: string) => void) {
  let pending = '';
  const push = (raw: string) => {
    const line = (raw.split('\r').filter((s) => s.length > 0).pop() ?? '').replace(ANSI, '').trimEnd();
    if (line) emit(line);
  };
  return {
    write(chunk: string) {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const p of parts) push(p);
    },
    end() {
      if (pending) push(pending);
      pending = '';
    },
  };
}

/** Ends the child's whole process group (the CLI starts compilers and the like): SIGTERM, then SIGKILL. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    if (process.platform === 'win32') spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore' });
    else process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Runs the build and push, streaming its output line by line. Resolves when it succeeded; rejects with a
 * `build-failed` EncoreCliError carrying the exit status and the last lines of output, or, on abort, with the
 * signal's reason once the process group has ended.
 */
export function buildDocker(options: BuildOptions): Promise<{ lastLines: string[] }> {
  const { encore, appRoot, image, base, env = process.env, signal, onLine, killGraceMs = 5000 } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const last: string[] = [];
    const record = (stream: BuildLine['stream']) => (line: string) => {
      last.push(line);
      if (last.length > LAST_LINES) last.shift();
      onLine?.({ stream, line });
    };
    const out = lineSplitter(record('stdout'));
    const err = lineSplitter(record('stderr'));
    // Its own process group (detached), so a cancel can end everything it started.
    const child = spawn(encore, buildArgs(image, base), { cwd: appRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      aborted = true;
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), killGraceMs);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (c: string) => out.write(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => err.write(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      reject(e.code === 'ENOENT'
        ? new EncoreCliError(`The Encore CLI ${encore} is gone (it was there at the preflight). ${INSTALL_HINT}`, 'missing', {}, { cause: e })
        : new EncoreCliError(`${encore} could not be started: ${e.message}`, 'build-failed', {}, { cause: e }));
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      if (aborted) {
        // Whatever is left of the group (a grandchild that ignored SIGTERM) goes now.
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
        clearTimeout(killTimer);
        return reject(signal?.reason);
      }
      if (code === 0) return resolve({ lastLines: [...last] });
      const status = code !== null ? `exit code ${code}` : `signal ${sig}`;
      reject(new EncoreCliError(
        `\`encore ${buildArgs(image, base).join(' ')}\` failed (${status}) in ${appRoot}. Its last lines:\n${last.map((l) => `  ${l}`).join('\n') || '  (no output)'}`,
        'build-failed',
        { exitCode: code, signal: sig, lastLines: [...last] },
      ));
    });
  });
}
