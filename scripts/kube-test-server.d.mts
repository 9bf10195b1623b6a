// Types for kube-test-server.mjs, which stays plain JavaScript so `npm run kube:build` runs it without a build.

/** The Kubernetes release built, read from test/kube/apiserver/go.mod (e.g. "1.35.4"). */
export const KUBE_VERSION: string;
/** The etcd release built, read from test/kube/etcd/go.mod (e.g. "3.6.5"). */
export const ETCD_VERSION: string;
export const cacheDir: string;
export const binDir: string;
export const kubeApiserverBin: string;
export const etcdBin: string;

export function kubeBinariesReady(): boolean;
export function buildKubeBinaries(options?: { force?: boolean }): Promise<{ kubeApiserverBin: string; etcdBin: string }>;
export function freePort(): Promise<number>;

export interface KubeServer {
  /** A kubeconfig with the contexts `encore-test` (admin, the current one) and `encore-test-viewer` (no RBAC rights). */
  kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** The admin's bearer token (group system:masters). */
  token: string;
  /** A user's bearer token with no group and so no rights: every request it makes is a 403. */
  viewerToken: string;
  /** The self-signed certificate chain kube-apiserver generated; the kubeconfig trusts it. */
  caFile: string;
  etcdUrl: string;
  /** The folder holding etcd's data, the certificates, the tokens, the kubeconfig and both logs. */
  dir: string;
  logs: { etcd: string; apiserver: string };
  pids: { etcd: number | undefined; apiserver: number | undefined };
  /** Milliseconds from spawning etcd to the first 200 from /readyz. */
  readyMs: number;
  kubeVersion: string;
  etcdVersion: string;
  /** Stops kube-apiserver, then etcd; deletes `dir` unless the caller passed it. Safe to call twice. */
  stop(): Promise<void>;
}

export function startKubeServer(options?: {
  dir?: string;
  readyTimeoutMs?: number;
  /** Bearer tokens not in the token file are reviewed by this TokenReview v1 webhook (test/kube/tokenWebhook.ts). */
  tokenWebhook?: { url: string };
}): Promise<KubeServer>;
