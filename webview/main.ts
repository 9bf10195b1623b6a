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
import { clip, FORM_LIMITS } from '../src/model/limits';
import { checkHostMessage, checkWebviewMessage, isFormDraft, withSizingAnswer, type FormDraft, type HostMessage, type WebviewMessage } from '../src/model/messages';
import { PAGE_STYLE } from './style';
import { WHO_AND_COST_STYLE } from './whoAndCost';
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
sheet.replaceSync(PAGE_STYLE + WHO_AND_COST_STYLE);
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
  // lit renders after existing children: the static "Loading…" (or a notice shown before init) goes first.
  if (!rendered) root.replaceChildren();
  rendered = true;
  render(view(state, handlers), root);
}

/**
 * Tells the user that a message was lost, in the form's banner; before the form is up, in place of "Loading…"
 * (which would otherwise stay for ever).
 */
function notify(text: string): void {
  if (state) {
    state.notice = text;
    update();
    return;
  }
  const p = document.createElement('p');
  p.className = 'error';
  p.id = 'notice';
  p.setAttribute('role', 'alert');
  p.textContent = text;
  root.replaceChildren(p);
}

/** Sends a message the extension will accept; one it would drop is not sent, and the user is told why. */
function send(message: WebviewMessage): void {
  const checked = checkWebviewMessage(message);
  if (!checked.ok) {
    console.warn(`Encore form: not sent: ${checked.problem}`);
    notify(`This change could not be sent to the extension (${checked.problem}). Shorten the value it names and try again.`);
    return;
  }
  if (state?.notice) {
    state.notice = undefined;
    update();
  }
  vscode.postMessage(message);
}

/** Asks the host to check the draft and recompute the preview, once typing pauses. */
function scheduleChange(): void {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (state) send({ type: 'change', seq: ++seq, draft: state.draft });
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
    state.draft = withSizingAnswer(state.draft, q, value);
    edited(`sizing:${q.group}/${q.resource}/${q.field}`);
  },
  setImageReplacements(rows, touched) {
    if (!state) return;
    state.draft = { ...state.draft, imageReplacements: rows };
    edited(touched);
  },
  submit() {
    if (!state || state.submitting) return;
    clearTimeout(timer);
    send({ type: 'submit', seq: ++seq, draft: state.draft });
  },
  cancel: () => send({ type: 'cancel' }),
  refreshOptions: () => send({ type: 'refreshOptions' }),
  openFile: () => send({ type: 'openEnvironmentsFile' }),
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
    case 'identity':
      if (state) state.identity = { key: message.key, identity: message.identity };
      break;
    case 'gkeClusters':
      if (state) state.gke = message.clusters;
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
    case 'dropped':
      // A save that was waiting for an answer will not get one.
      if (state) state.submitting = false;
      notify(message.message);
      return;
  }
  update();
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const checked = checkHostMessage(event.data);
  if (!checked.ok) {
    console.warn(`Encore form: dropped a message from the extension: ${checked.problem}`);
    if (state) state.submitting = false;
    notify(`The extension sent something this form cannot read (${checked.problem}), so the form may be out of date: close it and open it again. Encore: Show Logs has the details.`);
    vscode.postMessage({ type: 'dropped', problem: clip(checked.problem, FORM_LIMITS.line) });
    return;
  }
  receive(checked.message);
});

// Anything the CSP blocks is a bug in the page or the policy: say so in the webview's console, where the
// end-to-end test looks for it.
document.addEventListener('securitypolicyviolation', (e) => console.error(`Encore form: CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`));
console.debug('Encore form: page loaded');

send(restored ? { type: 'ready', draft: restored.draft } : { type: 'ready' });
