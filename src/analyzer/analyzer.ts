import { Analysis, type AnalyzerOptions } from './analysis';
import * as extraction from './extract';

export type { AnalyzerOptions } from './analysis';

/**
 * Analyses one Encore.ts app (the directory holding encore.app) into an AppModel with diagnostics, the way Encore's
 * parser does; see ./analysis.ts. (The CLI's cached analysis uses Analysis itself, to load TypeScript only when a
 * file is not in its cache.)
 */
export class AppAnalyzer extends Analysis {
  constructor(root: string, options: AnalyzerOptions = {}) {
    super(root, () => extraction, options);
  }
}
