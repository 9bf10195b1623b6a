/**
 * Deploy on push, on a Kubernetes environment: the CI identity is part of the environment's plan, so it is
 * reviewed, applied and destroyed like everything else. A ServiceAccount `encore-deployer` with a Role limited to
 * the environment's namespace that allows only what `encore-env deploy` does there: read and apply the
 * Deployments, read the pods and events a failed rollout is explained with, read and write the state and the deploy
 * history (Secrets), and hold the lock (a Lease). `encore-env setup-ci` mints a token for it and prints a kubeconfig
 * the user stores as a repository secret; nothing is written into the repository.
 *
 * On AWS: GitHub's OIDC provider in the account (adopted when the account has one, and then never deleted), a role
 * only that repository's pushes to that branch (or jobs in the GitHub environment of the environment's name) may
 * assume by web identity, whose policy allows only what a deploy does (policies.ts `ciAccessPolicy`), and an EKS
 * access entry for the role limited to the environment's namespace. The repository (`owner/name`) comes from the
 * app's git remote, read by the caller (the planner does no I/O); without one the identity is not planned and a
 * warning says why.
 *
 * On GCP: a Workload Identity Federation pool with GitHub's OIDC provider, whose attribute condition admits only
 * that repository's pushes to that branch, a deploy service account only the pool's principals of that repository
 * may act as (driver/ciIdentity.ts grants it Artifact Registry writer on the app's repository, cluster viewer on the
 * project, objectUser on the environment's state objects by a conditional binding), and the namespace Role bound
 * to the service account's email (GKE authenticates a Google service account as the Kubernetes user of its email).
 */

import { outputRef } from '../../model/desiredGraph';
import type { PlanContext } from './context';
import { dnsLabel } from './names';

export const CI_IDENTITY = { name: 'encore-deployer', serviceAccountId: 'k8s:serviceaccount:encore-deployer', roleId: 'k8s:role:encore-deployer', bindingId: 'k8s:rolebinding:encore-deployer' };

/** The Role's rules: the verbs a deploy uses, on the kinds it touches, in its namespace only. */
export const CI_RULES = [
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'update', 'patch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'patch', 'delete'] },
];

export const AWS_CI_IDENTITY = {
  oidcProviderId: 'aws:github-oidc',
  roleId: 'aws:ci-role',
  accessEntryId: 'aws:ci-access-entry',
  /** EKS's access policy for editing a namespace's workloads (Deployments, their pods and events). */
  accessPolicyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
} as const;

/** `owner/name` of a GitHub repository, as GitHub allows them. */
export const GITHUB_REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;

export const GCP_CI_IDENTITY = {
  poolId: 'gcp:ci-pool',
  providerId: 'gcp:ci-provider',
  serviceAccountId: 'gcp:ci-service-account',
} as const;

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

// A branch inside a CEL single-quoted string: no quote, backslash, space or control character.
export const CEL_SAFE_BRANCH = /^[A-Za-z0-9._/+-]{1,255}$/;

/** The ids of the pool, its provider and the deploy service account, for an environment in a project. */
export function gcpCiNames(environment: string, project: string): { poolId: string; providerId: string; accountId: string; email: string } {
  // IAM: pool ids 4–32 characters (never `gcp-…`), account ids 6–30; a long name is cut with a hash, so two stay apart.
  const poolId = dnsLabel('encore-', environment, 32);
  const accountId = dnsLabel('encore-deploy-', environment, 30);
  return { poolId, providerId: 'github', accountId, email: `${accountId}@${project}.iam.gserviceaccount.com` };
}

/** The provider's attribute mapping and condition: GitHub's tokens of `repository` for a push to `branch` only. */
export function githubProviderAttributes(repository: string, branch: string): { attributeMapping: Record<string, string>; attributeCondition: string } {
  return {
    attributeMapping: { 'google.subject': 'assertion.sub', 'attribute.repository': 'assertion.repository', 'attribute.ref': 'assertion.ref' },
    attributeCondition: `assertion.repository == '${repository}' && assertion.ref == 'refs/heads/${branch}'`,
  };
}

export function planCiIdentity(ctx: PlanContext): void {
  if (ctx.env.provider.kind === 'aws') {
    planAwsCiIdentity(ctx);
    return;
  }
  if (ctx.env.provider.kind === 'gcp') {
    planGcpCiIdentity(ctx);
    return;
  }
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

function planAwsCiIdentity(ctx: PlanContext): void {
  if (ctx.env.provider.kind !== 'aws' || ctx.env.deploy.trigger !== 'push' || ctx.needs.services.length === 0) return;
  const branch = ctx.env.deploy.branch;
  const repository = ctx.ciRepository;
  if (!repository || !GITHUB_REPOSITORY.test(repository) || repository.endsWith('.git')) {
    ctx.warnings.push(`deploy on push to ${branch}: the app's git remote names no GitHub repository${repository ? ` ("${repository}" is not owner/name)` : ''}, so the CI identity (GitHub OIDC role) is not planned; add the remote (git remote add origin https://github.com/OWNER/REPO) and plan again`);
    return;
  }
  ctx.add({
    id: AWS_CI_IDENTITY.oidcProviderId,
    kind: 'iamRole',
    providerType: 'AWS::IAM::OIDCProvider',
    name: 'token.actions.githubusercontent.com',
    settings: { url: 'https://token.actions.githubusercontent.com', clientIds: ['sts.amazonaws.com'] },
    summary: "deploy on push → GitHub's OIDC provider in the account (the account's own one is reused)",
  });
  ctx.add({
    id: AWS_CI_IDENTITY.roleId,
    kind: 'iamRole',
    providerType: 'AWS::IAM::GitHubDeployRole',
    name: ctx.names.cloud('deploy', 64),
    settings: {
      repository, branch, githubEnvironment: ctx.env.name, environment: ctx.env.name, region: ctx.env.provider.region,
      oidcProviderArn: outputRef(AWS_CI_IDENTITY.oidcProviderId, 'arn'),
      repositoryArn: outputRef('aws:ecr', 'arn'),
      clusterArn: outputRef('aws:eks', 'arn'),
    },
    summary: `deploy on push to ${branch} → IAM role for ${repository} (push to the app's ECR repository, its cluster, its state)`,
  });
  ctx.add({
    id: AWS_CI_IDENTITY.accessEntryId,
    kind: 'iamRole',
    providerType: 'AWS::EKS::AccessEntry',
    name: ctx.names.cloud('deploy', 64),
    settings: {
      cluster: outputRef('aws:eks', 'name'),
      principalArn: outputRef(AWS_CI_IDENTITY.roleId, 'arn'),
      policyArn: AWS_CI_IDENTITY.accessPolicyArn,
      namespaces: [ctx.names.namespace],
    },
    summary: `deploy on push → EKS access entry for the deploy role, namespace ${ctx.names.namespace} only`,
  });
}

function planGcpCiIdentity(ctx: PlanContext): void {
  const p = ctx.env.provider;
  if (p.kind !== 'gcp' || ctx.env.deploy.trigger !== 'push' || ctx.needs.services.length === 0) return;
  const branch = ctx.env.deploy.branch;
  const repository = ctx.ciRepository;
  if (!repository || !GITHUB_REPOSITORY.test(repository) || repository.endsWith('.git')) {
    ctx.warnings.push(`deploy on push to ${branch}: the app's git remote names no GitHub repository${repository ? ` ("${repository}" is not owner/name)` : ''}, so the CI identity (Workload Identity pool and deploy service account) is not planned; add the remote (git remote add origin https://github.com/OWNER/REPO) and plan again`);
    return;
  }
  if (!CEL_SAFE_BRANCH.test(branch) || branch.includes('..')) {
    ctx.warnings.push(`deploy on push to ${branch}: the Workload Identity provider's condition cannot be limited to that branch name (letters, digits and . _ / + - only), so the CI identity is not planned`);
    return;
  }
  const names = gcpCiNames(ctx.env.name, p.project);
  const { attributeMapping, attributeCondition } = githubProviderAttributes(repository, branch);
  ctx.add({
    id: GCP_CI_IDENTITY.poolId,
    kind: 'iamRole',
    providerType: 'iam.googleapis.com/WorkloadIdentityPool',
    name: names.poolId,
    settings: { project: p.project, displayName: `Encore ${ctx.env.name}`.slice(0, 32), disabled: false },
    summary: `deploy on push → Workload Identity pool ${names.poolId} (GitHub Actions of ${repository})`,
  });
  ctx.add({
    id: GCP_CI_IDENTITY.providerId,
    kind: 'iamRole',
    providerType: 'iam.googleapis.com/WorkloadIdentityPoolProvider',
    name: names.providerId,
    settings: { project: p.project, pool: names.poolId, displayName: 'GitHub Actions', disabled: false, issuerUri: GITHUB_OIDC_ISSUER, attributeMapping, attributeCondition },
    dependsOn: [GCP_CI_IDENTITY.poolId],
    summary: `deploy on push → GitHub OIDC provider admitting ${repository} on ${branch} only (${attributeCondition})`,
  });
  ctx.add({
    id: GCP_CI_IDENTITY.serviceAccountId,
    kind: 'iamRole',
    providerType: 'iam.googleapis.com/DeployServiceAccount',
    name: names.accountId,
    settings: {
      project: p.project, region: p.region, repository, namespace: ctx.names.namespace,
      pool: outputRef(GCP_CI_IDENTITY.poolId, 'name'),
      // The repository's resource name as the plan names it (read and destroy need it before any output resolves).
      artifactRepository: `projects/${p.project}/locations/${p.region}/repositories/${ctx.names.cloud('images')}`,
    },
    dependsOn: [GCP_CI_IDENTITY.providerId, 'gcp:artifact-registry'],
    summary: `deploy on push → service account ${names.email}, for ${repository} only: Artifact Registry writer on the app's repository, cluster viewer, its state objects`,
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
    settings: { role: CI_IDENTITY.name, user: outputRef(GCP_CI_IDENTITY.serviceAccountId, 'email') },
    dependsOn: [...ctx.k8sBase, CI_IDENTITY.roleId],
    summary: `deploy on push → RoleBinding ${CI_IDENTITY.name} to the deploy service account (user ${names.email})`,
  });
}
