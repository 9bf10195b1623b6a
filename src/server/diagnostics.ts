import { pathToFileURL } from 'node:url';
import type { Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { AppModel, Diagnostic } from '../model/appModel';

/** LSP's DiagnosticSeverity values, spelled out so this module needs no runtime import. */
const SEVERITY = { error: 1, warning: 2 } as const;
export const DIAGNOSTIC_SOURCE = 'Encore';

export function fileUri(file: string): string {
  return pathToFileURL(file).href;
}

function toLsp(d: Diagnostic): LspDiagnostic {
  return { range: d.range, severity: SEVERITY[d.severity], source: DIAGNOSTIC_SOURCE, message: d.message };
}

/** An encore.app that cannot be read: its error goes on the file itself. */
export interface UnreadableApp {
  appFile: string;
  message: string;
}

/**
 * Every diagnostic of every app, per file URI. Apps may nest, so one file can get diagnostics from two apps; they are
 * merged, never overwritten.
 */
export function diagnosticsByUri(models: readonly AppModel[], unreadable: readonly UnreadableApp[]): Map<string, LspDiagnostic[]> {
  const out = new Map<string, LspDiagnostic[]>();
  const add = (file: string, d: LspDiagnostic) => {
    const uri = fileUri(file);
    const list = out.get(uri);
    if (list) list.push(d);
    else out.set(uri, [d]);
  };
  for (const model of models) for (const d of model.diagnostics) add(d.file, toLsp(d));
  for (const { appFile, message } of unreadable) {
    const start = { line: 0, character: 0 };
    add(appFile, { range: { start, end: start }, severity: SEVERITY.error, source: DIAGNOSTIC_SOURCE, message });
  }
  return out;
}

/**
 * Remembers what was published per URI, so an analysis republishes only the files whose diagnostics changed and
 * clears the files that no longer have any.
 */
export class PublishedDiagnostics {
  private published = new Map<string, string>();

  /** The `[uri, diagnostics]` pairs to send (an empty list clears the file), and records them as published. */
  update(next: Map<string, LspDiagnostic[]>): [string, LspDiagnostic[]][] {
    const out: [string, LspDiagnostic[]][] = [];
    const now = new Map<string, string>();
    for (const [uri, list] of next) {
      const key = JSON.stringify(list);
      now.set(uri, key);
      if (this.published.get(uri) !== key) out.push([uri, list]);
    }
    for (const uri of this.published.keys()) if (!now.has(uri)) out.push([uri, []]);
    this.published = now;
    return out;
  }
}
