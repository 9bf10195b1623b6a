/**
 * Whether a live object is usable, from its status fields, with the reason in words a person can act on. The
 * reasons come from where a person would look: the claim's storage class, the pods' waiting reasons
 * (ImagePullBackOff, CreateContainerConfigError, …), scheduling failures, a Job's failure condition.
 */

import type { ObjectStatus } from '../../../model/providerApi';
import type { KubeClient, KubeObject } from './client';
import { ANNOTATION, LABEL } from './manifests';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

export async function liveStatus(client: KubeClient, obj: KubeObject, signal?: AbortSignal): Promise<ObjectStatus> {
  const o = obj as Any;
  const name = obj.metadata.name;
  const ns = obj.metadata.namespace;
  if (o.metadata.deletionTimestamp) return { state: 'pending', reason: `${obj.kind} ${name} is being deleted` };
  switch (obj.kind) {
    case 'Namespace':
      return o.status?.phase === 'Active' ? { state: 'ready' } : { state: 'failed', reason: `namespace ${name} is ${o.status?.phase ?? 'not active'}: wait until it is gone, then apply again` };
    case 'PersistentVolumeClaim':
      return pvcStatus(client, o, signal);
    case 'StatefulSet': {
      const want = o.spec?.replicas ?? 1;
      const ready = o.status?.readyReplicas ?? 0;
      if ((o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 0) && ready >= want && (o.status?.updatedReplicas ?? want) >= want) return { state: 'ready' };
      return { state: 'pending', reason: `StatefulSet ${name} has ${ready}/${want} ready replicas${await podDetail(client, ns, o.spec?.selector?.matchLabels, signal)}` };
    }
    case 'Deployment': {
      const want = o.spec?.replicas ?? 1;
      const available = o.status?.availableReplicas ?? 0;
      const progressing = (o.status?.conditions ?? []).find((c: Any) => c.type === 'Progressing');
      const detail = async () => podDetail(client, ns, o.spec?.selector?.matchLabels, signal);
      if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
        return { state: 'failed', reason: `Deployment ${name} stopped progressing with ${available}/${want} available replicas${await detail()}` };
      }
      const current = (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
      if (current && available >= want && (o.status?.updatedReplicas ?? 0) >= want) return { state: 'ready' };
      const unset = await unsetSecretValue(client, ns, o.spec?.selector?.matchLabels, signal);
      if (unset) return { state: 'failed', reason: `Deployment ${name} cannot start its pods until ${unset} has a value: set it (Set Secret Value… in VS Code, or encore-env secret set), then apply again` };
      return { state: 'pending', reason: `Deployment ${name} has ${available}/${want} available replicas${current ? '' : ' (rollout not observed yet)'}${await detail()}` };
    }
    case 'Job': {
      const conditions = (o.status?.conditions ?? []) as Any[];
      const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
      if (failed) return { state: 'failed', reason: `Job ${name} failed: ${failed.reason ?? ''}${failed.message ? ` (${failed.message})` : ''}${await podDetail(client, ns, { 'batch.kubernetes.io/job-name': name }, signal)}` };
      if ((o.status?.succeeded ?? 0) >= 1 || conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { state: 'ready' };
      return { state: 'pending', reason: `Job ${name} has not finished${await podDetail(client, ns, { 'batch.kubernetes.io/job-name': name }, signal)}` };
    }
    case 'Service':
      if (o.spec?.type === 'LoadBalancer' && !(o.status?.loadBalancer?.ingress?.length > 0)) return { state: 'pending', reason: `Service ${name} is waiting for a load balancer address` };
      return { state: 'ready' };
    case 'Secret': {
      const pendingValue = o.metadata.annotations?.['encore.dev/value'];
      // A value a person sets later is not a reason to hold the apply: the Secret exists, and says what it lacks.
      return pendingValue && Object.keys(o.data ?? {}).length === 0 ? { state: 'ready', reason: `no value yet (${pendingValue})` } : { state: 'ready' };
    }
    default:
      return { state: 'ready' };
  }
}

async function pvcStatus(client: KubeClient, o: Any, signal?: AbortSignal): Promise<ObjectStatus> {
  const phase = o.status?.phase ?? 'Pending';
  if (phase === 'Bound') return { state: 'ready' };
  if (phase === 'Lost') return { state: 'failed', reason: `PVC ${o.metadata.name} lost its volume` };
  const className: string | undefined = o.spec?.storageClassName;
  if (!className) {
    const classes = await client.list('storage.k8s.io/v1', 'StorageClass', undefined, {}, signal);
    const hasDefault = classes.items.some((c) => c.metadata.annotations?.[DEFAULT_CLASS] === 'true');
    return {
      state: 'pending',
      reason: hasDefault
        ? `PVC pending: waiting for the default StorageClass to provision a volume`
        : `PVC pending: no default StorageClass in the cluster (mark one with the annotation ${DEFAULT_CLASS}=true, or install a provisioner)`,
    };
  }
  const cls = await client.find('storage.k8s.io/v1', 'StorageClass', undefined, className, signal);
  if (!cls) return { state: 'pending', reason: `PVC pending: its StorageClass "${className}" does not exist` };
  // Such a claim binds only once a pod uses it; holding the StatefulSet back for it would wait forever.
  if ((cls as Any).volumeBindingMode === 'WaitForFirstConsumer') return { state: 'ready', reason: `waits for its first pod (StorageClass ${className} binds on first use)` };
  return { state: 'pending', reason: `PVC pending: waiting for StorageClass "${className}" (${(cls as Any).provisioner}) to provision a volume` };
}

/**
 * The app secret a workload's pods wait for, when they cannot start because a key of a Secret is missing and that
 * Secret's value is one a person sets (its value annotation): waiting would not bring it, so the apply says so at
 * once instead of after the Deployment's timeout. Undefined for any other reason.
 */
async function unsetSecretValue(client: KubeClient, namespace: string | undefined, selector: Record<string, string> | undefined, signal?: AbortSignal): Promise<string | undefined> {
  if (!namespace || !selector || Object.keys(selector).length === 0) return undefined;
  const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await client.list('v1', 'Pod', namespace, { labelSelector }, signal);
  for (const pod of pods.items as Any[]) {
    for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason !== 'CreateContainerConfigError') continue;
      const missing = /couldn't find key (\S+) in Secret ([^/\s]+)\/([^\s,]+)/.exec(String(waiting.message ?? ''));
      if (!missing) continue;
      const [, key, secretNamespace, secretName] = missing as unknown as [string, string, string, string];
      const secret = (await client.find('v1', 'Secret', secretNamespace, secretName, signal)) as Any | null;
      if (!secret?.metadata?.annotations?.[ANNOTATION.value] || secret.data?.[key] !== undefined) continue;
      // The planner's summary names the app's secret ("SessionSigningKey secret → …").
      const appSecret = /^(\S+) secret →/.exec(String(secret.metadata.annotations?.[ANNOTATION.summary] ?? ''))?.[1];
      return appSecret ? `the secret ${appSecret} (Secret ${secretName})` : `Secret ${secretName}`;
    }
  }
  return undefined;
}

/** ": pod x: ImagePullBackOff (Back-off pulling image …)", from the pods a selector picks; empty when none say more. */
async function podDetail(client: KubeClient, namespace: string | undefined, selector: Record<string, string> | undefined, signal?: AbortSignal): Promise<string> {
  if (!namespace || !selector || Object.keys(selector).length === 0) return '';
  const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await client.list('v1', 'Pod', namespace, { labelSelector }, signal);
  if (pods.items.length === 0) return selector[LABEL.name] || selector['batch.kubernetes.io/job-name'] ? ': no pods yet' : '';
  const reasons = new Set<string>();
  for (const pod of pods.items as Any[]) {
    const scheduled = (pod.status?.conditions ?? []).find((c: Any) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False') reasons.add(`pod ${pod.metadata.name} unschedulable: ${scheduled.message ?? scheduled.reason}`);
    for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated ?? cs.lastState?.terminated;
      if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
        reasons.add(`${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`);
      } else if (terminated?.exitCode) {
        reasons.add(`container ${cs.name} exited with ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`);
      } else if (cs.ready === false && cs.state?.running) {
        reasons.add(`container ${cs.name} is running but not ready (readiness probe)`);
      }
    }
  }
  return reasons.size > 0 ? `: ${[...reasons].slice(0, 3).join('; ')}` : '';
}
