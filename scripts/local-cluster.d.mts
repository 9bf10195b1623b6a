// Types for local-cluster.mjs, which stays plain JavaScript so it runs without a build.

export const CONTEXT: 'encore-local';
export const PORTS: Readonly<Record<'apiserver' | 'etcdClient' | 'etcdPeer' | 'kubelet' | 'kubeletHealthz' | 'proxyMetrics' | 'proxyHealthz' | 'registry', number>>;
/** Cluster DNS: pods' nameserver, on the bridge (10.244.0.1:53), answering for cluster.local. */
export const DNS_ADDRESS: string;
export const CLUSTER_DOMAIN: 'cluster.local';
/** 127.0.0.1:PORT of the local image registry. */
export const REGISTRY: string;
/** https://127.0.0.1:16443 */
export const SERVER: string;
export const CONTAINERD_VERSION: string;
/** Runtime state (removed on stop). */
export const stateDir: string;
/** Kept between runs: certificates, tokens, the kubeconfig. */
export const homeDir: string;
/** The kubeconfig with the context encore-local (stable path and credentials across restarts). */
export const kubeconfigPath: string;

export class CannotRunHere extends Error {}

export function craneBin(): string;
export function kubectlBin(): string;
export function checkHost(options?: { ports?: boolean }): Promise<void>;
export function buildLocalCluster(options?: { log?: (message: string) => void; images?: boolean }): Promise<{ what: string; ms: number; cpuSeconds: number }[]>;
export function mergeKubeconfig(options?: { target?: string }): string;

export interface LocalCluster {
  kubeconfigPath: string;
  context: 'encore-local';
  server: string;
  registry: string;
  /** "image the planner names → local image reference", e.g. postgres:16 → 127.0.0.1:15000/mirror/postgres:16. */
  images: Record<string, string>;
  pushed: { name: string; ref: string; ms: number }[];
  node: string;
  stateDir: string;
  logDir: string;
  /** The admin's bearer token (system:masters) and the cluster CA, PEM. */
  token: string;
  ca: string;
  /** Milliseconds from the start of start-up to each step: 'api ready', 'node ready', 'usable', … */
  timings: Record<string, number>;
  pids: Record<string, number | undefined>;
  /** What the host had before the first start: the kernel settings restored on stop, the paths that existed. */
  savedHostState: { sysctls: Record<string, string>; existingPaths: string[]; netns: string[] };
  /** Tears everything down and restores the host; resolves with what could not be removed (empty when clean). */
  stop(): Promise<string[]>;
}

export function startLocalCluster(options?: {
  build?: boolean;
  signal?: AbortSignal;
  log?: (message: string) => void;
  readyTimeoutMs?: number;
  mergeIntoKubeconfig?: boolean;
}): Promise<LocalCluster>;
export function stopLocalCluster(options?: { log?: (message: string) => void }): Promise<string[]>;
export function teardown(options?: { log?: (message: string) => void }): Promise<string[]>;
/** What of the cluster is still on the host (processes, mounts, the bridge, iptables chains, state, settings). */
export function leftovers(options?: { host?: { sysctls: Record<string, string> } | null }): string[];
export function localClusterStatus(): Promise<Record<string, unknown>>;
