// The Kubernetes state backend against a real kube-apiserver: state in a Secret with resourceVersion concurrency
// (a stale write is the engine's 'conflict'), the journal beside it, and the lock as a Lease: holder identity,
// MicroTime renewal, contention, and breaking a dead holder's lock. Run:
// node --import tsx --test test/integration/kubeState.test.ts
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, test } from 'node:test';
import { emptyState, isStateError, type EnvState, type JournalEntry } from '../../src/model/state';
import { connect } from '../../src/provisioning/providers/kubernetes/connection';
import type { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { KubernetesStateBackend, LOCK_LEASE, STATE_SECRET } from '../../src/provisioning/providers/kubernetes/stateBackend';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';

let kube: TestKube;
let client: KubeClient;

before(async () => {
  kube = await startTestKube();
  client = (await connect({ kubeconfig: kube.kubeconfigPath, context: 'encore-test' })).client;
});
after(async () => {
  await kube?.stop();
});

const holder = (pid = process.pid) => ({ user: 'alice', host: os.hostname(), pid, startedAt: new Date().toISOString(), operation: 'apply' as const });
const entry = (serial: number, message: string): JournalEntry => ({ at: new Date().toISOString(), operation: 'op-1', serial, event: 'step-done', resourceId: 'k8s:namespace', message });

function state(serial: number): EnvState {
  return { ...emptyState('dev', 'kubernetes'), serial, updatedAt: new Date().toISOString() };
}

test('state is stored in a Secret of the namespace, which is created when needed; a stale version is a conflict', async () => {
  const namespace = uniqueName('state');
  const backend = new KubernetesStateBackend(client, namespace, 'dev');
  assert.deepEqual(await backend.load(), { state: null, version: null });
  const v1 = await backend.commit(state(1), [entry(1, 'first')], null);
  assert.ok((await client.find('v1', 'Namespace', undefined, namespace)), 'the namespace was created for the state');
  const loaded = await backend.load();
  assert.equal(loaded.version, v1);
  assert.equal(loaded.state?.serial, 1);

  const v2 = await backend.commit(state(2), [entry(2, 'second')], v1);
  assert.notEqual(v2, v1);
  // A second run that read version 1 cannot write over version 2.
  await assert.rejects(backend.commit(state(3), [], v1), (err: Error) => isStateError(err) && err.code === 'conflict' && /changed by another run/.test(err.message));
  // Nor can one that thinks nothing is stored yet.
  await assert.rejects(backend.commit(state(3), [], null), (err: Error) => isStateError(err) && err.code === 'conflict');
  assert.deepEqual((await backend.readJournal()).map((e) => e.message), ['first', 'second']);
  assert.equal((await backend.load()).state?.serial, 2, 'the refused writes changed nothing');

  const secret = await client.get('v1', 'Secret', namespace, STATE_SECRET);
  assert.equal(secret.metadata.labels?.['app.kubernetes.io/managed-by'], 'encore-environments');
});

test('the race itself: two writers with the same version, one wins and the other gets the server\'s 409 as a conflict', async () => {
  const backend = new KubernetesStateBackend(client, uniqueName('race'), 'dev');
  const v1 = await backend.commit(state(1), [], null);
  const results = await Promise.allSettled([backend.commit(state(2), [entry(2, 'a')], v1), backend.commit(state(2), [entry(2, 'b')], v1)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.ok(isStateError(lost.reason) && lost.reason.code === 'conflict', String(lost.reason));
  assert.equal((await backend.readJournal()).length, 1);
});

test('a corrupt state Secret is refused, not taken for an empty environment', async () => {
  const namespace = uniqueName('corrupt');
  const backend = new KubernetesStateBackend(client, namespace, 'dev');
  await backend.commit(state(1), [], null);
  await client.mergePatch('v1', 'Secret', namespace, STATE_SECRET, { data: { 'state.json': Buffer.from('{"format": 99}').toString('base64') } });
  await assert.rejects(backend.load(), (err: Error) => isStateError(err) && err.code === 'corrupt');
});

test('the lock is a Lease: a second acquirer is refused with the holder\'s identity, host and start time', async () => {
  const namespace = uniqueName('lock');
  const backend = new KubernetesStateBackend(client, namespace, 'dev', { leaseDurationSeconds: 3 });
  const mine = holder();
  const held = await backend.acquireLock(mine);
  const lease = (await client.get('coordination.k8s.io/v1', 'Lease', namespace, LOCK_LEASE)) as unknown as { spec: { holderIdentity: string; acquireTime: string; renewTime: string; leaseDurationSeconds: number } };
  assert.equal(lease.spec.holderIdentity, `alice@${os.hostname()}:${process.pid}`);
  assert.match(lease.spec.acquireTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'a MicroTime with six digits');
  assert.equal(lease.spec.leaseDurationSeconds, 3);

  await assert.rejects(backend.acquireLock({ ...holder(), user: 'bob' }), (err: Error) => {
    assert.ok(isStateError(err) && err.code === 'locked');
    assert.equal(err.holder?.user, 'alice');
    assert.equal(err.holder?.token, held.holder.token);
    assert.match(err.message, new RegExp(`locked by alice on ${os.hostname()} \\(pid ${process.pid}\\), running apply since ${mine.startedAt.replace(/[.]/g, '\\.')}\\. Wait for it to finish`));
    return true;
  });
  const seen = await backend.inspectLock();
  assert.equal(seen?.gone, false);
  await assert.rejects(backend.breakLock({ force: false }), (err: Error) => isStateError(err) && err.code === 'locked' && /left in place/.test(err.message));

  // Renewed while held: after more than a lease duration it is still ours, with a later renewTime.
  await new Promise((r) => setTimeout(r, 3500));
  const renewed = (await client.get('coordination.k8s.io/v1', 'Lease', namespace, LOCK_LEASE)) as unknown as { spec: { renewTime: string } };
  assert.ok(renewed.spec.renewTime > lease.spec.renewTime, `${renewed.spec.renewTime} after ${lease.spec.renewTime}`);
  assert.equal((await backend.inspectLock())?.gone, false);
  assert.equal(held.lost.aborted, false);

  await held.release();
  assert.equal(await backend.inspectLock(), null);
  const again = await backend.acquireLock({ ...holder(), user: 'bob' });
  assert.equal((await backend.inspectLock())?.holder.user, 'bob');
  await again.release();
});

test('a lock whose holder is gone can be broken deliberately; forcing a live one makes its holder see the loss', async () => {
  const namespace = uniqueName('dead');
  const backend = new KubernetesStateBackend(client, namespace, 'dev', { leaseDurationSeconds: 30 });
  await backend.commit(state(1), [], null);
  // A holder on this host whose process has exited (a pid that does not run).
  const dead = await backend.acquireLock(holder(2 ** 22 + 12345));
  void dead; // its process is "gone": it will never renew or release
  const seen = await backend.inspectLock();
  assert.equal(seen?.gone, true);
  assert.match(seen?.why ?? '', /process \d+ no longer runs on/);
  await assert.rejects(backend.acquireLock(holder()), (err: Error) => isStateError(err) && err.code === 'locked' && /That holder is gone .*encore-env unlock --env dev/.test(err.message));
  const broken = await backend.breakLock({ force: false });
  assert.equal(broken?.pid, 2 ** 22 + 12345);
  assert.equal(await backend.inspectLock(), null);
  assert.match((await backend.readJournal()).at(-1)?.message ?? '', /broke the lock of alice on .* \(pid 4206649, apply since .*\): process 4206649 no longer runs/);

  // An expired Lease of another host counts as gone too.
  const other = await backend.acquireLock({ ...holder(), host: 'build-7' });
  await client.mergePatch('coordination.k8s.io/v1', 'Lease', namespace, LOCK_LEASE, { spec: { renewTime: '2020-01-01T00:00:00.000000Z' } });
  assert.match((await backend.inspectLock())?.why ?? '', /last renewed \d+ s ago, and expires after 30 s/);
  await backend.breakLock({ force: false });
  await other.release(); // no longer ours: a no-op

  // Forcing the lock of a live holder: its next renewal sees the Lease is no longer its own, and `lost` fires.
  const quick = new KubernetesStateBackend(client, namespace, 'dev', { leaseDurationSeconds: 3 });
  const live = await quick.acquireLock(holder());
  assert.equal((await quick.breakLock({ force: true }))?.token, live.holder.token);
  const next = await quick.acquireLock({ ...holder(), user: 'bob' });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(live.lost.aborted, true);
  assert.match(String((live.lost.reason as Error).message), /broken or taken over while this run held it/);
  await live.release(); // no longer its lock: bob's stays
  assert.equal((await quick.inspectLock())?.holder.user, 'bob');
  await next.release();
});

test('a destroy that deleted the namespace finds its state gone with it; an apply in that state is refused', async () => {
  const namespace = uniqueName('gone');
  const backend = new KubernetesStateBackend(client, namespace, 'dev');
  const destroying: EnvState = {
    ...state(1),
    resources: { 'k8s:namespace': { resource: { id: 'k8s:namespace', kind: 'namespace', name: namespace, source: null, providerType: 'kubernetes/Namespace', settings: {}, dependsOn: [], stateful: false, summary: namespace }, status: 'pending', lastAction: 'delete', outputs: {}, secretOutputs: [], updatedAt: new Date().toISOString(), error: null } },
    lastOperation: { id: 'destroy-1', kind: 'destroy', startedAt: new Date().toISOString(), finishedAt: null, outcome: 'running', by: { user: 'alice', host: os.hostname() } },
  };
  const v1 = await backend.commit(destroying, [], null);
  // The namespace's own delete step, finished as the namespace controller would (here its finalizer is removed and
  // the Secret is left orphaned in etcd): the destroy's last writes (the namespace's step, the operation record)
  // are refused by the server with a 404 for the namespace.
  await client.delete('v1', 'Namespace', undefined, namespace);
  const ns = await client.get('v1', 'Namespace', undefined, namespace);
  await client.request('PUT', `/api/v1/namespaces/${namespace}/finalize`, { body: { ...ns, spec: { finalizers: [] } } });
  assert.equal(await client.find('v1', 'Namespace', undefined, namespace), null);
  const v2 = await backend.commit(destroying, [entry(2, 'namespace step started')], v1);
  assert.equal(v2, 'gone');
  assert.equal(await backend.commit({ ...destroying, resources: {} }, [], v2), 'gone');

  const applying: EnvState = { ...destroying, lastOperation: { ...destroying.lastOperation!, kind: 'apply' } };
  await assert.rejects(backend.commit(applying, [], v1), (err: Error) => isStateError(err) && err.code === 'io' && /namespaces "[^"]+" not found/.test(err.message));
});

test('a destroy keeps its lock while its namespace, and the Lease in it, is deleted; a Lease deleted from a live namespace is a lost lock', async () => {
  const namespace = uniqueName('ns-lock');
  const backend = new KubernetesStateBackend(client, namespace, 'dev', { leaseDurationSeconds: 3 });
  await backend.commit(state(1), [], null);
  const held = await backend.acquireLock({ ...holder(), operation: 'destroy' });
  // The destroy deletes the namespace; the namespace controller then deletes everything in it, the Lease first here.
  await client.delete('v1', 'Namespace', undefined, namespace);
  await client.delete('coordination.k8s.io/v1', 'Lease', namespace, LOCK_LEASE);
  await assert.rejects(client.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: LOCK_LEASE, namespace } }), /being terminated/, 'a terminating namespace admits no new Lease');
  await new Promise((r) => setTimeout(r, 2500)); // two renewals
  assert.equal(held.lost.aborted, false, String(held.lost.reason));
  // Then the namespace is gone altogether: still nothing lost.
  const ns = await client.get('v1', 'Namespace', undefined, namespace);
  await client.request('PUT', `/api/v1/namespaces/${namespace}/finalize`, { body: { ...ns, spec: { finalizers: [] } } });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(held.lost.aborted, false, String(held.lost.reason));
  await held.release();

  const other = uniqueName('ns-lock');
  const live = new KubernetesStateBackend(client, other, 'dev', { leaseDurationSeconds: 3 });
  await live.commit(state(1), [], null);
  const lock = await live.acquireLock(holder());
  await client.delete('coordination.k8s.io/v1', 'Lease', other, LOCK_LEASE);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(lock.lost.aborted, true, 'a Lease deleted from an Active namespace is a broken lock');
  assert.match(String((lock.lost.reason as Error).message), /broken or taken over/);
  await lock.release();
});
