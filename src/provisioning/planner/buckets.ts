/**
 * Object storage. On AWS and GCP, both types get real S3 or GCS buckets: they cost next to nothing when small, and
 * an in-cluster store would be one more thing to run (notes §1.3: versioning from code, public access blocked unless
 * the bucket is public; we do not put a CDN in front of public buckets).
 *
 * On the kubernetes provider there is no cloud bucket service, and Encore's infra config offers no in-cluster
 * store. But its `s3` provider takes an `endpoint`, so any S3-compatible server works: we run MinIO as a
 * StatefulSet on a persistent volume and point the `s3` provider at it. This holds for Development and Production
 * alike ("the same split inside the given cluster"); Production gets more disk, and its summary says the store is
 * a single node. A public bucket there is readable anonymously, but only at an in-cluster URL until someone exposes
 * MinIO.
 */

import type { Bucket, BucketOperation } from '../../model/appModel';
import type { JsonObject } from '../../model/desiredGraph';
import type { PlanContext } from './context';
import { planInCluster } from './inCluster';
import { dnsLabel, shortHash } from './names';

export const MINIO_IMAGE = 'minio/minio:RELEASE.2025-04-22T22-12-26Z';
const MINIO_ROOT_USER = 'encore';

/** IAM actions per Encore bucket operation (publicUrl needs none: it only builds a URL). */
const S3_ACTIONS: Record<BucketOperation, string[]> = {
  list: ['s3:ListBucket'],
  metadata: ['s3:GetObject'],
  read: ['s3:GetObject'],
  write: ['s3:PutObject'],
  delete: ['s3:DeleteObject'],
  'public-url': [],
  'signed-upload-url': ['s3:PutObject'],
  'signed-download-url': ['s3:GetObject'],
};

const GCS_ROLES: Record<BucketOperation, string[]> = {
  list: ['roles/storage.objectViewer'],
  metadata: ['roles/storage.objectViewer'],
  read: ['roles/storage.objectViewer'],
  write: ['roles/storage.objectCreator'],
  delete: ['roles/storage.objectUser'],
  'public-url': [],
  'signed-upload-url': ['roles/storage.objectCreator'],
  'signed-download-url': ['roles/storage.objectViewer'],
};

export function planBuckets(ctx: PlanContext): void {
  if (ctx.needs.buckets.length === 0) return;
  if (ctx.provider === 'aws') planS3(ctx);
  else if (ctx.provider === 'gcp') planGcs(ctx);
  else planMinio(ctx);
}

function users(ctx: PlanContext, b: Bucket): [string, BucketOperation[]][] {
  return Object.entries(b.usage).filter(([s]) => ctx.needs.services.some((h) => h.name === s));
}

function access(b: Bucket): string {
  return `${b.public ? 'public read' : 'private'}${b.versioned ? ', versioned' : ''}`;
}

function grantAll(ctx: PlanContext, b: Bucket, id: string, table: Record<BucketOperation, string[]>): void {
  for (const [service, ops] of users(ctx, b)) {
    const permissions = [...new Set(ops.flatMap((op) => table[op]))].sort();
    if (permissions.length > 0) ctx.grant(service, id, permissions);
    ctx.need(service, id);
  }
}

function planS3(ctx: PlanContext): void {
  if (ctx.env.provider.kind !== 'aws') return;
  const region = ctx.env.provider.region;
  const buckets: JsonObject = {};
  for (const b of ctx.needs.buckets) {
    const id = `aws:s3:${b.name}`;
    const name = ctx.names.global(b.name, region);
    ctx.add({
      id,
      kind: 'bucket',
      providerType: 'AWS::S3::Bucket',
      name,
      source: { kind: 'bucket', name: b.name },
      settings: { region, versioning: b.versioned, blockPublicAccess: !b.public, publicRead: b.public, encryption: 'AES256', objectOwnership: 'BucketOwnerEnforced' },
      stateful: true,
      summary: `${b.name} bucket → S3 bucket, ${access(b)}`,
    });
    grantAll(ctx, b, id, S3_ACTIONS);
    buckets[b.name] = { name, ...(b.public ? { public_base_url: `https://${name}.s3.${region}.amazonaws.com` } : {}) };
    ctx.config.dependsOn.push(id);
  }
  ctx.config.object_storage.push({ type: 's3', region, buckets });
}

function planGcs(ctx: PlanContext): void {
  if (ctx.env.provider.kind !== 'gcp') return;
  const { project, region } = ctx.env.provider;
  const buckets: JsonObject = {};
  for (const b of ctx.needs.buckets) {
    const id = `gcp:gcs:${b.name}`;
    const name = ctx.names.global(b.name, project);
    ctx.add({
      id,
      kind: 'bucket',
      providerType: 'storage.googleapis.com/Bucket',
      name,
      source: { kind: 'bucket', name: b.name },
      settings: { project, location: region, versioning: b.versioned, uniformBucketLevelAccess: true, publicAccessPrevention: b.public ? 'inherited' : 'enforced', publicRead: b.public },
      stateful: true,
      summary: `${b.name} bucket → GCS bucket, ${access(b)}`,
    });
    grantAll(ctx, b, id, GCS_ROLES);
    buckets[b.name] = { name, ...(b.public ? { public_base_url: `https://storage.googleapis.com/${name}` } : {}) };
    ctx.config.dependsOn.push(id);
  }
  ctx.config.object_storage.push({ type: 'gcs', buckets });
}

function planMinio(ctx: PlanContext): void {
  const diskGiB = ctx.production ? 50 : 10;
  const minio = planInCluster(ctx, {
    kind: 'minio',
    source: null,
    label: 'object storage',
    workload: 'encore-minio',
    image: ctx.image(MINIO_IMAGE),
    port: 9000,
    replicas: 1,
    cpu: ctx.production ? 1 : 0.1,
    memoryGiB: ctx.production ? 2 : 0.5,
    diskGiB,
    args: ['server', '/data'],
    credentials: ['secretKey'],
    settings: { rootUser: MINIO_ROOT_USER },
    summary: ctx.production
      ? `object storage → StatefulSet MinIO (S3-compatible), single node, ${diskGiB} GiB PVC`
      : `object storage → StatefulSet MinIO (S3-compatible), ${diskGiB} GiB PVC`,
  });
  const endpoint = `http://${minio.address}`;
  const secret = minio.secret as { id: string; name: string };
  const keyEnv = 'ENCORE_MINIO_SECRET_KEY';
  const buckets: JsonObject = {};
  const allUsers = new Set<string>();
  for (const b of ctx.needs.buckets) {
    const id = `minio:bucket:${b.name}`;
    // S3 names are 3–63 characters; Encore allows shorter ones.
    const name = b.name.length >= 3 ? b.name : `${b.name}-${shortHash(b.name).slice(0, 6)}`;
    ctx.add({
      id,
      kind: 'bucket',
      providerType: 'minio/Bucket',
      name,
      source: { kind: 'bucket', name: b.name },
      settings: {
        server: minio.statefulSetId,
        versioning: b.versioned,
        anonymousRead: b.public,
        // MinIO's server image carries its client, mc, which the Job runs.
        job: { name: dnsLabel('encore-bucket-', name, 43), image: ctx.image(MINIO_IMAGE), endpoint: minio.address, rootUser: MINIO_ROOT_USER, rootPasswordSecret: { name: secret.name, key: 'secretKey' } },
      },
      dependsOn: minio.dependsOn,
      stateful: true,
      summary: `${b.name} bucket → MinIO bucket, ${b.public ? 'public read inside the cluster' : 'private'}${b.versioned ? ', versioned' : ''}`,
    });
    for (const [service] of users(ctx, b)) {
      allUsers.add(service);
      ctx.need(service, id);
    }
    buckets[b.name] = { name, ...(b.public ? { public_base_url: `${endpoint}/${name}` } : {}) };
    ctx.config.dependsOn.push(id);
  }
  ctx.secretEnv.push({ envVar: keyEnv, secretId: secret.id, secretName: secret.name, key: 'secretKey', services: [...allUsers].sort() });
  // MinIO ignores the region, but Encore's s3 provider requires one.
  ctx.config.object_storage.push({ type: 's3', region: 'us-east-1', endpoint, access_key_id: MINIO_ROOT_USER, secret_access_key: { $env: keyEnv }, buckets });
}
