// The GCP state backend against fake-gcs-server through the real @google-cloud/storage client, with a recording proxy
// between them (test/gcp/gcsProxy.ts): the state bucket the backend creates (what it sent, and visibly what the fake
// ignores), the snapshot written with generation preconditions (ifGenerationMatch: 0 for the first, the generation
// read after; a stale one is the engine's 'conflict', and the proxy shows the precondition went on the wire and was
// answered 412 by the fake), concurrent writers, two applies at once refused by the lock, the Lease's break rules,
// a process killed mid-write, and the local read-only mirror for offline plans.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { emptyState, isStateError, type EnvState, type JournalEntry } from '../../src/model/state';
import { apply } from '../../src/provisioning/engine';
import { gcpMirroredState, gcpOfflineState, gcpStateBackend, stateBucketName } from '../../src/provisioning/providers/gcp/stateBackend';
import { startGcsFake, type GcsFake } from '../../scripts/gcp-fakes.mjs';
import { startGcsProxy, type GcsProxy } from '../gcp/gcsProxy';
import { watchConnections } from '../gcp/localGoogle';
import { MemoryCloud, MemoryDriver } from '../unit/engineCloud';
import { shopGraph } from '../unit/engineGraphs';
import type { GcpStateChildConfig } from './gcpStateChild';

const PROJECT = 'shop-prod-1';
const REGION = 'europe-west1';
const BUCKET = stateBucketName(PROJECT, REGION);

process.env.METADATA_SERVER_DETECTION = 'none';
const connections = watchConnections();

let fake: GcsFake;
let proxy: GcsProxy;
let dir: string;

before(async () => {
  fake = await startGcsFake();
  proxy = await startGcsProxy(fake.apiEndpoint);
  dir = mkdtempSync(path.join(os.tmpdir(), 'gcp-state-'));
});
after(async () => {
  await proxy?.close();
  await fake?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  connections.stop();
  assert.deepEqual(connections.offMachine(), [], 'every connection stayed on 127.0.0.1');
});

/** A client of its own, as another process or machine would have. */
const storage = () => new Storage({ projectId: PROJECT, apiEndpoint: proxy.apiEndpoint, authClient: new PassThroughClient() });
const backend = (environment = 'prod', leaseDurationSeconds = 30) =>
  gcpStateBackend({ storage: storage(), projectId: PROJECT, region: REGION, environment, account: 'dev@shop.example', leaseDurationSeconds });
const holder = (pid = process.pid, host = os.hostname()) => ({ user: 'alice', host, pid, startedAt: new Date().toISOString(), operation: 'apply' as const });
const entry = (serial: number, message: string): JournalEntry => ({ at: new Date().toISOString(), operation: 'op-1', serial, event: 'step-done', resourceId: 'gcp:vpc', message });
const state = (serial: number, environment = 'prod'): EnvState => ({ ...emptyState(environment, 'gcp'), serial, updatedAt: new Date().toISOString() });
const objectPath = (env: string, name: string) => `environments/${env}/${name}`;
const uploadsOf = (env: string, name: string) =>
  proxy.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/upload/storage/v1/b/') && c.query.get('name') === objectPath(env, name));

test('state is an object in the bucket the backend creates; writes carry the generation, and a stale one is a conflict', async (t) => {
  const b = await backend();
  assert.equal(b.location, `gs://${BUCKET}/environments/prod/state.json (project ${PROJECT})`);
  assert.deepEqual(await b.load(), { state: null, version: null }, 'nothing before the first write, not even the bucket');
  const v1 = await b.commit(state(1), [entry(1, 'first')], null);

  // What went on the wire to create the bucket; then what the fake kept of it.
  const insert = proxy.calls.find((c) => c.method === 'POST' && c.path === '/storage/v1/b');
  assert.ok(insert, 'buckets.insert was called');
  assert.equal(insert.query.get('project'), PROJECT);
  const sent = insert.json as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON on the wire
  assert.equal(sent.name, BUCKET);
  assert.equal(sent.location, 'EUROPE-WEST1');
  assert.deepEqual(sent.versioning, { enabled: true });
  assert.deepEqual(sent.iamConfiguration, { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' });
  assert.deepEqual(sent.labels, { 'managed-by': 'encore-environments', purpose: 'environment-state' });
  const [kept] = await storage().bucket(BUCKET).getMetadata();
  assert.equal(kept.versioning?.enabled, true, 'versioning is one setting the fake keeps');
  const ignored = [
    kept.iamConfiguration?.uniformBucketLevelAccess?.enabled !== true && 'uniform bucket-level access',
    kept.iamConfiguration?.publicAccessPrevention !== 'enforced' && 'public access prevention',
    kept.labels?.['managed-by'] !== 'encore-environments' && 'labels',
    String(kept.location ?? '').toUpperCase() !== 'EUROPE-WEST1' && 'location',
    !kept.lifecycle?.rule?.length && 'lifecycle rules',
  ].filter(Boolean);
  t.diagnostic(`fake-gcs-server gap: the state bucket's ${ignored.length ? ignored.join(', ') : 'settings'} ${ignored.length ? 'were sent (asserted above) but not kept by the fake, so only the request proves them' : 'were all kept'}`);

  const v2 = await b.commit(state(2), [entry(2, 'second')], v1);
  assert.notEqual(v2, v1);
  await assert.rejects(b.commit(state(3), [], v1), (err: Error) => isStateError(err) && err.code === 'conflict' && /changed by another run/.test(err.message));
  await assert.rejects(b.commit(state(3), [], null), (err: Error) => isStateError(err) && err.code === 'conflict');
  assert.equal((await b.load()).state?.serial, 2, 'the refused writes changed nothing');
  assert.equal((await b.load()).version, v2);
  assert.deepEqual((await b.readJournal()).map((e) => e.message), ['first', 'second']);
  // The preconditions went to the fake, which answered the stale ones 412: not a check of the client alone.
  assert.deepEqual(uploadsOf('prod', 'state.json').map((c) => [c.query.get('ifGenerationMatch'), c.status]), [['0', 200], [v1, 200], [v1, 412], ['0', 412]]);

  // Another machine's write in between makes ours a conflict too.
  await storage().bucket(BUCKET).file(objectPath('prod', 'state.json')).save(JSON.stringify(state(7)), { resumable: false });
  await assert.rejects(b.commit(state(3), [], v2), (err: Error) => isStateError(err) && err.code === 'conflict');
});

test('concurrent writers with the same generation: exactly one gets through, on separate clients', async () => {
  const [a, b] = await Promise.all([backend('race'), backend('race')]);
  const v1 = await a.commit(state(1, 'race'), [], null);
  const results = await Promise.allSettled([a.commit(state(2, 'race'), [entry(2, 'a')], v1), b.commit(state(2, 'race'), [entry(2, 'b')], v1)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one writer won');
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.ok(isStateError(lost.reason) && lost.reason.code === 'conflict', String(lost.reason));
  const won = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string>;
  assert.equal((await b.load()).version, won.value);
  assert.equal((await b.readJournal()).length, 1, "only the winner's journal line");
  // Two first writers (no state yet) race on ifGenerationMatch: 0 the same way.
  const [c, d] = await Promise.all([backend('race-first'), backend('race-first')]);
  const firsts = await Promise.allSettled([c.commit(state(1, 'race-first'), [], null), d.commit(state(1, 'race-first'), [], null)]);
  assert.equal(firsts.filter((r) => r.status === 'fulfilled').length, 1);
  assert.ok(firsts.some((r) => r.status === 'rejected' && isStateError(r.reason) && r.reason.code === 'conflict'));
});

test('a write that landed but whose answer was lost: the client retries it, the precondition refuses the retry, and the write is known as ours', async () => {
  const b = await backend('retried');
  const v1 = await b.commit(state(1, 'retried'), [], null);
  proxy.dropAnswerNext((c) => c.method === 'POST' && c.query.get('name') === objectPath('retried', 'state.json'));
  const v2 = await b.commit(state(2, 'retried'), [], v1);
  const tries = uploadsOf('retried', 'state.json').slice(1).map((c) => [c.query.get('ifGenerationMatch'), c.status]);
  assert.deepEqual(tries, [[v1, 'dropped'], [v1, 412]], 'the first try landed unanswered, the retry was refused by the fake');
  const loaded = await b.load();
  assert.deepEqual([loaded.state?.serial, loaded.version], [2, v2], 'the commit returned the generation it had written');
  // Another run's write, refused the same way, is still a conflict: the write id tells them apart.
  await assert.rejects(b.commit(state(3, 'retried'), [], v1), (err: Error) => isStateError(err) && err.code === 'conflict');
});

test('the lock: an object created with ifGenerationMatch: 0 carrying the holder, host, start time and account; a second taker is refused by name', async () => {
  const b = await backend();
  const lock = await b.acquireLock(holder());
  const [body] = await storage().bucket(BUCKET).file(objectPath('prod', 'lock.json')).download();
  const written = JSON.parse(body.toString());
  assert.deepEqual({ user: written.holder.user, host: written.holder.host, pid: written.holder.pid, account: written.account }, { user: 'alice', host: os.hostname(), pid: process.pid, account: 'dev@shop.example' });
  assert.ok(Date.parse(written.holder.startedAt) > 0 && written.holder.token === lock.holder.token);
  assert.deepEqual(uploadsOf('prod', 'lock.json').map((c) => [c.query.get('ifGenerationMatch'), c.status]), [['0', 200]]);
  const other = await backend();
  await assert.rejects(other.acquireLock({ ...holder(), user: 'bob' }), (err: Error) => isStateError(err) && err.code === 'locked' && /locked by alice \(dev@shop\.example\) on/.test(err.message));
  assert.equal((await other.inspectLock())?.gone, false, 'a live holder on this host is not gone');
  await assert.rejects(other.breakLock({ force: false }), (err: Error) => isStateError(err) && err.code === 'locked' && /left in place/.test(err.message));
  await lock.release();
  assert.equal(await other.inspectLock(), null);
  const again = await other.acquireLock({ ...holder(), user: 'bob' });
  await again.release();
});

test('an identity that may use only its objects (not storage.buckets.get, as deploy on push\'s service account): the lock, the state and the history work in the bucket that exists', async () => {
  await (await backend('ci')).commit(state(1, 'ci'), [], null);
  const released = proxy.forbid((c) => c.method === 'GET' && c.path === `/storage/v1/b/${BUCKET}`);
  const from = proxy.calls.length;
  try {
    const b = await backend('ci');
    const lock = await b.acquireLock(holder());
    const loaded = await b.load();
    assert.equal(loaded.state?.serial, 1);
    await b.commit(state(2, 'ci'), [entry(2, 'deployed')], loaded.version);
    await lock.release();
    const during = proxy.calls.slice(from);
    assert.ok(during.some((c) => c.status === 403 && c.path === `/storage/v1/b/${BUCKET}`), 'the bucket read was refused, and nothing depended on it');
    assert.deepEqual(during.filter((c) => c.method === 'POST' && c.path === '/storage/v1/b'), [], 'no bucket create was attempted');
  } finally {
    released();
  }
  assert.equal((await (await backend('ci')).load()).state?.serial, 2);
});

test('two applies at once through the engine: one runs, the other is refused by the lock and changes nothing', async () => {
  const cloud = new MemoryCloud();
  cloud.latencyMs = { create: 30 };
  const graph = shopGraph('both');
  const [first, second] = await Promise.all([backend('both'), backend('both')]);
  const results = await Promise.allSettled([
    apply(graph, { backend: first, driver: new MemoryDriver(cloud) }),
    apply(graph, { backend: second, driver: new MemoryDriver(cloud) }),
  ]);
  const ran = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof apply>>>[];
  const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  assert.equal(ran.length, 1, `one apply ran (${results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ran')).join(' | ')})`);
  assert.equal(ran[0]!.value.result.outcome, 'succeeded');
  assert.equal(refused.length, 1);
  assert.ok(isStateError(refused[0]!.reason) && refused[0]!.reason.code === 'locked', String(refused[0]!.reason));
  const creates = cloud.calls.filter((c) => c.op === 'create');
  assert.equal(new Set(creates.map((c) => c.id)).size, creates.length, 'no resource was created twice');
  assert.equal(creates.length, graph.resources.length);
  assert.equal(await first.inspectLock(), null, 'the winner released the lock');
  assert.equal(Object.keys((await first.load()).state?.resources ?? {}).length, graph.resources.length);
});

test('break rules as the Lease: a dead process on this host, or a lock not renewed for its lease, is gone; a live one elsewhere needs force', async () => {
  const b = await backend('breaks', 1);
  await b.commit(state(1, 'breaks'), [], null);
  await b.acquireLock(holder(2 ** 22 + 7));
  const dead = await b.inspectLock();
  assert.equal(dead?.gone, true);
  assert.match(dead!.why, /no longer runs/);
  assert.equal((await b.breakLock({ force: false }))?.pid, 2 ** 22 + 7);

  const lockFile = storage().bucket(BUCKET).file(objectPath('breaks', 'lock.json'));
  const stale = { holder: { ...holder(1, 'ci-runner-3'), token: 't' }, renewedAt: new Date(Date.now() - 5000).toISOString(), leaseDurationSeconds: 1 };
  await lockFile.save(JSON.stringify(stale), { resumable: false });
  assert.match((await b.inspectLock())!.why, /last renewed 5 s ago/);
  assert.equal((await b.breakLock({ force: false }))?.host, 'ci-runner-3');

  await lockFile.save(JSON.stringify({ ...stale, renewedAt: new Date(Date.now() + 60_000).toISOString() }), { resumable: false });
  await assert.rejects(b.breakLock({ force: false }), (err: Error) => isStateError(err) && err.code === 'locked');
  assert.equal((await b.breakLock({ force: true }))?.host, 'ci-runner-3');
  // A lock this version did not write is gone, and says what it holds.
  await lockFile.save('not a lock', { resumable: false });
  assert.match((await b.inspectLock())!.why, /not a lock this version wrote/);
  assert.equal((await b.breakLock({ force: false }))?.user, 'unknown');
  assert.equal((await b.readJournal()).filter((e) => e.event === 'lock-broken').length, 4);

  // A held lock is renewed (with its generation as precondition): still not gone after more than its lease.
  const held = await b.acquireLock(holder());
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await b.inspectLock())?.gone, false, 'renewed while held');
  assert.equal(held.lost.aborted, false);
  const renewals = uploadsOf('breaks', 'lock.json').slice(-2);
  assert.ok(renewals.every((c) => c.query.get('ifGenerationMatch') !== '0' && c.status === 200), 'renewals are conditional on the generation held');
  // Broken under its holder (force from elsewhere): the next renewal sees a changed generation and fires `lost`.
  await b.breakLock({ force: true });
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(held.lost.aborted, true);
  assert.match(String((held.lost.reason as Error).message), /broken or taken over/);
  await held.release();
});

test('a process killed in the middle of a state write leaves the previous generation whole; its dead lock is broken, and the next run writes on', async () => {
  const config: GcpStateChildConfig = { apiEndpoint: proxy.apiEndpoint, projectId: PROJECT, region: REGION, environment: 'crash' };
  // The child's second write of state.json (the first is ifGenerationMatch=0) is held in flight, then the child dies.
  const heldUpload = proxy.holdNext((c) => c.method === 'POST' && c.query.get('name') === objectPath('crash', 'state.json') && c.query.get('ifGenerationMatch') !== '0');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'gcpStateChild.ts')], {
    env: { ...process.env, GCP_STATE_CHILD: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<string | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const upload = await Promise.race([heldUpload, exited.then(() => null)]);
  assert.ok(upload, `the child's second write never reached the proxy: ${out}`);
  assert.ok(upload.bodyBytes > 100_000, 'the write in flight was a large one');
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const v1 = /first write: (\d+)/.exec(out)?.[1];
  assert.ok(v1, out);

  const b = await backend('crash');
  const loaded = await b.load();
  assert.equal(loaded.state?.serial, 1, 'the first state, whole');
  assert.equal(loaded.version, v1, 'at the generation the dead run last wrote');
  await assert.rejects(b.acquireLock(holder()), (err: Error) => isStateError(err) && err.code === 'locked' && /holder is gone/.test(err.message));
  assert.equal((await b.breakLock({ force: false }))?.pid, child.pid, 'the dead process on this host is gone: broken without force');
  const lock = await b.acquireLock(holder());
  await b.commit(state(2, 'crash'), [entry(2, 'after the crash')], v1);
  await lock.release();
  assert.equal((await b.load()).state?.serial, 2);
});

test('the local mirror: the backend behind it writes the copy, and the offline reader reads it without reaching GCS', async () => {
  // Made from an auth client and an endpoint, as the GCP module does with ADC (a pass-through client here).
  const remote = await gcpStateBackend({ authClient: new PassThroughClient(), apiEndpoint: proxy.apiEndpoint, projectId: PROJECT, region: REGION, environment: 'mirrored' });
  const b = gcpMirroredState(remote, dir, 'mirrored');
  const v = await b.commit(state(4, 'mirrored'), [], null);
  assert.equal((await b.load()).version, v);
  const calls = proxy.calls.length;
  const offline = gcpOfflineState('mirrored', PROJECT, REGION, dir);
  const read = await offline.load();
  assert.equal(read.state?.serial, 4);
  assert.equal(read.version, v);
  assert.equal(proxy.calls.length, calls, 'the offline reader made no call');
  await assert.rejects(offline.commit(state(5, 'mirrored'), [], v), (err: Error) => isStateError(err));
  await assert.rejects(offline.acquireLock(holder()), (err: Error) => isStateError(err));
});
