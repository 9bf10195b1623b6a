// Entry of the webview bundle. It registers the @vscode-elements components the extension's panels use and runs
// the typed message loop with the extension host; the Create env form is built on it.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-form-container/index.js';
import '@vscode-elements/elements/dist/vscode-form-group/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { isHostMessage, type WebviewMessage } from '../src/model/messages';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!isHostMessage(event.data)) {
    console.warn('dropped an unknown message from the extension', event.data);
    return;
  }
  document.title = event.data.title;
  const heading = document.querySelector('h1');
  if (heading) heading.textContent = event.data.title;
});

vscode.postMessage({ type: 'ready' });
