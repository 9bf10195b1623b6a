/**
 * Messages between the extension host and the Create / Edit Environment webview. Both sides import these types, and
 * the receiving side checks every message with `parseWebviewMessage` / `parseHostMessage`: an unknown or malformed
 * message comes back as undefined, and the caller logs and drops it. The checks are hand-written guards (no ajv), so
 * the webview bundle stays small; strings and lists are bounded, so a message cannot smuggle in megabytes.
 */

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
  sizing: SizingAnswerDraft[];
}

/** The id of a sizing answer's input, for problems and the DOM. */
export function sizingFieldId(a: Pick<SizingAnswerDraft, 'group' | 'resource' | 'field'>): string {
  return `sizing:${a.group}/${a.resource}/${a.field}`;
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
  branches: Choice[];
  notes: { aws: string[]; gcp: string[]; kubernetes: string[]; git: string[] };
  /** Regions this machine is set up for (the active AWS profile's, gcloud's), to fill in a new environment; '' if none. */
  suggested: { awsRegion: string; gcpRegion: string };
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
  | { type: 'openEnvironmentsFile' };

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
    }
  | { type: 'submitting' }
  | {
      type: 'submitFailed';
      message: string;
      problems: FieldProblem[];
      /**
       * The file is the problem (it changed underneath and was reloaded, or it is broken): the form offers to open it.
       */
      offerFile: boolean;
    };

// ---- guards ---------------------------------------------------------------------------------------------------

type Guard<T> = (value: unknown) => value is T;

const MAX_STRING = 1_000;
const MAX_LIST = 2_000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str =
  (max = MAX_STRING): Guard<string> =>
  (v): v is string =>
    typeof v === 'string' && v.length <= max;
const num: Guard<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
const bool: Guard<boolean> = (v): v is boolean => typeof v === 'boolean';
const oneOf =
  <T extends string>(values: readonly T[]): Guard<T> =>
  (v): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);
const listOf =
  <T>(item: Guard<T>, max = MAX_LIST): Guard<T[]> =>
  (v): v is T[] =>
    Array.isArray(v) && v.length <= max && v.every(item);
const optional =
  <T>(guard: Guard<T>): Guard<T | undefined> =>
  (v): v is T | undefined =>
    v === undefined || guard(v);

/** An object with exactly these keys (optional ones may be missing); any other key makes it malformed. */
function obj<T>(shape: { [K in keyof T]-?: Guard<T[K]> }): Guard<T> {
  const keys = Object.keys(shape) as (keyof T & string)[];
  return (v): v is T =>
    isRecord(v) &&
    Object.keys(v).every((k) => (keys as string[]).includes(k)) &&
    keys.every((k) => shape[k](v[k]));
}

const sizingAnswer = obj<SizingAnswerDraft>({
  group: oneOf(SIZING_GROUPS),
  resource: str(200),
  field: oneOf(SIZING_FIELDS),
  value: str(40),
});

export const isFormDraft: Guard<FormDraft> = obj<FormDraft>({
  name: str(200),
  type: oneOf(['production', 'development'] as const),
  trigger: oneOf(['push', 'manual'] as const),
  branch: str(300),
  provider: oneOf(['aws', 'gcp', 'kubernetes'] as const),
  awsProfile: str(200),
  awsRegion: str(100),
  gcpProject: str(100),
  gcpRegion: str(100),
  kubeContext: str(300),
  kubeNamespace: str(200),
  sizing: listOf(sizingAnswer, 1_000),
});

const choice = obj<Choice>({ value: str(), description: optional(str()) });
const notes = listOf(str(2_000), 50);
const isFormOptions = obj<FormOptions>({
  awsProfiles: listOf(choice),
  awsRegions: listOf(choice),
  gcpProjects: listOf(choice),
  gcpRegions: listOf(choice),
  kubeContexts: listOf(choice),
  branches: listOf(choice),
  notes: obj<FormOptions['notes']>({ aws: notes, gcp: notes, kubernetes: notes, git: notes }),
  suggested: obj<FormOptions['suggested']>({ awsRegion: str(100), gcpRegion: str(100) }),
});
const fieldProblem = obj<FieldProblem>({ field: str(400), message: str(2_000) });
const sizingQuestion = obj<SizingQuestionView>({
  group: oneOf(SIZING_GROUPS),
  resource: str(200),
  resourceKind: oneOf(['database', 'cache', 'service'] as const),
  field: oneOf(SIZING_FIELDS),
  label: str(),
  defaultValue: num,
  min: num,
  max: num,
  integer: bool,
  unit: str(40),
});
const previewResource = obj<PreviewResourceView>({ label: str(2_000), detail: str(2_000), stateful: bool });
const previewGroup = obj<PreviewGroupView>({ label: str(), description: str(), icon: str(100), resources: listOf(previewResource) });
const isPreview = (v: unknown): v is PreviewView =>
  obj<{ state: 'ok'; resourceCount: number; groups: PreviewGroupView[]; warnings: string[] }>({
    state: oneOf(['ok'] as const),
    resourceCount: num,
    groups: listOf(previewGroup),
    warnings: listOf(str(2_000), 500),
  })(v) || obj<{ state: 'unavailable'; message: string }>({ state: oneOf(['unavailable'] as const), message: str(4_000) })(v);

const webviewMessages: { [K in WebviewMessage['type']]: Guard<Extract<WebviewMessage, { type: K }>> } = {
  ready: obj({ type: oneOf(['ready'] as const), draft: optional(isFormDraft) }),
  change: obj({ type: oneOf(['change'] as const), seq: num, draft: isFormDraft }),
  submit: obj({ type: oneOf(['submit'] as const), seq: num, draft: isFormDraft }),
  cancel: obj({ type: oneOf(['cancel'] as const) }),
  refreshOptions: obj({ type: oneOf(['refreshOptions'] as const) }),
  openEnvironmentsFile: obj({ type: oneOf(['openEnvironmentsFile'] as const) }),
};

const hostMessages: { [K in HostMessage['type']]: Guard<Extract<HostMessage, { type: K }>> } = {
  init: obj({
    type: oneOf(['init'] as const),
    mode: oneOf(['create', 'edit'] as const),
    appName: str(),
    originalName: optional(str(200)),
    draft: isFormDraft,
    options: isFormOptions,
  }),
  options: obj({ type: oneOf(['options'] as const), options: isFormOptions }),
  evaluation: obj({
    type: oneOf(['evaluation'] as const),
    seq: num,
    problems: listOf(fieldProblem),
    sizing: listOf(sizingQuestion),
    preview: isPreview,
    summary: str(),
  }),
  submitting: obj({ type: oneOf(['submitting'] as const) }),
  submitFailed: obj({
    type: oneOf(['submitFailed'] as const),
    message: str(10_000),
    problems: listOf(fieldProblem),
    offerFile: bool,
  }),
};

function parseWith<M extends { type: string }>(guards: Record<string, Guard<M>>, value: unknown): M | undefined {
  if (!isRecord(value) || typeof value.type !== 'string' || !Object.hasOwn(guards, value.type)) return undefined;
  return guards[value.type](value) ? value : undefined;
}

/** The message from the webview, or undefined when it is unknown or malformed. */
export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  return parseWith(webviewMessages as Record<string, Guard<WebviewMessage>>, value);
}

/** The message from the extension, or undefined when it is unknown or malformed. */
export function parseHostMessage(value: unknown): HostMessage | undefined {
  return parseWith(hostMessages as Record<string, Guard<HostMessage>>, value);
}

/** A short description of a dropped message for the log: its type if it has one, never its content. */
export function describeDropped(value: unknown): string {
  if (isRecord(value) && typeof value.type === 'string') return `a malformed or unknown "${value.type.slice(0, 40)}" message`;
  return `a message that is not an object with a type (${Array.isArray(value) ? 'array' : typeof value})`;
}
