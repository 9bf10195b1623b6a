/**
 * Which predefined role grants each IAM permission the GCP provider needs, and which API serves each service, so a
 * refusal can say what to ask for. The roles are the narrowest predefined ones that hold the permission (from
 * Google's IAM roles reference); roles/owner and roles/editor hold most of them too. The provider adds a row when
 * it starts calling something new; a permission missing here still gets a guess from its service's admin role.
 */

const ROLE_BY_PERMISSION_PREFIX: [prefix: string, role: string][] = [
  // GKE clusters, node pools and their operations; reading or listing them (an existing cluster, the form's picker) needs no more than viewing.
  ['container.clusters.get', 'roles/container.clusterViewer'],
  ['container.clusters.list', 'roles/container.clusterViewer'],
  ['container.clusters.', 'roles/container.clusterAdmin'],
  ['container.operations.', 'roles/container.clusterAdmin'],
  // Creating a cluster or node pool whose nodes run as a service account.
  ['iam.serviceAccounts.actAs', 'roles/iam.serviceAccountUser'],
  ['iam.serviceAccounts.getAccessToken', 'roles/iam.serviceAccountTokenCreator'],
  ['iam.serviceAccounts.', 'roles/iam.serviceAccountAdmin'],
  ['iam.workloadIdentityPools.', 'roles/iam.workloadIdentityPoolAdmin'],
  ['iam.workloadIdentityPoolProviders.', 'roles/iam.workloadIdentityPoolAdmin'],
  ['resourcemanager.projects.getIamPolicy', 'roles/resourcemanager.projectIamAdmin'],
  ['resourcemanager.projects.setIamPolicy', 'roles/resourcemanager.projectIamAdmin'],
  ['resourcemanager.projects.get', 'roles/browser'],
  ['cloudsql.', 'roles/cloudsql.admin'],
  ['redis.', 'roles/redis.admin'],
  ['secretmanager.versions.access', 'roles/secretmanager.secretAccessor'],
  ['secretmanager.', 'roles/secretmanager.admin'],
  ['pubsub.', 'roles/pubsub.admin'],
  ['storage.', 'roles/storage.admin'],
  ['artifactregistry.', 'roles/artifactregistry.admin'],
  ['compute.networks.', 'roles/compute.networkAdmin'],
  ['compute.subnetworks.', 'roles/compute.networkAdmin'],
  ['compute.globalAddresses.', 'roles/compute.networkAdmin'],
  ['compute.routers.', 'roles/compute.networkAdmin'],
  ['compute.globalOperations.', 'roles/compute.networkAdmin'],
  ['compute.regionOperations.', 'roles/compute.networkAdmin'],
  ['servicenetworking.', 'roles/servicenetworking.networksAdmin'],
  ['serviceusage.services.use', 'roles/serviceusage.serviceUsageConsumer'],
  ['serviceusage.', 'roles/serviceusage.serviceUsageAdmin'],
];

/** The predefined role to grant for `permission`, and whether it came from the table or is a guess. */
export function roleForPermission(permission: string): { role: string; known: boolean } {
  for (const [prefix, role] of ROLE_BY_PERMISSION_PREFIX) if (permission === prefix || permission.startsWith(prefix)) return { role, known: true };
  const service = permission.split('.')[0];
  return { role: `roles/${service}.admin`, known: false };
}

/** The APIs the provider uses, by service name, with the title Google's console gives them. */
export const GCP_APIS: ReadonlyMap<string, string> = new Map([
  ['container.googleapis.com', 'Kubernetes Engine API'],
  ['sqladmin.googleapis.com', 'Cloud SQL Admin API'],
  ['redis.googleapis.com', 'Google Cloud Memorystore for Redis API'],
  ['secretmanager.googleapis.com', 'Secret Manager API'],
  ['pubsub.googleapis.com', 'Cloud Pub/Sub API'],
  ['storage.googleapis.com', 'Cloud Storage API'],
  ['artifactregistry.googleapis.com', 'Artifact Registry API'],
  ['iam.googleapis.com', 'Identity and Access Management (IAM) API'],
  ['iamcredentials.googleapis.com', 'IAM Service Account Credentials API'],
  ['sts.googleapis.com', 'Security Token Service API'],
  ['cloudresourcemanager.googleapis.com', 'Cloud Resource Manager API'],
  ['compute.googleapis.com', 'Compute Engine API'],
  ['servicenetworking.googleapis.com', 'Service Networking API'],
  ['serviceusage.googleapis.com', 'Service Usage API'],
]);

/** The command that enables an API in a project. */
export function enableApiCommand(service: string, project: string | undefined): string {
  return `gcloud services enable ${service}${project ? ` --project ${project}` : ''}`;
}
