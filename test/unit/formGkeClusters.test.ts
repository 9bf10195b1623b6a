// The Create / Edit form's GKE cluster picker: the kubeconfig's GKE contexts as gcloud writes them (and as users
// rename them), merged with the GKE API's list of the project's clusters, the messages that carry them, and the
// field the page renders from them (lit templates flattened to their text).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { TemplateResult } from 'lit';
import { discoverGkeClusters, fitGkeClusters, gkeClusterChoices } from '../../src/extension/form/gkeClusters';
import { fitHostMessage } from '../../src/extension/form/fitMessage';
import { toFormOptions } from '../../src/extension/form/options';
import type { GkeClusterListing, GkeClusterSummary, KubeContext } from '../../src/model/discovery';
import { FORM_LIMITS } from '../../src/model/limits';
import { managedClusterOfContext, usesGkePlugin } from '../../src/model/managedClusters';
import { checkHostMessage, type FormDraft, type FormOptions, type GkeClustersView } from '../../src/model/messages';
import { view, type Handlers, type PageState } from '../../webview/view';

const P = 'shop-prod-123';
const plugin = { command: 'gke-gcloud-auth-plugin', found: true, resolved: '/usr/lib/google-cloud-sdk/bin/gke-gcloud-auth-plugin' };
const ctx = (name: string, over: Partial<KubeContext> = {}): KubeContext => ({ name, file: '/home/dev/.kube/config', cluster: name, user: name, current: false, problems: [], ...over });

const summary = (over: Partial<GkeClusterSummary> & Pick<GkeClusterSummary, 'name' | 'location'>): GkeClusterSummary => ({
  status: 'RUNNING', autopilot: false, workloadPool: `${P}.svc.id.goog`, endpoints: [], ...over,
});

test('a context is a GKE cluster by its cluster entry, else by the context or user name gcloud gave it', () => {
  const gke = { kind: 'gke', project: P, location: 'europe-west1-b', name: 'shared' };
  assert.deepEqual(managedClusterOfContext(ctx('gke_shop-prod-123_europe-west1-b_shared')), gke);
  // kubectl config rename-context: the cluster entry keeps gcloud's name.
  assert.deepEqual(managedClusterOfContext(ctx('prod', { cluster: 'gke_shop-prod-123_europe-west1-b_shared', user: 'prod' })), gke);
  // A cluster entry renamed by hand: the context, else the user, still says which cluster.
  assert.deepEqual(managedClusterOfContext(ctx('gke_shop-prod-123_europe-west1-b_shared', { cluster: 'shared' })), gke);
  assert.deepEqual(managedClusterOfContext(ctx('prod', { cluster: 'shared', user: 'gke_shop-prod-123_europe-west1-b_shared' })), gke);
  assert.equal(managedClusterOfContext(ctx('kind-dev')), null);
  // A user name never makes an EKS cluster of an unrelated context (EKS is named by its cluster entry or exec arguments).
  assert.equal(managedClusterOfContext(ctx('dev', { cluster: 'dev', user: 'arn:aws:eks:eu-west-1:123456789012:cluster/x' })), null);
  assert.deepEqual(managedClusterOfContext(ctx('eks', { cluster: 'arn:aws:eks:eu-west-1:123456789012:cluster/platform' })), { kind: 'eks', region: 'eu-west-1', account: '123456789012', name: 'platform' });
  assert.equal(usesGkePlugin({ exec: plugin }), true);
  assert.equal(usesGkePlugin({ exec: { command: 'C:\\Program Files\\Google\\Cloud SDK\\bin\\gke-gcloud-auth-plugin.exe', found: true } }), true);
  assert.equal(usesGkePlugin({ exec: { command: 'aws', found: true } }), false);
  assert.equal(usesGkePlugin({}), false);
});

test('without the API\'s list: the kubeconfig\'s clusters of the project only, once each', () => {
  const contexts = [
    ctx('gke_shop-prod-123_europe-west1-b_shared'),
    ctx('prod', { cluster: 'gke_shop-prod-123_europe-west1-b_shared' }),
    ctx('gke_shop-prod-123_us-central1_batch'),
    ctx('gke_other-project-9_europe-west1_shared'),
    ctx('kind-dev'),
    ctx('renamed', { cluster: 'renamed', user: 'renamed', server: 'https://34.76.1.2', exec: plugin }),
  ];
  assert.deepEqual(gkeClusterChoices(P, contexts), [
    { value: 'europe-west1-b/shared', description: 'context gke_shop-prod-123_europe-west1-b_shared (+1)' },
    { value: 'us-central1/batch', description: 'context gke_shop-prod-123_us-central1_batch' },
  ]);
  assert.deepEqual(gkeClusterChoices('nothing-here-1', contexts), []);
});

test('merged with the API\'s list: mode, status, Workload Identity (off: the command that turns it on), the contexts that reach each', () => {
  const listing: GkeClusterListing = {
    project: P,
    problems: [],
    clusters: [
      summary({ name: 'web', location: 'us-central1', autopilot: true, endpoints: ['34.76.1.2'] }),
      summary({ name: 'shared', location: 'europe-west1-b', workloadPool: undefined, status: 'RECONCILING', endpoints: ['35.1.1.1', '10.0.0.2'] }),
      summary({ name: 'fleet', location: 'europe-west1', workloadPool: 'fleet-host-1.svc.id.goog', endpoints: ['35.9.9.9'] }),
    ],
  };
  const contexts = [
    ctx('gke_shop-prod-123_europe-west1-b_shared'),
    // Every name changed: the gke-gcloud-auth-plugin user says GKE, its server says which cluster.
    ctx('web-prod', { cluster: 'web', user: 'me', server: 'https://34.76.1.2', exec: plugin }),
    // A private endpoint reaches the same cluster.
    ctx('shared-private', { cluster: 'x', user: 'y', server: 'https://10.0.0.2:443', exec: plugin }),
    // Its server is no cluster of this project: not offered (it is another project's, or gone).
    ctx('elsewhere', { cluster: 'e', user: 'e', server: 'https://8.8.8.8', exec: plugin }),
    // A context without the plugin is never matched by address.
    ctx('not-gke', { cluster: 'n', user: 'n', server: 'https://35.9.9.9' }),
    // In the kubeconfig, but GKE does not list it: deleted since, most likely.
    ctx('gke_shop-prod-123_asia-east1_old'),
  ];
  assert.deepEqual(gkeClusterChoices(P, contexts, listing), [
    { value: 'europe-west1/fleet', description: 'Standard · running · Workload Identity on (pool fleet-host-1.svc.id.goog)' },
    {
      value: 'europe-west1-b/shared',
      description: 'Standard · reconciling · Workload Identity off · context gke_shop-prod-123_europe-west1-b_shared (+1)',
      enableWorkloadIdentity: `gcloud container clusters update shared --location europe-west1-b --workload-pool=${P}.svc.id.goog`,
    },
    { value: 'us-central1/web', description: 'Autopilot · running · Workload Identity on · context web-prod' },
    { value: 'asia-east1/old', description: `context gke_shop-prod-123_asia-east1_old · in your kubeconfig, but GKE does not list it in ${P}` },
  ]);
});

test('discovery reads the kubeconfig, and in Restricted Mode does not call the API but says why the list is short', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'form-gke-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = path.join(dir, 'config');
  // As `gcloud container clusters get-credentials shared --location europe-west1-b` writes it.
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: gke_shop-prod-123_europe-west1-b_shared',
    'clusters:', '- name: gke_shop-prod-123_europe-west1-b_shared', '  cluster:', '    server: https://35.1.1.1', '    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t',
    'contexts:', '- name: gke_shop-prod-123_europe-west1-b_shared', '  context:', '    cluster: gke_shop-prod-123_europe-west1-b_shared', '    user: gke_shop-prod-123_europe-west1-b_shared',
    'users:', '- name: gke_shop-prod-123_europe-west1-b_shared', '  user:', '    exec:', '      apiVersion: client.authentication.k8s.io/v1beta1', '      command: gke-gcloud-auth-plugin',
    '      installHint: Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin',
    '      provideClusterInfo: true', '',
  ].join('\n'));
  const found = await discoverGkeClusters(P, 'europe-west1', { listFromApi: false, env: { KUBECONFIG: kubeconfig, PATH: '' }, homedir: dir }, new AbortController().signal);
  assert.equal(found.project, P);
  assert.equal(found.state, 'done');
  assert.deepEqual(found.clusters, [{ value: 'europe-west1-b/shared', description: 'context gke_shop-prod-123_europe-west1-b_shared' }]);
  assert.equal(found.problems.length, 1);
  assert.match(found.problems[0]!, /trust this workspace/);
  assert.doesNotMatch(JSON.stringify(found), /LS0t|35\.1\.1\.1/, 'no certificate or server address goes to the page');
});

test('the kubeconfig\'s GKE clusters in the options use the context and user names too', () => {
  const o = toFormOptions(
    { profiles: [], problems: [] } as never,
    { projects: [], problems: [] } as never,
    { files: ['/k'], problems: [], contexts: [ctx('gke_shop-prod-123_europe-west1_web', { cluster: 'web' })] },
    { folder: '/', isRepo: false, branches: [], problems: [] } as never,
  );
  assert.deepEqual(o.gkeClusters, [{ value: 'shop-prod-123/europe-west1/web', description: 'context gke_shop-prod-123_europe-west1_web' }]);
});

test('the clusters message is checked by the page and fitted by the host: long lists are cut and said so', () => {
  const clusters: GkeClustersView = { project: P, state: 'done', clusters: [{ value: 'europe-west1/web', description: 'Standard · running', enableWorkloadIdentity: 'gcloud …' }], problems: [] };
  assert.deepEqual(checkHostMessage({ type: 'gkeClusters', clusters }), { ok: true, message: { type: 'gkeClusters', clusters } });
  const bad = checkHostMessage({ type: 'gkeClusters', clusters: { ...clusters, token: 'ya29.x' } });
  assert.equal(bad.ok, false);
  assert.equal(checkHostMessage({ type: 'gkeClusters', clusters: { ...clusters, state: 'maybe' } }).ok, false);

  const many: GkeClustersView = {
    project: P, state: 'done', problems: ['p'],
    clusters: [...Array.from({ length: FORM_LIMITS.choices + 5 }, (_, i) => ({ value: `europe-west1/c${i}`, description: 'd'.repeat(FORM_LIMITS.description + 50) })), { value: `europe-west1/${'x'.repeat(FORM_LIMITS.text)}`, description: '' }],
  };
  const fitted = fitGkeClusters(many);
  assert.equal(fitted.clusters.length, FORM_LIMITS.choices);
  assert.ok(fitted.clusters.every((c) => c.description.length <= FORM_LIMITS.description));
  assert.match(fitted.problems[0]!, new RegExp(`Showing the first ${FORM_LIMITS.choices} GKE clusters, and 5 more`));
  assert.equal(fitted.problems[1], 'p');
  const sent = fitHostMessage({ type: 'gkeClusters', clusters: many });
  assert.equal(checkHostMessage(JSON.parse(JSON.stringify(sent))).ok, true);
});

// ---- the page --------------------------------------------------------------------------------------------------

/** A lit template's text: its static parts and every bound value (attributes included), handlers left out. */
function text(value: unknown): string {
  if (Array.isArray(value)) return value.map(text).join('');
  if (value && typeof value === 'object' && 'strings' in value && 'values' in value) {
    const t = value as TemplateResult;
    return t.strings.map((s, i) => s + (i < t.values.length ? text(t.values[i]) : '')).join('');
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

const options: FormOptions = {
  awsProfiles: [], awsRegions: [], gcpProjects: [{ value: P }], gcpRegions: [{ value: 'europe-west1' }], kubeContexts: [], eksClusters: [],
  gkeClusters: [{ value: `${P}/europe-west1-b/shared`, description: 'context gke_shop-prod-123_europe-west1-b_shared' }, { value: 'other-project-9/europe-west1/x', description: 'context y' }],
  branches: [], notes: { aws: [], gcp: [], kubernetes: [], git: [] }, suggested: { awsRegion: '', gcpRegion: '' }, productImages: [],
};
const draft: FormDraft = {
  name: 'prod', type: 'production', trigger: 'manual', branch: '', provider: 'gcp', awsProfile: '', awsRegion: '', gcpProject: P, gcpRegion: 'europe-west1',
  kubeContext: '', kubeNamespace: '', awsCluster: '', gcpCluster: '', gcpAutopilot: false, imageMirror: '', imageReplacements: [], sizing: [],
};
const handlers: Handlers = { set() {}, setSizing() {}, setImageReplacements() {}, submit() {}, cancel() {}, refreshOptions() {}, openFile() {} };
const page = (over: Partial<PageState> = {}): string => text(view({ mode: 'create', appName: 'sample-app', draft, options, touched: new Set(), submitting: false, ...over }, handlers));
/** The cluster field's options, as `value|description`. */
const clusterOptions = (html: string) => [...(html.split('<vscode-single-select id=gcpCluster ')[1] ?? '').split('</vscode-single-select>')[0]!.matchAll(/<vscode-option value=([^ >]*)(?: description=([^>]*))?>/g)].map((m) => `${m[1]}|${m[2] ?? ''}`);

test('the page: "create a new cluster" first, the kubeconfig\'s clusters of the project while the API is asked, then the merged list', () => {
  const checking = page({ gke: { project: P, state: 'checking', clusters: [], problems: [] } });
  assert.deepEqual(clusterOptions(checking), ['|create a new cluster', 'europe-west1-b/shared|context gke_shop-prod-123_europe-west1-b_shared', '\u0000other|']);
  assert.match(checking, /Looking for the GKE clusters of shop-prod-123…/);
  // New cluster: Standard or Autopilot is asked.
  assert.match(checking, /id="gcpAutopilot"/);

  const gke: GkeClustersView = {
    project: P, state: 'done', problems: [],
    clusters: [
      { value: 'europe-west1-b/shared', description: 'Standard · running · Workload Identity off · context gke_shop-prod-123_europe-west1-b_shared', enableWorkloadIdentity: `gcloud container clusters update shared --location europe-west1-b --workload-pool=${P}.svc.id.goog` },
      { value: 'us-central1/web', description: 'Autopilot · running · Workload Identity on' },
    ],
  };
  const done = page({ gke });
  assert.deepEqual(clusterOptions(done), ['|create a new cluster', `europe-west1-b/shared|${gke.clusters[0]!.description}`, `us-central1/web|${gke.clusters[1]!.description}`, '\u0000other|']);
  assert.doesNotMatch(done, /Looking for/);
  assert.doesNotMatch(done, /gcpCluster-workload-identity/);

  // An existing cluster chosen: no GKE mode question (Autopilot is only for a new cluster); one without Workload
  // Identity says how to turn it on.
  const chosen = page({ gke, draft: { ...draft, gcpCluster: 'europe-west1-b/shared' } });
  assert.doesNotMatch(chosen, /id="gcpAutopilot"/);
  assert.match(chosen, new RegExp(`id="gcpCluster-workload-identity">This cluster has Workload Identity off[^]*<code>gcloud container clusters update shared --location europe-west1-b --workload-pool=${P}\\.svc\\.id\\.goog</code>`));
  assert.doesNotMatch(page({ gke, draft: { ...draft, gcpCluster: 'us-central1/web' } }), /gcpCluster-workload-identity/);

  // The list of another project (the user changed it since) is not shown for this one.
  const stale = page({ gke: { ...gke, project: 'other-project-9' } });
  assert.deepEqual(clusterOptions(stale), ['|create a new cluster', 'europe-west1-b/shared|context gke_shop-prod-123_europe-west1-b_shared', '\u0000other|']);
});

test('the page: a typed LOCATION/NAME is kept in the text field, and a failed list is a hint under the field', () => {
  const problem = 'Could not list the GKE clusters of shop-prod-123: the Kubernetes Engine API is not enabled. Your kubeconfig\'s clusters are listed; you can also type LOCATION/NAME.';
  const html = page({ gke: { project: P, state: 'done', clusters: [], problems: [problem] }, draft: { ...draft, gcpCluster: 'asia-east1/typed' } });
  assert.ok(html.includes("<vscode-single-select id=gcpCluster .value=\u0000other "), "Other… is chosen");
  assert.match(html, /id=gcpCluster-text placeholder=LOCATION\/NAME of a GKE cluster in this project [^>]*\.value=asia-east1\/typed /);
  assert.ok(html.includes(`<span class="gcpCluster-problem">${problem}</span>`));
  assert.deepEqual(clusterOptions(html).slice(0, 2), ['|create a new cluster', 'europe-west1-b/shared|context gke_shop-prod-123_europe-west1-b_shared']);
});

// ---- the host's scheduling ---------------------------------------------------------------------------------------

test('the host asks once the project settles, again only when it changes (or on Refresh), and drops a superseded answer', async () => {
  const { FormGkeClusters } = await import('../../src/extension/form/gkeClusterPicker');
  const asked: { project: string; region: string; signal: AbortSignal; answer: (v: GkeClustersView) => void; fail: (e: Error) => void }[] = [];
  const posted: GkeClustersView[] = [];
  const warned: string[] = [];
  const picker = new FormGkeClusters(
    (project, region, signal) => new Promise((resolve, reject) => asked.push({ project, region, signal, answer: resolve, fail: reject })),
    (m) => posted.push(m.clusters),
    (m) => warned.push(m),
    5,
  );
  const settle = () => new Promise((r) => setTimeout(r, 30));
  const done = (project: string): GkeClustersView => ({ project, state: 'done', clusters: [{ value: 'europe-west1/web', description: 'Standard · running' }], problems: [] });

  // Not GCP, or no project yet: nothing is asked.
  picker.update({ ...draft, provider: 'aws' });
  picker.update({ ...draft, gcpProject: '  ' });
  await settle();
  assert.equal(asked.length, 0);
  assert.equal(posted.length, 0);

  picker.update(draft);
  assert.deepEqual(posted.at(-1), { project: P, state: 'checking', clusters: [], problems: [] });
  // Typing on before it settles: only the last project is asked.
  picker.update({ ...draft, gcpProject: 'shop-prod-12' });
  picker.update(draft);
  await settle();
  assert.deepEqual(asked.map((a) => [a.project, a.region]), [[P, 'europe-west1']]);
  asked[0]!.answer(done(P));
  await settle();
  assert.deepEqual(posted.at(-1), done(P));

  // The same project again (another field changed): the answer is sent again, not asked again.
  const before = posted.length;
  picker.update({ ...draft, name: 'other' });
  assert.equal(asked.length, 1);
  assert.deepEqual(posted.slice(before), [done(P)]);

  // A new project while the old one is being asked: the old call is cancelled, and its late answer dropped.
  picker.update({ ...draft, gcpProject: 'shop-dev-4711' }, true);
  await settle();
  picker.update({ ...draft, gcpProject: 'shop-stage-42' });
  assert.equal(asked[1]!.signal.aborted, true);
  asked[1]!.answer(done('shop-dev-4711'));
  await settle();
  assert.ok(!posted.some((p) => p.project === 'shop-dev-4711' && p.state === 'done'));
  // A lister that throws (a bug) still answers the page, with the reason, and logs it.
  asked[2]!.fail(new Error('boom'));
  await settle();
  assert.deepEqual(posted.at(-1), { project: 'shop-stage-42', state: 'done', clusters: [], problems: ['Could not list the GKE clusters of shop-stage-42: boom'] });
  assert.match(warned[0] ?? '', /boom/);

  // Refresh asks again for the same project.
  picker.update({ ...draft, gcpProject: 'shop-stage-42' }, true);
  await settle();
  assert.equal(asked.length, 4);
  picker.dispose();
  assert.equal(asked[3]!.signal.aborted, true);
});
