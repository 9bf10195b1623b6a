/**
 * Reads a secret value for `encore-env secret set`: from a terminal with no echo (the prompt on stderr), or all of a
 * pipe (`… | encore-env secret set`), dropping the one trailing newline that `echo` and editors add.
 */

import type { Readable, Writable } from 'node:stream';

export interface SecretInput extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export async function readSecret(input: SecretInput, prompt: string, promptTo: Writable, signal: AbortSignal): Promise<string> {
  if (!input.isTTY || !input.setRawMode) return withoutFinalNewline(await readAll(input, signal));
  promptTo.write(prompt);
  input.setRawMode(true);
  input.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onAbort = () => finish(() => reject(signal.reason as Error));
      const finish = (then: () => void) => {
        input.off('data', onData);
        signal.removeEventListener('abort', onAbort);
        promptTo.write('\n');
        then();
      };
      const onData = (chunk: Buffer | string) => {
        const step = typeKeys(typed, chunk.toString());
        typed = step.typed;
        if (step.end === 'enter') finish(() => resolve(typed));
        else if (step.end === 'cancel') finish(() => reject(new Error('cancelled with Ctrl+C; nothing was stored')));
      };
      input.on('data', onData);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  } finally {
    input.setRawMode(false);
    input.pause();
  }
}

/** What keys typed in raw mode do to the value: Enter (or Ctrl+D) ends it, Backspace removes a character, Ctrl+C cancels. */
export function typeKeys(typed: string, keys: string): { typed: string; end?: 'enter' | 'cancel' } {
  let value = typed;
  for (const ch of keys) {
    if (ch === '\r' || ch === '\n' || ch === '\u0004') return { typed: value, end: 'enter' };
    if (ch === '\u0003') return { typed: '', end: 'cancel' };
    if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
    else if (ch >= ' ') value += ch;
  }
  return { typed: value };
}

export function withoutFinalNewline(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}

async function readAll(input: Readable, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input.iterator({ destroyOnReturn: false })) {
    signal.throwIfAborted();
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return utf8(Buffer.concat(chunks));
}

/**
 * The bytes as text, refused when they are not valid UTF-8: an Encore secret is a string, and decoding would turn
 * the bytes it cannot read into U+FFFD without a word, storing a value that is not the one given.
 */
export function utf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new Error('the value is not valid UTF-8 text, and an Encore secret is a string: nothing was stored. Encode binary data first (for example with base64) and decode it in the app.');
  }
}
