import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AppModel, Bucket, Diagnostic } from '../model/appModel';
import type { FactsCache, Linked } from './cache/factsCache';
import { statusSignature, statusTrusted } from './cache/fileStatus';
import { problemFacts, type FileFacts, type MigrationSource } from './facts';
import { ImportTargets, link } from './link';
import { readMigrations, type MigrationsRead } from './migrations';
import { ENCORE_APP_FILE, type DirectoryListings } from './findApps';
import { probesHold, type Probe } from './probes';
import { sourceProblem } from './sourceText';
import { isSourceFile, listSourceFiles } from './walk';

/** Per-file extraction (./extract.ts): given, so that a caller can load it (and TypeScript) only when needed. */
export type Extraction = Pick<typeof import('./extract'), 'extractFile' | 'problemFacts'>;

/** A file to extract, with the text that was read (and hashed) for it. */
export interface ExtractionJob {
  file: string;
  text: string;
}

/** What extractFile gave for a job, with what it read beside the file. */
export interface ExtractionResult {
  facts: FileFacts;
  probes: Probe[];
}

/** Extracts many files at once (on other threads, say): one result per job, in the jobs' order. */
export type ExtractBatch = (jobs: ExtractionJob[], root: string) => Promise<ExtractionResult[]>;

/**
 * A file read from disk: its facts when they are known without extracting, else its bytes and cache key (bytes null:
 * not read, the cache knows the key from the file's status), and its status if it can be trusted (else '').
 */
type DiskRead = { facts: FileFacts | null } | { bytes: Buffer | null; key: string | null; stat: string };
/** A file to extract in a batch: its index in the walk, its text, and what to cache its facts under. */
type Job = { index: number; text: string; key: string | null; stat: string };
/** A DiskRead after the cache was asked: the facts, or the text to extract them from. */
type Decoded = { facts: FileFacts | null } | { text: string; key: string | null; stat: string };

export interface AnalyzerOptions {
  /** Facts of files analysed before (kept on disk between runs by the caller); read and filled by analyze(). */
  cache?: FactsCache;
  /** Folders a walk just read (findApps'), which the analysis' own walk does not read again. */
  listings?: DirectoryListings;
}

/**
 * The analysis behind AppAnalyzer (./analyzer.ts), with extraction given. Analyses one Encore.ts app (the directory
 * holding encore.app) into an AppModel with diagnostics, the way Encore's parser does. It keeps per-file facts, so an
 * edit re-analyses only the file it touched and then re-links the app. Synchronous and pure apart from reading the
 * app's files from disk.
 */
export class Analysis {
  private readonly facts = new Map<string, FileFacts>();
  private readonly overlays = new Map<string, string>();
  /** Migration directories read so far, by absolute path and source format. */
  private readonly migrations = new Map<string, { source: string; read: MigrationsRead }>();
  private model: AppModel | null = null;
  /** What the last walk of the app could not look at (names that are not UTF-8, unreadable folders). */
  private walkDiagnostics: Diagnostic[] = [];
  private imports = new ImportTargets(this.facts);

  constructor(
    readonly root: string,
    private readonly extraction: () => Extraction,
    private readonly options: AnalyzerOptions = {},
  ) {
    this.root = path.resolve(root);
  }

  /** Analyses the whole app from disk (a cold start, or after many changes). */
  analyze(): AppModel {
    const files = this.walk();
    for (const file of files) this.extract(file);
    return this.finishAnalysis(files);
  }

  /**
   * analyze(), with every file that the cache does not hold extracted in one call of `extractBatch` (so that it can
   * spread them over threads); extraction is never loaded when the cache holds every file.
   */
  async analyzeBatched(extractBatch: ExtractBatch): Promise<AppModel> {
    const files = this.walk();
    const cache = this.options.cache;
    const disk = files.map((file) => this.readFromDisk(file));
    const inputs = cache && this.overlays.size === 0 ? this.linkInputs(files, disk) : null;
    if (inputs !== null) {
      const reused = this.reuseLinked(cache!, cache!.linked(inputs));
      if (reused) return reused;
    }
    const facts = new Array<FileFacts | null | undefined>(files.length);
    // With a linked model on record, the files the cache holds are not decoded until the others are extracted: if
    // their facts came out as before (an edit of a comment or a function's body), that model still holds.
    const defer = inputs !== null && cache!.hasLinked;
    const decode = (skipHeld: boolean) => {
      const jobs: Job[] = [];
      disk.forEach((r, i) => {
        if (facts[i] !== undefined || (skipHeld && 'key' in r && r.key !== null && cache!.holds(files[i], r.key))) return;
        const d = this.lookUp(files[i], r);
        if ('facts' in d) facts[i] = d.facts;
        else jobs.push({ index: i, text: d.text, key: d.key, stat: d.stat });
      });
      return jobs;
    };
    await this.extractInto(facts, files, decode(defer), extractBatch);
    if (defer) {
      const factsInputs = this.factsInputs(files, disk);
      const reused = factsInputs !== '' ? this.reuseLinked(cache!, cache!.linkedByFacts(factsInputs)) : null;
      if (reused) {
        cache!.retain(new Set(files));
        cache!.relabelLinked(inputs!);
        return reused;
      }
      await this.extractInto(facts, files, decode(false), extractBatch);
    }
    files.forEach((file, i) => this.store(file, facts[i]!));
    const model = this.finishAnalysis(files);
    if (inputs !== null) this.recordLinked(cache!, inputs, this.factsInputs(files, disk), files, model);
    return model;
  }

  /** Extracts `jobs` in one batch into `facts` (by index), putting them in the cache. */
  private async extractInto(facts: (FileFacts | null | undefined)[], files: string[], jobs: Job[], extractBatch: ExtractBatch): Promise<void> {
    if (jobs.length === 0) return;
    const results = await extractBatch(jobs.map(({ index, text }) => ({ file: files[index], text })), this.root);
    if (results.length !== jobs.length) throw new Error(`extraction gave ${results.length} results for ${jobs.length} files`);
    jobs.forEach(({ index, key, stat }, n) => {
      const { facts: f, probes } = results[n];
      if (key !== null) this.options.cache?.put(files[index], key, f, probes, stat);
      facts[index] = f;
    });
  }

  /**
   * What a link of the app from disk depends on besides the migrations it reads and the probes of the files' facts:
   * the walk's files in order with their keys, and what the walk could not look at. Null when a file has no key.
   */
  private linkInputs(files: string[], disk: DiskRead[]): string | null {
    const hash = createHash('sha256').update(this.root).update('\0').update(JSON.stringify(this.walkDiagnostics));
    for (const [i, r] of disk.entries()) {
      if (!('key' in r) || r.key === null) return null;
      hash.update('\0').update(files[i]).update('\0').update(r.key);
    }
    return hash.digest('hex');
  }

  /** linkInputs() with the digests of the files' facts (and probes) for their keys; '' when one has none. */
  private factsInputs(files: string[], disk: DiskRead[]): string {
    const hash = createHash('sha256').update(this.root).update('\0').update(JSON.stringify(this.walkDiagnostics));
    for (const [i, r] of disk.entries()) {
      const digest = 'key' in r && r.key !== null ? this.options.cache!.digestOf(files[i], r.key) : undefined;
      if (digest === undefined) return '';
      hash.update('\0').update(files[i]).update('\0').update(digest);
    }
    return hash.digest('hex');
  }

  /** The model linked before (`linked`), if what it read beside its inputs still reads the same. */
  private reuseLinked(cache: FactsCache, linked: Linked | null): AppModel | null {
    if (!linked) return null;
    const migrationsHold = linked.migrations.every((m) => JSON.stringify(readMigrations(m.dir, m.source as MigrationSource)) === m.read);
    if (!migrationsHold || !probesHold(linked.probes)) {
      cache.dropLinked();
      return null;
    }
    // This analysis holds no facts then: it serves this one model (a CLI run), and analyze() starts over.
    this.model = reviveModel(linked.model);
    return this.model;
  }

  private recordLinked(cache: FactsCache, inputs: string, factsInputs: string, files: string[], model: AppModel): void {
    const probes: Probe[] = [];
    for (const file of files) {
      const p = cache.probesOf(file);
      if (!p) return cache.dropLinked(); // a file whose facts could not be cached
      probes.push(...p);
    }
    const migrations = [...this.migrations].map(([dir, { source, read }]) => ({ dir, source, read: JSON.stringify(read) }));
    cache.setLinked(inputs, factsInputs, { probes, migrations, model: JSON.stringify(model) });
  }

  /** Forgets what earlier analyses found and walks the app: its files, in the walk's order. */
  private walk(): string[] {
    this.facts.clear();
    this.imports = new ImportTargets(this.facts);
    this.migrations.clear();
    const { files, problems } = listSourceFiles(this.root, this.options.listings);
    // What the walk could not look at goes on encore.app: the file itself cannot be named, or is not one file.
    const appFile = path.join(this.root, ENCORE_APP_FILE);
    const start = { line: 0, character: 0 };
    this.walkDiagnostics = problems.map((p) => ({ file: appFile, range: { start, end: start }, severity: 'warning', message: `${p.path}: ${p.message}` }));
    return files;
  }

  private finishAnalysis(files: string[]): AppModel {
    for (const file of this.overlays.keys()) this.extract(file);
    this.options.cache?.retain(new Set(files));
    return this.relink();
  }

  /** Uses `text` for `file` instead of its content on disk (an open, possibly unsaved document). */
  setOverlay(file: string, text: string): AppModel {
    if (!this.isRelevant(file)) return this.current();
    this.overlays.set(file, text);
    this.extract(file);
    return this.relink();
  }

  /** Goes back to the content on disk for `file` (the document was closed). */
  clearOverlay(file: string): AppModel {
    if (!this.overlays.delete(file)) return this.current();
    this.extract(file);
    return this.relink();
  }

  /** `file` was created, changed or deleted on disk (a file watcher event). Ignored while an overlay is set. */
  fileChanged(file: string): AppModel {
    if (this.overlays.has(file)) return this.current();
    if (file.endsWith('.sql') || !existsSync(file) || isDirectory(file)) {
      // A migration, or a folder that appeared or went: forget what was read below it.
      for (const dir of this.migrations.keys()) if (isWithin(file, dir) || isWithin(dir, file)) this.migrations.delete(dir);
    }
    // A name with U+FFFD came from bytes that are not UTF-8: only a walk of the folder can tell which.
    if (isDirectory(file) || path.basename(file) === ENCORE_APP_FILE || file.includes('\uFFFD')) return this.analyze();
    if (this.isRelevant(file)) {
      this.extract(file);
    } else {
      for (const known of [...this.facts.keys()]) if (isWithin(known, file)) this.forget(known);
    }
    return this.relink();
  }

  /** Whether `file` takes part in the analysis (a .ts file Encore's walk visits). */
  isRelevant(file: string): boolean {
    return isSourceFile(this.root, file);
  }

  /** The latest model, analysing the app first if that has not happened yet. */
  current(): AppModel {
    return this.model ?? this.analyze();
  }

  private extract(file: string): void {
    const text = this.overlays.get(file);
    this.store(file, text !== undefined ? this.extraction().extractFile(file, text, this.root) : this.extractFromDisk(file));
  }

  /** Keeps `facts` as what `file` contributes; null: the file is gone. */
  private store(file: string, facts: FileFacts | null): void {
    if (facts === null) {
      this.forget(file);
      return;
    }
    if (!this.facts.has(file)) this.imports = new ImportTargets(this.facts);
    this.facts.set(file, facts);
  }

  /** The facts of the file on disk; null when it is gone. A file that cannot be read or decoded says so. */
  private extractFromDisk(file: string): FileFacts | null {
    const read = this.lookUp(file, this.readFromDisk(file));
    if ('facts' in read) return read.facts;
    const probes: Probe[] = [];
    const facts = this.extraction().extractFile(file, read.text, this.root, probes);
    if (read.key !== null) this.options.cache?.put(file, read.key, facts, probes, read.stat);
    return facts;
  }

  /**
   * Reads `file`: its bytes and cache key, or its facts when it cannot be read or decoded (null: it is gone). With a
   * cache, the file's status comes first: when it is the one the cache recorded, the key is known without reading.
   */
  private readFromDisk(file: string): DiskRead {
    const cache = this.options.cache;
    let stat = '';
    if (cache) {
      const now = Date.now();
      const status = statSync(file, { throwIfNoEntry: false });
      if (status && statusTrusted(status, now, cache.statMarginMs)) {
        stat = statusSignature(status);
        const key = cache.keyByStatus(file, stat);
        if (key !== null) return { bytes: null, key, stat };
      }
    }
    const read = this.readBytes(file);
    if ('facts' in read) return read;
    if (stat !== '' && read.key !== null) cache!.noteStatus(file, read.key, stat);
    return { ...read, stat };
  }

  /** The bytes of `file` and their cache key, or its facts when it cannot be read or decoded (null: it is gone). */
  private readBytes(file: string): { facts: FileFacts | null } | { bytes: Buffer; key: string | null } {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return { facts: null };
      return { facts: problemFacts(file, `this file cannot be read (${(err as Error).message}), so it was not analysed`) };
    }
    const problem = sourceProblem(bytes);
    if (problem !== null) return { facts: problemFacts(file, problem) };
    // Decoded only if the cache does not hold the facts (see lookUp): a warm run never needs the text.
    return { bytes, key: this.options.cache?.keyOf(file, bytes) ?? null };
  }

  /** The facts the cache holds for the bytes read, or else their text. */
  private lookUp(file: string, read: DiskRead): Decoded {
    if (!('key' in read)) return read;
    const cached = read.key !== null ? this.options.cache!.get(file, read.key) : null;
    if (cached) return { facts: cached };
    if (read.bytes !== null) return { text: read.bytes.toString('utf8'), key: read.key, stat: read.stat };
    // Known by its status, but the cache's facts would not do: read it now. Its status holds for these bytes only if
    // they are the ones it was recorded with.
    const now = this.readBytes(file);
    if ('facts' in now) return now;
    return { text: now.bytes.toString('utf8'), key: now.key, stat: now.key === read.key ? read.stat : '' };
  }

  private forget(file: string): void {
    if (this.facts.delete(file)) this.imports = new ImportTargets(this.facts);
  }

  private relink(): AppModel {
    this.model = link(this.root, this.facts, (dir, source) => {
      const abs = path.join(this.root, dir);
      let cached = this.migrations.get(abs);
      if (!cached || cached.source !== source) this.migrations.set(abs, (cached = { source, read: readMigrations(abs, source) }));
      return cached.read;
    }, this.imports, this.walkDiagnostics);
    return this.model;
  }
}

/** The AppModel of its JSON: buckets' usage is keyed by service name, so null-prototype again (see model/reservedNames). */
function reviveModel(json: string): AppModel {
  const model = JSON.parse(json) as AppModel;
  for (const bucket of model.buckets) bucket.usage = Object.assign(Object.create(null) as Bucket['usage'], bucket.usage);
  return model;
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function isWithin(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir + path.sep);
}
