// Each file's extracted facts, kept between runs (an on-disk cache, see src/cli/analysisCache.ts), so a new process
// re-parses only the files that changed. An entry is used only when it is for this file's exact bytes and this
// analyzer (its key), the cache's index was written by this user (its MAC, keyed by a secret kept outside the app),
// what it points to has the digest the index gives, and everything the extraction read beside the file still reads
// the same (its probes). Anything else is ignored, never trusted.
//
// The text: a header line (format, analyzer, the lengths of the two next parts, the index's MAC), the linked model
// (its probes and migrations as JSON, tab, the model's JSON), a line break, the index, a line break, then the payloads.
// The index's first line names the linked model (the inputs it holds for, tab, its facts' inputs, tab, its digest);
// then one line per file: its path (a JSON string), tab, its status when last read, tab, its key, tab, its payload's
// digest. A payload line: its digest, tab, the facts and probes as JSON. Only the index is under the MAC: the linked
// model and each payload are checked against the digests it gives, when first used, so a run in which nothing changed
// never reads the payloads, and a run in which one file changed without changing its facts writes their bytes as
// they were read.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FileFacts, ImportFact } from '../facts';
import { probesHold, type Probe } from '../probes';
import { STAT_MARGIN_MS } from './fileStatus';

/** The version of what the analyzer extracts: the build's hash of the analyzer's sources (see esbuild.mjs). */
declare const ENCORE_ANALYZER_BUILD: string | undefined;
export const ANALYZER_VERSION = `facts-1:${typeof ENCORE_ANALYZER_BUILD === 'string' ? ENCORE_ANALYZER_BUILD : 'unbundled'}`;

const FORMAT = 'encore-env-analysis-cache/5';

/**
 * The model linked from every file's facts, with what the link read beside them, for a run in which nothing changed
 * (see Analysis.analyzeBatched): it is used only when its inputs (every file's key, in the walk's order) are the same.
 */
export interface Linked {
  /** What the model was linked from: every file's probes, and each migrations directory read with what it gave. */
  probes: Probe[];
  migrations: { dir: string; source: string; read: string }[];
  /** The model as JSON. */
  model: string;
}

interface Entry {
  /** sha256 of the analyzer's version, the file's absolute path and its bytes. */
  key: string;
  /** sha256 of the payload: files whose facts are the same have the same digests. */
  digest: string;
  /** The file's status (see ./fileStatus.ts) when the bytes of `key` were read, if it can be trusted to show a change; ''. */
  stat: string;
}

interface Payload {
  facts: Omit<FileFacts, 'imports'> & { imports: [string, ImportFact][] };
  probes: Probe[];
}

interface LinkedRecord {
  /** The hash of every file's key it was linked for (see Analysis.linkInputs). */
  inputs: string;
  /** The hash of every file's facts' digest ('' when not every file had one). */
  factsInputs: string;
  /** sha256 of `text`. */
  digest: string;
  /** Its probes and migrations as JSON, tab, the model's JSON; bytes while not checked against `digest`. */
  text: string | Buffer;
  /** `text` as read, once checked (written again as it is). */
  bytes?: Buffer;
}

export interface FactsCacheOptions {
  /** Trust a file's status only this long after its last change (STAT_MARGIN_MS); tests set 0. */
  statMarginMs?: number;
}

export class FactsCache {
  private readonly index = new Map<string, Entry>();
  /** Payloads by digest: the bytes read until first needed, then each line's text (checked when first used). */
  private raw: Buffer | null = null;
  private payloads: Map<string, string> | null = null;
  private readonly checked = new Set<string>();
  /** Payloads put in this run that the payloads read do not hold. */
  private readonly added = new Map<string, string>();
  /** Whether an entry was dropped, so that its payload must not be written again. */
  private pruned = false;
  /** The probes of each entry served or put, for the linked model's record. */
  private readonly probesByFile = new Map<string, Probe[]>();
  private linkedRecord: LinkedRecord | null = null;
  private dirty = false;
  /** Entries read that failed a check (tampered, truncated, foreign): counted for tests and logs. */
  rejected = 0;
  /** Files whose key came from their status, unread: counted for tests. */
  statHits = 0;
  readonly statMarginMs: number;

  private constructor(private readonly secret: Buffer, options: FactsCacheOptions) {
    this.statMarginMs = options.statMarginMs ?? STAT_MARGIN_MS;
  }

  static empty(secret: Buffer, options: FactsCacheOptions = {}): FactsCache {
    return new FactsCache(secret, options);
  }

  /**
   * The cache held in `data` (what serialize() wrote); nothing of it when it does not parse, is not this analyzer's or
   * its index fails its MAC. Only the header and the index are decoded here: the linked model and the payloads, most
   * of the bytes, are checked and decoded when first asked for.
   */
  static parse(data: string | Buffer, secret: Buffer, options: FactsCacheOptions = {}): FactsCache {
    const cache = new FactsCache(secret, options);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!cache.read(bytes)) {
      cache.rejected++;
      cache.index.clear();
      cache.linkedRecord = null;
      cache.raw = null;
    }
    return cache;
  }

  private read(bytes: Buffer): boolean {
    const first = bytes.indexOf(0x0a);
    if (first === -1) return false;
    let header: { format?: unknown; analyzer?: unknown; linked?: unknown; index?: unknown; mac?: unknown };
    try {
      header = JSON.parse(bytes.toString('utf8', 0, first)) as typeof header;
    } catch {
      return false;
    }
    if (!isObject(header) || header.format !== FORMAT || header.analyzer !== ANALYZER_VERSION || typeof header.mac !== 'string' || !isLength(header.linked) || !isLength(header.index)) return false;
    const linkedEnd = first + 1 + header.linked;
    const indexEnd = linkedEnd + 1 + header.index;
    if (indexEnd > bytes.length || bytes[linkedEnd] !== 0x0a || (indexEnd < bytes.length && bytes[indexEnd] !== 0x0a)) return false;
    const index = bytes.subarray(linkedEnd + 1, indexEnd);
    if (!macMatches(this.mac(index), header.mac)) return false;
    const lines = index.toString('utf8').split('\n');
    const [inputs, factsInputs, digest] = lines[0].split('\t');
    if (digest === undefined) return false;
    if (header.linked > 0) this.linkedRecord = { inputs, factsInputs, digest, text: bytes.subarray(first + 1, linkedEnd) };
    for (const line of lines.slice(1)) {
      const tab = line.indexOf('\t');
      const tab2 = line.indexOf('\t', tab + 1);
      const tab3 = line.indexOf('\t', tab2 + 1);
      let file: unknown;
      try {
        file = tab > 0 && tab2 > tab && tab3 > tab2 ? JSON.parse(line.slice(0, tab)) : null;
      } catch {
        file = null;
      }
      if (typeof file !== 'string') return false;
      this.index.set(file, { stat: line.slice(tab + 1, tab2), key: line.slice(tab2 + 1, tab3), digest: line.slice(tab3 + 1) });
    }
    this.raw = bytes.subarray(Math.min(indexEnd + 1, bytes.length));
    return true;
  }

  /** The key of `file` with content `bytes`. */
  keyOf(file: string, bytes: Buffer): string {
    return createHash('sha256').update(ANALYZER_VERSION).update('\0').update(file).update('\0').update(bytes).digest('hex');
  }

  /** The key of `file` as last read, if its status (statusSignature, trusted when recorded) is still `stat`. */
  keyByStatus(file: string, stat: string): string | null {
    const entry = this.index.get(file);
    if (!entry || entry.stat === '' || entry.stat !== stat) return null;
    this.statHits++;
    return entry.key;
  }

  /**
   * `file` was read under `key` with this status (trusted: see statusTrusted), which a later run may take for the
   * same bytes. Not a change worth writing the cache for by itself: a run that writes keeps it.
   */
  noteStatus(file: string, key: string, stat: string): void {
    const entry = this.index.get(file);
    if (entry?.key === key) entry.stat = stat;
  }

  /** The facts cached for `file` under `key`, or null when there are none that can be trusted. */
  get(file: string, key: string): FileFacts | null {
    const entry = this.index.get(file);
    if (!entry || entry.key !== key) return null;
    const payload = this.payloadOf(file, entry.digest);
    if (!payload || !probesHold(payload.probes)) {
      this.index.delete(file);
      this.dirty = this.pruned = true;
      return null;
    }
    this.probesByFile.set(file, payload.probes);
    return { ...payload.facts, imports: new Map(payload.facts.imports) };
  }

  /** Whether the cache has an entry for `file` under `key` (not yet checked: get() does). */
  holds(file: string, key: string): boolean {
    return this.index.get(file)?.key === key;
  }

  /** The digest of the facts cached for `file` under `key` (the same facts, the same digest). */
  digestOf(file: string, key: string): string | undefined {
    const entry = this.index.get(file);
    return entry?.key === key ? entry.digest : undefined;
  }

  /** The probes of `file`'s facts that get() or put() saw in this run. */
  probesOf(file: string): Probe[] | undefined {
    return this.probesByFile.get(file);
  }

  /** Whether a linked model is recorded. */
  get hasLinked(): boolean {
    return this.linkedRecord !== null;
  }

  /** The linked model recorded for exactly these inputs (a hash of every file's key, see Analysis), or null. */
  linked(inputs: string): Linked | null {
    return this.linkedRecord?.inputs === inputs ? this.linkedModel() : null;
  }

  /** The linked model recorded for exactly these facts' inputs (a hash of every file's facts' digest), or null. */
  linkedByFacts(factsInputs: string): Linked | null {
    return factsInputs !== '' && this.linkedRecord?.factsInputs === factsInputs ? this.linkedModel() : null;
  }

  /** The linked model holds for these inputs too (files changed, their facts did not). */
  relabelLinked(inputs: string): void {
    if (this.linkedRecord === null || this.linkedRecord.inputs === inputs) return;
    this.linkedRecord.inputs = inputs;
    this.dirty = true;
  }

  private linkedModel(): Linked | null {
    const record = this.linkedRecord;
    if (record === null) return null;
    try {
      if (typeof record.text !== 'string') {
        if (sha256(record.text) !== record.digest) throw new Error('digest');
        record.bytes = record.text;
        record.text = record.text.toString('utf8');
      }
      const { text } = record;
      const tab = text.indexOf('\t');
      if (tab === -1) throw new Error('shape');
      const linked = JSON.parse(text.slice(0, tab)) as Omit<Linked, 'model'>;
      if (!Array.isArray(linked.probes) || !Array.isArray(linked.migrations)) throw new Error('shape');
      return { probes: linked.probes, migrations: linked.migrations, model: text.slice(tab + 1) };
    } catch {
      this.rejected++;
      this.dropLinked();
      return null;
    }
  }

  /** `factsInputs`: '' when not every file's facts have a digest. */
  setLinked(inputs: string, factsInputs: string, linked: Linked): void {
    // The model's JSON as it is, not as a JSON string (that would escape and unescape a large text every run); JSON
    // text holds no tab or line break outside its strings, nor inside them.
    const text = `${JSON.stringify({ probes: linked.probes, migrations: linked.migrations })}\t${linked.model}`;
    const digest = sha256(text);
    const r = this.linkedRecord;
    if (r?.inputs === inputs && r.factsInputs === factsInputs && r.digest === digest) return;
    this.linkedRecord = { inputs, factsInputs, digest, text };
    this.dirty = true;
  }

  /** Drops the linked model (it no longer holds). */
  dropLinked(): void {
    if (this.linkedRecord === null) return;
    this.linkedRecord = null;
    this.dirty = true;
  }

  /** `stat`: the file's status before its bytes were read, if trusted (statusTrusted); else ''. */
  put(file: string, key: string, facts: FileFacts, probes: Probe[], stat = ''): void {
    // JSON writes a non-finite number as null: such facts are not cached (a walk is cheaper than a replacer function).
    if (!finiteNumbers(facts.resources) || !finiteNumbers(facts.usages) || !finiteNumbers(facts.diagnostics)) {
      if (this.index.delete(file)) this.dirty = this.pruned = true;
      return;
    }
    const payload = JSON.stringify({ facts: { ...facts, imports: [...facts.imports] }, probes } satisfies Payload);
    const digest = sha256(payload);
    // The payloads read hold this one if the file had it before (a payload names its file, so no other file has it);
    // if they do not after all (a damaged cache), a later run finds it missing and extracts the file again.
    if (this.index.get(file)?.digest !== digest) this.added.set(digest, payload);
    this.index.set(file, { key, digest, stat });
    this.probesByFile.set(file, probes);
    this.checked.add(digest);
    this.dirty = true;
  }

  /** Drops the entries of files that are no longer part of the app. */
  retain(files: ReadonlySet<string>): void {
    for (const file of this.index.keys()) {
      if (!files.has(file)) {
        this.index.delete(file);
        // Its payload goes too: the cache keeps nothing of a file that left the app.
        this.pruned = true;
        this.dirty = true;
      }
    }
  }

  /** Whether anything changed since the cache was read, so that it is worth writing. */
  get changed(): boolean {
    return this.dirty;
  }

  /** The cache's bytes, for parse(). */
  serialize(): Buffer {
    const r = this.linkedRecord;
    const linked = r === null ? Buffer.alloc(0) : typeof r.text !== 'string' ? r.text : (r.bytes ?? Buffer.from(r.text, 'utf8'));
    const lines = [r === null ? '\t\t' : `${r.inputs}\t${r.factsInputs}\t${r.digest}`];
    for (const [file, e] of this.index) lines.push(`${JSON.stringify(file)}\t${e.stat}\t${e.key}\t${e.digest}`);
    const index = Buffer.from(lines.join('\n'), 'utf8');
    const header = { format: FORMAT, analyzer: ANALYZER_VERSION, linked: linked.length, index: index.length, mac: this.mac(index) };
    const newline = Buffer.from('\n');
    return Buffer.concat([Buffer.from(JSON.stringify(header), 'utf8'), newline, linked, newline, index, newline, this.payloadBytes()]);
  }

  /** The payloads' part: as read when nothing was added or dropped (then it may hold the old payloads of changed files). */
  private payloadBytes(): Buffer {
    if (this.added.size === 0 && !this.pruned && this.raw !== null) return this.raw;
    const all = this.loadPayloads();
    const lines: string[] = [];
    const written = new Set<string>();
    for (const { digest } of this.index.values()) {
      const payload = this.added.get(digest) ?? all.get(digest);
      if (payload === undefined || written.has(digest)) continue;
      written.add(digest);
      lines.push(`${digest}\t${payload}`);
    }
    return Buffer.from(lines.join('\n'), 'utf8');
  }

  /** The payloads read, by digest (split on first use; each checked against its digest when used). */
  private loadPayloads(): Map<string, string> {
    if (this.payloads) return this.payloads;
    this.payloads = new Map();
    for (const line of this.raw === null || this.raw.length === 0 ? [] : this.raw.toString('utf8').split('\n')) {
      const tab = line.indexOf('\t');
      if (tab === 64) this.payloads.set(line.slice(0, tab), line.slice(tab + 1));
    }
    return this.payloads;
  }

  /** The MAC of the index, for this format and analyzer. */
  private mac(index: Buffer): string {
    return createHmac('sha256', this.secret).update(FORMAT).update('\0').update(ANALYZER_VERSION).update('\0').update(index).digest('hex');
  }

  /** The payload with `digest` for `file`; null (and counted) if there is none, or it is not what the digest says. */
  private payloadOf(file: string, digest: string): Payload | null {
    try {
      const text = this.added.get(digest) ?? this.loadPayloads().get(digest);
      if (text === undefined) throw new Error('missing');
      if (!this.checked.has(digest)) {
        if (sha256(text) !== digest) throw new Error('digest');
        this.checked.add(digest);
      }
      const payload = JSON.parse(text) as Payload;
      const f = payload.facts;
      if (f.file !== file || !Array.isArray(f.imports) || !Array.isArray(f.resources) || !Array.isArray(f.usages) || !Array.isArray(f.diagnostics) || !Array.isArray(payload.probes)) throw new Error('shape');
      return payload;
    } catch {
      this.rejected++;
      return null;
    }
  }
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

function macMatches(want: string, got: string): boolean {
  const a = Buffer.from(want, 'hex');
  const b = Buffer.from(got, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isLength(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function finiteNumbers(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(finiteNumbers);
  for (const key in value) if (!finiteNumbers((value as Record<string, unknown>)[key])) return false;
  return true;
}
