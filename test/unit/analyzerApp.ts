// Writes small Encore apps for analyzer tests. Text may mark one range with ⟦ and ⟧; the markers are removed and
// the range is returned, so a test states where a diagnostic must point.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Range } from '../../src/model/appModel';

export interface Marked {
  file: string;
  range: Range;
}

export interface TestApp {
  root: string;
  analyzer: AppAnalyzer;
  marked: Marked | null;
  write(rel: string, text: string): string;
  cleanup(): void;
}

const SERVICE = 'import { Service } from "encore.dev/service";\nexport default new Service("svc");\n';

/** An app with `svc/encore.service.ts` (service "svc") unless the files say otherwise. */
export function testApp(files: Record<string, string>, { withService = true } = {}): TestApp {
  const root = mkdtempSync(path.join(os.tmpdir(), 'encore-app-'));
  const all: Record<string, string> = { 'encore.app': '{"id": "", "lang": "typescript"}', ...(withService ? { 'svc/encore.service.ts': SERVICE } : {}), ...files };
  let marked: Marked | null = null;
  const write = (rel: string, text: string) => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  for (const [rel, text] of Object.entries(all)) {
    const m = unmark(text);
    if (m.range) marked = { file: path.join(root, rel), range: m.range };
    if (rel.endsWith('/')) mkdirSync(path.join(root, rel), { recursive: true });
    else write(rel, m.text);
  }
  return { root, analyzer: new AppAnalyzer(root), marked, write, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function unmark(text: string): { text: string; range: Range | null } {
  const start = text.indexOf('⟦');
  const end = text.indexOf('⟧');
  if (start < 0 || end < start) return { text, range: null };
  const clean = text.slice(0, start) + text.slice(start + 1, end) + text.slice(end + 1);
  return { text: clean, range: { start: position(clean, start), end: position(clean, end - 1) } };
}

function position(text: string, offset: number) {
  const lines = text.slice(0, offset).split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}
