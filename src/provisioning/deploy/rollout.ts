/**
 * Whether a Deployment has rolled out, by kubectl's rules (`kubectl rollout status`, its DeploymentStatusViewer),
 * with messages in kubectl's words; why a rollout is stuck, from its pods' container statuses; and a watcher that
 * polls a set of Deployments through the KubeClient until each rolled out, failed, or the time is up.
 *
 * The rules, in kubectl's order:
 * - the controller has not seen the newest spec (status.observedGeneration < metadata.generation): waiting;
 * - the Progressing condition's reason is ProgressDeadlineExceeded (the controller sets it with status False once
 *   spec.progressDeadlineSeconds pass without progress): failed;
 * - fewer updated replicas than desired, old replicas still running, or fewer available than updated: progressing;
 * - otherwise rolled out.
 */

import type { KubeClient, KubeObject } from '../providers/kubernetes/client';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

export type RolloutState = 'waiting' | 'progressing' | 'failed' | 'done';

export interface RolloutStatus {
  name: string;
  state: RolloutState;
  /** kubectl's line for this state, e.g. `Waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been updated...`. */
  message: string;
  generation: number;
  observedGeneration: number;
  desired: number;
  updated: number;
  available: number;
  /** Replicas of every revision, new and old. */
  total: number;
}

export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/** The rollout state of a Deployment object, as read from the API server. */
export function rolloutStatus(deployment: KubeObject): RolloutStatus {
  const d = deployment as Any;
  const name: string = d.metadata?.name ?? '(unnamed)';
  const s: Any = d.status ?? {};
  const base = {
    name,
    generation: d.metadata?.generation ?? 0,
    observedGeneration: s.observedGeneration ?? 0,
    // The API server defaults spec.replicas to 1; kubectl skips the check when it is unset.
    desired: d.spec?.replicas ?? 1,
    updated: s.updatedReplicas ?? 0,
    available: s.availableReplicas ?? 0,
    total: s.replicas ?? 0,
  };
  const waiting = (message: string): RolloutStatus => ({ ...base, state: 'progressing', message: `Waiting for deployment "${name}" rollout to finish: ${message}...` });
  if (base.generation > base.observedGeneration) return { ...base, state: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
  const progressing = ((s.conditions ?? []) as Any[]).find((c) => c.type === 'Progressing');
  if (progressing?.reason === PROGRESS_DEADLINE_EXCEEDED) {
    const detail = typeof progressing.message === 'string' && progressing.message ? `: ${progressing.message}` : '';
    return { ...base, state: 'failed', message: `deployment "${name}" exceeded its progress deadline${detail}` };
  }
  if (d.spec?.replicas !== undefined && base.updated < base.desired) return waiting(`${base.updated} out of ${base.desired} new replicas have been updated`);
  if (base.total > base.updated) return waiting(`${base.total - base.updated} old replicas are pending termination`);
  if (base.available < base.updated) return waiting(`${base.available} of ${base.updated} updated replicas are available`);
  return { ...base, state: 'done', message: `deployment "${name}" successfully rolled out` };
}

/** Waiting reasons that are only a normal step of a pod's start, not a problem. */
const NORMAL_WAITING = new Set(['ContainerCreating', 'PodInitializing']);

/**
 * Why pods do not become available, in words a person can act on: each container's waiting reason with its message
 * (ImagePullBackOff, ErrImagePull, CrashLoopBackOff, CreateContainerConfigError, …), its last exit code, a pod that
 * cannot be scheduled. Identical reasons of several pods are given once, with the pods counted.
 */
export function explainPods(pods: readonly KubeObject[]): string[] {
  const reasons = new Map<string, number>();
  const add = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  for (const pod of pods as readonly Any[]) {
    const scheduled = ((pod.status?.conditions ?? []) as Any[]).find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False') add(`unschedulable: ${scheduled.message ?? scheduled.reason ?? 'no reason given'}`);
    const statuses: Any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const cs of statuses) {
      const waiting = cs.state?.waiting;
      const lastExit = cs.lastState?.terminated ?? cs.state?.terminated;
      if (waiting?.reason && !NORMAL_WAITING.has(waiting.reason)) {
        let line = `container ${cs.name}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`;
        if (waiting.reason === 'CrashLoopBackOff' && lastExit) line += `; it last exited with code ${lastExit.exitCode}${lastExit.reason ? ` (${lastExit.reason})` : ''}`;
        add(line);
      } else if (cs.state?.terminated && cs.state.terminated.exitCode !== 0) {
        add(`container ${cs.name} exited with code ${cs.state.terminated.exitCode}${cs.state.terminated.reason ? ` (${cs.state.terminated.reason})` : ''}`);
      } else if (cs.state?.running && cs.ready === false) {
        add(`container ${cs.name} is running but not ready (its readiness probe fails)`);
      }
    }
  }
  return [...reasons].map(([reason, n]) => (n > 1 ? `${reason} [${n} pods]` : reason));
}

/** The pods of the Deployment's current template: those running its images (ReplicaSets may not be readable). */
function currentPods(deployment: Any, pods: Any[]): Any[] {
  const images = ((deployment.spec?.template?.spec?.containers ?? []) as Any[]).map((c) => c.image).sort().join('\n');
  const current = pods.filter((p) => ((p.spec?.containers ?? []) as Any[]).map((c) => c.image).sort().join('\n') === images);
  return current.length > 0 ? current : pods;
}

// ---------------------------------------------------------------------------------------------------------------
// the watcher

export type RolloutOutcome = RolloutStatus & {
  /** `timeout` when the watch ran out of time first; `superseded` when the Deployment no longer runs the expected image. */
  result: 'done' | 'failed' | 'timeout' | 'superseded' | 'missing';
  /** The pods' reasons, for a rollout that did not finish (empty when the cluster has no pods or they say nothing). */
  podReasons: string[];
};

export interface RolloutReport {
  ok: boolean;
  /** By Deployment name, in the order asked for. */
  deployments: RolloutOutcome[];
  /** One line per Deployment that did not roll out: which and why. */
  summary: string;
}

export interface WatchOptions {
  /** For the whole watch (default 10 minutes, kubectl's progress deadline default). */
  timeoutMs?: number;
  /** Between two reads (default 1 s). */
  pollMs?: number;
  signal?: AbortSignal;
  /** Each change of a Deployment's state or message. */
  onProgress?: (status: RolloutStatus) => void;
  /**
   * The image each named Deployment's first container must run (the `repo@sha256:…` just applied): a Deployment
   * changed to another image during the watch (a newer deploy) is reported `superseded`, not waited for.
   */
  expectImages?: Record<string, string>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function podReasons(client: KubeClient, namespace: string, deployment: Any, signal?: AbortSignal): Promise<string[]> {
  const selector: Record<string, string> | undefined = deployment.spec?.selector?.matchLabels;
  if (!selector || Object.keys(selector).length === 0) return [];
  const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await client.list('v1', 'Pod', namespace, { labelSelector }, signal);
  return explainPods(currentPods(deployment, pods.items as Any[]) as KubeObject[]);
}

/**
 * Watches Deployments `names` in `namespace` until every one rolled out, failed, or `timeoutMs` passed. A failure
 * does not stop the watch of the others, so the report says which ones did roll out. Errors of the API server
 * (refused credentials, a lost connection) are thrown as they are; an abort rejects with the signal's reason.
 */
export async function watchRollout(client: KubeClient, namespace: string, names: readonly string[], options: WatchOptions = {}): Promise<RolloutReport> {
  const { timeoutMs = 600_000, pollMs = 1000, signal, onProgress, expectImages = {} } = options;
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, RolloutStatus>();
  const finished = new Map<string, RolloutOutcome>();
  const objects = new Map<string, Any>();
  const pending = () => names.filter((n) => !finished.has(n));
  for (;;) {
    signal?.throwIfAborted();
    const list = await client.list('apps/v1', 'Deployment', namespace, {}, signal);
    const byName = new Map(list.items.map((d) => [d.metadata.name, d as Any]));
    for (const name of pending()) {
      const d = byName.get(name);
      if (!d) {
        finished.set(name, { ...emptyStatus(name), result: 'missing', message: `Deployment "${name}" does not exist in namespace "${namespace}"`, podReasons: [] });
        continue;
      }
      objects.set(name, d);
      const status = rolloutStatus(d as KubeObject);
      const previous = last.get(name);
      if (!previous || previous.state !== status.state || previous.message !== status.message) onProgress?.(status);
      last.set(name, status);
      const image = d.spec?.template?.spec?.containers?.[0]?.image;
      const expected = expectImages[name];
      if (expected !== undefined && image !== expected) {
        finished.set(name, { ...status, result: 'superseded', message: `deployment "${name}" was changed to ${image ?? 'another image'} during the rollout of ${expected} (a newer deploy?)`, podReasons: [] });
      } else if (status.state === 'done') {
        finished.set(name, { ...status, result: 'done', podReasons: [] });
      } else if (status.state === 'failed') {
        finished.set(name, { ...status, result: 'failed', podReasons: await podReasons(client, namespace, d, signal) });
      }
    }
    if (pending().length === 0) break;
    if (Date.now() >= deadline) {
      for (const name of pending()) {
        const status = last.get(name) ?? emptyStatus(name);
        const d = objects.get(name);
        finished.set(name, {
          ...status,
          result: 'timeout',
          message: `deployment "${name}" did not roll out within ${seconds(timeoutMs)}: ${status.message}`,
          podReasons: d ? await podReasons(client, namespace, d, signal) : [],
        });
      }
      break;
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), signal);
  }
  const deployments = names.map((n) => finished.get(n)!);
  const failures = deployments.filter((d) => d.result !== 'done');
  return {
    ok: failures.length === 0,
    deployments,
    summary: failures.map((d) => `${d.message}${d.podReasons.length > 0 ? ` (pods: ${d.podReasons.join('; ')})` : ''}`).join('\n'),
  };
}

/** "0.6 s", "45 s", "10 min". */
function seconds(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}

function emptyStatus(name: string): RolloutStatus {
  return { name, state: 'waiting', message: 'no status read yet', generation: 0, observedGeneration: 0, desired: 0, updated: 0, available: 0, total: 0 };
}
