/**
 * The Kubernetes ProviderDriver (providerApi.ts): every in-cluster resource of an environment, applied with
 * server-side apply under the field manager `encore-environments`, read back for drift, waited for with reasons,
 * and deleted. It acts on one cluster endpoint (client.ts `KubeEndpoint`): the kubeconfig context a Kubernetes
 * environment names, or the EKS or GKE cluster a cloud environment's run creates.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { DesiredResource } from '../../../model/desiredGraph';
import { DriverError, type DriverTiming, type FieldChange, type LiveObject, type Outputs, type ProviderDriver, type ResolvedResource, type StepContext } from '../../../model/providerApi';
import { FIELD_MANAGER, KubeClient, type KubeEndpoint, type KubeObject } from './client';
import { diffSettings } from './diff';
import { KubeApiError } from './errors';
import { toDriverError } from './driverErrors';
import { ANNOTATION, LABEL, labelValue, MANAGED_BY, renderResource, resourceNamespace, secretValues, supportsType, targetOf, type RenderContext } from './manifests';
import { resourceType } from './resources';
import { observe } from './observe';
import { liveStatus } from './readiness';
import { secretValueStatus, setSecretValue } from './secretValues';
import { KubernetesStateBackend, type KubernetesStateOptions } from './stateBackend';

export interface KubernetesDriverOptions extends DriverTiming {
  /** The environment's name (labels, messages). */
  environment: string;
  /** The namespace every object of the environment lives in. */
  namespace: string;
  /** Production: HPAs own the replica counts. */
  production: boolean;
  /** Where it acts, for messages and the lock holder: "Kubernetes context kind-dev, namespace shop-staging". */
  target: string;
  /** The cluster to act on; asked on first use, and again after a failure. */
  endpoint: () => Promise<KubeEndpoint>;
}

/** How long each kind may take to become ready: an image pull and a first initdb fit in ten minutes. */
const READY_TIMEOUT_MS: Record<string, number> = {
  PersistentVolumeClaim: 120_000,
  StatefulSet: 600_000,
  Deployment: 600_000,
  Job: 900_000,
  Service: 600_000,
};

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

export class KubernetesDriver implements ProviderDriver {
  readonly kind = 'kubernetes' as const;
  readonly target: string;
  readonly namespace: string;
  readonly environment: string;
  private connection: Promise<KubeClient> | null = null;

  constructor(private readonly options: KubernetesDriverOptions) {
    this.namespace = options.namespace;
    this.environment = options.environment;
    this.target = options.target;
  }

  /** Connects once, on first use; a failed connection is retried on the next call. */
  async client(): Promise<KubeClient> {
    this.connection ??= this.options.endpoint().then((endpoint) => {
      const client = new KubeClient(endpoint);
      if (this.options.requestTimeoutMs !== undefined) client.requestTimeoutMs = this.options.requestTimeoutMs;
      return client;
    });
    try {
      return await this.connection;
    } catch (err) {
      this.connection = null;
      throw toDriverError(err);
    }
  }

  private get renderBase(): RenderContext {
    return { environment: this.environment, namespace: this.namespace, production: this.options.production };
  }

  async preflight(signal: AbortSignal): Promise<void> {
    const client = await this.client();
    try {
      await client.request('GET', '/version', { signal });
      // Reading our namespace proves the credentials work for it (a 403 here names the missing right). An identity
      // limited to the namespace (a Role, such as deploy on push's) cannot read the Namespace object itself, so a
      // read inside it proves as much.
      try {
        await client.find('v1', 'Namespace', undefined, this.namespace, signal);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 403)) throw err;
        await client.list('apps/v1', 'Deployment', this.namespace, {}, signal);
      }
    } catch (err) {
      throw toDriverError(err);
    }
  }

  supports(providerType: string): boolean {
    return supportsType(providerType);
  }

  async read(resource: DesiredResource, signal: AbortSignal): Promise<LiveObject | null> {
    try {
      const client = await this.client();
      const live = await this.findLive(client, resource, signal);
      if (!live) return null;
      return {
        externalId: live.metadata.uid ?? `${live.kind}/${live.metadata.name}`,
        observed: observe(resource, live, this.renderBase),
        outputs: outputsOf(live),
        status: await liveStatus(client, live, signal),
        version: live.metadata.resourceVersion,
        ours: this.marked(live),
      };
    } catch (err) {
      throw toDriverError(err, resource.id);
    }
  }

  create(resource: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return this.apply(resource, ctx);
  }

  update(resource: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return this.apply(resource, ctx);
  }

  /**
   * Create and update are one server-side apply: it creates what is missing and changes only the fields we send.
   * An object that exists without our field manager (made by hand, or by another tool) is adopted with `force`, so
   * we take over the fields we manage. A field someone changed outside the tool (kubectl scale, edit) makes the apply
   * conflict; the plan the user approved shows that field going back, so the apply is repeated with `force` and the
   * step's progress says which fields were taken back from whom.
   */
  private async apply(resource: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    try {
      const client = await this.client();
      const manifest = await this.render(client, resource, ctx.signal);
      const existing = await client.find(manifest.apiVersion, manifest.kind, manifest.metadata.namespace, manifest.metadata.name, ctx.signal);
      const ours = existing?.metadata.managedFields?.some((m) => m.manager === FIELD_MANAGER) ?? false;
      if (existing && !ours) ctx.progress(`adopting the existing ${manifest.kind} ${manifest.metadata.name}`);
      let applied: KubeObject;
      try {
        applied = await client.apply(manifest, { force: existing !== null && !ours, signal: ctx.signal });
      } catch (err) {
        if (existing && immutableStatefulSetField(manifest, err)) {
          applied = await this.replaceStatefulSet(client, manifest, ctx);
        } else if (existing && manifest.kind === 'PersistentVolumeClaim') {
          throw claimResizeError(resource, existing, manifest, err);
        } else if (existing && !ours && immutableField(err)) {
          throw new DriverError(
            'invalid',
            `${manifest.kind} ${manifest.metadata.name} in namespace ${this.namespace} was made outside the tool with settings that cannot change in place (${(err as Error).message.replace(/^.*?: /, '')}). Delete it, or point the environment at another namespace.`,
            { resourceId: resource.id, cause: err },
          );
        } else {
          const conflict = err as { code?: number; causes?: { field?: string; message?: string }[] };
          if (conflict.code !== 409 || !conflict.causes?.length) throw err;
          ctx.progress(`taking back ${conflict.causes.map((c) => `${c.field} (${c.message})`).join(', ')}`);
          applied = await client.apply(manifest, { force: true, signal: ctx.signal });
        }
      }
      if (targetOf(resource).byLabel) await this.removeOldJobs(client, resource, applied.metadata.name, ctx.signal);
      return outputsOf(applied);
    } catch (err) {
      throw toDriverError(err, resource.id);
    }
  }

  /**
   * A StatefulSet's volume claim template (a database's disk size) cannot change in place. The StatefulSet is deleted
   * with its pods and volumes orphaned, then made again from the new manifest, which adopts both: the database keeps
   * running on its data. The volume itself grows through its own PersistentVolumeClaim resource, applied first.
   */
  private async replaceStatefulSet(client: KubeClient, manifest: KubeObject, ctx: StepContext): Promise<KubeObject> {
    const { name, namespace } = manifest.metadata;
    ctx.progress(`StatefulSet ${name}: its volume claim template cannot change in place; making it again, keeping its pods and volumes`);
    await client.delete('apps/v1', 'StatefulSet', namespace, name, { propagation: 'Orphan', signal: ctx.signal });
    const deadline = Date.now() + (this.options.deleteTimeoutMs ?? 300_000);
    while (await client.find('apps/v1', 'StatefulSet', namespace, name, ctx.signal)) {
      if (Date.now() >= deadline) {
        throw new DriverError('not-ready', `StatefulSet ${name} was still being deleted (orphaning its pods) after ${Math.round((this.options.deleteTimeoutMs ?? 300_000) / 1000)} s: the cluster's garbage collector removes the orphan finalizer`);
      }
      await sleep(this.options.pollIntervalMs ?? 2000, undefined, { signal: ctx.signal });
    }
    return client.apply(manifest, { force: true, signal: ctx.signal });
  }

  /** The manifest, with what only the cluster knows: kept secret values and the infra config's hash. */
  private async render(client: KubeClient, resource: ResolvedResource, signal: AbortSignal): Promise<KubeObject> {
    const r: DesiredResource = { ...resource, settings: resource.resolved };
    const ctx = this.renderBase;
    if (r.providerType === 'k8s/v1/Secret') {
      const live = await client.find('v1', 'Secret', this.namespace, r.name, signal);
      const data = (live as Any | null)?.data as Record<string, string> | undefined;
      const values = data ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : null;
      ctx.secretValues = secretValues(r, values);
    }
    if (r.providerType === 'k8s/apps/v1/Deployment') {
      const infra = (r.settings.infraConfig ?? {}) as { configMap?: string };
      const live = infra.configMap ? await client.find('v1', 'Secret', this.namespace, infra.configMap, signal) : null;
      ctx.infraConfigHash = live?.metadata.annotations?.[ANNOTATION.infraConfigHash];
    }
    return renderResource(r, ctx);
  }

  /** The object carries this environment's labels and was written by our field manager: this tool made it. */
  private marked(live: KubeObject): boolean {
    const labels = live.metadata.labels ?? {};
    return (
      labels[LABEL.managedBy] === MANAGED_BY &&
      labels[LABEL.environment] === labelValue(this.environment) &&
      (live.metadata.managedFields?.some((m) => m.manager === FIELD_MANAGER) ?? false)
    );
  }

  /** Jobs of this resource made from older settings: their work is done, and only the newest one describes it. */
  private async removeOldJobs(client: KubeClient, resource: DesiredResource, keep: string, signal: AbortSignal): Promise<void> {
    for (const job of await this.jobsOf(client, resource, signal)) {
      if (job.metadata.name !== keep) await client.delete('batch/v1', 'Job', this.namespace, job.metadata.name, { signal });
    }
  }

  private async jobsOf(client: KubeClient, resource: Pick<DesiredResource, 'id'>, signal: AbortSignal): Promise<KubeObject[]> {
    const list = await client.list('batch/v1', 'Job', this.namespace, { labelSelector: `${LABEL.resourceId}=${labelValue(resource.id)}` }, signal);
    return list.items
      .filter((j) => j.metadata.annotations?.[ANNOTATION.resourceId] === resource.id)
      .sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
  }

  /** Where the resource's object lives: nowhere for a cluster-scoped kind, else its own namespace or the environment's. */
  private namespaceOf(resource: Pick<DesiredResource, 'id' | 'providerType' | 'kind' | 'settings'>): string | undefined {
    const target = targetOf(resource);
    return resourceType(target.apiVersion, target.kind).namespaced ? resourceNamespace(resource, this.namespace) : undefined;
  }

  private async findLive(client: KubeClient, resource: DesiredResource, signal: AbortSignal): Promise<KubeObject | null> {
    const target = targetOf(resource);
    if (target.byLabel) return (await this.jobsOf(client, resource, signal))[0] ?? null;
    return client.find(target.apiVersion, target.kind, this.namespaceOf(resource), resource.name, signal);
  }

  async waitReady(resource: ResolvedResource, ctx: StepContext): Promise<void> {
    const client = await this.client();
    const target = targetOf(resource);
    const timeout = this.options.readyTimeoutMs ?? READY_TIMEOUT_MS[target.kind] ?? 60_000;
    const deadline = Date.now() + timeout;
    let last = '';
    for (;;) {
      let live: KubeObject | null;
      let status;
      try {
        live = await this.findLive(client, resource, ctx.signal);
        status = live ? await liveStatus(client, live, ctx.signal) : { state: 'pending' as const, reason: `${target.kind} ${resource.name} does not exist` };
      } catch (err) {
        throw toDriverError(err, resource.id);
      }
      if (status.state === 'ready') return;
      const reason = status.reason ?? 'not ready';
      if (status.state === 'failed') throw new DriverError('not-ready', `${resource.id}: ${reason}`, { resourceId: resource.id });
      if (reason !== last) ctx.progress(reason);
      last = reason;
      if (Date.now() >= deadline) {
        throw new DriverError('not-ready', `${resource.id} was not ready after ${Math.round(timeout / 1000)} s: ${reason}`, { resourceId: resource.id });
      }
      await sleep(Math.min(this.options.pollIntervalMs ?? 2000, Math.max(0, deadline - Date.now())), undefined, { signal: ctx.signal });
    }
  }

  /**
   * Deletes in the background (foreground deletion needs the garbage collector to finish it) and waits until the
   * object is gone. What stays Terminating past the timeout is reported with the finalizers it waits for: a
   * namespace waits for the namespace controller, a claim for its pods to stop using it.
   */
  async delete(resource: DesiredResource, ctx: StepContext): Promise<void> {
    try {
      const client = await this.client();
      const target = targetOf(resource);
      // A cluster-scoped object (a cluster add-on's ClusterRole) is the environment's own: deleted with it, by name.
      const ns = this.namespaceOf(resource);
      const names = target.byLabel ? (await this.jobsOf(client, resource, ctx.signal)).map((j) => j.metadata.name) : [resource.name];
      for (const name of names) await client.delete(target.apiVersion, target.kind, ns, name, { signal: ctx.signal });
      const deadline = Date.now() + (this.options.deleteTimeoutMs ?? 300_000);
      for (const name of names) {
        let announced = false;
        for (;;) {
          const live = await client.find(target.apiVersion, target.kind, ns, name, ctx.signal);
          if (!live) break;
          const finalizers = [...((live.metadata.finalizers as string[] | undefined) ?? []), ...(((live as Any).spec?.finalizers as string[] | undefined) ?? [])];
          const why = `${target.kind} ${name} is Terminating${finalizers.length > 0 ? `, waiting for finalizers ${finalizers.join(', ')}` : ''}`;
          if (!announced) ctx.progress(why);
          announced = true;
          if (Date.now() >= deadline) {
            throw new DriverError('not-ready', `${resource.id} was not gone after ${Math.round((this.options.deleteTimeoutMs ?? 300_000) / 1000)} s: ${why} (the cluster's controllers remove them)`, { resourceId: resource.id });
          }
          await sleep(this.options.pollIntervalMs ?? 2000, undefined, { signal: ctx.signal });
        }
      }
    } catch (err) {
      throw toDriverError(err, resource.id);
    }
  }

  diff(desired: ResolvedResource, live: LiveObject): FieldChange[] {
    return kubeDiff(desired, live);
  }

  /** Closes the connections kept alive for this driver's requests. */
  async dispose(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    (await connection?.catch(() => null))?.close();
  }

  async secretValueStatus(resource: DesiredResource, signal: AbortSignal): Promise<'set' | 'unset' | 'missing'> {
    return secretValueStatus(await this.client(), this.namespace, resource, signal);
  }

  async setSecretValue(resource: DesiredResource, value: string, signal: AbortSignal): Promise<void> {
    await setSecretValue(await this.client(), this.namespace, resource, value, signal);
  }
}

/** The fields of an in-cluster object that differ; a Secret's keys are sensitive. Needs no connection. */
export function kubeDiff(desired: ResolvedResource, live: LiveObject): FieldChange[] {
  return diffSettings(desired.resolved, live.observed, { sensitive: (p) => desired.providerType === 'k8s/v1/Secret' && p.startsWith('keys.') });
}

/** What other resources may refer to: names and addresses, never a secret value. */
function outputsOf(live: KubeObject): Outputs {
  const out: Outputs = { name: { value: live.metadata.name } };
  if (live.metadata.uid) out.uid = { value: live.metadata.uid };
  const o = live as Any;
  if (live.kind === 'Service') {
    if (o.spec?.clusterIP) out.clusterIP = { value: o.spec.clusterIP };
    const ingress = o.status?.loadBalancer?.ingress?.[0];
    if (ingress) out.loadBalancerHost = { value: ingress.hostname ?? ingress.ip };
  }
  return out;
}

/** The environment's Secret + Lease state backend, on the same connection as the driver. */
export async function kubernetesStateBackend(driver: KubernetesDriver, options: KubernetesStateOptions = {}): Promise<KubernetesStateBackend> {
  return new KubernetesStateBackend(await driver.client(), driver.namespace, driver.environment, options);
}

/** The server refused a change of a field that is fixed once the object exists (a Deployment's selector). */
function immutableField(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return e.code === 422 && /field is immutable/.test(e.message ?? '');
}

/** The server refused a StatefulSet update because it changes a field other than the few it allows in place. */
function immutableStatefulSetField(manifest: KubeObject, err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return manifest.kind === 'StatefulSet' && e.code === 422 && /updates to statefulset spec for fields other than/.test(e.message ?? '');
}

/** A refused change of a claim's size, said in the user's terms; other errors pass through. */
function claimResizeError(resource: DesiredResource, live: KubeObject, manifest: KubeObject, err: unknown): unknown {
  const e = err as { code?: number; message?: string };
  const size = (o: KubeObject) => (o as Any).spec?.resources?.requests?.storage as string | undefined;
  const from = (live as Any).status?.capacity?.storage ?? size(live);
  const to = size(manifest);
  const what = `${resource.summary.split(' → ')[0]}: PersistentVolumeClaim ${manifest.metadata.name} ${from} → ${to}`;
  if (e.code === 422 && /can not be less/.test(e.message ?? '')) {
    return new DriverError('invalid', `${what}: a volume cannot shrink. Set the disk size back to ${from} or more.`, { resourceId: resource.id, cause: err });
  }
  if (e.code === 403 && /only dynamically provisioned pvc can be resized/.test(e.message ?? '')) {
    return new DriverError('invalid', `${what}: its StorageClass does not allow expansion (allowVolumeExpansion), so the disk cannot grow in place on this cluster.`, { resourceId: resource.id, cause: err });
  }
  return err;
}
