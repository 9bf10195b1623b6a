// What the Create Environment form can offer, found on this machine. Plain data (no functions), so it can be sent
// to the webview as it is. Nothing here ever holds key material: only names, places and the fact that keys exist.

/** How an AWS profile gets its credentials. */
export type AwsProfileKind = 'static-keys' | 'sso' | 'role' | 'web-identity' | 'process' | 'login' | 'unknown';

export interface AwsProfile {
  name: string;
  /** The files that define it (config, credentials or both). */
  sources: string[];
  kind: AwsProfileKind;
  region?: string;
  /** For role profiles: where the role's base credentials come from. */
  sourceProfile?: string;
  credentialSource?: string;
  /** For SSO profiles that use an `[sso-session]` section. */
  ssoSession?: string;
  /** Static keys with a session token (temporary credentials that expire). */
  hasSessionToken?: boolean;
  /** The profile AWS_PROFILE (or `default`) selects. */
  active: boolean;
  /** Why the profile cannot be used as it is; undefined when it looks usable. */
  skipped?: string;
}

export interface AwsProfiles {
  configFile: string;
  credentialsFile: string;
  profiles: AwsProfile[];
  problems: string[];
}

export interface Region {
  id: string;
  /** Where it is, e.g. "Europe (Ireland)". */
  name: string;
}

/** Where a discovered GCP value comes from. */
export type GcpSource =
  | 'environment' // GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT or CLOUDSDK_CORE_PROJECT
  | 'adc-service-account' // project_id of a service-account key used as ADC
  | 'adc-quota-project' // quota_project_id of the ADC file
  | 'gcloud-config'; // the active gcloud configuration

export interface Sourced {
  value: string;
  source: GcpSource;
  /** The file or variable it was read from. */
  from: string;
}

export interface GcpDiscovery {
  adc?: {
    file: string;
    /** `authorized_user` (gcloud auth application-default login), `service_account`, `external_account`, … */
    type: string;
    /** The service account's email, when the ADC is a service-account key. */
    account?: string;
  };
  gcloud?: {
    configFile: string;
    activeConfig: string;
    account?: string;
    project?: string;
    region?: string;
  };
  /** Project candidates, most authoritative first (the order google-auth-library resolves them in). */
  projects: Sourced[];
  /** The identity ADC acts as (service account) or, failing that, the gcloud account. */
  account?: Sourced;
  region?: Sourced;
  problems: string[];
}

export interface KubeExecPlugin {
  command: string;
  /** Of its arguments only those naming an EKS cluster (`--region R eks get-token --cluster-name N`): never a credential. */
  args?: string[];
  /** Where the command was found; undefined when it is not on PATH. */
  resolved?: string;
  found: boolean;
  /** What to do when it is missing. */
  hint?: string;
}

export interface KubeContext {
  name: string;
  /** The kubeconfig file that defines it (the first one, when several do). */
  file: string;
  cluster?: string;
  /** The cluster's API server URL, to tell clusters apart. */
  server?: string;
  namespace?: string;
  user?: string;
  current: boolean;
  exec?: KubeExecPlugin;
  /** What is wrong with this context (a missing cluster or user, a missing exec plugin, …). */
  problems: string[];
}

export interface KubeContexts {
  /** The kubeconfig files read, in KUBECONFIG order. */
  files: string[];
  currentContext?: string;
  contexts: KubeContext[];
  problems: string[];
}

export interface GitBranches {
  folder: string;
  isRepo: boolean;
  branches: string[];
  /** Undefined on a detached HEAD or outside a repository. */
  current?: string;
  problems: string[];
}

/** An existing GKE cluster of a project, as clusters.list gives it: only names, places and settings, no credential. */
export interface GkeClusterSummary {
  name: string;
  /** A region (regional cluster) or a zone (zonal cluster). */
  location: string;
  /** PROVISIONING, RUNNING, RECONCILING, STOPPING, ERROR, DEGRADED. */
  status: string;
  autopilot: boolean;
  /** The cluster's Workload Identity pool (PROJECT.svc.id.goog); undefined when Workload Identity is off. */
  workloadPool?: string;
  /** The control plane's addresses (public, private, DNS), to match kubeconfig contexts whose names were changed. */
  endpoints: string[];
}

export interface GkeClusterListing {
  project: string;
  /** Undefined when the list could not be had (then `problems` says why). */
  clusters?: GkeClusterSummary[];
  problems: string[];
}
