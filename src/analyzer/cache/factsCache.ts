// Each file's extracted facts, kept between runs (an on-disk cache, see src/cli/analysisCache.ts), so a new process
// re-parses only the files that changed. An entry is used only when it is for this file's exact bytes and this
// analyzer (its key), was written by this user (its MAC, keyed by a secret kept outside the app), and everything
// the extraction read beside the file still reads the same (its probes). Anything else is ignored, never trusted.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FileFacts, ImportFact } from '../facts';
import { probesHold, type Probe } from '../probes';

/** The version of what the analyzer extracts: the build's hash of the analyzer's sources (see esbuild.mjs). */
declare const ENCORE_ANALYZER_BUILD: string | undefined;
export const ANALYZER_VERSION = `facts-1:${typeof ENCORE_ANALYZER_BUILD === 'string' ? ENCORE_ANALYZER_BUILD : 'unbundled'}`;

const FORMAT = 'encore-env-analysis-cache/1';

interface Entry {
  /** sha256 of the analyzer's version, the file's absolute path and its bytes. */
  key: string;
  /** The facts and probes as JSON, exactly the text the MAC covers. */
  payload: string;
  mac: string;
}

interface Payload {
  facts: Omit<FileFacts, 'imports'> & { imports: [string, ImportFact][] };
  probes: Probe[];
}

export class FactsCache {
  private readonly entries = new Map<string, Entry>();
  private dirty = false;
  /** Entries read that failed a check (tampered, truncated, foreign): counted for tests and logs. */
  rejected = 0;

  private constructor(private readonly secret: Buffer) {}

  static empty(secret: Buffer): FactsCache {
    return new FactsCache(secret);
  }

  /** The cache held in `text` (what serialize() wrote); whatever does not parse or is not this analyzer's is left out. */
  static parse(text: string, secret: Buffer): FactsCache {
    const cache = new FactsCache(secret);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      cache.rejected++;
      return cache;
    }
    const d = data as { format?: unknown; analyzer?: unknown; entries?: unknown };
    if (!isObject(d) || d.format !== FORMAT || d.analyzer !== ANALYZER_VERSION || !isObject(d.entries)) {
      cache.rejected++;
      return cache;
    }
    for (const [file, e] of Object.entries(d.entries)) {
      const entry = e as Partial<Entry>;
      if (isObject(entry) && typeof entry.key === 'string' && typeof entry.payload === 'string' && typeof entry.mac === 'string') {
        cache.entries.set(file, { key: entry.key, payload: entry.payload, mac: entry.mac });
      } else {
        cache.rejected++;
      }
    }
    return cache;
  }

  /** The key of `file` with content `bytes`. */
  keyOf(file: string, bytes: Buffer): string {
    return createHash('sha256').update(ANALYZER_VERSION).update('\0').update(file).update('\0').update(bytes).digest('hex');
  }

  /** The facts cached for `file` under `key`, or null when there are none that can be trusted. */
  get(file: string, key: string): FileFacts | null {
    const entry = this.entries.get(file);
    if (!entry || entry.key !== key) return null;
    const payload = this.verified(file, entry);
    if (!payload || !probesHold(payload.probes)) {
      this.entries.delete(file);
      this.dirty = true;
      return null;
    }
    return { ...payload.facts, imports: new Map(payload.facts.imports) };
  }

  put(file: string, key: string, facts: FileFacts, probes: Probe[]): void {
    let payload: string;
    try {
      payload = JSON.stringify({ facts: { ...facts, imports: [...facts.imports] }, probes } satisfies Payload, finiteNumbers);
    } catch {
      return; // facts JSON cannot carry exactly (a non-finite number): not cached
    }
    this.entries.set(file, { key, payload, mac: this.mac(file, key, payload) });
    this.dirty = true;
  }

  /** Drops the entries of files that are no longer part of the app. */
  retain(files: ReadonlySet<string>): void {
    for (const file of this.entries.keys()) {
      if (!files.has(file)) {
        this.entries.delete(file);
        this.dirty = true;
      }
    }
  }

  /** Whether anything changed since the cache was read, so that it is worth writing. */
  get changed(): boolean {
    return this.dirty;
  }

  serialize(): string {
    return JSON.stringify({ format: FORMAT, analyzer: ANALYZER_VERSION, entries: Object.fromEntries(this.entries) });
  }

  private mac(file: string, key: string, payload: string): string {
    return createHmac('sha256', this.secret).update(file).update('\0').update(key).update('\0').update(payload).digest('hex');
  }

  private verified(file: string, entry: Entry): Payload | null {
    const want = Buffer.from(this.mac(file, entry.key, entry.payload), 'hex');
    const got = Buffer.from(entry.mac, 'hex');
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      this.rejected++;
      return null;
    }
    try {
      const payload = JSON.parse(entry.payload) as Payload;
      const f = payload.facts;
      if (f.file !== file || !Array.isArray(f.imports) || !Array.isArray(f.resources) || !Array.isArray(f.usages) || !Array.isArray(f.diagnostics) || !Array.isArray(payload.probes)) throw new Error('shape');
      return payload;
    } catch {
      this.rejected++;
      return null;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumbers(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('not finite');
  return value;
}
