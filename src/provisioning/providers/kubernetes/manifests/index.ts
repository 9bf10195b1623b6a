/**
 * DesiredResource → Kubernetes manifest, for every kind the planner emits for a cluster. Pure: the values a
 * renderer cannot know from the resource alone (generated secret values, the infra config's hash) come in through
 * the RenderContext, filled in by the driver from the cluster. Everything the planner decided is in the settings.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { renderAddonDeployment } from './addons';
import { renderClusterRole, renderClusterRoleBinding, renderHpa, renderNamespace, renderPvc, renderRole, renderRoleBinding, renderService, renderServiceAccount } from './basic';
import { resourceNamespace, type RenderContext } from './common';
import { renderCronJob } from './cronJob';
import { JOB_TYPES, renderJob } from './jobs';
import { renderInfraConfig, renderSecret } from './secrets';
import { renderStatefulSet } from './servers';
import { renderDeployment } from './workloads';

/** What kind of object stands for a resource in the cluster. `job` resources are a Job per settings hash. */
export interface Target {
  apiVersion: string;
  kind: string;
  /** True when the object's name is not the resource's name (a Job per hash), so it is found by label. */
  byLabel: boolean;
}

const TARGETS: Record<string, Target> = {
  'k8s/v1/Namespace': { apiVersion: 'v1', kind: 'Namespace', byLabel: false },
  'k8s/v1/PersistentVolumeClaim': { apiVersion: 'v1', kind: 'PersistentVolumeClaim', byLabel: false },
  'k8s/v1/Service': { apiVersion: 'v1', kind: 'Service', byLabel: false },
  'k8s/v1/ServiceAccount': { apiVersion: 'v1', kind: 'ServiceAccount', byLabel: false },
  'k8s/v1/Secret': { apiVersion: 'v1', kind: 'Secret', byLabel: false },
  // The planner says ConfigMap; the infra config is written as a Secret (secrets.ts says why).
  'k8s/v1/ConfigMap': { apiVersion: 'v1', kind: 'Secret', byLabel: false },
  'k8s/apps/v1/StatefulSet': { apiVersion: 'apps/v1', kind: 'StatefulSet', byLabel: false },
  'k8s/apps/v1/Deployment': { apiVersion: 'apps/v1', kind: 'Deployment', byLabel: false },
  'k8s/autoscaling/v2/HorizontalPodAutoscaler': { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', byLabel: false },
  'k8s/batch/v1/CronJob': { apiVersion: 'batch/v1', kind: 'CronJob', byLabel: false },
  'k8s/rbac.authorization.k8s.io/v1/Role': { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', byLabel: false },
  'k8s/rbac.authorization.k8s.io/v1/RoleBinding': { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', byLabel: false },
  'k8s/rbac.authorization.k8s.io/v1/ClusterRole': { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', byLabel: false },
  'k8s/rbac.authorization.k8s.io/v1/ClusterRoleBinding': { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', byLabel: false },
  ...Object.fromEntries(JOB_TYPES.map((t) => [t, { apiVersion: 'batch/v1', kind: 'Job', byLabel: true }])),
};

export function supportsType(providerType: string): boolean {
  return providerType in TARGETS;
}

export function targetOf(r: Pick<DesiredResource, 'id' | 'providerType' | 'kind'>): Target {
  if (r.providerType === 'k8s/v1/ConfigMap' && r.kind !== 'infraConfig') throw new Error(`${r.id}: only the infra config is written from a ConfigMap resource`);
  const t = TARGETS[r.providerType];
  if (!t) throw new Error(`${r.id}: the Kubernetes provider does not handle ${r.providerType}`);
  return t;
}

/**
 * The object for a resource. An object the planner places outside the environment's namespace (a cluster add-on in
 * kube-system: `settings.namespace`) is rendered there; cluster-scoped kinds get no namespace.
 */
export function renderResource(r: DesiredResource, base: RenderContext): KubeObject {
  const ctx: RenderContext = { ...base, namespace: resourceNamespace(r, base.namespace) };
  switch (r.providerType) {
    case 'k8s/v1/Namespace':
      return renderNamespace(r, ctx);
    case 'k8s/v1/PersistentVolumeClaim':
      return renderPvc(r, ctx);
    case 'k8s/v1/Service':
      return renderService(r, ctx);
    case 'k8s/v1/ServiceAccount':
      return renderServiceAccount(r, ctx);
    case 'k8s/v1/Secret':
      return renderSecret(r, ctx);
    case 'k8s/v1/ConfigMap':
      targetOf(r);
      return renderInfraConfig(r, ctx);
    case 'k8s/apps/v1/StatefulSet':
      return renderStatefulSet(r, ctx);
    case 'k8s/apps/v1/Deployment':
      return r.settings.addon !== undefined ? renderAddonDeployment(r, ctx) : renderDeployment(r, ctx);
    case 'k8s/autoscaling/v2/HorizontalPodAutoscaler':
      return renderHpa(r, ctx);
    case 'k8s/batch/v1/CronJob':
      return renderCronJob(r, ctx);
    case 'k8s/rbac.authorization.k8s.io/v1/Role':
      return renderRole(r, ctx);
    case 'k8s/rbac.authorization.k8s.io/v1/RoleBinding':
      return renderRoleBinding(r, ctx);
    case 'k8s/rbac.authorization.k8s.io/v1/ClusterRole':
      return renderClusterRole(r, ctx);
    case 'k8s/rbac.authorization.k8s.io/v1/ClusterRoleBinding':
      return renderClusterRoleBinding(r, ctx);
    default:
      if ((JOB_TYPES as readonly string[]).includes(r.providerType)) return renderJob(r, ctx);
      throw new Error(`${r.id}: the Kubernetes provider does not handle ${r.providerType}`);
  }
}

export { JOB_TYPES } from './jobs';
export { secretKeys, secretValues, generatePassword, infraConfigText, infraConfigHash } from './secrets';
export * from './common';
