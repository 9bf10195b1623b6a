/**
 * The managed cluster a kubeconfig context points at, from the names the clouds' own tools write: `aws eks
 * update-kubeconfig` names the cluster entry after the cluster's ARN (`arn:aws:eks:REGION:ACCOUNT:cluster/NAME`, an
 * --alias renames only the context), `gcloud container clusters get-credentials` names it `gke_PROJECT_LOCATION_NAME`.
 * The form offers these as existing clusters; the environment then names the cluster itself, not the context, so a
 * CI runner without the kubeconfig reaches it too.
 */

import type { KubeContext } from './discovery';

export type ManagedCluster =
  | { kind: 'eks'; region: string; account?: string; name: string }
  | { kind: 'gke'; project: string; location: string; name: string };

const EKS_ARN = /^arn:aws(?:-[a-z]+)*:eks:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):cluster\/([0-9A-Za-z][A-Za-z0-9_-]*)$/;
const GKE_NAME = /^gke_([a-z][-a-z0-9]{4,28}[a-z0-9])_([a-z]+-[a-z]+\d+(?:-[a-z])?)_([a-z](?:[-a-z0-9]*[a-z0-9])?)$/;

const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]*$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * The EKS or GKE cluster of a kubeconfig cluster entry's name, else of its user's exec arguments (`aws eks get-token
 * --cluster-name NAME --region REGION`, as update-kubeconfig writes them); null when neither names one.
 */
export function managedClusterOf(clusterEntry: string | undefined, execArgs: readonly string[] = []): ManagedCluster | null {
  const eks = clusterEntry ? EKS_ARN.exec(clusterEntry) : null;
  if (eks) return { kind: 'eks', region: eks[1]!, account: eks[2]!, name: eks[3]! };
  const gke = clusterEntry ? GKE_NAME.exec(clusterEntry) : null;
  if (gke) return { kind: 'gke', project: gke[1]!, location: gke[2]!, name: gke[3]! };
  const after = (flag: string) => {
    const i = execArgs.indexOf(flag);
    return i >= 0 ? execArgs[i + 1] : undefined;
  };
  const name = after('--cluster-name');
  const region = after('--region');
  if (execArgs.includes('get-token') && name && EKS_NAME.test(name) && region && AWS_REGION.test(region)) return { kind: 'eks', region, name };
  return null;
}

/** The value an existing-cluster choice of the form carries: `REGION/NAME` (EKS), `PROJECT/LOCATION/NAME` (GKE). */
export function clusterChoiceValue(c: ManagedCluster): string {
  return c.kind === 'eks' ? `${c.region}/${c.name}` : `${c.project}/${c.location}/${c.name}`;
}

/** The exec plugin `gcloud container clusters get-credentials` writes for a GKE context's user. */
const GKE_PLUGIN = 'gke-gcloud-auth-plugin';

/**
 * The managed cluster a context points at. gcloud names the context, its cluster entry and its user
 * `gke_PROJECT_LOCATION_NAME`; `kubectl config rename-context` (or a hand edit) changes one name, rarely all three.
 */
export function managedClusterOfContext(c: Pick<KubeContext, 'name' | 'cluster' | 'user' | 'exec'>): ManagedCluster | null {
  const byCluster = managedClusterOf(c.cluster, c.exec?.args);
  if (byCluster) return byCluster;
  for (const name of [c.name, c.user]) {
    const m = managedClusterOf(name);
    if (m?.kind === 'gke') return m;
  }
  return null;
}

/** Whether a context's user signs in with gke-gcloud-auth-plugin (a GKE cluster, whatever its names say). */
export function usesGkePlugin(c: Pick<KubeContext, 'exec'>): boolean {
  const base = (c.exec?.command ?? '').split(/[\\/]/).pop() ?? '';
  return base.replace(/\.exe$/i, '') === GKE_PLUGIN;
}
