// Pure (no vscode): the form page's HTML. Everything the page runs comes from the bundle in dist/webview, loaded with
// a nonce that is new on every render; the Content Security Policy allows nothing else (no inline script, no eval,
// no network), styles only from the webview's own origin, fonts for the codicons.
import { randomBytes } from 'node:crypto';

export interface PageResources {
  /** `webview.cspSource`. */
  cspSource: string;
  /** asWebviewUri of dist/webview/main.js and dist/webview/codicon.css. */
  scriptUri: string;
  codiconUri: string;
  title: string;
}

/** A fresh nonce: 128 random bits, base64 (the CSP spec asks for at least 128 bits). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // The codicon stylesheet comes from the webview's origin; the components and the page adopt constructed
    // stylesheets (Lit's way), which need no inline <style> and no 'unsafe-inline'.
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
  ].join('; ');
}

export function renderPage(resources: PageResources, nonce = makeNonce()): string {
  const csp = contentSecurityPolicy(resources.cspSource, nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(resources.codiconUri)}" id="vscode-codicon-stylesheet" nonce="${nonce}">
<title>${escapeHtml(resources.title)}</title>
</head>
<body>
<main id="app" aria-live="polite"><p>Loading…</p></main>
<script type="module" nonce="${nonce}" src="${escapeHtml(resources.scriptUri)}"></script>
</body>
</html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
