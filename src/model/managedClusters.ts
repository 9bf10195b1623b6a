/**
 * The managed cluster a kubeconfig context points at, from the names the clouds' own tools write: `aws eks
 * update-kubeconfig` names the cluster entry after the cluster's ARN (`arn:aws:eks:REGION:ACCOUNT:cluster/NAME`, an
 * --alias renames only the context), `gcloud container clusters get-credentials` names it `gke_PROJECT_LOCATION_NAME`.
 * The form offers these as existing clusters; the environment then names the cluster itself, not the context, so a
 * CI runner without the kubeconfig reaches it too.
 */

export type ManagedCluster =
  | { kind: 'eks'; region: string; account: string; name: string }
  | { kind: 'gke'; project: string; location: string; name: string };

const EKS_ARN = /^arn:aws(?:-[a-z]+)*:eks:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):cluster\/([0-9A-Za-z][A-Za-z0-9_-]*)$/;
const GKE_NAME = /^gke_([a-z][-a-z0-9]{4,28}[a-z0-9])_([a-z]+-[a-z]+\d+(?:-[a-z])?)_([a-z](?:[-a-z0-9]*[a-z0-9])?)$/;

/** The EKS or GKE cluster of a kubeconfig cluster entry's name, or null when it names neither. */
export function managedClusterOf(clusterEntry: string | undefined): ManagedCluster | null {
  if (!clusterEntry) return null;
  const eks = EKS_ARN.exec(clusterEntry);
  if (eks) return { kind: 'eks', region: eks[1]!, account: eks[2]!, name: eks[3]! };
  const gke = GKE_NAME.exec(clusterEntry);
  if (gke) return { kind: 'gke', project: gke[1]!, location: gke[2]!, name: gke[3]! };
  return null;
}

/** The value an existing-cluster choice of the form carries: `REGION/NAME` (EKS), `PROJECT/LOCATION/NAME` (GKE). */
export function clusterChoiceValue(c: ManagedCluster): string {
  return c.kind === 'eks' ? `${c.region}/${c.name}` : `${c.project}/${c.location}/${c.name}`;
}
