// Entry of the webview bundle: the Create / Edit Environment form. It registers the @vscode-elements components it
// uses, keeps the page state (saved with setState, so hiding the panel loses nothing), and talks to the extension
// host through the typed messages of src/model/messages.ts, checking every message it receives.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { render } from 'lit';
import { isFormDraft, parseHostMessage, type FormDraft, type HostMessage, type WebviewMessage } from '../src/model/messages';
import { PAGE_STYLE } from './style';
import { view, type Handlers, type PageState } from './view';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('app') as HTMLElement;
const sheet = new CSSStyleSheet();
sheet.replaceSync(PAGE_STYLE);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

/** What survives the panel being hidden: the draft and which fields were touched. */
interface Saved {
  draft: FormDraft;
  touched: string[];
}

function restore(): Saved | undefined {
  const saved = vscode.getState() as Partial<Saved> | undefined;
  if (!saved || !isFormDraft(saved.draft)) return undefined;
  const touched = Array.isArray(saved.touched) ? saved.touched.filter((t): t is string => typeof t === 'string') : [];
  return { draft: saved.draft, touched };
}

const restored = restore();
let state: PageState | undefined;
let seq = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function save(): void {
  if (state) vscode.setState({ draft: state.draft, touched: [...state.touched] } satisfies Saved);
}

let rendered = false;
function update(): void {
  if (!state) return;
  // lit renders after existing children: the static "Loading…" goes first.
  if (!rendered) root.replaceChildren();
  rendered = true;
  render(view(state, handlers), root);
}

/** Asks the host to check the draft and recompute the preview, once typing pauses. */
function scheduleChange(): void {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (state) vscode.postMessage({ type: 'change', seq: ++seq, draft: state.draft });
  }, 120);
}

function edited(touch: string): void {
  if (!state) return;
  state.touched.add(touch);
  // A new edit supersedes a failed save's message.
  state.submitError = undefined;
  save();
  update();
  scheduleChange();
}

const handlers: Handlers = {
  set(field, value) {
    if (!state || state.draft[field] === value) return;
    state.draft = { ...state.draft, [field]: value };
    edited(field);
  },
  setSizing(q, value) {
    if (!state) return;
    const rest = state.draft.sizing.filter((a) => !(a.group === q.group && a.resource === q.resource && a.field === q.field));
    state.draft = { ...state.draft, sizing: [...rest, { group: q.group, resource: q.resource, field: q.field, value }] };
    edited(`sizing:${q.group}/${q.resource}/${q.field}`);
  },
  submit() {
    if (!state || state.submitting) return;
    clearTimeout(timer);
    vscode.postMessage({ type: 'submit', seq: ++seq, draft: state.draft });
  },
  cancel: () => vscode.postMessage({ type: 'cancel' }),
  refreshOptions: () => vscode.postMessage({ type: 'refreshOptions' }),
  openFile: () => vscode.postMessage({ type: 'openEnvironmentsFile' }),
};

function receive(message: HostMessage): void {
  switch (message.type) {
    case 'init':
      // The host sends the draft it knows, which is the restored one when this page restored one.
      state = {
        mode: message.mode,
        appName: message.appName,
        originalName: message.originalName,
        draft: message.draft,
        options: message.options,
        touched: new Set(state?.touched ?? restored?.touched ?? []),
        submitting: false,
      };
      document.title = message.mode === 'create' ? 'Create Environment' : `Edit ${message.originalName ?? ''}`;
      save();
      break;
    case 'options':
      if (state) state.options = message.options;
      break;
    case 'evaluation':
      // Answers to older changes are stale: the draft has moved on.
      if (state && message.seq >= (state.evaluation?.seq ?? -1)) state.evaluation = message;
      break;
    case 'submitting':
      if (state) state.submitting = true;
      break;
    case 'submitFailed':
      if (state) {
        state.submitting = false;
        state.submitError = { message: message.message, offerFile: message.offerFile, problems: message.problems };
      }
      break;
  }
  update();
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = parseHostMessage(event.data);
  if (!message) {
    console.warn('dropped an unknown or malformed message from the extension');
    return;
  }
  receive(message);
});

// Anything the CSP blocks is a bug in the page or the policy: say so in the webview's console, where the
// end-to-end test looks for it.
document.addEventListener('securitypolicyviolation', (e) => console.error(`Encore form: CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`));
console.debug('Encore form: page loaded');

vscode.postMessage(restored ? { type: 'ready', draft: restored.draft } : { type: 'ready' });
