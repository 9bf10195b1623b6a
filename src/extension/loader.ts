// The extension's main (dist/extension.js, CommonJS as VS Code loads it): loads the extension, an ES module split into
// chunks (dist/extension/extension.mjs, see esbuild.mjs), so that the Kubernetes client, the cloud SDKs and the
// language client are read from disk only when a provider or the language server is first used.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as vscode from 'vscode';

type Extension = typeof import('./extension');
let loaded: Extension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  loaded = (await import(pathToFileURL(path.join(__dirname, 'extension', 'extension.mjs')).href)) as Extension;
  return loaded.activate(context);
}

export function deactivate(): Promise<void> | undefined {
  return loaded?.deactivate();
}
