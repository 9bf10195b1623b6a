// The process that checks webview messages for the fuzz test (webviewFuzz.test.ts), so a hang can be stopped by
// killing it. A message for the host that passes the check is then handled as the host would: its draft is
// evaluated on the sample app's model and the answer (fitted, as the panel sends it) must pass the page's check.
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { evaluateDraft } from '../../src/extension/form/draft';
import { fitHostMessage } from '../../src/extension/form/fitMessage';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import type { ModelState } from '../../src/extension/tree/treeData';
import { checkHostMessage, checkWebviewMessage, type FormOptions, type HostMessage } from '../../src/model/messages';
import { view, type Handlers, type PageState } from '../../webview/view';

export type WebviewFuzzRequest = { id: number; to: 'host' | 'page'; json: string };
export type WebviewFuzzReply = {
  id: number;
  ms: number;
  accepted: boolean;
  problem?: string;
  /** For an accepted message to the host: why the host's answer would be dropped by the page, if it would. */
  answerDropped?: string;
  polluted?: string[];
  thrown?: string;
};

const model: ModelState = { kind: 'ready', model: new AppAnalyzer(path.join(__dirname, '..', '..', 'examples', 'sample-app')).analyze() };
const graphFor = cachedGraphs(() => undefined);
const options: FormOptions = {
  awsProfiles: [], awsRegions: [], gcpProjects: [], gcpRegions: [], kubeContexts: [], eksClusters: [], gkeClusters: [], branches: [],
  notes: { aws: [], gcp: [], kubernetes: [], git: [] }, suggested: { awsRegion: '', gcpRegion: '' }, productImages: [],
};
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

function handle(request: WebviewFuzzRequest): Omit<WebviewFuzzReply, 'id' | 'ms'> {
  const value: unknown = JSON.parse(request.json);
  const checked = request.to === 'host' ? checkWebviewMessage(value) : checkHostMessage(value);
  const reply: Omit<WebviewFuzzReply, 'id' | 'ms'> = { accepted: checked.ok, ...(!checked.ok && { problem: checked.problem }) };
  if (checked.ok && request.to === 'host' && 'draft' in checked.message && checked.message.draft) {
    const { draft } = checked.message;
    const e = evaluateDraft({ draft, otherNames: ['staging'], model, graphFor });
    for (const answer of [
      fitHostMessage({ type: 'evaluation', seq: 1, problems: e.problems, sizing: e.sizing, preview: e.preview, summary: e.summary }),
      fitHostMessage({ type: 'init', mode: 'create', appName: 'sample-app', draft, options }),
    ]) {
      const back = checkHostMessage(JSON.parse(JSON.stringify(answer)));
      if (!back.ok) reply.answerDropped = back.problem;
    }
  }
  // A message the page accepts is shown as the page shows it (webview/main.ts): the view must render it.
  if (checked.ok && request.to === 'page') render(checked.message as HostMessage);
  const now = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  if (now !== prototypeNames) reply.polluted = now.split(',').filter((n) => !prototypeNames.split(',').includes(n));
  return reply;
}

const handlers: Handlers = { set() {}, setSizing() {}, setImageReplacements() {}, submit() {}, cancel() {}, refreshOptions() {}, openFile() {} };
let page: PageState = {
  mode: 'edit', appName: 'sample-app', originalName: 'staging', options, touched: new Set(['name']), submitting: false,
  draft: { name: 'staging', type: 'production', trigger: 'push', branch: 'main', provider: 'aws', awsProfile: '', awsRegion: 'eu-west-1', gcpProject: '', gcpRegion: '', kubeContext: '', kubeNamespace: '', awsCluster: '', gcpCluster: '', gcpAutopilot: false, imageMirror: '', imageReplacements: [], sizing: [] },
};

/** The page's state after `message`, as webview/main.ts makes it, rendered; the state is kept for the next one. */
function render(message: HostMessage): void {
  const next: PageState = { ...page };
  if (message.type === 'init') Object.assign(next, { mode: message.mode, appName: message.appName, originalName: message.originalName, draft: message.draft, options: message.options });
  else if (message.type === 'options') next.options = message.options;
  else if (message.type === 'evaluation') next.evaluation = message;
  else if (message.type === 'gkeClusters') next.gke = message.clusters;
  else if (message.type === 'submitting') next.submitting = true;
  else if (message.type === 'submitFailed') Object.assign(next, { submitting: false, submitError: { message: message.message, offerFile: message.offerFile, problems: message.problems } });
  else if (message.type === 'dropped') next.notice = message.message;
  view(next, handlers);
  page = next;
}

process.on('message', (request: WebviewFuzzRequest) => {
  const start = performance.now();
  let reply: Omit<WebviewFuzzReply, 'id' | 'ms'>;
  try {
    reply = handle(request);
  } catch (err) {
    reply = { accepted: false, thrown: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  process.send?.({ ...reply, id: request.id, ms: performance.now() - start });
});
