/**
 * AWS::S3::Bucket: a bucket per Encore bucket, encrypted, owner-enforced, versioned as the code says, its public
 * access blocked unless the code makes it public (then a policy lets anyone read objects, nothing more).
 * Deleting one (a stateful resource: only in a confirmed destroy) empties it first, every version included.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type LiveObject, type Outputs, type ResolvedResource } from '../../../../model/providerApi';
import { asTagList, awsCode, bool, isCode, marked, out, str, tagRecord, tagsFor, type AwsContext, type Handler } from './common';
import { parsePolicy, publicReadPolicy } from './policies';

const s3Sdk = () => import('@aws-sdk/client-s3');
const NOT_FOUND = ['NotFound', 'NoSuchBucket', '404'];
const bucketArn = (name: string) => `arn:aws:s3:::${name}`;

/** Runs an S3 read whose "not configured" answer is an error code: undefined then. */
async function optional<T>(run: () => Promise<T>, ...absent: string[]): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (isCode(err, ...absent)) return undefined;
    throw err;
  }
}

async function read(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const sdk = await s3Sdk();
  const Bucket = r.name;
  try {
    await c.clients.send('S3', new sdk.HeadBucketCommand({ Bucket }), signal);
  } catch (err) {
    if (isCode(err, ...NOT_FOUND)) return null;
    throw err;
  }
  const [tags, versioning, block, encryption, ownership, policy] = await Promise.all([
    optional(() => c.clients.send('S3', new sdk.GetBucketTaggingCommand({ Bucket }), signal), 'NoSuchTagSet', 'NoSuchTagSetError'),
    c.clients.send('S3', new sdk.GetBucketVersioningCommand({ Bucket }), signal),
    optional(() => c.clients.send('S3', new sdk.GetPublicAccessBlockCommand({ Bucket }), signal), 'NoSuchPublicAccessBlockConfiguration'),
    optional(() => c.clients.send('S3', new sdk.GetBucketEncryptionCommand({ Bucket }), signal), 'ServerSideEncryptionConfigurationNotFoundError'),
    optional(() => c.clients.send('S3', new sdk.GetBucketOwnershipControlsCommand({ Bucket }), signal), 'OwnershipControlsNotFoundError'),
    optional(() => c.clients.send('S3', new sdk.GetBucketPolicyCommand({ Bucket }), signal), 'NoSuchBucketPolicy'),
  ]);
  const b = block?.PublicAccessBlockConfiguration;
  const publicDoc = parsePolicy(policy?.Policy);
  return {
    externalId: bucketArn(Bucket),
    observed: {
      versioning: versioning.Status === 'Enabled',
      blockPublicAccess: Boolean(b?.BlockPublicAcls && b.BlockPublicPolicy && b.IgnorePublicAcls && b.RestrictPublicBuckets),
      publicRead: publicDoc !== null && JSON.stringify(publicDoc) === JSON.stringify(publicReadPolicy(bucketArn(Bucket))),
      encryption: encryption?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? null,
      objectOwnership: ownership?.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? null,
    },
    outputs: { name: out(Bucket), arn: out(bucketArn(Bucket)) },
    status: { state: 'ready' },
    ours: marked(tagRecord(tags?.TagSet), r, c),
  };
}

async function ensure(r: ResolvedResource, c: AwsContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const sdk = await s3Sdk();
  const s = r.resolved;
  const signal = step.signal;
  const Bucket = r.name;
  const exists = await optional(() => c.clients.send('S3', new sdk.HeadBucketCommand({ Bucket }), signal), ...NOT_FOUND);
  if (!exists) {
    try {
      // Tagged as it is made: a crash right after the create leaves a bucket that is still recognisably ours.
      await c.clients.send('S3', new sdk.CreateBucketCommand({
        Bucket, ObjectOwnership: 'BucketOwnerEnforced',
        CreateBucketConfiguration: { ...(c.region === 'us-east-1' ? {} : { LocationConstraint: c.region as 'eu-west-1' }), Tags: asTagList(tagsFor(r, c)) },
      }), signal);
    } catch (err) {
      if (isCode(err, 'BucketAlreadyExists')) throw new DriverError('conflict', `${r.id}: the S3 bucket name ${Bucket} is taken by another AWS account (bucket names are global)`, { resourceId: r.id, cause: err });
      if (!isCode(err, 'BucketAlreadyOwnedByYou')) throw err;
    }
  }
  await c.clients.send('S3', new sdk.PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: asTagList(tagsFor(r, c)) } }), signal);
  await c.clients.send('S3', new sdk.PutBucketEncryptionCommand({
    Bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: str(s, 'encryption', r.id) as 'AES256' } }] },
  }), signal);
  await c.clients.send('S3', new sdk.PutBucketOwnershipControlsCommand({ Bucket, OwnershipControls: { Rules: [{ ObjectOwnership: str(s, 'objectOwnership', r.id) as 'BucketOwnerEnforced' }] } }), signal);
  const versioned = bool(s, 'versioning');
  const current = await c.clients.send('S3', new sdk.GetBucketVersioningCommand({ Bucket }), signal);
  // A bucket never versioned stays unversioned; one that was is suspended (S3 cannot turn it off).
  if (versioned || current.Status === 'Enabled') {
    await c.clients.send('S3', new sdk.PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: versioned ? 'Enabled' : 'Suspended' } }), signal);
  }
  const block = bool(s, 'blockPublicAccess');
  await c.clients.send('S3', new sdk.PutPublicAccessBlockCommand({
    Bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: block, RestrictPublicBuckets: block },
  }), signal);
  if (bool(s, 'publicRead')) {
    if (block) throw new DriverError('invalid', `${r.id}: a public bucket cannot have its public access blocked`, { resourceId: r.id });
    await c.clients.send('S3', new sdk.PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(publicReadPolicy(bucketArn(Bucket))) }), signal);
  } else {
    await optional(() => c.clients.send('S3', new sdk.DeleteBucketPolicyCommand({ Bucket }), signal), 'NoSuchBucketPolicy');
  }
  return { name: out(Bucket), arn: out(bucketArn(Bucket)) };
}

/** Deletes every object version and delete marker, a page at a time. */
export async function emptyBucket(c: AwsContext, Bucket: string, signal: AbortSignal): Promise<void> {
  const sdk = await s3Sdk();
  for (;;) {
    const page = await c.clients.send('S3', new sdk.ListObjectVersionsCommand({ Bucket, MaxKeys: 1000 }), signal);
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (objects.length === 0) return;
    await c.clients.send('S3', new sdk.DeleteObjectsCommand({ Bucket, Delete: { Objects: objects, Quiet: true } }), signal);
  }
}

export const bucketHandler: Handler = {
  managed: ['versioning', 'blockPublicAccess', 'publicRead', 'encryption', 'objectOwnership'],
  read,
  create: ensure,
  update: ensure,
  async delete(r, c, step) {
    const sdk = await s3Sdk();
    const live = await read(r, c, step.signal);
    if (!live) return;
    if (!live.ours) throw new DriverError('conflict', `${r.id}: bucket ${r.name} does not carry this environment's tags; it was left in place`, { resourceId: r.id });
    await emptyBucket(c, r.name, step.signal);
    try {
      await c.clients.send('S3', new sdk.DeleteBucketCommand({ Bucket: r.name }), step.signal);
    } catch (err) {
      if (!isCode(err, ...NOT_FOUND)) throw new DriverError(awsCode(err) === 'BucketNotEmpty' ? 'transient' : 'invalid', `${r.id}: ${(err as Error).message}`, { resourceId: r.id, cause: err });
    }
  },
  async waitReady() {
    // A bucket is usable once created.
  },
};
