// Reading a secret value for `encore-env secret set`: all of a pipe minus the final newline, or keys typed on a
// terminal in raw mode (no echo: nothing but the prompt and a newline is written), with Backspace and Ctrl+C.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { readSecret, typeKeys, withoutFinalNewline, type SecretInput } from '../../src/cli/readSecret';

const never = new AbortController().signal;

function sink(): PassThrough & { text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return Object.assign(out, { text: () => text });
}

test('a piped value is read whole, with only its one trailing newline dropped', async () => {
  assert.equal(await readSecret(Readable.from(['sk-', 'live\n']), 'unused', sink(), never), 'sk-live');
  assert.equal(await readSecret(Readable.from(['line one\nline two\n\n']), 'unused', sink(), never), 'line one\nline two\n');
  assert.equal(withoutFinalNewline('v\r\n'), 'v');
  assert.equal(withoutFinalNewline('v'), 'v');
});

test('on a terminal the keys are not echoed: the prompt, then a newline once Enter is pressed', async () => {
  const tty = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[], setRawMode(mode: boolean) { this.modes.push(mode); } }) as PassThrough & SecretInput & { modes: boolean[] };
  const out = sink();
  const reading = readSecret(tty, 'Value (not shown): ', out, never);
  tty.write('pa');
  tty.write('sx\u007fs\r');
  assert.equal(await reading, 'pass');
  assert.equal(out.text(), 'Value (not shown): \n');
  assert.deepEqual(tty.modes, [true, false], 'raw mode is switched off again');
});

test('Ctrl+C while typing cancels, and nothing typed is kept', async () => {
  assert.deepEqual(typeKeys('sec', 'ret\u0003'), { typed: '', end: 'cancel' });
  assert.deepEqual(typeKeys('', 'ab\u0004'), { typed: 'ab', end: 'enter' });
  assert.deepEqual(typeKeys('é', '\u007f'), { typed: '' });
  const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined }) as PassThrough & SecretInput;
  const reading = readSecret(tty, '', sink(), never);
  tty.write('abc\u0003');
  await assert.rejects(reading, /cancelled with Ctrl\+C; nothing was stored/);
});

test('a piped value that is not valid UTF-8 is refused, never stored altered', async () => {
  const input = Readable.from([Buffer.from([0xff, 0xfe, 0x41])]) as SecretInput;
  await assert.rejects(readSecret(input, 'x', new PassThrough(), new AbortController().signal), /^Error: the value is not valid UTF-8 text, and an Encore secret is a string: nothing was stored/);
  const ok = Readable.from([Buffer.from('héllo\u2028✓\n')]) as SecretInput;
  assert.equal(await readSecret(ok, 'x', new PassThrough(), new AbortController().signal), 'héllo\u2028✓');
});
