// The AWS state backend against moto through the real S3 client: the state bucket the provider creates (versioned,
// encrypted, public access blocked), the snapshot written with S3's conditional writes (If-None-Match: * for the
// first, If-Match: <ETag> after; a stale one is the engine's 'conflict', and the shim's call log shows the
// condition went on the wire), the lock as an object created with If-None-Match carrying its holder, the Lease's
// break rules, and the local read-only mirror the provider keeps for offline plans.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { GetBucketEncryptionCommand, GetBucketVersioningCommand, GetObjectCommand, GetPublicAccessBlockCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Environment } from '../../src/model/environment';
import { emptyState, isStateError, type EnvState, type JournalEntry } from '../../src/model/state';
import { openAwsConnection } from '../../src/provisioning/providers/aws/connection';
import { AwsDriver } from '../../src/provisioning/providers/aws/driver';
import { awsProvider, awsStateBackend } from '../../src/provisioning/providers/aws/module';
import { stateBucketName } from '../../src/provisioning/providers/aws/stateBackend';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';

let bed: AwsTestbed;
let dir: string;
const KEYS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

before(async () => {
  bed = await startAwsTestbed();
  dir = mkdtempSync(path.join(os.tmpdir(), 'aws-state-'));
});
afterEach(async () => bed.afterEach());
after(async () => {
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function backend(environment = 'prod', leaseDurationSeconds = 30) {
  bed.awsHome({
    config: `[profile shop]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`,
    credentials: `[shop]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  }).use();
  const driver = new AwsDriver({ environment, connection: await openAwsConnection({ profile: 'shop' }) });
  return { driver, state: await awsStateBackend(driver, environment, { leaseDurationSeconds }) };
}

const s3 = () => new S3Client({ region: TEST_REGION, endpoint: bed.endpoint, forcePathStyle: true, credentials: KEYS });
const holder = (pid = process.pid, host = os.hostname()) => ({ user: 'alice', host, pid, startedAt: new Date().toISOString(), operation: 'apply' as const });
const entry = (serial: number, message: string): JournalEntry => ({ at: new Date().toISOString(), operation: 'op-1', serial, event: 'step-done', resourceId: 'aws:vpc', message });
const state = (serial: number): EnvState => ({ ...emptyState('prod', 'aws'), serial, updatedAt: new Date().toISOString() });

test('state is an object in the bucket the provider creates; writes are conditional, and a stale one is a conflict', async () => {
  const { driver, state: b } = await backend();
  const bucket = stateBucketName(MOTO_ACCOUNT, TEST_REGION);
  assert.equal(b.location, `s3://${bucket}/environments/prod/state.json (${TEST_REGION})`);
  assert.deepEqual(await b.load(), { state: null, version: null }, 'nothing before the first write, not even the bucket');
  const v1 = await b.commit(state(1), [entry(1, 'first')], null);
  const client = s3();
  assert.equal((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
  assert.deepEqual((await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
  assert.equal((await client.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');

  const v2 = await b.commit(state(2), [entry(2, 'second')], v1);
  assert.notEqual(v2, v1);
  await assert.rejects(b.commit(state(3), [], v1), (err: Error) => isStateError(err) && err.code === 'conflict' && /changed by another run/.test(err.message));
  await assert.rejects(b.commit(state(3), [], null), (err: Error) => isStateError(err) && err.code === 'conflict');
  assert.equal((await b.load()).state?.serial, 2, 'the refused writes changed nothing');
  assert.deepEqual((await b.readJournal()).map((e) => e.message), ['first', 'second']);
  // The conditions went to S3 (moto answered the stale ones 412), not checked by the client alone.
  const puts = bed.shim.callsTo('s3', 'PutObject').filter((c) => c.path.endsWith('/state.json'));
  assert.deepEqual(puts.map((c) => c.status), [200, 200, 412, 412]);

  // Someone else's write in between (another machine's run) makes ours a conflict too.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'environments/prod/state.json', Body: JSON.stringify(state(7)) }));
  await assert.rejects(b.commit(state(3), [], v2), (err: Error) => isStateError(err) && err.code === 'conflict');
  client.destroy();
  await driver.dispose();
});

test('the race itself: two writers with the same version, S3 lets exactly one through', async () => {
  const { driver, state: b } = await backend('race');
  const v1 = await b.commit({ ...state(1), environment: 'race' }, [], null);
  const results = await Promise.allSettled([b.commit({ ...state(2), environment: 'race' }, [entry(2, 'a')], v1), b.commit({ ...state(2), environment: 'race' }, [entry(2, 'b')], v1)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.ok(isStateError(lost.reason) && lost.reason.code === 'conflict');
  await driver.dispose();
});

test('the lock: an object created with If-None-Match, with the holder; a second taker is refused by name; release frees it', async () => {
  const { driver, state: b } = await backend();
  const lock = await b.acquireLock(holder());
  assert.equal(typeof lock.holder.token, 'string');
  const body = JSON.parse(await (await s3().send(new GetObjectCommand({ Bucket: b.bucket, Key: 'environments/prod/lock.json' }))).Body!.transformToString());
  assert.deepEqual({ user: body.holder.user, host: body.holder.host, pid: body.holder.pid }, { user: 'alice', host: os.hostname(), pid: process.pid });
  await assert.rejects(b.acquireLock({ ...holder(), user: 'bob' }), (err: Error) => isStateError(err) && err.code === 'locked' && err.holder?.user === 'alice' && /locked by alice on/.test(err.message));
  const seen = await b.inspectLock();
  assert.equal(seen?.gone, false, 'a live holder on this host is not gone');
  await assert.rejects(b.breakLock({ force: false }), (err: Error) => isStateError(err) && err.code === 'locked' && /left in place/.test(err.message));
  await lock.release();
  assert.equal(await b.inspectLock(), null);
  const again = await b.acquireLock({ ...holder(), user: 'bob' });
  await again.release();
  await driver.dispose();
});

test('break rules as the Lease: a dead process on this host, or a lock not renewed for its lease, is gone; another live host needs force', async () => {
  const { driver, state: b } = await backend('breaks', 1);
  await b.commit({ ...state(1), environment: 'breaks' }, [], null);
  // A holder whose process no longer runs here.
  await b.acquireLock(holder(2 ** 22 + 7));
  const dead = await b.inspectLock();
  assert.equal(dead?.gone, true);
  assert.match(dead!.why, /no longer runs/);
  assert.equal((await b.breakLock({ force: false }))?.pid, 2 ** 22 + 7);
  // Another host's holder that stopped renewing (the lease is 1 s here).
  const client = s3();
  const stale = { holder: { ...holder(1, 'ci-runner-3'), token: 't' }, renewedAt: new Date(Date.now() - 5000).toISOString(), leaseDurationSeconds: 1 };
  await client.send(new PutObjectCommand({ Bucket: b.bucket, Key: 'environments/breaks/lock.json', Body: JSON.stringify(stale) }));
  assert.match((await b.inspectLock())!.why, /last renewed 5 s ago/);
  assert.equal((await b.breakLock({ force: false }))?.host, 'ci-runner-3');
  // A live holder elsewhere: only force breaks it, and the journal says so.
  await client.send(new PutObjectCommand({ Bucket: b.bucket, Key: 'environments/breaks/lock.json', Body: JSON.stringify({ ...stale, renewedAt: new Date(Date.now() + 60_000).toISOString() }) }));
  await assert.rejects(b.breakLock({ force: false }), (err: Error) => isStateError(err) && err.code === 'locked');
  assert.equal((await b.breakLock({ force: true }))?.host, 'ci-runner-3');
  assert.deepEqual((await b.readJournal()).filter((e) => e.event === 'lock-broken').length, 3);
  // A held lock is renewed: still not gone after more than its lease.
  const held = await b.acquireLock(holder());
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await b.inspectLock())?.gone, false, 'renewed while held');
  assert.equal(held.lost.aborted, false);
  await held.release();
  client.destroy();
  await driver.dispose();
});

test('the provider module: state through the mirror, and the offline reader sees the copy without reaching AWS', async () => {
  bed.awsHome({
    config: `[profile shop]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`,
    credentials: `[shop]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  }).use();
  const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } };
  const opened = await awsProvider.open(env, { appRoot: dir });
  const b = await opened.state();
  const v = await b.commit(state(4), [], null);
  assert.equal((await b.load()).version, v);
  const calls = bed.shim.calls.length;
  const offline = awsProvider.offlineState(env, { appRoot: dir });
  assert.equal((await offline.load()).state?.serial, 4);
  assert.equal(bed.shim.calls.length, calls, 'the offline reader made no call');
  await assert.rejects(offline.commit(state(5), [], v), (err: Error) => isStateError(err));
  await opened.dispose();
});
