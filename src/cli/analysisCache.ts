// The on-disk analysis cache of `encore-env analyze`: each file's extracted facts (src/analyzer/cache/factsCache.ts)
// in one file under the app's .encore/, written atomically (a temp file renamed over it), so runs at the same time
// each read a whole cache and the last one to finish wins. The MAC's secret lives in the user's cache folder, out of
// the app, so a cache that came with the app (or was edited) is never trusted. A cache that cannot be read or written
// only costs speed. Files whose status is the one recorded with their key are not even read (src/analyzer/cache/fileStatus.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Analysis } from '../analyzer/analysis';
import type { DirectoryListings } from '../analyzer/findApps';
import { bundledWorkerScript, parallelExtraction } from '../analyzer/parallelExtraction';
import { FactsCache, type FactsCacheOptions } from '../analyzer/cache/factsCache';
import { writeTemp } from '../files/atomicWrite';
import type { AppModel } from '../model/appModel';
import { userCacheDir } from './userCacheDir';

/** Relative to the app root. */
export const ANALYSIS_CACHE_FILE = path.join('.encore', 'analysis-cache', 'facts.cache');

/** The user's secret for the cache's MACs, made on first use (0600); null when it cannot be read or made. */
async function userSecret(): Promise<Buffer | null> {
  const file = path.join(userCacheDir(), 'analysis-cache.key');
  const read = () => {
    const secret = readOptionalSync(file);
    return secret && secret.length >= 32 ? secret : null;
  };
  const existing = read();
  if (existing) return existing;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const temp = await writeTemp(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    // link() creates the key only if there is none yet: two first runs at once agree on one secret.
    await link(temp, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    }).finally(() => unlink(temp).catch(() => undefined));
  } catch {
    return null;
  }
  return read();
}

/**
 * Analyses the app at `root`, extracting only the files the cache has no trusted facts for (spread over threads when
 * there are many; TypeScript is not even loaded when there are none), then saves the cache.
 */
export async function analyzeCached(root: string, options: FactsCacheOptions & { listings?: DirectoryListings } = {}): Promise<AppModel> {
  const secret = await userSecret();
  const extractBatch = parallelExtraction(bundledWorkerScript());
  if (!secret) return analysis(root, undefined, options.listings).analyzeBatched(extractBatch);
  const file = path.join(root, ANALYSIS_CACHE_FILE);
  // Read at once (sync): one read of a few MB beats a round trip through the thread pool per chunk. Kept as bytes:
  // FactsCache decodes only the parts a run needs.
  const bytes = readOptionalSync(file);
  const cache = bytes === null ? FactsCache.empty(secret, options) : FactsCache.parse(bytes, secret, options);
  const model = await analysis(root, cache, options.listings).analyzeBatched(extractBatch);
  if (cache.changed) await save(file, cache.serialize()).catch(() => undefined);
  return model;
}

/** An Analysis for analyzeBatched alone, which extracts through its batch: it has no extraction of its own. */
function analysis(root: string, cache?: FactsCache, listings?: DirectoryListings): Analysis {
  return new Analysis(root, () => {
    throw new Error('this analysis extracts through analyzeBatched only');
  }, { cache, listings });
}

async function save(file: string, text: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Not flushed before the rename: a cache torn by a crash fails its MAC and is only rebuilt.
  const temp = await writeTemp(file, text, { durable: false });
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

function readOptionalSync(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}
