/**
 * Deploy on push on AWS (planner/ciIdentity.ts): GitHub's OIDC provider in the account, the deploy role GitHub's
 * tokens for one repository and branch may assume, and the role's EKS access entry, limited to one namespace.
 *
 * The OIDC provider is one per account and URL, so an account that has one keeps it: it is adopted (the engine
 * asks for --adopt when this tool did not make it) and never deleted unless this environment made it and no other
 * role still trusts it.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type FieldChange, type LiveObject, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { jsonEqual } from '../../../engine/diff';
import { stateBucketName } from '../stateBackend';
import { afterRolePropagation, asTagList, isCode, marked, out, str, strings, tagRecord, tagsFor, type AwsContext, type Handler } from './common';
import { clusterOf, IGNORED_THUMBPRINT } from './eks';
import { deleteRole, ensureRole, findRole, readRoleWithInlinePolicy } from './iam';
import { ciAccessPolicy, GITHUB_OIDC, githubTrust, parsePolicy, type PolicyDocument } from './policies';

const iamSdk = () => import('@aws-sdk/client-iam');
const eksSdk = () => import('@aws-sdk/client-eks');

// --- GitHub's OIDC provider ---

async function findGithubProvider(c: AwsContext, url: string, signal: AbortSignal): Promise<string | null> {
  const { ListOpenIDConnectProvidersCommand } = await iamSdk();
  const host = url.replace(/^https:\/\//, '');
  const list = await c.clients.send('IAM', new ListOpenIDConnectProvidersCommand({}), signal);
  return list.OpenIDConnectProviderList?.map((p) => p.Arn!).find((arn) => arn.endsWith(`:oidc-provider/${host}`)) ?? null;
}

async function readProvider(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const { GetOpenIDConnectProviderCommand } = await iamSdk();
  const arn = await findGithubProvider(c, String(r.settings.url ?? GITHUB_OIDC.url), signal);
  if (!arn) return null;
  const got = await c.clients.send('IAM', new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }), signal);
  return {
    externalId: arn,
    observed: { url: `https://${(got.Url ?? GITHUB_OIDC.host).replace(/^https:\/\//, '')}`, clientIds: [...(got.ClientIDList ?? [])].sort() },
    outputs: { arn: out(arn) },
    status: { state: 'ready' },
    ours: marked(tagRecord(got.Tags), r, c),
  };
}

async function ensureProvider(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const sdk = await iamSdk();
  const url = str(r.resolved, 'url', r.id);
  const audiences = strings(r.resolved, 'clientIds', r.id);
  const existing = await findGithubProvider(c, url, step.signal);
  if (!existing) {
    const created = await c.clients.send('IAM', new sdk.CreateOpenIDConnectProviderCommand({
      Url: url, ClientIDList: audiences, ThumbprintList: [IGNORED_THUMBPRINT], Tags: asTagList(tagsFor(r, c)),
    }), step.signal);
    return { arn: out(created.OpenIDConnectProviderArn!) };
  }
  // Adopted: only the audience a role needs is added; a foreign provider is not tagged, so it never becomes ours.
  const got = await c.clients.send('IAM', new sdk.GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: existing }), step.signal);
  for (const audience of audiences.filter((a) => !(got.ClientIDList ?? []).includes(a))) {
    step.progress(`adding the audience ${audience} to the account's GitHub OIDC provider`);
    await c.clients.send('IAM', new sdk.AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: existing, ClientID: audience }), step.signal);
  }
  return { arn: out(existing) };
}

/** The roles of the account, other than `except`, whose trust names the provider. */
async function rolesTrusting(c: AwsContext, providerArn: string, signal: AbortSignal): Promise<string[]> {
  const { ListRolesCommand } = await iamSdk();
  const found: string[] = [];
  let marker: string | undefined;
  do {
    const page = await c.clients.send('IAM', new ListRolesCommand({ Marker: marker }), signal);
    for (const role of page.Roles ?? []) {
      if (JSON.stringify(parsePolicy(role.AssumeRolePolicyDocument) ?? {}).includes(providerArn)) found.push(role.RoleName!);
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return found;
}

async function deleteProvider(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await iamSdk();
  const live = await readProvider(r, c, step.signal);
  if (!live) return;
  if (!live.ours) {
    step.progress("the account's GitHub OIDC provider was not made by this environment: it stays");
    return;
  }
  const users = await rolesTrusting(c, live.externalId, step.signal);
  if (users.length > 0) {
    step.progress(`the GitHub OIDC provider stays: ${users.join(', ')} still trust${users.length === 1 ? 's' : ''} it`);
    return;
  }
  try {
    await c.clients.send('IAM', new sdk.DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: live.externalId }), step.signal);
  } catch (err) {
    if (!isCode(err, 'NoSuchEntity', 'NoSuchEntityException')) throw err;
  }
}

export const githubOidcHandler: Handler = {
  managed: [],
  read: readProvider,
  create: ensureProvider,
  update: ensureProvider,
  delete: deleteProvider,
  async waitReady() {
    // IAM has no state to wait for.
  },
  diff(desired, live) {
    const wanted = Array.isArray(desired.resolved.clientIds) ? desired.resolved.clientIds.filter((a): a is string => typeof a === 'string') : [];
    const have = Array.isArray(live.observed.clientIds) ? (live.observed.clientIds as string[]) : [];
    const missing = wanted.filter((a) => !have.includes(a));
    return missing.length ? [{ path: 'clientIds', before: have, after: [...new Set([...have, ...wanted])].sort() }] : [];
  },
};

// --- the deploy role ---

/** The role's trust and access for the account the role lives in (the state bucket is named after it). */
export function deployRoleDocuments(r: Pick<ResolvedResource, 'id' | 'resolved'>, account: string, partition = 'aws'): { trust: PolicyDocument; access: PolicyDocument } {
  const s = r.resolved;
  return {
    trust: githubTrust({ oidcProviderArn: str(s, 'oidcProviderArn', r.id), repository: str(s, 'repository', r.id), branch: str(s, 'branch', r.id), environment: str(s, 'githubEnvironment', r.id) }),
    access: ciAccessPolicy({
      repositoryArn: str(s, 'repositoryArn', r.id), clusterArn: str(s, 'clusterArn', r.id), partition,
      stateBucket: stateBucketName(account, str(s, 'region', r.id)), environment: str(s, 'environment', r.id),
    }),
  };
}

async function ensureDeployRole(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const partition = (await c.callerArn(step.signal)).split(':')[1] ?? 'aws';
  const { trust, access } = deployRoleDocuments(r, await c.account(step.signal), partition);
  const arn = await ensureRole(c, {
    name: r.name, trust, inline: access, tags: tagsFor(r, c),
    description: `Encore environment ${c.environment}: deploy on push from GitHub ${String(r.resolved.repository)} (${String(r.resolved.branch)})`.slice(0, 1000),
  }, step.signal);
  return { arn: out(arn), name: out(r.name) };
}

function diffDeployRole(desired: ResolvedResource, live: LiveObject): FieldChange[] {
  const arn = typeof live.outputs.arn?.value === 'string' ? live.outputs.arn.value : '';
  const [, partition = 'aws', , , account = ''] = arn.split(':');
  let wanted: { trust: PolicyDocument; access: PolicyDocument };
  try {
    wanted = deployRoleDocuments(desired, account, partition);
  } catch {
    return [];
  }
  const changes: FieldChange[] = [];
  const compare = (path: string, want: PolicyDocument, have: unknown) => {
    const w = JSON.parse(JSON.stringify(want)) as JsonObject;
    if (!jsonEqual(w, (have ?? null) as JsonObject)) changes.push({ path, before: (have ?? null) as JsonObject, after: w });
  };
  compare('trustPolicy', wanted.trust, live.observed.trustPolicy);
  compare('accessPolicy', wanted.access, live.observed.accessPolicy);
  return changes;
}

export const deployRoleHandler: Handler = {
  managed: [],
  read: readRoleWithInlinePolicy,
  create: ensureDeployRole,
  update: ensureDeployRole,
  async delete(r, c, step) {
    await deleteRole(c, r.name, step.signal);
  },
  async waitReady() {
    // IAM is eventually consistent but has no state to wait for.
  },
  diff: diffDeployRole,
};

// --- the role's EKS access entry ---

/** The principal of the entry: the resolved role ARN, or (before references resolve) the role of the same name. */
async function principalOf(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<string | null> {
  const v = r.settings.principalArn;
  if (typeof v === 'string' && !v.includes('${')) return v;
  return (await findRole(c, r.name, signal))?.Arn ?? null;
}

async function readAccessEntry(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const sdk = await eksSdk();
  const cluster = await clusterOf(r, c, signal);
  const principalArn = cluster ? await principalOf(r, c, signal) : null;
  if (!cluster || !principalArn) return null;
  let entry;
  try {
    entry = (await c.clients.send('EKS', new sdk.DescribeAccessEntryCommand({ clusterName: cluster, principalArn }), signal)).accessEntry;
  } catch (err) {
    if (isCode(err, 'ResourceNotFoundException')) return null;
    throw err;
  }
  if (!entry) return null;
  const policies = (await c.clients.send('EKS', new sdk.ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn }), signal)).associatedAccessPolicies ?? [];
  return {
    externalId: entry.accessEntryArn ?? `${cluster}/${principalArn}`,
    observed: {
      policies: policies.map((p) => ({ policyArn: p.policyArn ?? '', scope: p.accessScope?.type ?? '', namespaces: [...(p.accessScope?.namespaces ?? [])].sort() })),
    },
    outputs: { arn: out(entry.accessEntryArn ?? '') },
    status: { state: 'ready' },
    ours: marked(entry.tags, r, c),
  };
}

async function ensureAccessEntry(r: ResolvedResource, c: AwsContext, step: StepContext): Promise<Outputs> {
  const sdk = await eksSdk();
  const clusterName = str(r.resolved, 'cluster', r.id);
  const principalArn = str(r.resolved, 'principalArn', r.id);
  const policyArn = str(r.resolved, 'policyArn', r.id);
  const namespaces = strings(r.resolved, 'namespaces', r.id);
  if (namespaces.length === 0) throw new DriverError('invalid', `${r.id}: an access entry for the deploy role needs its namespace`, { resourceId: r.id });
  let arn: string | undefined;
  try {
    arn = (await c.clients.send('EKS', new sdk.DescribeAccessEntryCommand({ clusterName, principalArn }), step.signal)).accessEntry?.accessEntryArn;
  } catch (err) {
    if (!isCode(err, 'ResourceNotFoundException')) throw err;
    arn = (await afterRolePropagation(step, () => c.clients.send('EKS', new sdk.CreateAccessEntryCommand({ clusterName, principalArn, tags: tagsFor(r, c) }), step.signal))).accessEntry?.accessEntryArn;
  }
  // Only this policy, only in these namespaces: anything else associated with the entry is taken off.
  const associated = (await c.clients.send('EKS', new sdk.ListAssociatedAccessPoliciesCommand({ clusterName, principalArn }), step.signal)).associatedAccessPolicies ?? [];
  for (const p of associated.filter((a) => a.policyArn !== policyArn)) {
    await c.clients.send('EKS', new sdk.DisassociateAccessPolicyCommand({ clusterName, principalArn, policyArn: p.policyArn }), step.signal);
  }
  await c.clients.send('EKS', new sdk.AssociateAccessPolicyCommand({ clusterName, principalArn, policyArn, accessScope: { type: 'namespace', namespaces } }), step.signal);
  return { arn: out(arn ?? '') };
}

async function deleteAccessEntry(r: DesiredResource, c: AwsContext, step: StepContext): Promise<void> {
  const sdk = await eksSdk();
  const cluster = await clusterOf(r, c, step.signal);
  const principalArn = cluster ? await principalOf(r, c, step.signal) : null;
  if (!cluster || !principalArn) return;
  try {
    await c.clients.send('EKS', new sdk.DeleteAccessEntryCommand({ clusterName: cluster, principalArn }), step.signal);
  } catch (err) {
    if (!isCode(err, 'ResourceNotFoundException')) throw err;
  }
}

export const accessEntryHandler: Handler = {
  managed: [],
  read: readAccessEntry,
  create: ensureAccessEntry,
  update: ensureAccessEntry,
  delete: deleteAccessEntry,
  async waitReady() {
    // An access entry is in force once created.
  },
  diff(desired, live) {
    const want = [{ policyArn: String(desired.resolved.policyArn), scope: 'namespace', namespaces: [...(Array.isArray(desired.resolved.namespaces) ? desired.resolved.namespaces.map(String) : [])].sort() }];
    return jsonEqual(want as unknown as JsonObject, (live.observed.policies ?? null) as JsonObject) ? [] : [{ path: 'policies', before: (live.observed.policies ?? null) as JsonObject, after: want as unknown as JsonObject }];
  },
};
