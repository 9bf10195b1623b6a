/**
 * A small INI reader with the rules of Python's configparser, which the AWS CLI and gcloud both use to read these
 * files. The `ini` package is not used because it turns dots in section names into nesting (`[profile dev.admin]`
 * would be lost) and has no continuation lines (AWS's nested `s3 =` blocks).
 */
export interface IniFile {
  /** Sections in file order; a section repeated later adds to the first (later keys win). */
  sections: Map<string, IniSection>;
  /** Lines that are neither a section, a key nor a comment. The text is never echoed: it may hold a secret. */
  problems: { line: number; message: string }[];
}

export interface IniSection {
  name: string;
  /** The 1-based line of the section header (its first occurrence). */
  line: number;
  /** Keys lowercased, as configparser does; values trimmed. */
  values: Map<string, string>;
}

export function parseIni(text: string): IniFile {
  const sections = new Map<string, IniSection>();
  const problems: IniFile['problems'] = [];
  let section: IniSection | undefined;
  let lastKey: string | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (/^\s*([#;]|$)/.test(raw)) return;
    // An indented line continues the previous value (configparser's multi-line values, AWS's nested settings).
    if (/^\s/.test(raw) && section && lastKey !== undefined) {
      const prev = section.values.get(lastKey) ?? '';
      section.values.set(lastKey, prev === '' ? raw.trim() : `${prev}\n${raw.trim()}`);
      return;
    }
    const header = /^\s*\[([^\]]*)\]\s*([#;].*)?$/.exec(raw);
    if (header) {
      const name = header[1].trim();
      section = sections.get(name) ?? { name, line, values: new Map() };
      sections.set(name, section);
      lastKey = undefined;
      return;
    }
    const delimiter = raw.search(/[=:]/);
    if (delimiter <= 0 || raw.slice(0, delimiter).trim() === '') {
      problems.push({ line, message: `line ${line} is neither a [section] nor a "key = value" line` });
      return;
    }
    if (!section) {
      problems.push({ line, message: `line ${line} sets a key before any [section]` });
      return;
    }
    lastKey = raw.slice(0, delimiter).trim().toLowerCase();
    // Comments after a value need whitespace before them, as in the AWS SDKs, so `a#b` stays a value.
    section.values.set(lastKey, raw.slice(delimiter + 1).replace(/\s[#;].*$/, '').trim());
  });
  return { sections, problems };
}
