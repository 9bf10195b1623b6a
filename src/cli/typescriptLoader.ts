// TypeScript for the CLI's analysis (dist/cli/chunks/typescript.mjs, which the chunks import as `ts-morph`; see
// esbuild.mjs), compiled with a V8 code cache that an earlier run made after it had parsed. Node's compile cache is
// made before a module runs, so it lacks the parser's functions, which V8 compiles lazily: a run that parses one file
// spends about 15 ms compiling them (issue 13). The cache lives in the user's cache folder, named by the bundle, Node's
// version and flags; one that fails its sha256 or that V8 rejects is not used, and the run writes a new one at exit.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import type { ts as TypeScript } from 'ts-morph';
import { userCacheDir } from './userCacheDir';

/** A hash of what the TypeScript bundle is made from (see esbuild.mjs). */
declare const ENCORE_TYPESCRIPT_BUILD: string;

/** What became of this thread's code cache: used, not there, damaged (its digest), or rejected by V8. */
export type CodeCacheState = 'accepted' | 'absent' | 'damaged' | 'rejected';

/** Caches of other bundles or Node versions are removed when a new one is written and they are this old. */
const STALE_MS = 30 * 24 * 3600 * 1000;
const DIGEST = 32;

const script = path.join(__dirname, 'typescript.js');
const cacheFile = path.join(
  userCacheDir(),
  'code-cache',
  `typescript-${createHash('sha256').update([ENCORE_TYPESCRIPT_BUILD, process.version, process.arch, ...process.execArgv].join('\0')).digest('hex').slice(0, 32)}.v8`,
);

function readCache(): { data: Buffer | undefined; state: CodeCacheState } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(cacheFile);
  } catch {
    return { data: undefined, state: 'absent' };
  }
  // V8 checks its version, flags and the source's length, not the data: a damaged cache could run as code.
  const data = bytes.subarray(DIGEST);
  if (bytes.length <= DIGEST || !createHash('sha256').update(data).digest().equals(bytes.subarray(0, DIGEST))) return { data: undefined, state: 'damaged' };
  return { data, state: 'accepted' };
}

/** Writes what V8 compiled so far (the parser's functions too), atomically; a cache that cannot be written costs only speed. */
function writeCache(compiled: vm.Script): void {
  try {
    const data = compiled.createCachedData();
    const dir = path.dirname(cacheFile);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${cacheFile}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    writeFileSync(temp, Buffer.concat([createHash('sha256').update(data).digest(), data]), { mode: 0o600 });
    renameSync(temp, cacheFile);
    for (const name of readdirSync(dir)) {
      const other = path.join(dir, name);
      if (other !== cacheFile && name.startsWith('typescript-') && Date.now() - statSync(other).mtimeMs > STALE_MS) unlinkSync(other);
    }
  } catch {
    // Only speed is lost.
  }
}

function load(): { ts: typeof TypeScript; state: CodeCacheState } {
  // The bundle is ASCII (esbuild's charset), so latin1 reads it as it is, without decoding UTF-8.
  const source = readFileSync(script, 'latin1');
  const cached = readCache();
  const compiled = new vm.Script(source, { filename: script, cachedData: cached.data });
  const state = cached.state === 'accepted' && compiled.cachedDataRejected ? 'rejected' : cached.state;
  // At exit, so that the cache holds what this run compiled. A worker thread ended by its parent writes nothing.
  if (state !== 'accepted') process.once('exit', () => writeCache(compiled));
  const run = compiled.runInThisContext() as (require: NodeJS.Require, filename: string, dirname: string) => typeof TypeScript;
  return { ts: run(createRequire(script), script, __dirname), state };
}

const loaded = load();
export const ts = loaded.ts;
/** For tests: what became of the code cache in this thread. */
export const codeCacheState: CodeCacheState = loaded.state;
