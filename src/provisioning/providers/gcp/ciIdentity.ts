/**
 * Deploy on push for a GCP environment: what its CI identity is, as data the planner can turn into resources. A
 * Workload Identity Federation pool with one OIDC provider for GitHub Actions whose attribute condition admits only
 * the repository and the branch (so a fork, another repository or another branch gets nothing), and a deploy service
 * account that only principals of that pool and repository may act as, with only what `encore-env deploy` does:
 * push to the environment's Artifact Registry repository, read the cluster's endpoint, act in the environment's
 * namespace (the Kubernetes CI Role, bound to the account's email), and read and write the environment's objects in
 * the state bucket (a conditional binding on its prefix).
 *
 * The planner (planner/ciIdentity.ts) plans these for a GCP environment that deploys on push, with the names from
 * `gcpCiNames`; the driver (driver/ciIdentity.ts) applies them from `gcpCiIdentity`, once the project number (which
 * the pool's principals are named by) is known.
 */

import { CEL_SAFE_BRANCH, CI_RULES, gcpCiNames, GITHUB_OIDC_ISSUER, githubProviderAttributes } from '../../planner/ciIdentity';

export { gcpCiNames, GITHUB_OIDC_ISSUER };

export interface GcpCiInput {
  project: string;
  projectNumber: string;
  environment: string;
  /** `owner/name` on GitHub. */
  repository: string;
  branch: string;
  /** The environment's namespace in its GKE cluster. */
  namespace: string;
  /** The Artifact Registry repository's resource name (projects/P/locations/L/repositories/R). */
  artifactRepository: string;
  /** The state bucket's name. */
  stateBucket: string;
}

export interface IamGrant {
  /** The resource the policy is set on. */
  resource: string;
  role: string;
  member: string;
  condition?: { title: string; expression: string };
}

export interface GcpCiIdentity {
  pool: { id: string; displayName: string; description: string };
  provider: { id: string; displayName: string; issuerUri: string; attributeMapping: Record<string, string>; attributeCondition: string };
  serviceAccount: { accountId: string; email: string };
  /** Who may act as the service account: the pool's principals of the repository. */
  impersonation: IamGrant;
  /** What the service account may do (least privilege). */
  grants: IamGrant[];
  /** The namespace Role (the Kubernetes CI identity's rules) bound to the service account's email. */
  kubernetes: { namespace: string; user: string; rules: typeof CI_RULES };
}

export class GcpCiInputError extends Error {
  override readonly name = 'GcpCiInputError';
}

// GitHub's rules for owner and repository names; they go into a CEL string, so nothing else is let in.
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const BRANCH = CEL_SAFE_BRANCH;
const ENV_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function check(input: Omit<GcpCiInput, 'branch'> & { branch?: string }): void {
  const fail = (what: string): never => {
    throw new GcpCiInputError(`The CI identity for deploy on push cannot be planned: ${what}.`);
  };
  if (!ENV_NAME.test(input.environment)) fail(`"${input.environment}" is not an environment name`);
  if (!REPOSITORY.test(input.repository)) fail(`"${input.repository}" is not a GitHub repository (owner/name)`);
  if (input.branch !== undefined && (!BRANCH.test(input.branch) || input.branch.includes('..'))) fail(`"${input.branch}" is not a branch name this identity can be limited to`);
  if (!/^\d{1,19}$/.test(input.projectNumber)) fail(`"${input.projectNumber}" is not a project number`);
}

/** The deploy service account's part: who may act as it and what it holds (the branch is the provider's alone). */
export function gcpDeployAccount(input: Omit<GcpCiInput, 'branch'>): Pick<GcpCiIdentity, 'serviceAccount' | 'impersonation' | 'grants' | 'kubernetes'> {
  check(input);
  const { poolId, accountId, email } = gcpCiNames(input.environment, input.project);
  const member = `serviceAccount:${email}`;
  const pool = `projects/${input.projectNumber}/locations/global/workloadIdentityPools/${poolId}`;
  const prefix = `projects/_/buckets/${input.stateBucket}/objects/environments/${input.environment}/`;
  return {
    serviceAccount: { accountId, email },
    impersonation: {
      resource: `projects/${input.project}/serviceAccounts/${email}`,
      role: 'roles/iam.workloadIdentityUser',
      member: `principalSet://iam.googleapis.com/${pool}/attribute.repository/${input.repository}`,
    },
    grants: [
      { resource: input.artifactRepository, role: 'roles/artifactregistry.writer', member },
      // clusters.get, for the endpoint and CA; what it may do inside is the namespace Role's.
      { resource: `projects/${input.project}`, role: 'roles/container.clusterViewer', member },
      {
        resource: `projects/_/buckets/${input.stateBucket}`,
        role: 'roles/storage.objectUser',
        member,
        condition: { title: `encore-${input.environment}-state`, expression: `resource.name.startsWith("${prefix}")` },
      },
    ],
    kubernetes: { namespace: input.namespace, user: email, rules: CI_RULES },
  };
}

export function gcpCiIdentity(input: GcpCiInput): GcpCiIdentity {
  check(input);
  const { poolId, providerId } = gcpCiNames(input.environment, input.project);
  return {
    pool: { id: poolId, displayName: `Encore ${input.environment}`.slice(0, 32), description: `GitHub Actions deploys of ${input.repository} to ${input.environment}` },
    provider: {
      id: providerId,
      displayName: 'GitHub Actions',
      issuerUri: GITHUB_OIDC_ISSUER,
      ...githubProviderAttributes(input.repository, input.branch),
    },
    ...gcpDeployAccount(input),
  };
}
