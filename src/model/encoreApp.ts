import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

/** The language an Encore app is written in. Encore treats a missing `lang` as Go. */
export type EncoreAppLang = 'typescript' | 'go';

/** What the extension reads from an `encore.app` file (JSON with comments). */
export interface EncoreAppFile {
  /** The app id on Encore Cloud, when the app is linked to one. */
  id?: string;
  lang: EncoreAppLang;
}

export type EncoreAppParse =
  | { ok: true; app: EncoreAppFile }
  | { ok: false; error: string };

/** Parses the text of an `encore.app` file the way Encore does (hujson: comments and trailing commas allowed). */
export function parseEncoreApp(text: string): EncoreAppParse {
  const errors: ParseError[] = [];
  // An empty file is valid for Encore: an unlinked Go app.
  const value: unknown = text.trim() === '' ? {} : parse(text, errors, { allowTrailingComma: true });
  if (errors.length > 0) {
    const first = errors[0];
    const { line, column } = positionAt(text, first.offset);
    return { ok: false, error: `${printParseErrorCode(first.error)} at line ${line}, column ${column}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'expected a JSON object' };
  }
  const record = value as Record<string, unknown>;
  const app: EncoreAppFile = { lang: 'go' };
  if (record.id !== undefined) {
    if (typeof record.id !== 'string') return { ok: false, error: '"id" must be a string' };
    if (record.id !== '') app.id = record.id;
  }
  if (record.lang !== undefined) {
    if (record.lang !== 'typescript' && record.lang !== 'go') {
      return { ok: false, error: `"lang" must be "typescript" or "go", not ${JSON.stringify(record.lang)}` };
    }
    app.lang = record.lang;
  }
  return { ok: true, app };
}

function positionAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
