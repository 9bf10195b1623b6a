/**
 * The cluster autoscaler of an AWS Production environment: an EKS managed node group only moves between its
 * minimum and maximum when something in the cluster asks its Auto Scaling group to. This plans what the upstream
 * Helm chart installs (kubernetes/autoscaler, charts/cluster-autoscaler) for auto-discovery on AWS: an IRSA role
 * limited to the cluster's own Auto Scaling groups, its ServiceAccount, the chart's RBAC, and one Deployment in
 * kube-system whose version follows the cluster's Kubernetes minor version. GKE scales its node pools itself.
 */

import { outputRef, type JsonObject } from '../../model/desiredGraph';
import type { PlanContext } from './context';
import { KUBERNETES_VERSION } from './cluster';

/** The autoscaler release for each Kubernetes minor version (upstream supports the matching minor only). */
export const CLUSTER_AUTOSCALER_RELEASES: Readonly<Record<string, string>> = { '1.33': 'v1.33.0' };

export const CLUSTER_AUTOSCALER_IMAGE = `registry.k8s.io/autoscaling/cluster-autoscaler:${CLUSTER_AUTOSCALER_RELEASES[KUBERNETES_VERSION]}`;

export const AUTOSCALER = {
  name: 'cluster-autoscaler',
  namespace: 'kube-system',
  roleId: 'aws:iam-role:cluster-autoscaler',
  serviceAccountId: 'k8s:serviceaccount:cluster-autoscaler',
  clusterRoleId: 'k8s:clusterrole:cluster-autoscaler',
  clusterRoleBindingId: 'k8s:clusterrolebinding:cluster-autoscaler',
  roleInNamespaceId: 'k8s:role:cluster-autoscaler',
  roleBindingId: 'k8s:rolebinding:cluster-autoscaler',
  deploymentId: 'k8s:deployment:cluster-autoscaler',
  /** Where it serves /health-check and its metrics. */
  port: 8085,
} as const;

/** The chart's ClusterRole: read what scheduling depends on, write nodes, evict pods, its own leader lease. */
export const AUTOSCALER_CLUSTER_RULES: JsonObject[] = [
  { apiGroups: [''], resources: ['events', 'endpoints'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
  { apiGroups: [''], resources: ['pods/status'], verbs: ['update'] },
  { apiGroups: [''], resources: ['endpoints'], verbs: ['get', 'update'], resourceNames: ['cluster-autoscaler'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['watch', 'list', 'create', 'delete', 'get', 'update'] },
  { apiGroups: [''], resources: ['namespaces', 'pods', 'services', 'replicationcontrollers', 'persistentvolumeclaims', 'persistentvolumes'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['batch', 'extensions'], resources: ['jobs'], verbs: ['get', 'list', 'patch', 'watch'] },
  { apiGroups: ['extensions'], resources: ['replicasets', 'daemonsets'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['watch', 'list'] },
  { apiGroups: ['apps'], resources: ['daemonsets', 'replicasets', 'statefulsets'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch', 'get'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: ['cluster-autoscaler'] },
  { apiGroups: ['resource.k8s.io'], resources: ['resourceclaims', 'resourceslices', 'deviceclasses'], verbs: ['get', 'list', 'watch'] },
];

/** The chart's Role in kube-system: the status ConfigMap it writes. */
export const AUTOSCALER_NAMESPACE_RULES: JsonObject[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['delete', 'get', 'update', 'watch'], resourceNames: ['cluster-autoscaler-status'] },
];

/** Whether the environment gets an autoscaler: an EKS node group that the planner marked as autoscaled. */
export function needsClusterAutoscaler(ctx: PlanContext): boolean {
  return ctx.provider === 'aws' && ctx.resources.some((r) => r.id === 'aws:eks-nodegroup' && r.settings.autoscaler === 'cluster-autoscaler');
}

export function planClusterAutoscaler(ctx: PlanContext): void {
  if (!needsClusterAutoscaler(ctx) || ctx.env.provider.kind !== 'aws') return;
  const region = ctx.env.provider.region;
  const cluster = ctx.resources.find((r) => r.id === 'aws:eks')!.name;
  const release = CLUSTER_AUTOSCALER_RELEASES[KUBERNETES_VERSION];
  if (!release) throw new Error(`no cluster autoscaler release is known for Kubernetes ${KUBERNETES_VERSION}`);
  const nodes = ['aws:eks-nodegroup'];
  const { name, namespace } = AUTOSCALER;
  ctx.add({
    id: AUTOSCALER.roleId,
    kind: 'iamRole',
    providerType: 'AWS::IAM::Role',
    name: ctx.names.cloud('cluster-autoscaler', 64),
    settings: {
      trust: {
        irsa: {
          cluster: 'aws:eks', namespace, serviceAccount: name,
          oidcProviderArn: outputRef('aws:eks', 'oidcProviderArn'), oidcIssuer: outputRef('aws:eks', 'oidcIssuer'),
        },
      },
      // Not per-resource grants: the Auto Scaling group EKS makes for the node group, found by the cluster's tags.
      clusterAutoscaler: { clusterName: cluster, nodegroupArn: outputRef('aws:eks-nodegroup', 'arn') },
    },
    dependsOn: ['aws:eks', ...nodes],
    summary: `cluster autoscaler → IAM role (IRSA), scaling only the Auto Scaling groups tagged for ${cluster}`,
  });
  ctx.add({
    id: AUTOSCALER.serviceAccountId,
    kind: 'serviceAccount',
    providerType: 'k8s/v1/ServiceAccount',
    name,
    settings: { namespace, annotations: { 'eks.amazonaws.com/role-arn': outputRef(AUTOSCALER.roleId, 'arn') }, automountToken: true },
    dependsOn: nodes,
    summary: `cluster autoscaler → ServiceAccount ${namespace}/${name}, bound to its IAM role`,
  });
  ctx.add({
    id: AUTOSCALER.clusterRoleId,
    kind: 'iamRole',
    providerType: 'k8s/rbac.authorization.k8s.io/v1/ClusterRole',
    name,
    settings: { rules: AUTOSCALER_CLUSTER_RULES },
    dependsOn: nodes,
    summary: `cluster autoscaler → ClusterRole ${name} (the upstream chart's rules)`,
  });
  ctx.add({
    id: AUTOSCALER.clusterRoleBindingId,
    kind: 'iamRole',
    providerType: 'k8s/rbac.authorization.k8s.io/v1/ClusterRoleBinding',
    name,
    settings: { clusterRole: name, serviceAccount: name, serviceAccountNamespace: namespace },
    dependsOn: [...nodes, AUTOSCALER.clusterRoleId, AUTOSCALER.serviceAccountId],
    summary: `cluster autoscaler → ClusterRoleBinding ${name}`,
  });
  ctx.add({
    id: AUTOSCALER.roleInNamespaceId,
    kind: 'iamRole',
    providerType: 'k8s/rbac.authorization.k8s.io/v1/Role',
    name,
    settings: { namespace, rules: AUTOSCALER_NAMESPACE_RULES },
    dependsOn: nodes,
    summary: `cluster autoscaler → Role ${namespace}/${name}: its status ConfigMap`,
  });
  ctx.add({
    id: AUTOSCALER.roleBindingId,
    kind: 'iamRole',
    providerType: 'k8s/rbac.authorization.k8s.io/v1/RoleBinding',
    name,
    settings: { namespace, role: name, serviceAccount: name },
    dependsOn: [...nodes, AUTOSCALER.roleInNamespaceId, AUTOSCALER.serviceAccountId],
    summary: `cluster autoscaler → RoleBinding ${namespace}/${name}`,
  });
  ctx.add({
    id: AUTOSCALER.deploymentId,
    kind: 'clusterAddon',
    providerType: 'k8s/apps/v1/Deployment',
    name,
    settings: {
      namespace,
      addon: 'cluster-autoscaler',
      image: ctx.image(CLUSTER_AUTOSCALER_IMAGE),
      replicas: 1,
      serviceAccountName: name,
      command: [
        './cluster-autoscaler',
        '--cloud-provider=aws',
        `--namespace=${namespace}`,
        `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${cluster}`,
        '--balance-similar-node-groups',
        '--skip-nodes-with-system-pods=false',
        '--expander=least-waste',
        '--logtostderr=true',
        '--stderrthreshold=info',
        '--v=4',
      ],
      env: [{ name: 'AWS_REGION', value: region }],
      port: AUTOSCALER.port,
      resources: { requests: { cpu: '100m', memory: '600Mi' }, limits: { memory: '600Mi' } },
      priorityClassName: 'system-cluster-critical',
    },
    dependsOn: [...nodes, AUTOSCALER.serviceAccountId, AUTOSCALER.clusterRoleBindingId, AUTOSCALER.roleBindingId],
    summary: `cluster autoscaler → Deployment ${namespace}/${name} ${release}, scaling the nodes between their minimum and maximum`,
  });
}
