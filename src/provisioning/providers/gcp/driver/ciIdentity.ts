/**
 * Deploy on push on GCP (planner/ciIdentity.ts): the Workload Identity Federation pool, its GitHub OIDC provider,
 * and the deploy service account with its grants (gcp/ciIdentity.ts says which), over IAM's REST API.
 *
 * Pools and providers are soft-deleted: a deleted one stays for 30 days in state DELETED, its id taken, and a create
 * with that id fails ALREADY_EXISTS. So a DELETED pool or provider reads as absent, and creating it undeletes it
 * (then updates what differs): an environment destroyed and applied again within 30 days gets its own pool back.
 * Creates, deletes, undeletes and updates are long-running operations, polled until done.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import { DriverError, type FieldChange, type Outputs, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import { gcpDeployAccount, type IamGrant } from '../ciIdentity';
import { isNotFound } from '../connection';
import type { IamPolicy } from '../iamRest';
import { stateBucketName } from '../stateBackend';
import { descriptionMark, out, poll, str, type GcpContext, type Handler } from './common';
import { projectNumber, rest } from './network';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- IAM's JSON messages

const WORKLOAD_IDENTITY_USER = 'roles/iam.workloadIdentityUser';
const poolPath = (project: string, pool: string) => `projects/${encodeURIComponent(project)}/locations/global/workloadIdentityPools/${encodeURIComponent(pool)}`;

async function getOrNull(c: GcpContext, operation: string, path: string, signal: AbortSignal): Promise<Json | null> {
  try {
    return await rest(c, 'iam', operation, 'GET', `/v1/${path}`, signal);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function iamOperation(c: GcpContext, step: Pick<StepContext, 'signal' | 'progress'>, op: Json, what: string, resourceId: string): Promise<void> {
  let now = op;
  await poll(c, step, what, async () => {
    if (!now.done) now = await rest(c, 'iam', 'workloadIdentityPools.operations.get', 'GET', `/v1/${String(op.name)}`, step.signal);
    if (!now.done) return { done: false, state: 'in progress' };
    if (now.error) throw new DriverError('invalid', `${what}: ${String(now.error.message ?? 'failed')}`, { resourceId });
    return { done: true, value: undefined };
  }, { timeoutMs: 5 * 60_000, resourceId });
}

/** A pool or provider: read, made (or undeleted), updated and deleted the same way, through its own path. */
interface Federated {
  path(r: DesiredResource): string;
  /** The collection a create posts to, and the query parameter naming the new id. */
  parent(r: DesiredResource): { path: string; idParam: string };
  body(r: ResolvedResource, c: GcpContext): Json;
  observed(live: Json): JsonObject;
  what: string;
  /** The API's collection, for operation names (workloadIdentityPools.create). */
  collection: string;
}

function federatedHandler(kind: Federated): Handler {
  const live = async (r: DesiredResource, c: GcpContext, signal: AbortSignal) => getOrNull(c, `${kind.collection}.get`, kind.path(r), signal);
  const outputs = (got: Json): Outputs => ({ name: out(String(got.name)), id: out(String(got.name).split('/').pop()!) });
  const ensure = async (r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> => {
    let got = await live(r, c, step.signal);
    const body = kind.body(r, c);
    if (!got) {
      const { path, idParam } = kind.parent(r);
      const op = await rest(c, 'iam', `${kind.collection}.create`, 'POST', `/v1/${path}?${idParam}=${encodeURIComponent(r.name)}`, step.signal, body);
      await iamOperation(c, step, op, `creating the ${kind.what} ${r.name}`, r.id);
    } else {
      if (got.state === 'DELETED') {
        step.progress(`the ${kind.what} ${r.name} was deleted less than 30 days ago and IAM keeps its id: undeleting it`);
        const op = await rest(c, 'iam', `${kind.collection}.undelete`, 'POST', `/v1/${kind.path(r)}:undelete`, step.signal, {});
        await iamOperation(c, step, op, `undeleting the ${kind.what} ${r.name}`, r.id);
      }
      const current = { ...got };
      const mask = Object.keys(body).filter((k) => JSON.stringify(current[k] ?? null) !== JSON.stringify(body[k]));
      if (mask.length > 0) {
        const op = await rest(c, 'iam', `${kind.collection}.patch`, 'PATCH', `/v1/${kind.path(r)}?updateMask=${mask.join(',')}`, step.signal, body);
        await iamOperation(c, step, op, `updating the ${kind.what} ${r.name}`, r.id);
      }
    }
    got = await live(r, c, step.signal);
    if (!got || got.state === 'DELETED') throw new DriverError('not-ready', `${r.id}: the ${kind.what} ${r.name} is not there after it was made`, { resourceId: r.id });
    return outputs(got);
  };
  return {
    managed: ['displayName', 'disabled', 'issuerUri', 'attributeMapping', 'attributeCondition'],
    async read(r, c, signal) {
      const got = await live(r, c, signal);
      if (!got || got.state === 'DELETED') return null;
      return { externalId: String(got.name), observed: kind.observed(got), outputs: outputs(got), status: { state: 'ready' }, ours: got.description === descriptionMark(r, c) };
    },
    create: ensure,
    update: ensure,
    async delete(r, c, step) {
      const got = await live(r, c, step.signal);
      if (!got || got.state === 'DELETED') return;
      try {
        const op = await rest(c, 'iam', `${kind.collection}.delete`, 'DELETE', `/v1/${kind.path(r)}`, step.signal);
        await iamOperation(c, step, op, `deleting the ${kind.what} ${r.name}`, r.id);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    async waitReady() {
      // ACTIVE once its operation is done.
    },
  };
}

export const workloadIdentityPoolHandler = federatedHandler({
  what: 'Workload Identity pool',
  collection: 'workloadIdentityPools',
  path: (r) => poolPath(str(r.settings, 'project', r.id), r.name),
  parent: (r) => ({ path: `projects/${encodeURIComponent(str(r.settings, 'project', r.id))}/locations/global/workloadIdentityPools`, idParam: 'workloadIdentityPoolId' }),
  body: (r, c) => ({ displayName: str(r.resolved, 'displayName', r.id), description: descriptionMark(r, c), disabled: r.resolved.disabled === true }),
  observed: (got) => ({ displayName: String(got.displayName ?? ''), disabled: got.disabled === true }),
});

export const workloadIdentityProviderHandler = federatedHandler({
  what: 'Workload Identity provider',
  collection: 'workloadIdentityPools.providers',
  path: (r) => `${poolPath(str(r.settings, 'project', r.id), str(r.settings, 'pool', r.id))}/providers/${encodeURIComponent(r.name)}`,
  parent: (r) => ({ path: `${poolPath(str(r.settings, 'project', r.id), str(r.settings, 'pool', r.id))}/providers`, idParam: 'workloadIdentityPoolProviderId' }),
  body: (r, c) => ({
    displayName: str(r.resolved, 'displayName', r.id),
    description: descriptionMark(r, c),
    disabled: r.resolved.disabled === true,
    attributeMapping: r.resolved.attributeMapping,
    attributeCondition: str(r.resolved, 'attributeCondition', r.id),
    oidc: { issuerUri: str(r.resolved, 'issuerUri', r.id) },
  }),
  observed: (got) => ({
    displayName: String(got.displayName ?? ''),
    disabled: got.disabled === true,
    issuerUri: String(got.oidc?.issuerUri ?? ''),
    attributeMapping: (got.attributeMapping ?? {}) as JsonObject,
    attributeCondition: String(got.attributeCondition ?? ''),
  }),
});

// --- the deploy service account ---

interface PolicyTarget {
  get(): Promise<IamPolicy>;
  set(policy: IamPolicy): Promise<void>;
}

/** The IAM policy of a grant's resource (a repository, the project, the state bucket, the account), through its API. */
async function policyOf(c: GcpContext, resource: string, signal: AbortSignal): Promise<{ target: PolicyTarget; close(): Promise<void> }> {
  const none = async () => undefined;
  if (resource.includes('/repositories/')) {
    const client = await c.clients.get('artifactregistry');
    return {
      target: {
        get: async () => ((await c.call('artifactregistry', 'repositories.getIamPolicy', () => client.getIamPolicy({ resource, options: { requestedPolicyVersion: 3 } }), signal)) as unknown as IamPolicy[])[0]!,
        set: async (policy) => void (await c.call('artifactregistry', 'repositories.setIamPolicy', () => client.setIamPolicy({ resource, policy: policy as never }), signal)),
      },
      close: none,
    };
  }
  const bucket = /^projects\/_\/buckets\/([^/]+)$/.exec(resource)?.[1];
  if (bucket) {
    const handle = (await c.clients.get('storage')).bucket(bucket);
    return {
      target: {
        get: async () => ((await c.call('storage', 'buckets.getIamPolicy', () => handle.iam.getPolicy({ requestedPolicyVersion: 3 }), signal)) as unknown as IamPolicy[])[0]!,
        set: async (policy) => void (await c.call('storage', 'buckets.setIamPolicy', () => handle.iam.setPolicy(policy as never), signal)),
      },
      close: none,
    };
  }
  const account = /^projects\/[^/]+\/serviceAccounts\/(.+)$/.exec(resource)?.[1];
  if (account) {
    return {
      target: {
        get: () => c.call('iam', 'serviceAccounts.getIamPolicy', () => c.clients.iam.getIamPolicy(c.project, account), signal),
        set: async (policy) => void (await c.call('iam', 'serviceAccounts.setIamPolicy', () => c.clients.iam.setIamPolicy(c.project, account, policy), signal)),
      },
      close: none,
    };
  }
  if (/^projects\/[^/]+$/.test(resource)) {
    const { ProjectsClient } = await import('@google-cloud/resource-manager');
    const client = new ProjectsClient(c.connection.gapicOptions('cloudresourcemanager'));
    return {
      target: {
        get: async () => ((await c.call('cloudresourcemanager', 'projects.getIamPolicy', () => client.getIamPolicy({ resource, options: { requestedPolicyVersion: 3 } }), signal)) as unknown as IamPolicy[])[0]!,
        set: async (policy) => void (await c.call('cloudresourcemanager', 'projects.setIamPolicy', () => client.setIamPolicy({ resource, policy: policy as never }), signal)),
      },
      close: () => client.close(),
    };
  }
  throw new DriverError('unsupported', `the GCP provider cannot grant roles on ${resource}`);
}

const sameCondition = (a: { expression?: string | null } | null | undefined, b: { expression?: string } | undefined) => (a?.expression ?? '') === (b?.expression ?? '');

function holds(policy: IamPolicy, grant: IamGrant): boolean {
  return (policy.bindings ?? []).some((b) => b.role === grant.role && sameCondition(b.condition, grant.condition) && (b.members ?? []).includes(grant.member));
}

/** The policy with the grant added (a conditional one needs policy version 3); null when it holds already. */
function withGrant(policy: IamPolicy, grant: IamGrant): IamPolicy | null {
  if (holds(policy, grant)) return null;
  const bindings = (policy.bindings ?? []).map((b) => ({ ...b, members: [...(b.members ?? [])] }));
  const existing = bindings.find((b) => b.role === grant.role && sameCondition(b.condition, grant.condition));
  if (existing) existing.members.push(grant.member);
  else bindings.push({ role: grant.role, members: [grant.member], ...(grant.condition ? { condition: grant.condition } : {}) });
  return { ...policy, version: 3, bindings };
}

/** The policy without `member` in any binding of `role`; null when it held none. */
function withoutMember(policy: IamPolicy, role: string, member: string): IamPolicy | null {
  const before = policy.bindings ?? [];
  if (!before.some((b) => b.role === role && (b.members ?? []).includes(member))) return null;
  const bindings = before.map((b) => (b.role === role ? { ...b, members: (b.members ?? []).filter((m) => m !== member) } : b)).filter((b) => (b.members ?? []).length > 0);
  return { ...policy, version: 3, bindings };
}

async function identityOf(r: DesiredResource | ResolvedResource, c: GcpContext, signal: AbortSignal) {
  const s = 'resolved' in r ? r.resolved : r.settings;
  const number = await projectNumber(c, signal);
  return gcpDeployAccount({
    project: c.project, projectNumber: number, environment: c.environment,
    repository: str(s, 'repository', r.id), namespace: str(s, 'namespace', r.id),
    artifactRepository: str(s, 'artifactRepository', r.id),
    stateBucket: stateBucketName(c.project, typeof s.region === 'string' ? s.region : c.region),
  });
}

async function getAccount(c: GcpContext, email: string, signal: AbortSignal): Promise<Json | null> {
  try {
    return (await c.call('iam', 'serviceAccounts.get', () => c.clients.iam.get(c.project, email), signal)) as unknown as Json;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Every grant the account needs, the impersonation first: `role on resource` for the ones it holds. */
async function heldGrants(grants: IamGrant[], c: GcpContext, signal: AbortSignal): Promise<string[]> {
  const held: string[] = [];
  for (const g of grants) {
    const { target, close } = await policyOf(c, g.resource, signal);
    try {
      if (holds(await target.get(), g)) held.push(`${g.role} on ${g.resource}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    } finally {
      await close();
    }
  }
  return held;
}

export const deployServiceAccountHandler: Handler = {
  managed: [],
  async read(r, c, signal) {
    const id = await identityOf(r, c, signal);
    const account = await getAccount(c, id.serviceAccount.email, signal);
    if (!account) return null;
    // What may act as it: exactly the repository's principals, nobody else.
    const policy = await c.call('iam', 'serviceAccounts.getIamPolicy', () => c.clients.iam.getIamPolicy(c.project, id.serviceAccount.email), signal);
    const impersonators = (policy.bindings ?? []).filter((b) => b.role === WORKLOAD_IDENTITY_USER).flatMap((b) => b.members);
    return {
      externalId: String(account.uniqueId ?? id.serviceAccount.email),
      observed: { grants: await heldGrants(id.grants, c, signal), impersonators },
      outputs: { email: out(id.serviceAccount.email), member: out(`serviceAccount:${id.serviceAccount.email}`) },
      status: { state: 'ready' },
      ours: account.description === descriptionMark(r, c),
    };
  },
  async create(r, c, step) {
    return ensureDeployAccount(r, c, step);
  },
  async update(r, c, step) {
    return ensureDeployAccount(r, c, step);
  },
  async delete(r, c, step) {
    const id = await identityOf(r, c, step.signal);
    // Its grants go first: a deleted account's bindings would linger as deleted:serviceAccount members.
    for (const g of id.grants) {
      const { target, close } = await policyOf(c, g.resource, step.signal);
      try {
        const next = withoutMember(await target.get(), g.role, g.member);
        if (next) await target.set(next);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      } finally {
        await close();
      }
    }
    try {
      await c.call('iam', 'serviceAccounts.delete', () => c.clients.iam.delete(c.project, id.serviceAccount.email), step.signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
  async waitReady() {
    // Usable once its bindings are written.
  },
  diff(desired, live): FieldChange[] {
    const held = (live.observed.grants ?? []) as string[];
    const impersonators = (live.observed.impersonators ?? []) as string[];
    const changes: FieldChange[] = [];
    const repository = str(desired.resolved, 'repository', desired.id);
    if (impersonators.length !== 1 || !impersonators[0]!.endsWith(`/attribute.repository/${repository}`)) {
      changes.push({ path: 'impersonators', before: impersonators, after: [`principalSet://…/attribute.repository/${repository}`] });
    }
    const wanted = ['roles/artifactregistry.writer', 'roles/container.clusterViewer', 'roles/storage.objectUser'];
    const missing = wanted.filter((role) => !held.some((h) => h.startsWith(`${role} on `)));
    if (missing.length > 0) changes.push({ path: 'grants', before: held, after: wanted });
    return changes;
  },
};

async function ensureDeployAccount(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const id = await identityOf(r, c, step.signal);
  const email = id.serviceAccount.email;
  // The pool the provider made must be the one the principals are named by.
  const pool = str(r.resolved, 'pool', r.id);
  if (!id.impersonation.member.includes(`/${pool}/attribute.repository/`)) throw new DriverError('invalid', `${r.id}: the pool ${pool} is not the environment's (${id.impersonation.member})`, { resourceId: r.id });
  if (!(await getAccount(c, email, step.signal))) {
    await c.call('iam', 'serviceAccounts.create', () => c.clients.iam.create(c.project, id.serviceAccount.accountId, { displayName: `${c.environment}: deploy on push`, description: descriptionMark(r, c) }), step.signal).catch((err: unknown) => {
      if (!(err instanceof DriverError && /already exists/i.test(err.message))) throw err;
    });
  }
  // Only the repository's principals may act as it: any other workloadIdentityUser member is taken off.
  const policy = await c.call('iam', 'serviceAccounts.getIamPolicy', () => c.clients.iam.getIamPolicy(c.project, email), step.signal);
  const others = (policy.bindings ?? []).filter((b) => b.role !== WORKLOAD_IDENTITY_USER);
  const users = (policy.bindings ?? []).filter((b) => b.role === WORKLOAD_IDENTITY_USER).flatMap((b) => b.members);
  if (users.length !== 1 || users[0] !== id.impersonation.member) {
    await c.call('iam', 'serviceAccounts.setIamPolicy', () => c.clients.iam.setIamPolicy(c.project, email, { ...policy, bindings: [...others, { role: WORKLOAD_IDENTITY_USER, members: [id.impersonation.member] }] }), step.signal);
  }
  for (const g of id.grants) {
    const { target, close } = await policyOf(c, g.resource, step.signal);
    try {
      const next = withGrant(await target.get(), g);
      if (next) await target.set(next);
    } finally {
      await close();
    }
  }
  return { email: out(email), member: out(`serviceAccount:${email}`) };
}
