/**
 * Messages between the extension host and its webviews. Both sides import these types; the receiving side validates
 * every message with `isWebviewMessage` / `isHostMessage` and drops anything else.
 */

/** Webview → extension. */
export type WebviewMessage = { type: 'ready' };

/** Extension → webview. */
export type HostMessage = { type: 'init'; title: string };

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  return isObject(value) && value.type === 'ready' && Object.keys(value).length === 1;
}

export function isHostMessage(value: unknown): value is HostMessage {
  return isObject(value) && value.type === 'init' && typeof value.title === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
