/**
 * iam.googleapis.com/ServiceAccount: a Google service account per service that uses cloud resources, which its
 * Kubernetes ServiceAccount acts as through Workload Identity (roles/iam.workloadIdentityUser for
 * PROJECT.svc.id.goog[NAMESPACE/KSA] on the account), and which holds only the roles the service needs, each on
 * the one resource it is for (a topic, a subscription, a bucket): never a project-wide role.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type FieldChange, type LiveObject, type Outputs, type ResolvedResource } from '../../../../model/providerApi';
import { isNotFound } from '../connection';
import type { IamPolicy } from '../iamRest';
import { descriptionMark, out, str, type GcpContext, type Handler } from './common';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- IAM policies
type Binding = { roles: string[]; resource: string };

const WORKLOAD_IDENTITY_USER = 'roles/iam.workloadIdentityUser';
const emailOf = (c: GcpContext, accountId: string) => `${accountId}@${c.project}.iam.gserviceaccount.com`;

function bindingsOf(r: DesiredResource | ResolvedResource): Binding[] {
  const list = ('resolved' in r ? r.resolved : r.settings).bindings;
  return Array.isArray(list) ? (list as unknown as Binding[]) : [];
}

/** The IAM policy of the resource a binding is on, read and written through that resource's own API. */
async function resourcePolicy(c: GcpContext, resourceId: string, signal: AbortSignal): Promise<{ get(): Promise<Json>; set(p: Json): Promise<void> } | null> {
  const name = c.names.get(resourceId);
  if (!name) return null;
  if (resourceId.startsWith('gcp:pubsub-topic:') || resourceId.startsWith('gcp:pubsub-subscription:')) {
    const pubsub = await c.clients.get('pubsub');
    const handle = resourceId.startsWith('gcp:pubsub-topic:') ? pubsub.topic(name) : pubsub.subscription(name);
    return {
      get: async () => ((await c.call('pubsub', 'getIamPolicy', () => handle.iam.getPolicy(), signal)) as Json[])[0]!,
      set: async (p) => void (await c.call('pubsub', 'setIamPolicy', () => handle.iam.setPolicy(p), signal)),
    };
  }
  if (resourceId.startsWith('gcp:gcs:')) {
    const storage = await c.clients.get('storage');
    const bucket = storage.bucket(name);
    return {
      get: async () => ((await c.call('storage', 'buckets.getIamPolicy', () => bucket.iam.getPolicy({ requestedPolicyVersion: 3 }), signal)) as Json[])[0]!,
      set: async (p) => void (await c.call('storage', 'buckets.setIamPolicy', () => bucket.iam.setPolicy(p), signal)),
    };
  }
  throw new DriverError('unsupported', `the GCP provider cannot grant roles on ${resourceId} yet`);
}

async function getAccount(c: GcpContext, email: string, signal: AbortSignal): Promise<Json | null> {
  try {
    return (await c.call('iam', 'serviceAccounts.get', () => c.clients.iam.get(c.project, email), signal)) as unknown as Json;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function observedBindings(c: GcpContext, member: string, wanted: Binding[], signal: AbortSignal): Promise<Binding[]> {
  const held: Binding[] = [];
  for (const b of wanted) {
    const policy = await resourcePolicy(c, b.resource, signal);
    if (!policy) {
      held.push({ roles: [], resource: b.resource });
      continue;
    }
    const p = await policy.get();
    held.push({ roles: b.roles.filter((role) => ((p.bindings ?? []) as Json[]).some((x) => x.role === role && (x.members ?? []).includes(member))), resource: b.resource });
  }
  return held;
}

async function read(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const email = emailOf(c, r.name);
  const account = await getAccount(c, email, signal);
  if (!account) return null;
  const policy = (await c.call('iam', 'serviceAccounts.getIamPolicy', () => c.clients.iam.getIamPolicy(c.project, email), signal)) as IamPolicy;
  const users = (policy.bindings ?? []).filter((b) => b.role === WORKLOAD_IDENTITY_USER).flatMap((b) => b.members.map((m) => m.replace(/^serviceAccount:/, '')));
  // On an existing cluster the pool is a reference until resolved: the member for the same [NAMESPACE/KSA] is it.
  const wanted = typeof r.settings.workloadIdentityUser === 'string' ? r.settings.workloadIdentityUser : '';
  const ksa = /\[[^\]]+\]$/.exec(wanted)?.[0];
  const held = users.find((u) => u === wanted) ?? (ksa ? users.find((u) => u.endsWith(ksa)) : undefined);
  return {
    externalId: String(account.uniqueId ?? email),
    observed: {
      workloadIdentityUser: held ?? users[0] ?? '',
      bindings: (await observedBindings(c, `serviceAccount:${email}`, bindingsOf(r), signal)) as unknown as JsonObject[],
    },
    outputs: { email: out(email), member: out(`serviceAccount:${email}`) },
    status: { state: 'ready' },
    ours: account.description === descriptionMark(r, c),
  };
}

async function ensure(r: ResolvedResource, c: GcpContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const { signal } = step;
  const email = emailOf(c, r.name);
  if (!(await getAccount(c, email, signal))) {
    await c.call('iam', 'serviceAccounts.create', () => c.clients.iam.create(c.project, r.name, { displayName: `${c.environment}: ${r.source?.name ?? r.name}`, description: descriptionMark(r, c) }), signal).catch((err: unknown) => {
      if (!(err instanceof DriverError && /already exists/i.test(err.message))) throw err;
    });
  }
  const user = `serviceAccount:${str(r.resolved, 'workloadIdentityUser', r.id)}`;
  const policy = (await c.call('iam', 'serviceAccounts.getIamPolicy', () => c.clients.iam.getIamPolicy(c.project, email), signal)) as IamPolicy;
  const bindings = policy.bindings ?? [];
  if (!bindings.some((b) => b.role === WORKLOAD_IDENTITY_USER && b.members.includes(user))) {
    const others = bindings.filter((b) => b.role !== WORKLOAD_IDENTITY_USER);
    const current = bindings.find((b) => b.role === WORKLOAD_IDENTITY_USER)?.members ?? [];
    await c.call('iam', 'serviceAccounts.setIamPolicy', () => c.clients.iam.setIamPolicy(c.project, email, { ...policy, bindings: [...others, { role: WORKLOAD_IDENTITY_USER, members: [...current, user] }] }), signal);
  }
  const member = `serviceAccount:${email}`;
  for (const b of bindingsOf(r)) {
    const target = await resourcePolicy(c, b.resource, signal);
    if (!target) throw new DriverError('not-ready', `${r.id}: ${b.resource} is not known yet (it is applied first)`, { resourceId: r.id });
    const p = await target.get();
    const list: Json[] = ((p.bindings ?? []) as Json[]).map((x) => ({ ...x, members: [...((x.members ?? []) as string[])] }));
    let changed = false;
    for (const role of b.roles) {
      const existing = list.find((x) => x.role === role && !x.condition);
      if (existing?.members.includes(member)) continue;
      if (existing) existing.members.push(member);
      else list.push({ role, members: [member] });
      changed = true;
    }
    if (changed) await target.set({ ...p, bindings: list });
  }
  return { email: out(email), member: out(member) };
}

async function remove(r: DesiredResource, c: GcpContext, step: { signal: AbortSignal }): Promise<void> {
  const email = emailOf(c, r.name);
  const member = `serviceAccount:${email}`;
  // Its grants go first: a deleted account's bindings would linger as deleted:serviceAccount members.
  for (const b of bindingsOf(r)) {
    const target = await resourcePolicy(c, b.resource, step.signal).catch(() => null);
    if (!target) continue;
    try {
      const p = await target.get();
      const list = ((p.bindings ?? []) as Json[]).map((x) => ({ ...x, members: ((x.members ?? []) as string[]).filter((m) => m !== member) })).filter((x) => x.members.length > 0);
      if (JSON.stringify(list) !== JSON.stringify(p.bindings ?? [])) await target.set({ ...p, bindings: list });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  try {
    await c.call('iam', 'serviceAccounts.delete', () => c.clients.iam.delete(c.project, email), step.signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export const serviceAccountHandler: Handler = {
  managed: ['workloadIdentityUser'],
  read,
  create: ensure,
  update: ensure,
  delete: remove,
  async waitReady() {
    // Usable once its bindings are written.
  },
  diff(desired, live): FieldChange[] {
    const want = bindingsOf(desired);
    const held = (live.observed.bindings ?? []) as unknown as Binding[];
    const changes: FieldChange[] = [];
    for (const b of want) {
      const have = held.find((h) => h.resource === b.resource)?.roles ?? [];
      const missing = b.roles.filter((role) => !have.includes(role));
      if (missing.length > 0) changes.push({ path: `bindings.${b.resource}`, before: have, after: b.roles });
    }
    return changes;
  },
};
