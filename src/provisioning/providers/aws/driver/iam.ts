/**
 * IAM roles: the helpers the cluster and node group use for their own roles, and AWS::IAM::Role, one role per
 * service bound to its ServiceAccount through the cluster's OIDC provider (IRSA), with an inline policy that allows
 * exactly the operations the model says the service performs on each of its resources; the cluster autoscaler's
 * role is one too, with its own policy (policies.ts clusterAutoscalerPolicy).
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type FieldChange, type LiveObject, type Outputs, type ResolvedResource } from '../../../../model/providerApi';
import { jsonEqual } from '../../../engine/diff';
import { asTagList, isCode, marked, objectAt, out, str, tagRecord, tagsFor, type AwsContext, type Handler } from './common';
import { accessPolicy, clusterAutoscalerPolicy, irsaTrust, parsePolicy, type PolicyDocument } from './policies';

const iamSdk = () => import('@aws-sdk/client-iam');
export const INLINE_POLICY = 'encore-access';

export async function findRole(c: AwsContext, name: string, signal: AbortSignal) {
  const { GetRoleCommand } = await iamSdk();
  try {
    return (await c.clients.send('IAM', new GetRoleCommand({ RoleName: name }), signal)).Role ?? null;
  } catch (err) {
    if (isCode(err, 'NoSuchEntity', 'NoSuchEntityException')) return null;
    throw err;
  }
}

/** Creates or updates a role with this trust policy, these AWS managed policies, and the tags. Returns its ARN. */
export async function ensureRole(
  c: AwsContext,
  role: { name: string; trust: PolicyDocument; managedPolicies?: string[]; inline?: PolicyDocument; tags: Record<string, string>; description: string },
  signal: AbortSignal,
): Promise<string> {
  const sdk = await iamSdk();
  const trust = JSON.stringify(role.trust);
  let live = await findRole(c, role.name, signal);
  if (!live) {
    try {
      live = (await c.clients.send('IAM', new sdk.CreateRoleCommand({ RoleName: role.name, AssumeRolePolicyDocument: trust, Description: role.description, Tags: asTagList(role.tags) }), signal)).Role!;
    } catch (err) {
      if (!isCode(err, 'EntityAlreadyExists', 'EntityAlreadyExistsException')) throw err;
      live = (await findRole(c, role.name, signal))!;
    }
  } else {
    await c.clients.send('IAM', new sdk.UpdateAssumeRolePolicyCommand({ RoleName: role.name, PolicyDocument: trust }), signal);
    await c.clients.send('IAM', new sdk.TagRoleCommand({ RoleName: role.name, Tags: asTagList(role.tags) }), signal);
  }
  const partition = live.Arn!.split(':')[1];
  for (const policy of role.managedPolicies ?? []) {
    await c.clients.send('IAM', new sdk.AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: `arn:${partition}:iam::aws:policy/${policy}` }), signal);
  }
  if (role.inline) await c.clients.send('IAM', new sdk.PutRolePolicyCommand({ RoleName: role.name, PolicyName: INLINE_POLICY, PolicyDocument: JSON.stringify(role.inline) }), signal);
  return live.Arn!;
}

/** Detaches and deletes everything a role holds, then the role; a role already gone is success. */
export async function deleteRole(c: AwsContext, name: string, signal: AbortSignal): Promise<void> {
  const sdk = await iamSdk();
  if (!(await findRole(c, name, signal))) return;
  const attached = await c.clients.send('IAM', new sdk.ListAttachedRolePoliciesCommand({ RoleName: name }), signal);
  for (const p of attached.AttachedPolicies ?? []) await c.clients.send('IAM', new sdk.DetachRolePolicyCommand({ RoleName: name, PolicyArn: p.PolicyArn }), signal);
  const inline = await c.clients.send('IAM', new sdk.ListRolePoliciesCommand({ RoleName: name }), signal);
  for (const p of inline.PolicyNames ?? []) await c.clients.send('IAM', new sdk.DeleteRolePolicyCommand({ RoleName: name, PolicyName: p }), signal);
  try {
    await c.clients.send('IAM', new sdk.DeleteRoleCommand({ RoleName: name }), signal);
  } catch (err) {
    if (!isCode(err, 'NoSuchEntity', 'NoSuchEntityException')) throw err;
  }
}

/** The documents a service role's settings ask for (references resolved). */
export function serviceRoleDocuments(r: Pick<ResolvedResource, 'id' | 'resolved'>): { trust: PolicyDocument; access: PolicyDocument } {
  const irsa = objectAt(objectAt(r.resolved, 'trust'), 'irsa');
  const statements = Array.isArray(r.resolved.statements) ? (r.resolved.statements as JsonObject[]) : [];
  const trust = irsaTrust({
    oidcProviderArn: str(irsa, 'oidcProviderArn', r.id), oidcIssuer: str(irsa, 'oidcIssuer', r.id),
    namespace: str(irsa, 'namespace', r.id), serviceAccount: str(irsa, 'serviceAccount', r.id),
  });
  if (r.resolved.clusterAutoscaler !== undefined) {
    const a = objectAt(r.resolved, 'clusterAutoscaler');
    return { trust, access: clusterAutoscalerPolicy({ clusterName: str(a, 'clusterName', r.id), nodegroupArn: str(a, 'nodegroupArn', r.id) }) };
  }
  return {
    trust,
    access: accessPolicy(statements.map((s) => {
      const actions = Array.isArray(s.actions) ? s.actions.filter((a): a is string => typeof a === 'string') : [];
      if (actions.length === 0) throw new DriverError('invalid', `${r.id}: a statement has no actions`, { resourceId: r.id });
      return { actions, resourceArn: str(s, 'resourceArn', r.id) };
    })),
  };
}

/** A role with its trust and its inline policy as observed, for every role the product writes (a service's, the deploy role). */
export async function readRoleWithInlinePolicy(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const { GetRolePolicyCommand, ListRoleTagsCommand } = await iamSdk();
  const role = await findRole(c, r.name, signal);
  if (!role) return null;
  const tags = await c.clients.send('IAM', new ListRoleTagsCommand({ RoleName: r.name }), signal);
  let access: JsonObject | null = null;
  try {
    access = parsePolicy((await c.clients.send('IAM', new GetRolePolicyCommand({ RoleName: r.name, PolicyName: INLINE_POLICY }), signal)).PolicyDocument);
  } catch (err) {
    if (!isCode(err, 'NoSuchEntity', 'NoSuchEntityException')) throw err;
  }
  return {
    externalId: role.RoleId ?? role.Arn!,
    observed: { trustPolicy: parsePolicy(role.AssumeRolePolicyDocument), accessPolicy: access },
    outputs: { arn: out(role.Arn!), name: out(r.name) },
    status: { state: 'ready' },
    ours: marked(tagRecord(tags.Tags), r, c),
  };
}

async function ensureServiceRole(r: ResolvedResource, c: AwsContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const { trust, access } = serviceRoleDocuments(r);
  const irsa = objectAt(objectAt(r.resolved, 'trust'), 'irsa');
  const arn = await ensureRole(c, {
    name: r.name, trust, inline: access, tags: tagsFor(r, c),
    description: `Encore environment ${c.environment}: ServiceAccount ${String(irsa.namespace)}/${String(irsa.serviceAccount)}`.slice(0, 1000),
  }, step.signal);
  return { arn: out(arn), name: out(r.name) };
}

function diffServiceRole(desired: ResolvedResource, live: LiveObject): FieldChange[] {
  let wanted: { trust: PolicyDocument; access: PolicyDocument };
  try {
    wanted = serviceRoleDocuments(desired);
  } catch {
    return [];
  }
  const changes: FieldChange[] = [];
  const compare = (path: string, want: PolicyDocument, have: unknown) => {
    if (!jsonEqual(JSON.parse(JSON.stringify(want)), (have ?? null) as JsonObject)) changes.push({ path, before: (have ?? null) as JsonObject, after: JSON.parse(JSON.stringify(want)) as JsonObject });
  };
  compare('trustPolicy', wanted.trust, live.observed.trustPolicy);
  compare('accessPolicy', wanted.access, live.observed.accessPolicy);
  return changes;
}

export const serviceRoleHandler: Handler = {
  managed: [],
  read: readRoleWithInlinePolicy,
  create: ensureServiceRole,
  update: ensureServiceRole,
  async delete(r, c, step) {
    await deleteRole(c, r.name, step.signal);
  },
  async waitReady() {
    // IAM is eventually consistent but has no state to wait for.
  },
  diff: diffServiceRole,
};
