// The GCP state bucket (src/provisioning/providers/gcp/stateBackend.ts): its name (global, at most 63 characters,
// the region kept and the project hashed when too long) and what it is created with. fake-gcs-server ignores uniform
// bucket-level access, public access prevention, labels, location and lifecycle (test/integration/gcpState.test.ts
// reports it), so this is where those settings are asserted, beside the request the integration test records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stateBucketMetadata, stateBucketName } from '../../src/provisioning/providers/gcp/stateBackend';

test('the bucket name: encore-state-<project>-<region>, valid and unique when the parts are long', () => {
  assert.equal(stateBucketName('shop-prod-1', 'europe-west1'), 'encore-state-shop-prod-1-europe-west1');
  const longA = stateBucketName('a-very-long-project-id-of-30c', 'northamerica-northeast2');
  const longB = stateBucketName('a-very-long-project-id-of-30d', 'northamerica-northeast2');
  for (const name of [longA, longB]) {
    assert.ok(name.length <= 63, `${name} is ${name.length} characters`);
    assert.match(name, /^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
    assert.ok(name.startsWith('encore-state-') && name.endsWith('-northamerica-northeast2'));
    assert.doesNotMatch(name, /--/);
  }
  assert.notEqual(longA, longB, 'two projects that share a prefix do not share a bucket');
});

test('the state bucket is created versioned, with uniform access, public access prevented, labelled, in the region, keeping 100 versions', () => {
  assert.deepEqual(stateBucketMetadata('europe-west1'), {
    location: 'EUROPE-WEST1',
    storageClass: 'STANDARD',
    versioning: { enabled: true },
    iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' },
    labels: { 'managed-by': 'encore-environments', purpose: 'environment-state' },
    lifecycle: { rule: [{ action: { type: 'Delete' }, condition: { numNewerVersions: 100, isLive: false } }] },
  });
});
