// Pure (no vscode): the Create / Edit Environment form's logic on the host side. The draft (what the user typed)
// becomes an Environment, which is checked with the store's own validation (the published schema, unique names, no
// credentials) and planned for the preview, so the form can never accept what the store would refuse.
import type { AppModel } from '../../model/appModel';
import { describeEnvironment, type Environment, type ProviderSettings, type Sizing } from '../../model/environment';
import type { FieldProblem, FormDraft, FormField, FormOptions, PreviewView, SizingAnswerDraft, SizingQuestionView } from '../../model/messages';
import { imageReplacementFieldId, sizingFieldId } from '../../model/messages';
import { checkSizingAnswer, sizingQuestions, type SizingQuestion } from '../../session';
import { imageReplacementProblems, imageReplacementRows, replaceFromRows } from './imageReplacements';
import { validateEnvironment } from '../../environments/validate';
import type { Problem } from '../../environments/problems';
import { groupResources, resourceLabel } from '../tree/resourceGroups';
import type { ModelState, GraphFn } from '../tree/treeData';

/** A new environment's draft, with the machine's likeliest values filled in (current branch, context, profile…). */
export function newDraft(options: FormOptions): FormDraft {
  const first = (list: { value: string }[]) => list[0]?.value ?? '';
  // The provider the machine is set up for: a kube context, an AWS profile, a GCP project, in that order.
  const provider = options.kubeContexts.length > 0 ? 'kubernetes' : options.awsProfiles.length > 0 ? 'aws' : options.gcpProjects.length > 0 ? 'gcp' : 'aws';
  return {
    name: '',
    type: 'development',
    trigger: 'push',
    branch: first(options.branches) || 'main',
    provider,
    awsProfile: first(options.awsProfiles),
    awsRegion: options.suggested.awsRegion,
    gcpProject: first(options.gcpProjects),
    gcpRegion: options.suggested.gcpRegion,
    kubeContext: first(options.kubeContexts),
    kubeNamespace: '',
    awsCluster: '',
    gcpCluster: '',
    gcpAutopilot: false,
    imageMirror: '',
    imageReplacements: [],
    sizing: [],
  };
}

/** The draft of an existing environment, for Edit. */
export function draftFromEnvironment(env: Environment): FormDraft {
  const p = env.provider;
  const sizing: SizingAnswerDraft[] = [];
  for (const group of SIZING_GROUPS) {
    for (const [resource, answers] of Object.entries(env.sizing?.[group] ?? {})) {
      for (const [field, value] of Object.entries(answers as Record<string, number | undefined>)) {
        if (typeof value === 'number') sizing.push({ group, resource, field: field as SizingAnswerDraft['field'], value: String(value) });
      }
    }
  }
  return {
    name: env.name,
    type: env.type,
    trigger: env.deploy.trigger,
    branch: env.deploy.trigger === 'push' ? env.deploy.branch : '',
    provider: p.kind,
    awsProfile: p.kind === 'aws' ? (p.profile ?? '') : '',
    awsRegion: p.kind === 'aws' ? p.region : '',
    gcpProject: p.kind === 'gcp' ? p.project : '',
    gcpRegion: p.kind === 'gcp' ? p.region : '',
    kubeContext: p.kind === 'kubernetes' ? p.context : '',
    kubeNamespace: p.kind === 'kubernetes' ? (p.namespace ?? '') : '',
    awsCluster: p.kind === 'aws' ? (p.cluster?.name ?? '') : '',
    gcpCluster: p.kind === 'gcp' && p.cluster ? `${p.cluster.location}/${p.cluster.name}` : '',
    gcpAutopilot: p.kind === 'gcp' && p.autopilot === true,
    imageMirror: env.images?.mirror ?? '',
    imageReplacements: imageReplacementRows(env.images?.replace),
    sizing,
  };
}

/**
 * The environment the draft describes. Required fields stay in even when empty, so validation points at them;
 * optional ones (profile, namespace) are left out when empty. Production sizing: every question's answer, or its
 * default when the field is left empty, so the next plan does not ask again ("only the first time").
 */
export function environmentFromDraft(draft: FormDraft, questions: readonly SizingQuestion[], original?: Environment): Environment {
  const t = (s: string) => s.trim();
  let provider: ProviderSettings;
  if (draft.provider === 'aws') {
    provider = {
      kind: 'aws', region: t(draft.awsRegion), ...(t(draft.awsProfile) && { profile: t(draft.awsProfile) }),
      ...(t(draft.awsCluster) && { cluster: { name: t(draft.awsCluster) } }),
    };
  } else if (draft.provider === 'gcp') {
    const cluster = gkeClusterOf(draft.gcpCluster);
    provider = {
      kind: 'gcp', project: t(draft.gcpProject), region: t(draft.gcpRegion),
      ...(cluster ? { cluster } : draft.gcpAutopilot && { autopilot: true }),
    };
  } else {
    provider = { kind: 'kubernetes', context: t(draft.kubeContext), ...(t(draft.kubeNamespace) && { namespace: t(draft.kubeNamespace) }) };
  }
  // Settings the form does not show (a Kubernetes registry and base image) stay as the file has them.
  if (original?.provider.kind === provider.kind) provider = { ...provider, ...unshownSettings(original.provider) } as ProviderSettings;
  const env: Environment = {
    name: t(draft.name),
    type: draft.type,
    deploy: draft.trigger === 'push' ? { trigger: 'push', branch: t(draft.branch) } : { trigger: 'manual' },
    provider,
  };
  const sizing = draft.type === 'production' ? productionSizing(draft, questions, original?.sizing) : original?.sizing;
  if (sizing && Object.keys(sizing).length > 0) env.sizing = sizing;
  const mirror = t(draft.imageMirror);
  const replace = replaceFromRows(draft.imageReplacements);
  if (mirror !== '' || replace !== undefined) env.images = { ...(mirror !== '' && { mirror }), ...(replace !== undefined && { replace }) };
  return env;
}

/** The provider settings the form has no field for, which an Edit keeps. */
function unshownSettings(p: ProviderSettings): Partial<ProviderSettings> {
  if (p.kind === 'kubernetes') return { ...(p.registry !== undefined && { registry: p.registry }), ...(p.baseImage !== undefined && { baseImage: p.baseImage }) };
  // GKE Autopilot and an existing cluster are fields of the form now.
  return {};
}

/** `LOCATION/NAME` as the form holds an existing GKE cluster; an empty one creates a cluster. */
function gkeClusterOf(value: string): { name: string; location: string } | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const slash = v.indexOf('/');
  return slash < 0 ? { location: '', name: v } : { location: v.slice(0, slash), name: v.slice(slash + 1) };
}

function productionSizing(draft: FormDraft, questions: readonly SizingQuestion[], stored: Sizing | undefined): Sizing {
  // Keyed by resource names from the app's code, which may be "__proto__" or "constructor": Maps, never plain
  // objects indexed by name (that would write onto Object.prototype). Starts from what the file has, so answers for
  // resources the app no longer needs are not thrown away.
  const out = new Map<SizingGroup, Map<string, Map<string, number>>>();
  const set = (group: SizingGroup, resource: string, field: string, value: number) => {
    let resources = out.get(group);
    if (!resources) out.set(group, (resources = new Map()));
    let answers = resources.get(resource);
    if (!answers) resources.set(resource, (answers = new Map()));
    answers.set(field, value);
  };
  for (const group of SIZING_GROUPS) {
    const kept = stored?.[group];
    if (kept === undefined) continue;
    const resources = new Map<string, Map<string, number>>();
    out.set(group, resources);
    for (const [resource, answers] of Object.entries(kept)) {
      resources.set(resource, new Map(Object.entries(answers as Record<string, number>).filter(([, v]) => typeof v === 'number')));
    }
  }
  const typed = (group: string, resource: string, field: string) =>
    draft.sizing.find((a) => a.group === group && a.resource === resource && a.field === field)?.value.trim() ?? '';
  if (questions.length === 0) {
    // No model (the server is not running): keep whatever parses; the next plan asks for the rest.
    for (const a of draft.sizing) if (a.value.trim() !== '' && Number.isFinite(Number(a.value))) set(a.group, a.resource, a.field, Number(a.value));
  }
  for (const q of questions) {
    const text = typed(q.group, q.resource.name, q.field);
    const value = text === '' ? q.default : Number(text);
    // An unparseable answer is reported by evaluateDraft; the default stands in so the rest can still be checked.
    set(q.group, q.resource.name, q.field, Number.isFinite(value) ? value : q.default);
  }
  // Object.fromEntries defines own properties, so even a resource called "__proto__" becomes a plain key.
  const sizing: Record<string, unknown> = {};
  for (const [group, resources] of out) {
    sizing[group] = Object.fromEntries([...resources].map(([name, answers]) => [name, Object.fromEntries(answers)]));
  }
  return sizing as Sizing;
}

type SizingGroup = SizingAnswerDraft['group'];
const SIZING_GROUPS: readonly SizingGroup[] = ['databases', 'caches', 'services'];

export interface EvaluateInput {
  draft: FormDraft;
  /** The names of the other environments of the app (not the one being edited). */
  otherNames: readonly string[];
  model: ModelState;
  graphFor: GraphFn;
  original?: Environment;
  /** False to skip the planner (a keystroke check of one field in the quick path). */
  withPreview?: boolean;
}

export interface Evaluation {
  env: Environment;
  problems: FieldProblem[];
  sizing: SizingQuestionView[];
  preview: PreviewView;
  summary: string;
}

/** Everything the form shows after a change: the problems per field, the sizing questions, the preview. */
export function evaluateDraft(input: EvaluateInput): Evaluation {
  const { draft, model } = input;
  const questions = draft.type === 'production' && model.kind === 'ready' ? allSizingQuestions(model.model, draft) : [];
  const env = environmentFromDraft(draft, questions, input.original);
  const problems = [
    ...requiredProblems(draft),
    ...imageReplacementProblems(draft.imageReplacements),
    ...validateEnvironment(env, input.otherNames).map((p) => toFieldProblem(p, draft)),
    ...sizingAnswerProblems(draft, questions),
  ];
  return {
    env,
    problems: dedupe(problems),
    sizing: questions.map(toQuestionView),
    preview: input.withPreview === false ? { state: 'unavailable', message: 'not computed' } : preview(model, env, input.graphFor),
    summary: describeEnvironment(env),
  };
}

/**
 * Every sizing question of a Production environment, answered or not: the form shows them all, filled in with the
 * answers so far, so Edit can change an answer. (`sizingQuestions` lists the unanswered ones; with no answers at all
 * it lists every one.)
 */
function allSizingQuestions(model: AppModel, draft: FormDraft): SizingQuestion[] {
  const probe: Environment = { name: 'probe', type: 'production', deploy: { trigger: 'manual' }, provider: providerKindOnly(draft) };
  return sizingQuestions(model, probe);
}

function providerKindOnly(draft: FormDraft): ProviderSettings {
  // The defaults depend on the provider only (RDS, Cloud SQL or in-cluster shapes).
  if (draft.provider === 'aws') return { kind: 'aws', region: 'us-east-1' };
  if (draft.provider === 'gcp') return { kind: 'gcp', project: 'probe-project', region: 'us-central1' };
  return { kind: 'kubernetes', context: 'probe' };
}

const REQUIRED: Partial<Record<FormField, string>> = {
  name: 'Enter a name for the environment.',
  branch: 'Choose the branch whose pushes deploy.',
  awsRegion: 'Choose the AWS region.',
  gcpProject: 'Choose or type the GCP project id.',
  gcpRegion: 'Choose the GCP region.',
  kubeContext: 'Choose the kubeconfig context.',
};

/** Empty required fields get a plain "choose …" instead of the schema's "must not be empty". */
function requiredProblems(draft: FormDraft): FieldProblem[] {
  const active = activeFields(draft);
  return (Object.keys(REQUIRED) as FormField[])
    .filter((f) => active.includes(f) && String(draft[f]).trim() === '')
    .map((f) => ({ field: f, message: REQUIRED[f] as string }));
}

/** The fields the draft's choices make visible (and therefore checked). */
export function activeFields(draft: FormDraft): FormField[] {
  const fields: FormField[] = ['name', 'type', 'trigger', 'provider'];
  if (draft.trigger === 'push') fields.push('branch');
  if (draft.provider === 'aws') fields.push('awsProfile', 'awsRegion', 'awsCluster');
  if (draft.provider === 'gcp') fields.push('gcpProject', 'gcpRegion', 'gcpCluster', ...(draft.gcpCluster.trim() === '' ? (['gcpAutopilot'] as const) : []));
  if (draft.provider === 'kubernetes') fields.push('kubeContext', 'kubeNamespace');
  fields.push('imageMirror');
  return fields;
}

/** Maps a store problem (a JSON pointer into the environment) to the form field it is about. */
export function toFieldProblem(p: Problem, draft: FormDraft): FieldProblem {
  const message = capitalise(p.message);
  const parts = p.path.split('/').slice(1);
  const [top, second] = parts;
  // A Map: the key comes from the problem's path, which an unknown key in the environment ("constructor") shapes.
  const byProvider = new Map<string, Partial<Record<FormDraft['provider'], FormField>>>([
    ['region', { aws: 'awsRegion', gcp: 'gcpRegion' }],
    ['profile', { aws: 'awsProfile' }],
    ['project', { gcp: 'gcpProject' }],
    ['context', { kubernetes: 'kubeContext' }],
    ['namespace', { kubernetes: 'kubeNamespace' }],
    ['cluster', { aws: 'awsCluster', gcp: 'gcpCluster' }],
    ['autopilot', { gcp: 'gcpAutopilot' }],
  ]);
  let field: string | undefined;
  if (top === 'name' || top === 'type') field = top;
  else if (top === 'deploy') field = second === 'trigger' ? 'trigger' : 'branch';
  else if (top === 'provider') field = second === undefined || second === 'kind' ? 'provider' : byProvider.get(second)?.[draft.provider];
  else if (top === 'images' && second === 'mirror') field = 'imageMirror';
  else if (top === 'images' && second === 'replace' && parts.length >= 3) field = replacementField(draft, parts.slice(2).join('/'), p.target);
  else if (top === 'sizing' && parts.length === 4) {
    field = sizingFieldId({ group: parts[1] as SizingAnswerDraft['group'], resource: parts[2], field: parts[3] as SizingAnswerDraft['field'] });
  }
  return { field: field ?? 'form', message };
}

/** The row input a store problem at /images/replace/<key> is about: the key's row, its image or its replacement. */
function replacementField(draft: FormDraft, escapedKey: string, target: Problem['target']): string | undefined {
  const key = escapedKey.replace(/~1/g, '/').replace(/~0/g, '~');
  const index = draft.imageReplacements.findIndex((r) => r.from.trim() === key);
  return index < 0 ? undefined : imageReplacementFieldId(index, target === 'key' ? 'from' : 'to');
}

function sizingAnswerProblems(draft: FormDraft, questions: readonly SizingQuestion[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const q of questions) {
    const text = draft.sizing.find((a) => a.group === q.group && a.resource === q.resource.name && a.field === q.field)?.value.trim() ?? '';
    if (text === '') continue;
    const message = checkSizingAnswer(q, Number(text));
    if (message) out.push({ field: sizingFieldId({ group: q.group, resource: q.resource.name, field: q.field }), message });
  }
  return out;
}

function toQuestionView(q: SizingQuestion): SizingQuestionView {
  return {
    group: q.group,
    resource: q.resource.name,
    resourceKind: q.resource.kind,
    field: q.field,
    label: q.label,
    defaultValue: q.default,
    min: q.min,
    max: q.max,
    integer: q.integer,
    unit: q.unit,
  };
}

function preview(model: ModelState, env: Environment, graphFor: GraphFn): PreviewView {
  switch (model.kind) {
    case 'pending':
      return { state: 'unavailable', message: 'The Encore language server is still analysing the app; the preview appears when it is done.' };
    case 'unavailable':
      return { state: 'unavailable', message: `${model.message} Restart it (Encore: Restart Language Server) to see the preview.` };
    case 'go':
    case 'failed':
      return { state: 'unavailable', message: model.message };
    case 'ready':
      break;
  }
  try {
    // The preview does not wait for a valid name: the resources hardly depend on it.
    const graph = graphFor(model.model, { ...env, name: env.name || 'new-environment' });
    return {
      state: 'ok',
      resourceCount: graph.resources.length,
      groups: groupResources(graph).map((g) => ({
        label: g.label,
        description: g.description,
        icon: g.icon,
        resources: g.resources.map((r) => ({ label: resourceLabel(r), detail: `${r.providerType} ${r.name}`, stateful: r.stateful })),
      })),
      warnings: graph.warnings,
    };
  } catch (err) {
    return { state: 'unavailable', message: `The planner cannot plan this environment yet: ${(err as Error).message}` };
  }
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  // One message per field is enough: the first is the most specific ("Choose the AWS region" before the pattern).
  const seen = new Set<string>();
  return problems.filter((p) => {
    if (p.field !== 'form' && seen.has(p.field)) return false;
    seen.add(p.field);
    return true;
  });
}

function capitalise(s: string): string {
  return s.length > 0 ? s[0].toUpperCase() + s.slice(1) : s;
}
