/**
 * Messages between the extension host and the Create / Edit Environment webview. Both sides import these types, and
 * the receiving side checks every message with `checkWebviewMessage` / `checkHostMessage`: an unknown or malformed
 * message comes back with the reason, and the receiver drops it and tells the user (never only the console). The
 * checks are hand-written (no ajv), so the webview bundle stays small; strings and lists are bounded by the limits in
 * limits.ts, which the environments file's schema shares, so everything the file holds fits in a message.
 */
import { FORM_LIMITS, RESOURCE_NAME_MAX_LENGTH, withinLength } from './limits';
import type { CostEstimate, CostLine } from './plan';

/** The form's fields; problems and focus refer to them by these ids (sizing answers use `sizingFieldId`). */
export const FORM_FIELDS = [
  'name',
  'type',
  'trigger',
  'branch',
  'provider',
  'awsProfile',
  'awsRegion',
  'gcpProject',
  'gcpRegion',
  'kubeContext',
  'kubeNamespace',
  'awsCluster',
  'gcpCluster',
  'gcpAutopilot',
  'imageMirror',
] as const;
export type FormField = (typeof FORM_FIELDS)[number];

export type SizingGroupId = 'databases' | 'caches' | 'services';
export type SizingFieldId = 'cpu' | 'memoryGiB' | 'diskGiB' | 'replicas' | 'minInstances' | 'maxInstances';
const SIZING_GROUPS: readonly SizingGroupId[] = ['databases', 'caches', 'services'];
const SIZING_FIELDS: readonly SizingFieldId[] = ['cpu', 'memoryGiB', 'diskGiB', 'replicas', 'minInstances', 'maxInstances'];

/** One sizing answer as typed (a string: the user may be halfway through "2.5"). */
export interface SizingAnswerDraft {
  group: SizingGroupId;
  resource: string;
  field: SizingFieldId;
  value: string;
}

/**
 * What the form holds, as typed. Every provider's settings are kept, so switching the provider back and forth loses
 * nothing; only the chosen provider's settings are written.
 */
export interface FormDraft {
  name: string;
  type: 'production' | 'development';
  trigger: 'push' | 'manual';
  branch: string;
  provider: 'aws' | 'gcp' | 'kubernetes';
  awsProfile: string;
  awsRegion: string;
  gcpProject: string;
  gcpRegion: string;
  kubeContext: string;
  kubeNamespace: string;
  /** An existing EKS cluster's name ("use an existing cluster"); '' creates a cluster. */
  awsCluster: string;
  /** An existing GKE cluster as `LOCATION/NAME`; '' creates a cluster. */
  gcpCluster: string;
  /** GKE Autopilot for a cluster the environment creates. */
  gcpAutopilot: boolean;
  /** The image override's registry mirror (`images.mirror`). */
  imageMirror: string;
  /** The image override's per-image replacements (`images.replace`), one row each, in the file's order. */
  imageReplacements: ImageReplacementDraft[];
  sizing: SizingAnswerDraft[];
}

/** One per-image replacement as typed: the image the product names, and the image to pull instead. */
export interface ImageReplacementDraft {
  from: string;
  to: string;
}

/** The id of a replacement row's input (`imageReplace:2:to`), for problems and the DOM. */
export function imageReplacementFieldId(index: number, part: 'from' | 'to'): string {
  return `imageReplace:${index}:${part}`;
}

/** The id of a sizing answer's input, for problems and the DOM. */
export function sizingFieldId(a: Pick<SizingAnswerDraft, 'group' | 'resource' | 'field'>): string {
  return `sizing:${a.group}/${a.resource}/${a.field}`;
}

/** The draft with one sizing answer set (replacing an earlier answer to the same question), as the sizing step does. */
export function withSizingAnswer(draft: FormDraft, q: Pick<SizingAnswerDraft, 'group' | 'resource' | 'field'>, value: string): FormDraft {
  const others = draft.sizing.filter((a) => !(a.group === q.group && a.resource === q.resource && a.field === q.field));
  return { ...draft, sizing: [...others, { group: q.group, resource: q.resource, field: q.field, value }] };
}

/** The answer typed so far to one sizing question, if any. */
export function sizingAnswer(draft: FormDraft, q: Pick<SizingAnswerDraft, 'group' | 'resource' | 'field'>): string | undefined {
  return draft.sizing.find((a) => a.group === q.group && a.resource === q.resource && a.field === q.field)?.value;
}

/** A problem to show beside a field; `field` is a FormField, a sizing field id, or 'form' for the whole form. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** A value the form offers for a field (a discovered profile, context, branch, region…). */
export interface Choice {
  value: string;
  /** Shown after the value, e.g. "Europe (Ireland)" or "SSO, current". */
  description?: string;
}

/** What the machine offers for the provider settings and the branch, with notes on what was not found and why. */
export interface FormOptions {
  awsProfiles: Choice[];
  awsRegions: Choice[];
  gcpProjects: Choice[];
  gcpRegions: Choice[];
  kubeContexts: Choice[];
  /** The kubeconfig's EKS clusters, value `REGION/NAME` (description: the context, the account). */
  eksClusters: Choice[];
  /** The kubeconfig's GKE clusters, value `PROJECT/LOCATION/NAME` (description: the context). */
  gkeClusters: Choice[];
  branches: Choice[];
  notes: { aws: string[]; gcp: string[]; kubernetes: string[]; git: string[] };
  /** Regions this machine is set up for (the active AWS profile's, gcloud's), to fill in a new environment; '' if none. */
  suggested: { awsRegion: string; gcpRegion: string };
  /** The images the product runs in a cluster, which the image override may replace (description: what runs it). */
  productImages: Choice[];
}

/** An existing GKE cluster of the form's project, as the cluster picker offers it. */
export interface GkeClusterChoice {
  /** `LOCATION/NAME`, as the draft holds it. */
  value: string;
  /** Its mode, status, Workload Identity and kubeconfig context, in a few words. */
  description: string;
  /** When Workload Identity is off (the environment needs it): the gcloud command that turns it on. */
  enableWorkloadIdentity?: string;
}

/**
 * The GKE clusters the picker offers for one project: the kubeconfig's at once (`checking` while the GKE API is
 * asked), then merged with the API's list (`done`). `problems` say why a list is short (no ADC, a disabled API…).
 */
export interface GkeClustersView {
  project: string;
  state: 'checking' | 'done';
  clusters: GkeClusterChoice[];
  problems: string[];
}

/** A sizing question as the form shows it. */
export interface SizingQuestionView {
  group: SizingGroupId;
  resource: string;
  resourceKind: 'database' | 'cache' | 'service';
  field: SizingFieldId;
  label: string;
  defaultValue: number;
  min: number;
  max: number;
  integer: boolean;
  unit: string;
}

export interface PreviewResourceView {
  label: string;
  /** The provider type and name, for the tooltip. */
  detail: string;
  stateful: boolean;
}

export interface PreviewGroupView {
  label: string;
  description: string;
  /** A codicon name. */
  icon: string;
  resources: PreviewResourceView[];
}

/** The live infrastructure preview: what the planner says the environment gets, or why it cannot say. */
export type PreviewView =
  | { state: 'ok'; resourceCount: number; groups: PreviewGroupView[]; warnings: string[] }
  | { state: 'unavailable'; message: string };

/** Who would act with the form's provider settings: an account and an ARN, a context's user; never a credential. */
export type IdentityView =
  | { state: 'checking' }
  | { state: 'ok'; principal: string; scope: string; source?: string }
  | { state: 'failed'; message: string };

/** The settings an identity depends on, as one key: the page shows an identity only while its key is the draft's. */
export function draftIdentityKey(draft: FormDraft): string {
  const t = (s: string) => s.trim();
  if (draft.provider === 'aws') return `aws|${t(draft.awsProfile)}|${t(draft.awsRegion)}`;
  if (draft.provider === 'gcp') return `gcp|${t(draft.gcpProject)}|${t(draft.gcpRegion)}`;
  return `kubernetes|${t(draft.kubeContext)}`;
}

/** Webview → extension. */
export type WebviewMessage =
  /** The page is up. `draft` is the state it restored after being hidden (getState), if any. */
  | { type: 'ready'; draft?: FormDraft }
  /** The user changed something: validate it and recompute the preview. `seq` orders the replies. */
  | { type: 'change'; seq: number; draft: FormDraft }
  | { type: 'submit'; seq: number; draft: FormDraft }
  | { type: 'cancel' }
  /** Look for profiles, contexts and branches again (after the user ran `aws configure`, say). */
  | { type: 'refreshOptions' }
  | { type: 'openEnvironmentsFile' }
  /** The page dropped a message from the extension (it failed the page's check): for the extension's log. */
  | { type: 'dropped'; problem: string };

/** Extension → webview. */
export type HostMessage =
  | {
      type: 'init';
      mode: 'create' | 'edit';
      appName: string;
      /** In edit mode, the environment's name in the file. */
      originalName?: string;
      draft: FormDraft;
      options: FormOptions;
    }
  | { type: 'options'; options: FormOptions }
  | {
      type: 'evaluation';
      /** The `seq` of the change this answers; the webview ignores answers older than what it shows. */
      seq: number;
      problems: FieldProblem[];
      sizing: SizingQuestionView[];
      preview: PreviewView;
      /** One line, e.g. "Production · AWS eu-west-1 · push to main". */
      summary: string;
      /** The estimated monthly cost, for providers with a price table (AWS). */
      cost?: CostEstimate;
    }
  /** Who would act for the settings `key` names (draftIdentityKey). */
  | { type: 'identity'; key: string; identity: IdentityView }
  /** The existing GKE clusters of the draft's project, for the cluster picker. */
  | { type: 'gkeClusters'; clusters: GkeClustersView }
  | { type: 'submitting' }
  | {
      type: 'submitFailed';
      message: string;
      problems: FieldProblem[];
      /**
       * The file is the problem (it changed underneath and was reloaded, or it is broken): the form offers to open it.
       */
      offerFile: boolean;
    }
  /** A message could not be delivered (one side's check refused it): the page says so in its banner. */
  | { type: 'dropped'; message: string };

// ---- checks ---------------------------------------------------------------------------------------------------

/**
 * A check returns undefined when the value is well-formed, else where and why it is not ("draft.name: longer than
 * 1000 characters"). The reason names keys and limits, never a value: it is shown to the user and logged.
 * `T` is a phantom: it ties a check to the type it proves.
 */
type Check<T> = ((value: unknown, at: string) => string | undefined) & { readonly proves?: T };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const where = (at: string) => (at === '' ? 'the message' : at);
// Keys are named when they look like identifiers; anything else could be typed data, which a reason never quotes.
const showKey = (k: string) => (/^[A-Za-z_$][\w$]{0,39}$/.test(k) ? JSON.stringify(k) : 'that is not a name');

const str =
  (max: number): Check<string> =>
  (v, at) =>
    typeof v !== 'string' ? `${where(at)}: not a string` : withinLength(v, max) ? undefined : `${where(at)}: longer than ${max} characters`;
const num: Check<number> = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `${where(at)}: not a finite number`);
const bool: Check<boolean> = (v, at) => (typeof v === 'boolean' ? undefined : `${where(at)}: not true or false`);
const oneOf =
  <T extends string>(values: readonly T[]): Check<T> =>
  (v, at) =>
    typeof v === 'string' && (values as readonly string[]).includes(v) ? undefined : `${where(at)}: not one of ${values.join(', ')}`;
const listOf =
  <T>(item: Check<T>, max: number): Check<T[]> =>
  (v, at) => {
    if (!Array.isArray(v)) return `${where(at)}: not a list`;
    if (v.length > max) return `${where(at)}: more than ${max} items`;
    for (let i = 0; i < v.length; i++) {
      const problem = item(v[i], `${at}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };
const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  (v, at) =>
    v === undefined ? undefined : check(v, at);
const either =
  <A, B>(a: Check<A>, b: Check<B>): Check<A | B> =>
  (v, at) => {
    const first = a(v, at);
    return first === undefined ? undefined : b(v, at) === undefined ? undefined : first;
  };

/** An object with exactly these keys (optional ones may be missing); any other key makes it malformed. */
function obj<T>(shape: { [K in keyof T]-?: Check<T[K]> }): Check<T> {
  const checks = new Map<string, Check<unknown>>(Object.entries(shape));
  return (v, at) => {
    if (!isRecord(v)) return `${where(at)}: not an object`;
    for (const k of Object.keys(v)) if (!checks.has(k)) return `${where(at)}: unknown key ${showKey(k)}`;
    for (const [k, check] of checks) {
      const problem = check(Object.hasOwn(v, k) ? v[k] : undefined, at === '' ? k : `${at}.${k}`);
      if (problem) return problem;
    }
    return undefined;
  };
}

const text = str(FORM_LIMITS.text);

const sizingAnswerDraft = obj<SizingAnswerDraft>({
  group: oneOf(SIZING_GROUPS),
  resource: str(RESOURCE_NAME_MAX_LENGTH),
  field: oneOf(SIZING_FIELDS),
  value: str(FORM_LIMITS.sizingValue),
});

const formDraft = obj<FormDraft>({
  name: text,
  type: oneOf(['production', 'development'] as const),
  trigger: oneOf(['push', 'manual'] as const),
  branch: text,
  provider: oneOf(['aws', 'gcp', 'kubernetes'] as const),
  awsProfile: text,
  awsRegion: text,
  gcpProject: text,
  gcpRegion: text,
  kubeContext: text,
  kubeNamespace: text,
  awsCluster: text,
  gcpCluster: text,
  gcpAutopilot: bool,
  imageMirror: text,
  imageReplacements: listOf(obj<ImageReplacementDraft>({ from: text, to: text }), FORM_LIMITS.imageReplacements),
  sizing: listOf(sizingAnswerDraft, FORM_LIMITS.sizingAnswers),
});

/** Whether a value is a well-formed draft (the page checks what it restores from its saved state). */
export const isFormDraft = (v: unknown): v is FormDraft => formDraft(v, 'draft') === undefined;

const choice = obj<Choice>({ value: text, description: optional(str(FORM_LIMITS.description)) });
const choices = listOf(choice, FORM_LIMITS.choices);
const notes = listOf(str(FORM_LIMITS.line), FORM_LIMITS.notes);
const formOptions = obj<FormOptions>({
  awsProfiles: choices,
  awsRegions: choices,
  gcpProjects: choices,
  gcpRegions: choices,
  kubeContexts: choices,
  eksClusters: choices,
  gkeClusters: choices,
  branches: choices,
  notes: obj<FormOptions['notes']>({ aws: notes, gcp: notes, kubernetes: notes, git: notes }),
  suggested: obj<FormOptions['suggested']>({ awsRegion: text, gcpRegion: text }),
  productImages: choices,
});
const fieldProblem = obj<FieldProblem>({ field: str(FORM_LIMITS.label), message: str(FORM_LIMITS.line) });
const problems = listOf(fieldProblem, FORM_LIMITS.problems);
const sizingQuestion = obj<SizingQuestionView>({
  group: oneOf(SIZING_GROUPS),
  resource: str(RESOURCE_NAME_MAX_LENGTH),
  resourceKind: oneOf(['database', 'cache', 'service'] as const),
  field: oneOf(SIZING_FIELDS),
  label: str(FORM_LIMITS.label),
  defaultValue: num,
  min: num,
  max: num,
  integer: bool,
  unit: str(FORM_LIMITS.sizingValue),
});
const previewResource = obj<PreviewResourceView>({ label: str(FORM_LIMITS.line), detail: str(FORM_LIMITS.line), stateful: bool });
const previewGroup = obj<PreviewGroupView>({
  label: str(FORM_LIMITS.line),
  description: str(FORM_LIMITS.line),
  icon: str(100),
  resources: listOf(previewResource, FORM_LIMITS.previewResources),
});
const preview: Check<PreviewView> = either(
  obj<{ state: 'ok'; resourceCount: number; groups: PreviewGroupView[]; warnings: string[] }>({
    state: oneOf(['ok'] as const),
    resourceCount: num,
    groups: listOf(previewGroup, FORM_LIMITS.previewGroups),
    warnings: listOf(str(FORM_LIMITS.line), FORM_LIMITS.warnings),
  }),
  obj<{ state: 'unavailable'; message: string }>({ state: oneOf(['unavailable'] as const), message: str(FORM_LIMITS.message) }),
);

const costLine = obj<CostLine>({ id: str(FORM_LIMITS.line), summary: str(FORM_LIMITS.line), monthlyUsd: (v, at) => (v === null ? undefined : num(v, at)), basis: str(FORM_LIMITS.line) });
const cost = obj<CostEstimate>({
  currency: oneOf(['USD'] as const),
  monthlyUsd: num,
  complete: bool,
  lines: listOf(costLine, FORM_LIMITS.costLines),
  pricesTakenAt: str(FORM_LIMITS.label),
  source: str(FORM_LIMITS.line),
});
const identityView: Check<IdentityView> = (v, at) => {
  const state = isRecord(v) ? v.state : undefined;
  if (state === 'checking') return obj<{ state: 'checking' }>({ state: oneOf(['checking'] as const) })(v, at);
  if (state === 'ok') return obj<{ state: 'ok'; principal: string; scope: string; source?: string }>({ state: oneOf(['ok'] as const), principal: str(FORM_LIMITS.line), scope: str(FORM_LIMITS.line), source: optional(str(FORM_LIMITS.line)) })(v, at);
  return obj<{ state: 'failed'; message: string }>({ state: oneOf(['failed'] as const), message: str(FORM_LIMITS.message) })(v, at);
};

const gkeClusterChoice = obj<GkeClusterChoice>({ value: text, description: str(FORM_LIMITS.description), enableWorkloadIdentity: optional(str(FORM_LIMITS.line)) });
const gkeClustersView = obj<GkeClustersView>({
  project: text,
  state: oneOf(['checking', 'done'] as const),
  clusters: listOf(gkeClusterChoice, FORM_LIMITS.choices),
  problems: notes,
});

const webviewMessages: { [K in WebviewMessage['type']]: Check<Extract<WebviewMessage, { type: K }>> } = {
  ready: obj({ type: oneOf(['ready'] as const), draft: optional(formDraft) }),
  change: obj({ type: oneOf(['change'] as const), seq: num, draft: formDraft }),
  submit: obj({ type: oneOf(['submit'] as const), seq: num, draft: formDraft }),
  cancel: obj({ type: oneOf(['cancel'] as const) }),
  refreshOptions: obj({ type: oneOf(['refreshOptions'] as const) }),
  openEnvironmentsFile: obj({ type: oneOf(['openEnvironmentsFile'] as const) }),
  dropped: obj({ type: oneOf(['dropped'] as const), problem: str(FORM_LIMITS.line) }),
};

const hostMessages: { [K in HostMessage['type']]: Check<Extract<HostMessage, { type: K }>> } = {
  init: obj({
    type: oneOf(['init'] as const),
    mode: oneOf(['create', 'edit'] as const),
    appName: str(FORM_LIMITS.label),
    originalName: optional(text),
    draft: formDraft,
    options: formOptions,
  }),
  options: obj({ type: oneOf(['options'] as const), options: formOptions }),
  evaluation: obj({
    type: oneOf(['evaluation'] as const),
    seq: num,
    problems,
    sizing: listOf(sizingQuestion, FORM_LIMITS.sizingAnswers),
    preview,
    summary: str(FORM_LIMITS.message),
    cost: optional(cost),
  }),
  identity: obj({ type: oneOf(['identity'] as const), key: str(FORM_LIMITS.label * 4), identity: identityView }),
  gkeClusters: obj({ type: oneOf(['gkeClusters'] as const), clusters: gkeClustersView }),
  submitting: obj({ type: oneOf(['submitting'] as const) }),
  submitFailed: obj({ type: oneOf(['submitFailed'] as const), message: str(FORM_LIMITS.message), problems, offerFile: bool }),
  dropped: obj({ type: oneOf(['dropped'] as const), message: str(FORM_LIMITS.message) }),
};

export type Checked<M> = { ok: true; message: M } | { ok: false; problem: string };

function checkWith<M extends { type: string }>(checks: Record<string, Check<M>>, value: unknown): Checked<M> {
  if (!isRecord(value)) return { ok: false, problem: `the message is ${Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`}, not an object` };
  if (typeof value.type !== 'string') return { ok: false, problem: 'the message has no type' };
  if (!Object.hasOwn(checks, value.type)) return { ok: false, problem: 'an unknown message type' };
  const problem = checks[value.type](value, '');
  return problem === undefined ? { ok: true, message: value as M } : { ok: false, problem: `a "${value.type}" message: ${problem}` };
}

/** The message from the webview, or why it is malformed. */
export function checkWebviewMessage(value: unknown): Checked<WebviewMessage> {
  return checkWith(webviewMessages as Record<string, Check<WebviewMessage>>, value);
}

/** The message from the extension, or why it is malformed. */
export function checkHostMessage(value: unknown): Checked<HostMessage> {
  return checkWith(hostMessages as Record<string, Check<HostMessage>>, value);
}

/** The message from the webview, or undefined when it is unknown or malformed. */
export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  const checked = checkWebviewMessage(value);
  return checked.ok ? checked.message : undefined;
}

/** The message from the extension, or undefined when it is unknown or malformed. */
export function parseHostMessage(value: unknown): HostMessage | undefined {
  const checked = checkHostMessage(value);
  return checked.ok ? checked.message : undefined;
}

/** A short description of a dropped message for the log: its type if it has one, never its content. */
export function describeDropped(value: unknown): string {
  if (isRecord(value) && typeof value.type === 'string') return `a malformed or unknown "${value.type.slice(0, 40)}" message`;
  return `a message that is not an object with a type (${Array.isArray(value) ? 'array' : typeof value})`;
}
