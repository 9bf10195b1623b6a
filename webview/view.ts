// The Create / Edit Environment form as a lit-html template of the page state. Rendering is cheap and keyed by
// position, so the whole form is re-rendered on every change without losing focus or what is being typed.
import { html, nothing, type TemplateResult } from 'lit';
import type { Choice, FieldProblem, FormDraft, FormOptions, GkeClusterChoice, GkeClustersView, HostMessage, SizingQuestionView } from '../src/model/messages';
import { FORM_LIMITS } from '../src/model/limits';
import { sizingAnswer, sizingFieldId, type ImageReplacementDraft } from '../src/model/messages';
import { imageReplacementsSection } from './imageReplacements';
import { costBlock, identityBlock, type ShownIdentity } from './whoAndCost';

export type Evaluation = Extract<HostMessage, { type: 'evaluation' }>;

export interface PageState {
  mode: 'create' | 'edit';
  appName: string;
  originalName?: string;
  draft: FormDraft;
  options: FormOptions;
  evaluation?: Evaluation;
  /** Fields the user has changed: their problems show even while empty. */
  touched: Set<string>;
  submitting: boolean;
  submitError?: { message: string; offerFile: boolean; problems: FieldProblem[] };
  /** Who acts with the provider settings the host last checked. */
  identity?: ShownIdentity;
  /** The existing GKE clusters of the project the host last looked in (kubeconfig and GKE API). */
  gke?: GkeClustersView;
  /** A message that was lost on the way (one side's check refused it), until the next one goes through. */
  notice?: string;
}

export interface Handlers {
  set<K extends keyof Omit<FormDraft, 'sizing' | 'imageReplacements'>>(field: K, value: FormDraft[K]): void;
  setSizing(q: SizingQuestionView, value: string): void;
  /** The image override's replacement rows, after a change to the input `touched`. */
  setImageReplacements(rows: ImageReplacementDraft[], touched: string): void;
  submit(): void;
  cancel(): void;
  refreshOptions(): void;
  openFile(): void;
}

/** The value of the "Other…" entry of a list of discovered values. */
const OTHER = '\u0000other';

const TYPES = {
  development: 'Postgres and Redis as StatefulSets inside the cluster, on persistent volumes, one replica. Cheap and quick to create.',
  production:
    'Managed databases (RDS or Cloud SQL) with 7-day backups, point-in-time recovery and deletion protection, managed Redis and Pub/Sub, autoscaling.',
} as const;

export function view(s: PageState, h: Handlers): TemplateResult {
  const problems = currentProblems(s);
  const error = (field: string) => {
    const p = problems.find((x) => x.field === field);
    return p && isShown(s, field) ? p.message : '';
  };
  const d = s.draft;
  const verb = s.mode === 'create' ? 'Create Environment' : 'Save Changes';
  const blocking = problems.length > 0 || !s.evaluation || s.submitting;
  return html`
    <h1>${s.mode === 'create' ? `New environment for ${s.appName}` : `Edit environment ${s.originalName ?? ''}`}</h1>
    <p class="lead">An isolated, fully working instance of the app. It is saved in encore.environments.json, beside encore.app; nothing is provisioned until you plan and apply it.</p>
    <div class="banner" role="alert">${s.notice ? html`<span id="notice">${s.notice}</span>${s.submitError ? html`<br>` : nothing}` : nothing}${s.submitError ? banner(s.submitError, h) : nothing}</div>
    <form id="env-form" @submit=${(e: Event) => { e.preventDefault(); if (!blocking) h.submit(); }}>
      <section>
        <h2>Environment</h2>
        ${field('name', 'Name', error('name'), 'Lowercase letters, digits and dashes, starting with a letter; unique in this app.', html`
          <vscode-textfield id="name" placeholder="e.g. staging" maxlength=${FORM_LIMITS.text} .value=${d.name} ?invalid=${!!error('name')}
            @input=${(e: Event) => h.set('name', valueOf(e))}></vscode-textfield>`)}
        ${field('type', 'Type', error('type'), '', html`
          <vscode-radio-group id="type" @change=${(e: Event) => h.set('type', valueOf(e) as FormDraft['type'])}>
            <vscode-radio name="type" value="development" .checked=${d.type === 'development'}>Development</vscode-radio>
            <vscode-radio name="type" value="production" .checked=${d.type === 'production'}>Production</vscode-radio>
          </vscode-radio-group>
          <p class="hint type-hint"><strong>Development:</strong> ${TYPES.development}</p>
          <p class="hint type-hint"><strong>Production:</strong> ${TYPES.production}</p>`)}
      </section>
      <section>
        <h2>Deploy</h2>
        ${field('trigger', 'Deploys', error('trigger'), '', html`
          <vscode-radio-group id="trigger" @change=${(e: Event) => h.set('trigger', valueOf(e) as FormDraft['trigger'])}>
            <vscode-radio name="trigger" value="push" .checked=${d.trigger === 'push'}>On push to a branch</vscode-radio>
            <vscode-radio name="trigger" value="manual" .checked=${d.trigger === 'manual'}>Manually</vscode-radio>
          </vscode-radio-group>`)}
        ${d.trigger === 'push' ? discovered('branch', 'Branch', error('branch'), d.branch, s.options.branches, 'e.g. main', (v) => h.set('branch', v)) : nothing}
        ${notes(s.options.notes.git)}
      </section>
      <section>
        <h2>Cloud provider</h2>
        ${field('provider', 'Runs on', error('provider'), '', html`
          <vscode-radio-group id="provider" @change=${(e: Event) => h.set('provider', valueOf(e) as FormDraft['provider'])}>
            <vscode-radio name="provider" value="aws" .checked=${d.provider === 'aws'}>AWS</vscode-radio>
            <vscode-radio name="provider" value="gcp" .checked=${d.provider === 'gcp'}>GCP</vscode-radio>
            <vscode-radio name="provider" value="kubernetes" .checked=${d.provider === 'kubernetes'}>Kubernetes</vscode-radio>
          </vscode-radio-group>`)}
        ${providerFields(s, h, error)}
        ${identityBlock(s.draft, s.identity)}
        ${field('imageMirror', 'Image mirror (optional)', error('imageMirror'), 'A registry host and path that serves the images Encore Environments runs in the cluster (Postgres, Redis, NSQ, MinIO, curl), e.g. registry.example.com/mirror. Leave empty to pull them from their own registries.', html`
          <vscode-textfield id="imageMirror" placeholder="registry.example.com/mirror" maxlength=${FORM_LIMITS.text} .value=${s.draft.imageMirror} ?invalid=${!!error('imageMirror')}
            @input=${(e: Event) => h.set('imageMirror', valueOf(e))}></vscode-textfield>`)}
        <vscode-button secondary id="refresh-options" @click=${() => h.refreshOptions()}>Look for profiles, contexts and branches again</vscode-button>
      </section>
      ${imageReplacementsSection(s, h, error)}
      ${d.type === 'production' ? sizing(s, h, error) : nothing}
      <div class="actions">
        <vscode-button id="submit" ?disabled=${blocking} @click=${() => { if (!blocking) h.submit(); }}>${s.submitting ? 'Saving…' : verb}</vscode-button>
        <vscode-button secondary id="cancel" @click=${() => h.cancel()}>Cancel</vscode-button>
      </div>
      <p class="hint" id="blocking">${blockingText(s, problems)}</p>
    </form>
    ${preview(s)}
  `;
}

function banner(e: NonNullable<PageState['submitError']>, h: Handlers): TemplateResult {
  const general = e.problems.filter((p) => p.field === 'form');
  return html`<span id="submit-error">${e.message}</span>
    ${general.map((p) => html`<br><span>${p.message}</span>`)}
    ${e.offerFile ? html` <vscode-button secondary @click=${() => h.openFile()}>Open encore.environments.json</vscode-button>` : nothing}`;
}

/** The provider's settings. */
function providerFields(s: PageState, h: Handlers, error: (f: string) => string): TemplateResult {
  const d = s.draft;
  const o = s.options;
  if (d.provider === 'aws') {
    return html`
      ${discovered('awsProfile', 'AWS profile', error('awsProfile'), d.awsProfile, [{ value: '', description: 'the default credential chain' }, ...o.awsProfiles], 'a profile name from ~/.aws/config', (v) => h.set('awsProfile', v), 'Credentials come from this profile when you plan and apply; they never go in the file.')}
      ${region('awsRegion', 'Region', error('awsRegion'), d.awsRegion, o.awsRegions, (v) => h.set('awsRegion', v))}
      ${discovered('awsCluster', 'Cluster', error('awsCluster'), d.awsCluster, [NEW_CLUSTER, ...clustersIn(o.eksClusters, d.awsRegion.trim())], 'an EKS cluster name in this region', (v) => h.set('awsCluster', v),
        'Create a new cluster (a VPC, EKS and a node group), or use an existing EKS cluster: your kubeconfig\'s EKS clusters in this region are listed. An existing cluster is only read, never changed or deleted.')}
      ${notes(o.notes.aws)}`;
  }
  if (d.provider === 'gcp') {
    return html`
      ${discovered('gcpProject', 'GCP project', error('gcpProject'), d.gcpProject, o.gcpProjects, 'a project id, e.g. shop-prod-123', (v) => h.set('gcpProject', v), 'Plan and apply use Application Default Credentials (gcloud auth application-default login).')}
      ${region('gcpRegion', 'Region', error('gcpRegion'), d.gcpRegion, o.gcpRegions, (v) => h.set('gcpRegion', v))}
      ${gkeClusterField(s, h, error('gcpCluster'))}
      ${d.gcpCluster.trim() === '' ? field('gcpAutopilot', 'GKE mode', error('gcpAutopilot'), 'Autopilot: GKE runs and scales the nodes, billed by the pods\' requests. Standard: a node pool of the environment\'s own.', html`
        <vscode-radio-group id="gcpAutopilot" @change=${(e: Event) => h.set('gcpAutopilot', valueOf(e) === 'autopilot')}>
          <vscode-radio name="gcpAutopilot" value="standard" .checked=${!d.gcpAutopilot}>Standard</vscode-radio>
          <vscode-radio name="gcpAutopilot" value="autopilot" .checked=${d.gcpAutopilot}>Autopilot</vscode-radio>
        </vscode-radio-group>`) : nothing}
      ${notes(o.notes.gcp)}`;
  }
  return html`
    ${discovered('kubeContext', 'Kubernetes context', error('kubeContext'), d.kubeContext, o.kubeContexts, 'a context name from your kubeconfig', (v) => h.set('kubeContext', v))}
    ${field('kubeNamespace', 'Namespace', error('kubeNamespace'), "Leave empty to use the environment's name.", html`
      <vscode-textfield id="kubeNamespace" placeholder=${d.name || 'the environment name'} maxlength=${FORM_LIMITS.text} .value=${d.kubeNamespace} ?invalid=${!!error('kubeNamespace')}
        @input=${(e: Event) => h.set('kubeNamespace', valueOf(e))}></vscode-textfield>`)}
    ${notes(o.notes.kubernetes)}`;
}

function sizing(s: PageState, h: Handlers, error: (f: string) => string): TemplateResult {
  const questions = s.evaluation?.sizing ?? [];
  if (questions.length === 0) {
    return html`<section id="sizing"><h2>Sizing</h2><p class="hint">No sizing questions: the preview says why, or the app has no databases, caches or services yet.</p></section>`;
  }
  let last = '';
  return html`<section id="sizing">
    <h2>Sizing</h2>
    <p class="hint">Asked once per resource, for Production only. Leave a field empty to use the default shown.</p>
    <div class="sizing-grid">
      ${questions.map((q) => {
        const id = sizingFieldId(q);
        const head = `${q.resource} ${q.resourceKind}`;
        const title = head !== last ? html`<div class="resource">${head}</div>` : nothing;
        last = head;
        const value = sizingAnswer(s.draft, q) ?? '';
        const label = q.label.slice(q.label.indexOf(':') + 1).trim();
        return html`${title}
          <vscode-label for=${id}>${label} (${q.unit}, ${q.min}–${q.max})</vscode-label>
          <vscode-textfield id=${id} data-sizing=${id} type="number" maxlength=${FORM_LIMITS.sizingValue} placeholder=${String(q.defaultValue)} .value=${value}
            ?invalid=${!!error(id)} @input=${(e: Event) => h.setSizing(q, valueOf(e))}></vscode-textfield>
          ${error(id) ? html`<p class="error sizing-error" id=${`${id}-error`}>${error(id)}</p>` : nothing}`;
      })}
    </div>
  </section>`;
}

function preview(s: PageState): TemplateResult {
  const e = s.evaluation;
  let body: TemplateResult;
  if (!e) body = html`<p class="hint">Working out the resources…</p>`;
  else if (e.preview.state === 'unavailable') body = html`<p class="note">${e.preview.message}</p>`;
  else {
    const p = e.preview;
    body = html`
      <p class="count" id="preview-count">${p.resourceCount} resources, none provisioned yet.</p>
      ${p.warnings.map((w) => html`<p class="warning">${w}</p>`)}
      <ul>
        ${p.groups.map((g) => html`
          <li class="group"><span class="codicon codicon-${g.icon}"></span><strong>${g.label}</strong> <span class="count">${g.description}</span></li>
          ${g.resources.map((r) => html`<li class="res" title=${r.detail}>${r.label}${r.stateful ? html` <span class="stateful" title="holds data">●</span>` : nothing}</li>`)}`)}
      </ul>
      ${costBlock(e.cost)}`;
  }
  return html`<aside class="preview" id="preview" aria-label="Infrastructure preview">
    <h2>What this environment gets</h2>
    ${e ? html`<p id="summary">${e.summary}</p>` : nothing}
    ${body}
  </aside>`;
}

function field(id: string, label: string, error: string, hint: string | TemplateResult, control: TemplateResult): TemplateResult {
  return html`<div class="field">
    <vscode-label for=${id}>${label}</vscode-label>
    ${control}
    <p class="error" id=${`${id}-error`} role="status">${error}</p>
    <p class="hint">${hint}</p>
  </div>`;
}

/** A value found on this machine (profile, project, context, branch), or any other typed in. */
function discovered(id: string, label: string, error: string, value: string, choices: Choice[], placeholder: string, set: (v: string) => void, hint: string | TemplateResult = ''): TemplateResult {
  const listed = choices.some((c) => c.value === value);
  const usable = choices.filter((c) => c.value !== '' || id === 'awsProfile' || id === 'awsCluster' || id === 'gcpCluster');
  const select = usable.length > 0 && !(usable.length === 1 && usable[0].value === '' && !listed);
  const text = html`<vscode-textfield id=${`${id}-text`} placeholder=${placeholder} maxlength=${FORM_LIMITS.text} .value=${listed ? '' : value} ?invalid=${!!error}
    @input=${(e: Event) => set(valueOf(e))}></vscode-textfield>`;
  if (!select) return field(id, label, error, hint, text);
  return field(id, label, error, hint, html`
    <vscode-single-select id=${id} .value=${listed ? value : OTHER} ?invalid=${!!error && listed}
      @change=${(e: Event) => { const v = valueOf(e); set(v === OTHER ? '' : v); }}>
      ${usable.map((c) => html`<vscode-option value=${c.value} description=${c.description ?? ''}>${c.value === '' ? `(${c.description ?? 'none'})` : c.value}</vscode-option>`)}
      <vscode-option value=${OTHER}>Other…</vscode-option>
    </vscode-single-select>
    ${listed ? nothing : text}`);
}

const NEW_CLUSTER: Choice = { value: '', description: 'create a new cluster' };

/**
 * "Create a new cluster", or one of the project's GKE clusters: the GKE API's list with the kubeconfig's merged in
 * (from the host), and the kubeconfig's alone until that list comes; a typed LOCATION/NAME is taken as it is. A
 * cluster with Workload Identity off is offered but marked, with the gcloud command that turns it on.
 */
function gkeClusterField(s: PageState, h: Handlers, error: string): TemplateResult {
  const d = s.draft;
  const project = d.gcpProject.trim();
  const kubeconfig = clustersIn(s.options.gkeClusters, project);
  const looked = s.gke && project !== '' && s.gke.project === project ? s.gke : undefined;
  const found: GkeClusterChoice[] = looked?.state === 'done' ? looked.clusters : [];
  const clusters: (Choice & Pick<Partial<GkeClusterChoice>, 'enableWorkloadIdentity'>)[] = [...found, ...kubeconfig.filter((k) => !found.some((f) => f.value === k.value))];
  const chosen = clusters.find((c) => c.value === d.gcpCluster.trim());
  const hint = html`Create a new cluster (a network, GKE and a node pool), or use an existing GKE cluster of this project: your
    kubeconfig's and the project's clusters are listed, or type LOCATION/NAME. An existing cluster is only read, never changed or deleted; it needs Workload Identity.
    ${looked?.state === 'checking' ? html`<br><span id="gcpCluster-checking">Looking for the GKE clusters of ${project}…</span>` : nothing}
    ${(looked?.problems ?? []).map((p) => html`<br><span class="gcpCluster-problem">${p}</span>`)}
    ${chosen?.enableWorkloadIdentity ? html`<br><span id="gcpCluster-workload-identity">This cluster has Workload Identity off, which the environment's services need for their Google service accounts. Turn it on with
      <code>${chosen.enableWorkloadIdentity}</code> (a Standard cluster's node pools then need <code>--workload-metadata=GKE_METADATA</code>).</span>` : nothing}`;
  return discovered('gcpCluster', 'Cluster', error, d.gcpCluster, [NEW_CLUSTER, ...clusters.map(({ value, description }) => ({ value, description }))], 'LOCATION/NAME of a GKE cluster in this project', (v) => h.set('gcpCluster', v), hint);
}

/**
 * The existing clusters of one region (EKS, `REGION/NAME`) or project (GKE, `PROJECT/LOCATION/NAME`), as the
 * draft holds them: the name (EKS), `LOCATION/NAME` (GKE).
 */
function clustersIn(choices: Choice[], scope: string): Choice[] {
  return choices.filter((c) => c.value.startsWith(`${scope}/`)).map((c) => ({ ...c, value: c.value.slice(scope.length + 1) }));
}

/** A region from the provider's list, filtered as the user types. */
function region(id: string, label: string, error: string, value: string, choices: Choice[], set: (v: string) => void): TemplateResult {
  const all = value && !choices.some((c) => c.value === value) ? [{ value, description: 'not in the list' }, ...choices] : choices;
  return field(id, label, error, '', html`
    <vscode-single-select id=${id} combobox filter="contains" .value=${value} ?invalid=${!!error} @change=${(e: Event) => set(valueOf(e))}>
      ${all.map((c) => html`<vscode-option value=${c.value} description=${c.description ?? ''}>${c.value}</vscode-option>`)}
    </vscode-single-select>`);
}

function notes(list: string[]): TemplateResult | typeof nothing {
  return list.length === 0 ? nothing : html`${list.map((n) => html`<p class="note">${n}</p>`)}`;
}

/** The problems to show: the latest evaluation's, or a failed save's while it is newer. */
export function currentProblems(s: PageState): FieldProblem[] {
  return s.submitError && s.submitError.problems.length > 0 ? s.submitError.problems : (s.evaluation?.problems ?? []);
}

function isShown(s: PageState, field: string): boolean {
  if (s.touched.has(field) || s.submitError) return true;
  // A field that already holds something wrong (Edit, a hand-edited file) says so at once.
  const draft = s.draft as unknown as Record<string, unknown>;
  const value = Object.hasOwn(draft, field) ? draft[field] : undefined;
  // A replacement row exists only when someone added it or the file has it: its problems show at once.
  return typeof value === 'string' ? value.trim() !== '' : field.startsWith('sizing:') || field.startsWith('imageReplace:');
}

function blockingText(s: PageState, problems: FieldProblem[]): string {
  if (s.submitting || !s.evaluation) return '';
  if (problems.length === 0) return '';
  const n = problems.length;
  return `${n === 1 ? 'One field needs' : `${n} fields need`} attention before you can ${s.mode === 'create' ? 'create' : 'save'}: ${problems.map((p) => p.message).join(' ')}`;
}

function valueOf(e: Event): string {
  const target = e.target as { value?: unknown } | null;
  return typeof target?.value === 'string' ? target.value : '';
}
