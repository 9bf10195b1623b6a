import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AppModel } from '../model/appModel';
import { extractFile } from './extract';
import type { FileFacts } from './facts';
import { ImportTargets, link } from './link';
import { readMigrations, type MigrationsRead } from './migrations';
import { isSourceFile, listSourceFiles } from './walk';

/**
 * Analyses one Encore.ts app (the directory holding encore.app) into an AppModel with diagnostics, the way Encore's
 * parser does. It keeps per-file facts, so an edit re-analyses only the file it touched and then re-links the app.
 * Synchronous and pure apart from reading the app's files from disk.
 */
export class AppAnalyzer {
  private readonly facts = new Map<string, FileFacts>();
  private readonly overlays = new Map<string, string>();
  /** Migration directories read so far, by absolute path and source format. */
  private readonly migrations = new Map<string, { source: string; read: MigrationsRead }>();
  private model: AppModel | null = null;
  private imports = new ImportTargets(this.facts);

  constructor(readonly root: string) {
    this.root = path.resolve(root);
  }

  /** Analyses the whole app from disk (a cold start, or after many changes). */
  analyze(): AppModel {
    this.facts.clear();
    this.imports = new ImportTargets(this.facts);
    this.migrations.clear();
    for (const file of listSourceFiles(this.root)) this.extract(file);
    for (const file of this.overlays.keys()) this.extract(file);
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
    if (isDirectory(file) || path.basename(file) === 'encore.app') return this.analyze();
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
    let text = this.overlays.get(file);
    if (text === undefined) {
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        this.forget(file);
        return;
      }
    }
    if (!this.facts.has(file)) this.imports = new ImportTargets(this.facts);
    this.facts.set(file, extractFile(file, text, this.root));
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
    }, this.imports);
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
