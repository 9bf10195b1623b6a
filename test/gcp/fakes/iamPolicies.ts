// IAM policies as Google's IAM keeps them on any resource (a project, a secret, a repository, a service account):
// bindings of a role to members, an etag that changes on every write, and a read-modify-write with a stale etag
// refused ABORTED. Shared by the gRPC fakes (etag as bytes) and the REST ones (etag as base64).
import { createHash } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { FakeError, invalidArgument } from '../googleErrors';

export interface Binding {
  role: string;
  members: string[];
  condition?: { expression: string; title?: string; description?: string };
}

export interface Policy {
  version: number;
  bindings: Binding[];
  etag: Buffer;
}

const MEMBER = /^(user|serviceAccount|group|domain|principal|principalSet|allUsers|allAuthenticatedUsers|deleted:serviceAccount)(:|$)/;

export class IamPolicies {
  private readonly policies = new Map<string, Policy>();

  get(resource: string): Policy {
    const policy = this.policies.get(resource);
    if (policy) return clone(policy);
    // A resource's first policy is empty, with an etag that stays until the first write.
    const empty: Policy = { version: 1, bindings: [], etag: Buffer.alloc(0) };
    empty.etag = etagOf(empty);
    this.policies.set(resource, empty);
    return clone(empty);
  }

  /** Replaces the policy; `etag` (when sent) must be the current one, as Google's optimistic concurrency asks. */
  set(resource: string, policy: { version?: number; bindings?: Binding[]; etag?: Buffer }): Policy {
    const bindings = (policy.bindings ?? []).map((b) => ({ ...b, members: [...(b.members ?? [])] }));
    for (const b of bindings) {
      if (!/^(roles\/[\w.]+|(projects|organizations)\/[^/]+\/roles\/[\w.]+)$/.test(b.role ?? '')) throw invalidArgument(`Role ${b.role} is not supported: it is not a role name`);
      if (b.members.length === 0) throw invalidArgument(`The binding of ${b.role} has no members`);
      for (const m of b.members) if (!MEMBER.test(m)) throw invalidArgument(`Invalid member "${m}": it needs a type prefix (user:, serviceAccount:, group:, principal:…)`);
      if (b.condition && (policy.version ?? 1) < 3) throw invalidArgument('A binding with a condition needs policy version 3');
    }
    const current = this.get(resource);
    if (policy.etag && policy.etag.length > 0 && !policy.etag.equals(current.etag)) {
      throw new FakeError(GrpcStatus.ABORTED, 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.');
    }
    const next: Policy = { version: policy.version ?? 1, bindings, etag: Buffer.alloc(0) };
    next.etag = etagOf(next);
    this.policies.set(resource, next);
    return clone(next);
  }

  /** The members that hold `role` on `resource`, for tests that check bindings independently. */
  membersOf(resource: string, role: string): string[] {
    return this.get(resource).bindings.filter((b) => b.role === role).flatMap((b) => b.members);
  }

  delete(resource: string): void {
    this.policies.delete(resource);
  }
}

function clone(policy: Policy): Policy {
  return { version: policy.version, bindings: policy.bindings.map((b) => ({ ...b, members: [...b.members] })), etag: Buffer.from(policy.etag) };
}

function etagOf(policy: Omit<Policy, 'etag'>): Buffer {
  return createHash('sha256').update(JSON.stringify([policy.version, policy.bindings, Date.now(), Math.random()])).digest().subarray(0, 8);
}
