// What the analyzer can read of a file, and why not when it cannot: Encore's build parses UTF-8 text, so a binary
// file or one in another encoding fails it; such files are reported and left out of the analysis.
import { isUtf8 } from 'node:buffer';

export const BINARY_FILE =
  "this file is not text (it holds NUL bytes), so it cannot be parsed and was not analysed: Encore's build fails on it; " +
  'remove it, or rename it to something other than .ts';
export const NOT_UTF8_FILE = "this file is not valid UTF-8 text, so it was not analysed: Encore's build fails on it; save it as UTF-8";

/** The file's text, or why it cannot be analysed. A byte-order mark is kept, as `readFileSync(file, 'utf8')` does. */
export function decodeSource(bytes: Buffer): { text: string } | { problem: string } {
  const problem = sourceProblem(bytes);
  return problem !== null ? { problem } : { text: bytes.toString('utf8') };
}

/** Why the file's bytes cannot be analysed, or null when they are UTF-8 text (decodeSource without decoding). */
export function sourceProblem(bytes: Buffer): string | null {
  if (bytes.includes(0)) return BINARY_FILE;
  if (!isUtf8(bytes)) return NOT_UTF8_FILE;
  return null;
}

/** A file name for messages: its valid UTF-8 as text, every other byte as `\xNN`. */
export function displayName(bytes: Buffer): string {
  // Almost every name is UTF-8: decoded whole (the walk asks for every name it meets).
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    const sequence = length > 0 ? bytes.subarray(i, i + length) : null;
    if (sequence && sequence.length === length && isUtf8(sequence)) {
      out += sequence.toString('utf8');
      i += length;
    } else {
      out += `\\x${lead.toString(16).padStart(2, '0')}`;
      i += 1;
    }
  }
  return out;
}
