// What the Create Environment form offers, found on this machine: the providers' discovery and the git branches. No
// `vscode` here: the extension calls these and sends the plain results to the webview.
export { discoverAwsProfiles } from '../provisioning/providers/aws/discovery';
export { findExecutable, type FindExecutableOptions } from '../files/findExecutable';
export { discoverGcp, listGkeClusters, type GcpDiscoveryOptions, type GkeListOptions } from '../provisioning/providers/gcp/discovery';
export { discoverGitBranches, type GitOptions } from './gitBranches';
export { discoverKubeContexts, type KubeDiscoveryOptions } from '../provisioning/providers/kubernetes/discovery';
export type { DiscoveryEnv } from '../files/readOptional';
export { AWS_REGIONS, AWS_REGIONS_AS_OF, GCP_REGIONS, GCP_REGIONS_AS_OF } from '../provisioning/providers/regions';
export type * from '../model/discovery';
