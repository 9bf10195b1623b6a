import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AppModel, Diagnostic } from '../model/appModel';
import type { FactsCache } from './cache/factsCache';
import type { FileFacts } from './facts';
import { ImportTargets, link } from './link';
import { readMigrations, type MigrationsRead } from './migrations';
import { ENCORE_APP_FILE } from './findApps';
import type { Probe } from './probes';
import { decodeSource } from './sourceText';
import { isSourceFile, listSourceFiles } from './walk';

/** Per-file extraction (./extract.ts): given, so that a caller can load it (and TypeScript) only when needed. */
export type Extraction = Pick<typeof import('./extract'), 'extractFile' | 'problemFacts'>;

export interface AnalyzerOptions {
  /** Facts of files analysed before (kept on disk between runs by the caller); read and filled by analyze(). */
  cache?: FactsCache;
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
    this.facts.clear();
    this.imports = new ImportTargets(this.facts);
    this.migrations.clear();
    const { files, problems } = listSourceFiles(this.root);
    // What the walk could not look at goes on encore.app: the file itself cannot be named, or is not one file.
    const appFile = path.join(this.root, ENCORE_APP_FILE);
    const start = { line: 0, character: 0 };
    this.walkDiagnostics = problems.map((p) => ({ file: appFile, range: { start, end: start }, severity: 'warning', message: `${p.path}: ${p.message}` }));
    for (const file of files) this.extract(file);
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
    const facts = text !== undefined ? this.extraction().extractFile(file, text, this.root) : this.extractFromDisk(file);
    if (facts === null) {
      this.forget(file);
      return;
    }
    if (!this.facts.has(file)) this.imports = new ImportTargets(this.facts);
    this.facts.set(file, facts);
  }

  /** The facts of the file on disk; null when it is gone. A file that cannot be read or decoded says so. */
  private extractFromDisk(file: string): FileFacts | null {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
      return this.extraction().problemFacts(file, `this file cannot be read (${(err as Error).message}), so it was not analysed`);
    }
    const decoded = decodeSource(bytes);
    if ('problem' in decoded) return this.extraction().problemFacts(file, decoded.problem);
    const cache = this.options.cache;
    if (!cache) return this.extraction().extractFile(file, decoded.text, this.root);
    const key = cache.keyOf(file, bytes);
    const cached = cache.get(file, key);
    if (cached) return cached;
    const probes: Probe[] = [];
    const facts = this.extraction().extractFile(file, decoded.text, this.root, probes);
    cache.put(file, key, facts, probes);
    return facts;
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
