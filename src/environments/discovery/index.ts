// What the Create Environment form offers, found on this machine. No `vscode` here: the extension calls these and
// sends the plain results to the webview.
export { discoverAwsProfiles } from './aws';
export { findExecutable, type FindExecutableOptions } from './findExecutable';
export { discoverGcp, type GcpDiscoveryOptions } from './gcp';
export { discoverGitBranches, type GitOptions } from './git';
export { discoverKubeContexts, type KubeDiscoveryOptions } from './kube';
export type { DiscoveryEnv } from './readOptional';
export { AWS_REGIONS, AWS_REGIONS_AS_OF, GCP_REGIONS, GCP_REGIONS_AS_OF } from './regions';
export type * from './types';
