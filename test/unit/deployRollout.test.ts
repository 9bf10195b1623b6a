// kubectl's rollout rules over Deployment objects, step by step through the sequences a controller writes, and the
// reasons read from pods. Run: node --import tsx --test test/unit/deployRollout.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../src/provisioning/providers/kubernetes/client';
import { explainPods, rolloutStatus, type RolloutState } from '../../src/provisioning/deploy/rollout';

function deployment(generation: number, status: Record<string, unknown> | undefined, replicas: number | 'unset' = 3): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', generation },
    spec: { ...(replicas === 'unset' ? {} : { replicas }), template: { spec: { containers: [{ name: 'api', image: 'r/app@sha256:1' }] } } },
    ...(status ? { status } : {}),
  };
}

const step = (generation: number, status: Record<string, unknown> | undefined): [RolloutState, string] => {
  const s = rolloutStatus(deployment(generation, status));
  return [s.state, s.message];
};

test('a rolling update of 3 replicas, as the controller reports it, reads like kubectl rollout status', () => {
  const seq: [Record<string, unknown> | undefined, RolloutState, string][] = [
    [undefined, 'waiting', 'Waiting for deployment spec update to be observed...'],
    [{ observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 'waiting', 'Waiting for deployment spec update to be observed...'],
    [{ observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 }, 'progressing', 'Waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been updated...'],
    [{ observedGeneration: 2, replicas: 5, updatedReplicas: 3, availableReplicas: 3 }, 'progressing', 'Waiting for deployment "api" rollout to finish: 2 old replicas are pending termination...'],
    [{ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }, 'progressing', 'Waiting for deployment "api" rollout to finish: 2 of 3 updated replicas are available...'],
    [{ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 'done', 'deployment "api" successfully rolled out'],
  ];
  for (const [status, state, message] of seq) assert.deepEqual(step(2, status), [state, message], JSON.stringify(status));
});

test('past the progress deadline the rollout failed, with the condition message', () => {
  const status = {
    observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "api-7d9f" has timed out progressing.' },
    ],
  };
  assert.deepEqual(step(2, status), ['failed', 'deployment "api" exceeded its progress deadline: ReplicaSet "api-7d9f" has timed out progressing.']);
  // Not yet observed wins over a stale condition: a new deploy after a failed one waits for the controller.
  assert.equal(step(3, status)[0], 'waiting');
  // A Progressing condition that is fine does not fail anything.
  assert.equal(step(2, { ...status, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }] })[0], 'progressing');
});

test('a new generation while one is in progress goes back to waiting until the controller observes it', () => {
  assert.equal(step(2, { observedGeneration: 2, replicas: 4, updatedReplicas: 2, availableReplicas: 3 })[0], 'progressing');
  assert.equal(step(3, { observedGeneration: 2, replicas: 4, updatedReplicas: 2, availableReplicas: 3 })[0], 'waiting');
  assert.equal(step(3, { observedGeneration: 3, replicas: 5, updatedReplicas: 1, availableReplicas: 3 })[0], 'progressing');
  assert.equal(step(3, { observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 3 })[0], 'done');
});

test('counts, zero replicas and an unset spec.replicas', () => {
  const s = rolloutStatus(deployment(4, { observedGeneration: 4, replicas: 3, updatedReplicas: 2, availableReplicas: 1 }));
  assert.deepEqual([s.generation, s.observedGeneration, s.desired, s.updated, s.available, s.total], [4, 4, 3, 2, 1, 3]);
  assert.equal(rolloutStatus(deployment(1, { observedGeneration: 1 }, 0)).state, 'done');
  // kubectl skips the updated-vs-desired check without spec.replicas; the availability check still applies.
  assert.equal(rolloutStatus(deployment(1, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 }, 'unset')).state, 'progressing');
  assert.equal(rolloutStatus(deployment(1, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }, 'unset')).state, 'done');
});

function pod(name: string, status: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, status };
}

test('pods explain a stuck rollout: image pull, crash loop with its exit, config errors, scheduling, readiness', () => {
  const pods = [
    pod('a', { containerStatuses: [{ name: 'api', ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "r/app@sha256:1"' } } }] }),
    pod('b', { containerStatuses: [{ name: 'api', ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "r/app@sha256:1"' } } }] }),
    pod('c', {
      containerStatuses: [{
        name: 'api', ready: false, restartCount: 4,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container=api' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      }],
    }),
    pod('d', { containerStatuses: [{ name: 'api', state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "encore-service-auth" not found' } } }] }),
    pod('e', { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' }] }),
    pod('f', { containerStatuses: [{ name: 'api', ready: false, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }] }),
    pod('g', { containerStatuses: [{ name: 'api', ready: false, state: { waiting: { reason: 'ContainerCreating' } } }] }),
    pod('h', { containerStatuses: [{ name: 'api', ready: true, state: { running: {} } }] }),
    pod('i', { initContainerStatuses: [{ name: 'migrate', state: { terminated: { exitCode: 2, reason: 'Error' } } }] }),
  ];
  assert.deepEqual(explainPods(pods), [
    'container api: ImagePullBackOff (Back-off pulling image "r/app@sha256:1") [2 pods]',
    'container api: CrashLoopBackOff (back-off 1m20s restarting failed container=api); it last exited with code 1 (Error)',
    'container api: CreateContainerConfigError (secret "encore-service-auth" not found)',
    'unschedulable: 0/3 nodes are available: 3 Insufficient memory.',
    'container api is running but not ready (its readiness probe fails)',
    'container migrate exited with code 2 (Error)',
  ]);
  assert.deepEqual(explainPods([]), []);
  assert.deepEqual(explainPods([pods[6]!, pods[7]!]), []);
});
