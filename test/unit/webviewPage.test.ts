// The webview page: a strict Content Security Policy with a fresh nonce per render, and nothing unescaped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentSecurityPolicy, escapeHtml, makeNonce, renderPage } from '../../src/extension/form/html';

const resources = {
  cspSource: 'https://webview.example',
  scriptUri: 'https://webview.example/dist/webview/main.js',
  codiconUri: 'https://webview.example/dist/webview/codicon.css',
  title: 'Edit <prod> & "staging"',
};

test('the CSP allows nothing by default, scripts only with the nonce, styles and fonts only from the webview', () => {
  const csp = contentSecurityPolicy(resources.cspSource, 'abc123');
  const directives = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
  assert.deepEqual(directives, {
    'default-src': "'none'",
    'script-src': "'nonce-abc123'",
    'style-src': 'https://webview.example',
    'font-src': 'https://webview.example',
    'img-src': 'https://webview.example',
  });
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
});

test('every render has a new 128-bit nonce, on the one script and the codicon stylesheet', () => {
  const nonces = new Set(Array.from({ length: 50 }, () => makeNonce()));
  assert.equal(nonces.size, 50);
  for (const n of nonces) assert.equal(Buffer.from(n, 'base64').length, 16);
  const a = renderPage(resources);
  const b = renderPage(resources);
  // The CSP is in an attribute, so its quotes are escaped.
  const nonceOf = (html: string) => html.match(/script-src &#39;nonce-([^&]+)&#39;/)?.[1];
  assert.notEqual(nonceOf(a), nonceOf(b));
  const nonce = nonceOf(a) as string;
  assert.ok(nonce);
  const scripts = [...a.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, [`<script type="module" nonce="${nonce}" src="${resources.scriptUri}">`]);
  assert.match(a, new RegExp(`<link rel="stylesheet" href="${resources.codiconUri}" id="vscode-codicon-stylesheet" nonce="${escapeRegExp(nonce)}">`));
  // No inline style block and no inline script: the CSP would block them, and the page needs none.
  assert.doesNotMatch(a, /<style|\son[a-z]+=|javascript:/i);
});

test('text from the workspace is escaped', () => {
  assert.match(renderPage(resources), /<title>Edit &lt;prod&gt; &amp; &quot;staging&quot;<\/title>/);
  assert.equal(escapeHtml(`<img src=x onerror='y'>`), '&lt;img src=x onerror=&#39;y&#39;&gt;');
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
