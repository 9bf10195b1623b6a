// escapeMarkdown and markdownCode (src/model/markdown.ts): app text put into Markdown shows as text. Checked by the
// exact output, and by rendering with a real CommonMark renderer at its most permissive (markdown-it, installed with
// @vscode/vsce, with HTML and linkify on): what renders must be the text itself, and nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeMarkdown, markdownCode } from '../../src/model/markdown';

/** The part of markdown-it used here (it ships no type declarations, and none are installed). */
interface MarkdownRenderer {
  render(src: string): string;
  renderInline(src: string): string;
  utils: { escapeHtml(text: string): string };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it') as new (options: object) => MarkdownRenderer;
const md = new MarkdownIt({ html: true, linkify: true, typographer: false });
const HOSTILE = [
  '![](https://evil.example/p.png)', '[click](javascript:alert(1))', '<img src=x onerror=alert(1)>', '<b>bold</b>',
  '**bold** _it_ `code` ~~s~~', '&amp; &#60; &lt;script&gt;', 'https://evil.example www.evil.example a@b.example',
  '<https://evil.example>', '[ref]: https://evil.example', '# heading', '- item', '1. item', '> quote', '| a | b |',
  '\\*not bold\\*', '``', 'a ` b `` c', ' spaced ', 'line\n\n# next\n    code', '[x][y]\n\n[y]: https://e.example',
];

test('escapeMarkdown backslash-escapes every ASCII punctuation character but "/", and flattens line breaks', () => {
  assert.equal(escapeMarkdown('plain words 42'), 'plain words 42');
  assert.equal(escapeMarkdown('![x](https://evil.example/p.png)'), '\\!\\[x\\]\\(https\\://evil\\.example/p\\.png\\)');
  assert.equal(escapeMarkdown('[click](javascript:alert(1))'), '\\[click\\]\\(javascript\\:alert\\(1\\)\\)');
  assert.equal(escapeMarkdown('<img src=x onerror=alert(1)>'), '\\<img src\\=x onerror\\=alert\\(1\\)\\>');
  assert.equal(escapeMarkdown('**bold** _it_ `code` ~~s~~'), '\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~');
  assert.equal(escapeMarkdown('&amp; &#60; a\\b'), '\\&amp\\; \\&\\#60\\; a\\\\b');
  assert.equal(escapeMarkdown('www.evil.example and a@b.example'), 'www\\.evil\\.example and a\\@b\\.example');
  assert.equal(escapeMarkdown('GET /orders/:id'), 'GET /orders/\\:id');
  assert.equal(escapeMarkdown('one\n\n# two\r\n- three\rfour\u2028five'), 'one  \\# two \\- three four five');
  assert.equal(escapeMarkdown(''), '');
});

test('every ASCII punctuation character but "/" is escaped, and nothing else', () => {
  for (let c = 0x20; c < 0x7f; c++) {
    const ch = String.fromCharCode(c);
    const punct = /[!-/:-@[-`{-~]/.test(ch) && ch !== '/';
    assert.equal(escapeMarkdown(ch), punct ? `\\${ch}` : ch, JSON.stringify(ch));
  }
  assert.equal(escapeMarkdown('é 中 🎉'), 'é 中 🎉');
});

test('markdownCode fences with more backticks than the text holds and pads where a code span would strip', () => {
  assert.equal(markdownCode('users'), '`users`');
  assert.equal(markdownCode('a`b'), '``a`b``');
  assert.equal(markdownCode('a``b'), '```a``b```');
  assert.equal(markdownCode('`x'), '`` `x ``');
  assert.equal(markdownCode('x`'), '`` x` ``');
  assert.equal(markdownCode(' x '), '`  x  `');
  assert.equal(markdownCode(' x'), '` x`');
  assert.equal(markdownCode('   '), '`   `');
  assert.equal(markdownCode(''), '` `');
  assert.equal(markdownCode('a\n\nb'), '`a  b`');
  assert.equal(markdownCode('![](https://x)<b>'), '`![](https://x)<b>`');
});

test('rendered by markdown-it with HTML and linkify on, escaped text and code spans are the text itself', () => {
  const flat = (t: string) => t.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ');
  for (const text of HOSTILE) {
    assert.equal(md.renderInline(escapeMarkdown(text)), md.utils.escapeHtml(flat(text)), text);
    assert.equal(md.renderInline(markdownCode(text)), `<code>${md.utils.escapeHtml(flat(text))}</code>`, text);
    // In a list item of a hover, as the server writes them: one paragraph, no other markup.
    assert.equal(md.render(`- Title: ${escapeMarkdown(text)}`), `<ul>\n<li>Title: ${md.utils.escapeHtml(flat(text)).trimEnd()}</li>\n</ul>\n`, text);
  }
});
