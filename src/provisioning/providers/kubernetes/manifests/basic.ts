/** The plain objects: Namespace, PersistentVolumeClaim, Service, ServiceAccount, HorizontalPodAutoscaler, Role, RoleBinding, ClusterRole, ClusterRoleBinding. */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { ANNOTATION, meta, num, obj, optStr, str, strList, type RenderContext } from './common';

export function renderNamespace(r: DesiredResource, ctx: RenderContext): KubeObject {
  const labels = (r.settings.labels ?? {}) as Record<string, string>;
  return { apiVersion: 'v1', kind: 'Namespace', metadata: meta(r, ctx, { labels, clusterScoped: true }) };
}

/**
 * A claim made ahead of its StatefulSet under the name the StatefulSet's volumeClaimTemplate would give it, so the
 * StatefulSet adopts it (see planner/inCluster.ts). No storageClassName means the cluster's default class.
 */
export function renderPvc(r: DesiredResource, ctx: RenderContext): KubeObject {
  const s = r.settings;
  const storageClass = optStr(s, 'storageClassName', r.id);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(r, ctx),
    spec: {
      accessModes: strList(s, 'accessModes', r.id),
      resources: { requests: { storage: `${num(s, 'storageGiB', r.id)}Gi` } },
      ...(storageClass ? { storageClassName: storageClass } : {}),
    },
  };
}

export function renderService(r: DesiredResource, ctx: RenderContext): KubeObject {
  const s = r.settings;
  const ports = (s.ports ?? []) as { port: number; targetPort: number }[];
  const clusterIP = optStr(s, 'clusterIP', r.id);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(r, ctx),
    spec: {
      type: str(s, 'type', r.id),
      ...(clusterIP ? { clusterIP } : {}),
      selector: obj(s, 'selector', r.id),
      ports: ports.map((p) => ({ name: `tcp-${p.port}`, port: p.port, targetPort: p.targetPort, protocol: 'TCP' })),
    },
  };
}

export function renderServiceAccount(r: DesiredResource, ctx: RenderContext): KubeObject {
  const annotations = (r.settings.annotations ?? {}) as Record<string, string>;
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(r, ctx, { annotations }),
    // Encore apps do not call the Kubernetes API, so their pods get no API token (least privilege); a cluster
    // add-on (the cluster autoscaler) does, and says so.
    automountServiceAccountToken: r.settings.automountToken === true,
  };
}

/** A namespaced Role with the planner's rules (the CI identity's, planner/ciIdentity.ts). */
export function renderRole(r: DesiredResource, ctx: RenderContext): KubeObject {
  const rules = r.settings.rules;
  if (!Array.isArray(rules) || rules.length === 0) throw new Error(`${r.id}: a Role needs rules`);
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(r, ctx), rules } as KubeObject;
}

/** Binds a Role of the namespace to a ServiceAccount of the same namespace, and nothing else. */
export function renderRoleBinding(r: DesiredResource, ctx: RenderContext): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(r, ctx),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: str(r.settings, 'role', r.id) },
    // A `user` (a GKE environment's deploy service account, by its email) or a ServiceAccount of the namespace.
    subjects: typeof r.settings.user === 'string'
      ? [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: r.settings.user }]
      : [{ kind: 'ServiceAccount', name: str(r.settings, 'serviceAccount', r.id), namespace: ctx.namespace }],
  } as KubeObject;
}

/** A ClusterRole with the planner's rules (a cluster add-on's, planner/autoscaler.ts): cluster-scoped, the environment's own. */
export function renderClusterRole(r: DesiredResource, ctx: RenderContext): KubeObject {
  const rules = r.settings.rules;
  if (!Array.isArray(rules) || rules.length === 0) throw new Error(`${r.id}: a ClusterRole needs rules`);
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(r, ctx, { clusterScoped: true }), rules } as KubeObject;
}

/** Binds a ClusterRole to one ServiceAccount, named with its namespace, and nothing else. */
export function renderClusterRoleBinding(r: DesiredResource, ctx: RenderContext): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: meta(r, ctx, { clusterScoped: true }),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: str(r.settings, 'clusterRole', r.id) },
    subjects: [{ kind: 'ServiceAccount', name: str(r.settings, 'serviceAccount', r.id), namespace: str(r.settings, 'serviceAccountNamespace', r.id) }],
  } as KubeObject;
}

export function renderHpa(r: DesiredResource, ctx: RenderContext): KubeObject {
  const s = r.settings;
  const requires = optStr(s, 'requires', r.id);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(r, ctx, { annotations: requires ? { [ANNOTATION.requires]: requires } : {} }),
    spec: {
      // The planner names the HPA after the Deployment it scales.
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: r.name },
      minReplicas: num(s, 'minReplicas', r.id),
      maxReplicas: num(s, 'maxReplicas', r.id),
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: num(s, 'targetCPUUtilizationPercent', r.id) } } }],
    },
  };
}

export type { JsonObject };
