// Each file's extracted facts, kept between runs (an on-disk cache, see src/cli/analysisCache.ts), so a new process
// re-parses only the files that changed. An entry is used only when it is for this file's exact bytes and this
// analyzer (its key), the whole cache was written by this user (its MAC, keyed by a secret kept outside the app),
// and everything the extraction read beside the file still reads the same (its probes). Anything else is ignored,
// never trusted.
//
// The text: a header line (format, analyzer, the MACs of the two parts), the linked model's line (its inputs, tab,
// what it was linked from as JSON, its facts' inputs first, tab, the model's JSON; empty when there is none), then one
// line per file: its path (a JSON string), tab, its key, tab, its payload's digest, tab, its payload (JSON). A run in which nothing changed decodes and reads the linked
// model alone (the entries stay bytes); otherwise the entries are checked with one MAC, and only the payloads of the
// files asked for are parsed, each once.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FileFacts, ImportFact } from '../facts';
import { probesHold, type Probe } from '../probes';

/** The version of what the analyzer extracts: the build's hash of the analyzer's sources (see esbuild.mjs). */
declare const ENCORE_ANALYZER_BUILD: string | undefined;
export const ANALYZER_VERSION = `facts-1:${typeof ENCORE_ANALYZER_BUILD === 'string' ? ENCORE_ANALYZER_BUILD : 'unbundled'}`;

const FORMAT = 'encore-env-analysis-cache/4';

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
  /** The facts and probes as JSON. */
  payload: string;
}

interface Payload {
  facts: Omit<FileFacts, 'imports'> & { imports: [string, ImportFact][] };
  probes: Probe[];
}

export class FactsCache {
  private readonly entries = new Map<string, Entry>();
  /** The probes of each entry served or put, for the linked model's record. */
  private readonly probesByFile = new Map<string, Probe[]>();
  /** The linked model's line after its inputs: what it was linked from (JSON), tab, the model (JSON). */
  private linkedRecord: { inputs: string; text: string } | null = null;
  /** The entries' bytes and MAC until load() reads them. */
  private unread: { body: Buffer; mac: string } | null = null;
  private dirty = false;
  /** Entries read that failed a check (tampered, truncated, foreign): counted for tests and logs. */
  rejected = 0;

  private constructor(private readonly secret: Buffer) {}

  static empty(secret: Buffer): FactsCache {
    return new FactsCache(secret);
  }

  /**
   * The cache held in `data` (what serialize() wrote); nothing of a part that does not parse, is not this analyzer's
   * or fails its MAC. Only the header and the linked model's line are decoded here: the entries, most of the bytes,
   * are decoded when first asked for (a run in which nothing changed never does).
   */
  static parse(data: string | Buffer, secret: Buffer): FactsCache {
    const cache = new FactsCache(secret);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const first = bytes.indexOf(0x0a);
    const second = first === -1 ? -1 : bytes.indexOf(0x0a, first + 1);
    let header: { format?: unknown; analyzer?: unknown; linked?: unknown; mac?: unknown };
    try {
      header = JSON.parse(bytes.toString('utf8', 0, first === -1 ? bytes.length : first)) as typeof header;
    } catch {
      cache.rejected++;
      return cache;
    }
    if (!isObject(header) || header.format !== FORMAT || header.analyzer !== ANALYZER_VERSION || typeof header.mac !== 'string' || typeof header.linked !== 'string' || second === -1) {
      cache.rejected++;
      return cache;
    }
    const linkedLine = bytes.subarray(first + 1, second);
    if (linkedLine.length > 0) {
      const tab = linkedLine.indexOf(0x09);
      if (tab > 0 && macMatches(cache.mac('linked', linkedLine), header.linked)) {
        cache.linkedRecord = { inputs: linkedLine.toString('utf8', 0, tab), text: linkedLine.toString('utf8', tab + 1) };
      } else {
        cache.rejected++;
      }
    }
    cache.unread = { body: bytes.subarray(second + 1), mac: header.mac };
    return cache;
  }

  /** Reads the entries' lines, the first time they are needed (a run that reuses the linked model never needs them). */
  private load(): void {
    if (!this.unread) return;
    const { body, mac } = this.unread;
    this.unread = null;
    if (!macMatches(this.mac('entries', body), mac)) {
      this.rejected++;
      return;
    }
    for (const line of body.length === 0 ? [] : body.toString('utf8').split('\n')) {
      const tab = line.indexOf('\t');
      const tab2 = line.indexOf('\t', tab + 1);
      const tab3 = line.indexOf('\t', tab2 + 1);
      let file: unknown;
      try {
        file = tab > 0 && tab2 > tab && tab3 > tab2 ? JSON.parse(line.slice(0, tab)) : null;
      } catch {
        file = null;
      }
      if (typeof file === 'string') this.entries.set(file, { key: line.slice(tab + 1, tab2), digest: line.slice(tab2 + 1, tab3), payload: line.slice(tab3 + 1) });
      else this.rejected++;
    }
  }

  /** The key of `file` with content `bytes`. */
  keyOf(file: string, bytes: Buffer): string {
    return createHash('sha256').update(ANALYZER_VERSION).update('\0').update(file).update('\0').update(bytes).digest('hex');
  }

  /** The facts cached for `file` under `key`, or null when there are none that can be trusted. */
  get(file: string, key: string): FileFacts | null {
    this.load();
    const entry = this.entries.get(file);
    if (!entry || entry.key !== key) return null;
    const payload = this.payloadOf(file, entry);
    if (!payload || !probesHold(payload.probes)) {
      this.entries.delete(file);
      this.dirty = true;
      return null;
    }
    this.probesByFile.set(file, payload.probes);
    return { ...payload.facts, imports: new Map(payload.facts.imports) };
  }

  /** Whether the cache has an entry for `file` under `key` (not yet checked: get() does). */
  holds(file: string, key: string): boolean {
    this.load();
    return this.entries.get(file)?.key === key;
  }

  /** The digest of the facts cached for `file` under `key` (the same facts, the same digest). */
  digestOf(file: string, key: string): string | undefined {
    const entry = this.entries.get(file);
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
    return factsInputs !== '' && this.linkedRecord?.text.startsWith(factsPrefix(factsInputs)) ? this.linkedModel() : null;
  }

  /** The linked model holds for these inputs too (files changed, their facts did not). */
  relabelLinked(inputs: string): void {
    if (this.linkedRecord === null || this.linkedRecord.inputs === inputs) return;
    this.linkedRecord = { ...this.linkedRecord, inputs };
    this.dirty = true;
  }

  private linkedModel(): Linked | null {
    if (this.linkedRecord === null) return null;
    try {
      const { text } = this.linkedRecord;
      const tab = text.indexOf('\t');
      if (tab === -1) throw new Error('shape');
      const linked = JSON.parse(text.slice(0, tab)) as Omit<Linked, 'model'>;
      if (!Array.isArray(linked.probes) || !Array.isArray(linked.migrations)) throw new Error('shape');
      return { probes: linked.probes, migrations: linked.migrations, model: text.slice(tab + 1) };
    } catch {
      this.rejected++;
      return null;
    }
  }

  /** `factsInputs`: '' when not every file's facts have a digest. */
  setLinked(inputs: string, factsInputs: string, linked: Linked): void {
    // The model's JSON as it is, not as a JSON string (that would escape and unescape a large text every run); JSON
    // text holds no tab or line break outside its strings, nor inside them.
    const text = `${factsPrefix(factsInputs)}${JSON.stringify({ probes: linked.probes, migrations: linked.migrations }).slice(1)}\t${linked.model}`;
    if (this.linkedRecord?.inputs === inputs && this.linkedRecord.text === text) return;
    this.linkedRecord = { inputs, text };
    this.dirty = true;
  }

  /** Drops the linked model (it no longer holds). */
  dropLinked(): void {
    if (this.linkedRecord === null) return;
    this.linkedRecord = null;
    this.dirty = true;
  }

  put(file: string, key: string, facts: FileFacts, probes: Probe[]): void {
    this.load();
    const payload = JSON.stringify({ facts: { ...facts, imports: [...facts.imports] }, probes } satisfies Payload);
    // JSON writes a non-finite number as null: such facts are not cached (a walk is cheaper than a replacer function).
    if (!finiteNumbers(facts.resources) || !finiteNumbers(facts.usages) || !finiteNumbers(facts.diagnostics)) {
      if (this.entries.delete(file)) this.dirty = true;
      return;
    }
    this.entries.set(file, { key, digest: createHash('sha256').update(payload).digest('hex'), payload });
    this.probesByFile.set(file, probes);
    this.dirty = true;
  }

  /** Drops the entries of files that are no longer part of the app. */
  retain(files: ReadonlySet<string>): void {
    this.load();
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

  /** The cache's bytes, for parse(). */
  serialize(): Buffer {
    this.load();
    // Encoded once each: the MACs and the file take the same bytes (a MAC of a string would encode it again).
    const linked = Buffer.from(this.linkedRecord ? `${this.linkedRecord.inputs}\t${this.linkedRecord.text}` : '', 'utf8');
    const body = Buffer.from([...this.entries].map(([file, e]) => `${JSON.stringify(file)}\t${e.key}\t${e.digest}\t${e.payload}`).join('\n'), 'utf8');
    const header = { format: FORMAT, analyzer: ANALYZER_VERSION, linked: this.mac('linked', linked), mac: this.mac('entries', body) };
    const newline = Buffer.from('\n');
    return Buffer.concat([Buffer.from(JSON.stringify(header), 'utf8'), newline, linked, newline, body]);
  }

  /** The MAC of one part of a cache (the linked model's line, or the entries' lines), for this format and analyzer. */
  private mac(part: 'linked' | 'entries', text: string | Buffer): string {
    return createHmac('sha256', this.secret).update(FORMAT).update('\0').update(ANALYZER_VERSION).update('\0').update(part).update('\0').update(text).digest('hex');
  }

  /** The payload of an entry the MAC vouched for; null (and counted) if it still does not have the shape of one. */
  private payloadOf(file: string, entry: Entry): Payload | null {
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

/** The start of the linked model's record of what it was linked from (a JSON object): its facts' inputs. */
function factsPrefix(factsInputs: string): string {
  return `{"facts":${JSON.stringify(factsInputs)},`;
}

function macMatches(want: string, got: string): boolean {
  const a = Buffer.from(want, 'hex');
  const b = Buffer.from(got, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumbers(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(finiteNumbers);
  for (const key in value) if (!finiteNumbers((value as Record<string, unknown>)[key])) return false;
  return true;
}
