/**
 * A server that runs inside the cluster (Postgres, Redis, NSQ, MinIO): a StatefulSet, a PersistentVolumeClaim per
 * replica, a headless Service, and optionally a Secret with generated credentials.
 *
 * The claims are separate resources, created before the StatefulSet under the names its volumeClaimTemplate would
 * give them (`data-<statefulset>-<ordinal>`), so the StatefulSet adopts them. That way the volumes are in the graph,
 * marked stateful, and destroying the StatefulSet never quietly leaves (or quietly deletes) the data.
 */

import type { JsonObject, SourceRef } from '../../model/desiredGraph';
import type { PlanContext } from './context';

/** Which server a StatefulSet runs: the renderer knows how each one is started, probed and given its disk. */
export type ServerKind = 'postgres' | 'redis' | 'nsqd' | 'minio';

export interface InClusterServer {
  kind: ServerKind;
  source: SourceRef | null;
  /** How the tree names what it is for, e.g. "users DB". */
  label: string;
  /** The StatefulSet and Service name, e.g. `encore-postgres-users`. */
  workload: string;
  image: string;
  port: number;
  /** More ports than the main one (nsqd's HTTP API), by name. */
  extraPorts?: { name: string; port: number }[];
  replicas: number;
  cpu: number;
  memoryGiB: number;
  diskGiB: number;
  args?: string[];
  /** Keys of a generated credentials Secret (e.g. `password`), or none. */
  credentials?: string[];
  /** Extra StatefulSet settings (database name, configuration). */
  settings?: JsonObject;
  summary: string;
}

export interface InClusterRefs {
  statefulSetId: string;
  serviceId: string;
  /** The credentials Secret, when asked for. */
  secret: { id: string; name: string } | null;
  /** The in-cluster DNS name of the first replica, which is the primary. */
  host: string;
  /** `host:port` of the first replica. */
  address: string;
  dependsOn: string[];
}

export function planInCluster(ctx: PlanContext, s: InClusterServer): InClusterRefs {
  const base = ctx.k8sBase;
  const pvcIds: string[] = [];
  for (let i = 0; i < s.replicas; i++) {
    const name = `data-${s.workload}-${i}`;
    const id = `k8s:pvc:${name}`;
    pvcIds.push(id);
    ctx.add({
      id,
      kind: 'pvc',
      providerType: 'k8s/v1/PersistentVolumeClaim',
      name,
      source: s.source,
      settings: { storageGiB: s.diskGiB, accessModes: ['ReadWriteOnce'], storageClassName: null },
      dependsOn: base,
      stateful: true,
      summary: `${s.label} → PVC ${name}, ${s.diskGiB} GiB`,
    });
  }
  let secret: InClusterRefs['secret'] = null;
  if (s.credentials) {
    secret = { id: `k8s:secret:${s.workload}`, name: s.workload };
    ctx.add({
      id: secret.id,
      kind: 'secret',
      providerType: 'k8s/v1/Secret',
      name: s.workload,
      source: s.source,
      // Generated at apply time by the engine; the graph only names the keys.
      settings: { keys: Object.fromEntries(s.credentials.map((k) => [k, { generate: 'password', length: 32 }])) },
      dependsOn: base,
      summary: `${s.label} → Secret ${s.workload} (generated ${s.credentials.join(', ')})`,
    });
  }
  const serviceId = `k8s:service:${s.workload}`;
  ctx.add({
    id: serviceId,
    kind: 'service',
    providerType: 'k8s/v1/Service',
    name: s.workload,
    source: s.source,
    settings: { type: 'ClusterIP', clusterIP: 'None', ports: [{ port: s.port, targetPort: s.port }], selector: { 'app.kubernetes.io/name': s.workload } },
    dependsOn: base,
    summary: `${s.label} → headless Service ${s.workload}:${s.port}`,
  });
  const statefulSetId = `k8s:statefulset:${s.workload}`;
  ctx.add({
    id: statefulSetId,
    kind: 'statefulSet',
    providerType: 'k8s/apps/v1/StatefulSet',
    name: s.workload,
    source: s.source,
    settings: {
      serverKind: s.kind,
      image: s.image,
      replicas: s.replicas,
      serviceName: s.workload,
      port: s.port,
      ports: [{ name: s.kind, port: s.port }, ...(s.extraPorts ?? [])],
      args: s.args ?? [],
      resources: { requests: { cpu: cpuQuantity(s.cpu), memory: memoryQuantity(s.memoryGiB) }, limits: { memory: memoryQuantity(s.memoryGiB) } },
      volumeClaimTemplate: { name: 'data', storageGiB: s.diskGiB },
      credentialsSecret: secret ? secret.name : null,
      ...(s.settings ?? {}),
    },
    dependsOn: [...base, ...pvcIds, serviceId, ...(secret ? [secret.id] : [])],
    summary: s.summary,
  });
  const host = `${s.workload}-0.${ctx.names.serviceHost(s.workload)}`;
  return {
    statefulSetId,
    serviceId,
    secret,
    host,
    address: `${host}:${s.port}`,
    dependsOn: [statefulSetId, serviceId, ...(secret ? [secret.id] : [])],
  };
}

/** Kubernetes CPU quantity: whole cores as `2`, fractions in millicores (`500m`). */
export function cpuQuantity(cpu: number): string {
  return Number.isInteger(cpu) ? String(cpu) : `${Math.round(cpu * 1000)}m`;
}

/** Kubernetes memory quantity in Mi, so fractional GiB answers stay exact enough (3.75 GiB → 3840Mi). */
export function memoryQuantity(gib: number): string {
  return `${Math.round(gib * 1024)}Mi`;
}
