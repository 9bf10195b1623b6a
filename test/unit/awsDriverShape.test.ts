// The AWS driver's pure parts: it handles every provider type the planner emits for AWS (both apps, both types),
// composed with the Kubernetes driver for the rest; the subnet plan of the network; final snapshot names; and the
// settings paths its diff compares.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { supportsType as inCluster } from '../../src/provisioning/providers/kubernetes/manifests';
import { desiredGraph } from '../../src/provisioning/planner';
import { HANDLERS } from '../../src/provisioning/providers/aws/driver';
import { at, pick } from '../../src/provisioning/providers/aws/driver/common';
import { subnetCidr } from '../../src/provisioning/providers/aws/driver/network';
import { finalSnapshotId } from '../../src/provisioning/providers/aws/driver/rds';
import { env, everything, sample } from './plannerHelpers';

test('every resource of an AWS graph goes to the AWS driver or to the in-cluster one, none to neither', () => {
  for (const model of [sample, everything]) {
    for (const [type, deploy] of [['production', undefined], ['development', undefined], ['production', { trigger: 'push', branch: 'main' }]] as const) {
      // A push trigger adds the CI identity (GitHub's OIDC provider, the deploy role, its EKS access entry).
      const graph = desiredGraph(model, env('aws', type, deploy ? { deploy } : {}), { ciRepository: 'acme/shop' });
      if (deploy) assert.equal(graph.resources.filter((r) => r.id.startsWith('aws:ci-') || r.id === 'aws:github-oidc').length, 3);
      const orphans = graph.resources.filter((r) => !(r.providerType in HANDLERS) && !inCluster(r.providerType)).map((r) => `${r.id} (${r.providerType})`);
      assert.deepEqual(orphans, [], `${model.root} ${type}`);
      for (const r of graph.resources.filter((x) => x.providerType.startsWith('AWS::'))) assert.ok(r.providerType in HANDLERS, r.providerType);
    }
  }
});

test('the network: a /20 per tier and zone inside the /16, none overlapping', () => {
  const cidrs = [0, 1, 2].flatMap((tier) => [0, 1].map((zone) => subnetCidr('10.26.0.0/16', tier, zone)));
  assert.deepEqual(cidrs, ['10.26.0.0/20', '10.26.16.0/20', '10.26.32.0/20', '10.26.48.0/20', '10.26.64.0/20', '10.26.80.0/20']);
});

test('a final snapshot is named after its instance and the second it was taken', () => {
  assert.equal(finalSnapshotId('sample-app-prod-orders', new Date('2026-12-06T19:30:12.345Z')), 'sample-app-prod-orders-final-20261206t193012z');
  assert.match(finalSnapshotId('x'), /^x-final-\d{8}t\d{6}z$/);
});

test('diff compares the managed paths, nested ones included', () => {
  const settings = { fifo: true, redrivePolicy: { deadLetterQueue: 'aws:sqs-dlq:x', maxReceiveCount: 21 }, note: 'not compared' };
  assert.deepEqual(pick(settings, ['fifo', 'redrivePolicy.maxReceiveCount', 'missing']), { fifo: true, redrivePolicy: { maxReceiveCount: 21 } });
  assert.equal(at(settings, 'redrivePolicy.maxReceiveCount'), 21);
  assert.equal(at(settings, 'fifo.deeper'), undefined);
});
