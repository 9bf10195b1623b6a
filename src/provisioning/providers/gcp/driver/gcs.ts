/**
 * storage.googleapis.com/Bucket: a bucket per bucket, with versioning and public access from code (public access
 * prevention enforced unless the bucket is public, then allUsers may read objects), uniform bucket-level access.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import type { LiveObject, Outputs, ResolvedResource } from '../../../../model/providerApi';
import { isNotFound } from '../connection';
import { bool, labelsFor, marked, out, plainLabels, str, type GcpContext, type Handler } from './common';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Cloud Storage's metadata

async function metadataOf(c: GcpContext, name: string, signal: AbortSignal): Promise<Json | null> {
  const storage = await c.clients.get('storage');
  try {
    const [metadata] = (await c.call('storage', 'buckets.get', () => storage.bucket(name).getMetadata(), signal)) as Json[];
    return metadata;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

function spec(r: ResolvedResource, c: GcpContext): Json {
  return {
    location: str(r.resolved, 'location', r.id).toUpperCase(),
    versioning: { enabled: bool(r.resolved, 'versioning') },
    iamConfiguration: { uniformBucketLevelAccess: { enabled: bool(r.resolved, 'uniformBucketLevelAccess') }, publicAccessPrevention: str(r.resolved, 'publicAccessPrevention', r.id) },
    labels: labelsFor(r, c),
  };
}

async function read(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const bucket = await metadataOf(c, r.name, signal);
  if (!bucket) return null;
  c.names.set(r.id, r.name);
  return {
    externalId: String(bucket.id ?? r.name),
    observed: {
      versioning: bucket.versioning?.enabled === true,
      uniformBucketLevelAccess: bucket.iamConfiguration?.uniformBucketLevelAccess?.enabled === true,
      publicAccessPrevention: String(bucket.iamConfiguration?.publicAccessPrevention ?? 'inherited'),
    },
    outputs: { name: out(r.name), url: out(`gs://${r.name}`) },
    status: { state: 'ready' },
    ours: marked(plainLabels(bucket.labels), r, c),
  };
}

async function ensure(r: ResolvedResource, c: GcpContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const storage = await c.clients.get('storage');
  const wanted = spec(r, c);
  const bucket = await metadataOf(c, r.name, step.signal);
  if (!bucket) {
    await c.call('storage', 'buckets.insert', () => storage.createBucket(r.name, wanted), step.signal);
  } else {
    // A bucket's location is fixed at creation.
    const changeable = { versioning: wanted.versioning, iamConfiguration: wanted.iamConfiguration };
    await c.call('storage', 'buckets.patch', () => storage.bucket(r.name).setMetadata({ ...changeable, labels: { ...plainLabels(bucket.labels), ...wanted.labels } }), step.signal);
  }
  if (bool(r.resolved, 'publicRead')) {
    const b = storage.bucket(r.name);
    const [policy] = (await c.call('storage', 'buckets.getIamPolicy', () => b.iam.getPolicy({ requestedPolicyVersion: 3 }), step.signal)) as Json[];
    const bindings = (policy.bindings ?? []) as Json[];
    if (!bindings.some((x) => x.role === 'roles/storage.objectViewer' && (x.members ?? []).includes('allUsers'))) {
      await c.call('storage', 'buckets.setIamPolicy', () => b.iam.setPolicy({ ...policy, bindings: [...bindings, { role: 'roles/storage.objectViewer', members: ['allUsers'] }] }), step.signal);
    }
  }
  c.names.set(r.id, r.name);
  return { name: out(r.name), url: out(`gs://${r.name}`) };
}

export const bucketHandler: Handler = {
  managed: ['versioning', 'uniformBucketLevelAccess', 'publicAccessPrevention'],
  read,
  create: ensure,
  update: ensure,
  async delete(r, c, step) {
    const storage = await c.clients.get('storage');
    // A confirmed destroy deletes the bucket's objects with it, as it deletes a database.
    await c.call('storage', 'objects.delete', () => storage.bucket(r.name).deleteFiles({ force: true, versions: true }), step.signal).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    await c.call('storage', 'buckets.delete', () => storage.bucket(r.name).delete(), step.signal).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    c.names.delete(r.id);
  },
  async waitReady() {
    // Usable once created.
  },
};
