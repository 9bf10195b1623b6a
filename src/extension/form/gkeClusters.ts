// Pure apart from the discovery calls (no vscode): the existing GKE clusters the form's cluster picker offers for
// one project, from the kubeconfig's GKE contexts and the GKE API's list of the project's clusters, merged into one
// choice per cluster. Only names, places and settings: no token, key or certificate leaves the host.
import { discoverKubeContexts, listGkeClusters, type DiscoveryEnv, type GkeClusterListing, type GkeClusterSummary, type KubeContext } from '../../session/discovery';
import { clip, FORM_LIMITS, withinLength } from '../../model/limits';
import { managedClusterOfContext, usesGkePlugin } from '../../model/managedClusters';
import type { GkeClusterChoice, GkeClustersView } from '../../model/messages';
import { capNotes } from './options';

/** The host of a kubeconfig server URL (`https://34.76.1.2` → `34.76.1.2`), as GKE reports its endpoints. */
function serverHost(server: string | undefined): string | undefined {
  if (!server) return undefined;
  try {
    return new URL(server).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

/** The gcloud command that turns Workload Identity on for a cluster of `project`. */
export function enableWorkloadIdentityCommand(project: string, c: Pick<GkeClusterSummary, 'name' | 'location'>): string {
  return `gcloud container clusters update ${c.name} --location ${c.location} --workload-pool=${project}.svc.id.goog`;
}

interface Known {
  value: string;
  contexts: string[];
  cluster?: GkeClusterSummary;
}

/**
 * One choice per cluster of `project`: the API's clusters (mode, status, Workload Identity) with the kubeconfig
 * contexts that reach them, by name or, for a GKE context whose names were changed, by its server's address; then
 * the kubeconfig's clusters the API did not list (gone, or the list failed). Without a listing only the
 * kubeconfig's are known.
 */
export function gkeClusterChoices(project: string, contexts: readonly KubeContext[], listing?: GkeClusterListing): GkeClusterChoice[] {
  const known = new Map<string, Known>();
  const entry = (value: string) => {
    let k = known.get(value);
    if (!k) known.set(value, (k = { value, contexts: [] }));
    return k;
  };
  const listed = listing?.clusters;
  for (const cluster of [...(listed ?? [])].sort((a, b) => a.location.localeCompare(b.location) || a.name.localeCompare(b.name))) {
    entry(`${cluster.location}/${cluster.name}`).cluster = cluster;
  }
  for (const c of contexts) {
    const m = managedClusterOfContext(c);
    let value: string | undefined;
    if (m?.kind === 'gke') value = m.project === project ? `${m.location}/${m.name}` : undefined;
    else if (!m && usesGkePlugin(c) && listed) {
      const host = serverHost(c.server);
      const match = host ? listed.find((l) => l.endpoints.includes(host)) : undefined;
      if (match) value = `${match.location}/${match.name}`;
    }
    if (value !== undefined && !entry(value).contexts.includes(c.name)) entry(value).contexts.push(c.name);
  }
  return [...known.values()].map((k) => choice(project, k, listed !== undefined));
}

function choice(project: string, k: Known, listed: boolean): GkeClusterChoice {
  const context = k.contexts.length === 0 ? undefined : `context ${k.contexts[0]}${k.contexts.length > 1 ? ` (+${k.contexts.length - 1})` : ''}`;
  const c = k.cluster;
  if (!c) {
    const where = listed ? `in your kubeconfig, but GKE does not list it in ${project}` : undefined;
    return { value: k.value, description: [context, where].filter(Boolean).join(' · ') };
  }
  const pool = c.workloadPool;
  const identity = !pool ? 'Workload Identity off' : pool === `${project}.svc.id.goog` ? 'Workload Identity on' : `Workload Identity on (pool ${pool})`;
  return {
    value: k.value,
    description: [c.autopilot ? 'Autopilot' : 'Standard', c.status.toLowerCase(), identity, context].filter(Boolean).join(' · '),
    ...(!pool && { enableWorkloadIdentity: enableWorkloadIdentityCommand(project, c) }),
  };
}

export interface GkeClusterDiscovery extends DiscoveryEnv {
  /** Whether the GKE API may be asked (with the user's credentials): not in Restricted Mode. */
  listFromApi: boolean;
}

/** The picker's clusters for `project`: the kubeconfig's merged with the GKE API's list. Never throws but for a cancel. */
export async function discoverGkeClusters(project: string, region: string, options: GkeClusterDiscovery, signal: AbortSignal): Promise<GkeClustersView> {
  const { contexts } = await discoverKubeContexts(options);
  if (!options.listFromApi) {
    return fitGkeClusters({ project, state: 'done', clusters: gkeClusterChoices(project, contexts), problems: ['The project\'s clusters are listed with your credentials: trust this workspace to see them here, or type LOCATION/NAME.'] });
  }
  const listing = await listGkeClusters({ project, region, ...(options.env && { env: options.env }), ...(options.homedir && { homedir: options.homedir }) }, signal);
  const problems = listing.problems.map((p) => (listing.clusters ? p : `${p} Your kubeconfig's clusters are listed; you can also type LOCATION/NAME.`));
  return fitGkeClusters({ project, state: 'done', clusters: gkeClusterChoices(project, contexts, listing), problems });
}

/** Within the page's limits (limits.ts): the first clusters, and a note saying how many more there were. */
export function fitGkeClusters(view: GkeClustersView): GkeClustersView {
  const fitting = view.clusters.filter((c) => withinLength(c.value, FORM_LIMITS.text));
  const kept = fitting.slice(0, FORM_LIMITS.choices).map((c) => ({
    value: c.value,
    description: clip(c.description, FORM_LIMITS.description),
    ...(c.enableWorkloadIdentity !== undefined && { enableWorkloadIdentity: clip(c.enableWorkloadIdentity, FORM_LIMITS.line) }),
  }));
  const more = fitting.length - kept.length;
  const extra = more > 0 ? [`Showing the first ${kept.length} GKE clusters, and ${more.toLocaleString('en-US')} more: type LOCATION/NAME for one of them.`] : [];
  return { project: withinLength(view.project, FORM_LIMITS.text) ? view.project : '', state: view.state, clusters: kept, problems: capNotes([...extra, ...view.problems]) };
}
