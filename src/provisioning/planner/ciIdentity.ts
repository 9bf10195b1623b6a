/**
 * Deploy on push, on a Kubernetes environment: the CI identity is part of the environment's plan, so it is
 * reviewed, applied and destroyed like everything else. A ServiceAccount `encore-deployer` with a Role limited to
 * the environment's namespace that allows only what `encore-env deploy` does there: read and apply the
 * Deployments, read the pods and events a failed rollout is explained with, read and write the state and the deploy
 * history (Secrets), and hold the lock (a Lease). `encore-env setup-ci` mints a token for it and prints a kubeconfig
 * the user stores as a repository secret; nothing is written into the repository. (AWS's CI identity, a GitHub OIDC
 * role, is not planned yet.)
 */

import type { PlanContext } from './context';

export const CI_IDENTITY = { name: 'encore-deployer', serviceAccountId: 'k8s:serviceaccount:encore-deployer', roleId: 'k8s:role:encore-deployer', bindingId: 'k8s:rolebinding:encore-deployer' };

/** The Role's rules: the verbs a deploy uses, on the kinds it touches, in its namespace only. */
export const CI_RULES = [
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'update', 'patch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'patch', 'delete'] },
];

export function planCiIdentity(ctx: PlanContext): void {
  if (ctx.env.provider.kind !== 'kubernetes' || ctx.env.deploy.trigger !== 'push' || ctx.needs.services.length === 0) return;
  const branch = ctx.env.deploy.branch;
  ctx.add({
    id: CI_IDENTITY.serviceAccountId,
    kind: 'serviceAccount',
    providerType: 'k8s/v1/ServiceAccount',
    name: CI_IDENTITY.name,
    settings: { annotations: { 'encore.dev/purpose': `deploy on push to ${branch}` } },
    dependsOn: ctx.k8sBase,
    summary: `deploy on push to ${branch} → ServiceAccount ${CI_IDENTITY.name} (the CI's identity)`,
  });
  ctx.add({
    id: CI_IDENTITY.roleId,
    kind: 'iamRole',
    providerType: 'k8s/rbac.authorization.k8s.io/v1/Role',
    name: CI_IDENTITY.name,
    settings: { rules: CI_RULES },
    dependsOn: ctx.k8sBase,
    summary: `deploy on push → Role ${CI_IDENTITY.name}: Deployments, state and history, the lock, in this namespace only`,
  });
  ctx.add({
    id: CI_IDENTITY.bindingId,
    kind: 'iamRole',
    providerType: 'k8s/rbac.authorization.k8s.io/v1/RoleBinding',
    name: CI_IDENTITY.name,
    settings: { role: CI_IDENTITY.name, serviceAccount: CI_IDENTITY.name },
    dependsOn: [...ctx.k8sBase, CI_IDENTITY.serviceAccountId, CI_IDENTITY.roleId],
    summary: `deploy on push → RoleBinding ${CI_IDENTITY.name}`,
  });
}
