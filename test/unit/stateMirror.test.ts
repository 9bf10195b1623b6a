// The local copy of remote state (src/provisioning/state/mirror.ts): written after every load and commit of the
// remote backend, read by the offline backend, and the migration of state an earlier version kept in the local
// folder. A LocalFileBackend in another folder stands in for the remote backend (the Secret): the wrappers work on
// any StateBackend; test/integration/kubeStateDefault.test.ts runs them on the real one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Environment } from '../../src/model/environment';
import { emptyState, type EnvState, type JournalEntry, type StateBackend } from '../../src/model/state';
import { destroy } from '../../src/provisioning/engine';
import { providerModule } from '../../src/provisioning/providers';
import { LocalFileBackend } from '../../src/provisioning/state';
import { MigratingBackend, MirroredBackend, MirrorReader, mirrorFile, readMirror, type Mirror } from '../../src/provisioning/state/mirror';
import { cloudMatches, res, scratch, shopGraph } from './engineGraphs';

const SOURCE = 'Secret encore-environments-state in namespace dev (context kind-dev)';

function setup() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mirror-'));
  const remote = new LocalFileBackend(path.join(root, 'remote'), 'dev');
  const file = mirrorFile(root, 'dev');
  return { root, remote, file, done: () => rmSync(root, { recursive: true, force: true }) };
}

const entry = (event: JournalEntry['event']): JournalEntry => ({ at: new Date().toISOString(), operation: 'op-1', serial: 1, event });

function withResource(serial: number, id = 'ns'): EnvState {
  const now = new Date().toISOString();
  return {
    ...emptyState('dev', 'kubernetes'), serial, updatedAt: now,
    resources: { [id]: { resource: res(id, [], { kind: 'namespace' }), status: 'ready', lastAction: 'create', outputs: { name: id }, secretOutputs: [], updatedAt: now, error: null } },
  };
}

const mirrorOf = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Mirror;

/** The remote backend's location as the Secret's, with a commit that can answer 'gone' as the Secret's does. */
function remoteLike(inner: StateBackend, gone = { now: false }): StateBackend {
  return {
    location: SOURCE,
    load: () => inner.load(),
    commit: async (s, j, v) => (gone.now ? 'gone' : inner.commit(s, j, v)),
    readJournal: () => inner.readJournal(),
    acquireLock: (h) => inner.acquireLock(h),
    inspectLock: () => inner.inspectLock(),
    breakLock: (o) => inner.breakLock(o),
  };
}

test('every load and commit of the remote backend leaves a copy in .encore/state/<env>/mirror.json, for this user only', async () => {
  const s = setup();
  try {
    assert.equal(s.file, path.join(s.root, '.encore', 'state', 'dev', 'mirror.json'));
    const backend = new MirroredBackend(remoteLike(s.remote), s.file, 'gone');
    assert.equal(backend.location, SOURCE);
    assert.deepEqual(await backend.load(), { state: null, version: null });
    assert.deepEqual({ ...mirrorOf(s.file), seenAt: 'x' }, { format: 1, source: SOURCE, seenAt: 'x', version: null, state: null }, 'nothing recorded, and said so');

    const one = withResource(1);
    const v1 = await backend.commit(one, [entry('operation-start')], null);
    const m1 = mirrorOf(s.file);
    assert.deepEqual([m1.version, m1.state], [v1, one]);
    assert.ok(!Number.isNaN(Date.parse(m1.seenAt)));
    if (process.platform !== 'win32') assert.equal(statSync(s.file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(path.dirname(s.file)), ['mirror.json'], 'no temp file left, and no state.json: the remote backend holds the state');

    // Another process committed meanwhile: a load sees it and the copy follows.
    const v2 = await s.remote.commit(withResource(2), [], v1);
    assert.equal((await backend.load()).version, v2);
    assert.equal(mirrorOf(s.file).state?.serial, 2);
  } finally {
    s.done();
  }
});

test('a destroy that removes everything empties the copy: "gone" (the namespace took the Secret) or no resources left', async () => {
  const s = setup();
  try {
    const gone = { now: false };
    const backend = new MirroredBackend(remoteLike(s.remote, gone), s.file, 'gone');
    const v1 = await backend.commit(withResource(1), [], null);
    const empty = { ...withResource(2), resources: {} };
    const v2 = await backend.commit(empty, [], v1);
    assert.deepEqual(mirrorOf(s.file).state?.resources, {});
    assert.equal(mirrorOf(s.file).version, v2);
    gone.now = true;
    assert.equal(await backend.commit({ ...withResource(3), lastOperation: null }, [], v2), 'gone');
    assert.deepEqual([mirrorOf(s.file).state, mirrorOf(s.file).version], [null, null]);
    const offline = new MirrorReader(s.file, { environment: 'dev', source: SOURCE });
    assert.deepEqual(await offline.load(), { state: null, version: null });
  } finally {
    s.done();
  }
});

test('a copy that cannot be written never fails the commit; one that cannot be parsed is replaced by a live load only', async () => {
  const s = setup();
  try {
    mkdirSync(s.file, { recursive: true }); // a folder where the file should be: every write fails
    const backend = new MirroredBackend(remoteLike(s.remote), s.file, 'gone');
    const v1 = await backend.commit(withResource(1), [], null);
    assert.equal((await backend.load()).version, v1);
    assert.deepEqual(readdirSync(path.dirname(s.file)), ['mirror.json'], 'no temp file left behind');
    rmSync(s.file, { recursive: true });

    writeFileSync(s.file, '{"format": 1, "sour');
    const offline = new MirrorReader(s.file, { environment: 'dev', source: SOURCE });
    await assert.rejects(offline.load(), { name: 'StateError', code: 'corrupt', message: /mirror\.json \(the local copy of the state\) is not valid JSON .*it was left untouched; a plan with the cluster reachable replaces it/ });
    assert.equal(readFileSync(s.file, 'utf8'), '{"format": 1, "sour');
    writeFileSync(s.file, JSON.stringify({ format: 1, source: SOURCE, seenAt: 'x', version: null, state: { format: 1 } }));
    await assert.rejects(offline.load(), { code: 'corrupt', message: /holds a state this version cannot read/ });
    await backend.load();
    assert.equal(mirrorOf(s.file).state?.serial, 1, 'the live load replaced the damaged copy');
    assert.equal((await offline.load()).version, v1);
  } finally {
    s.done();
  }
});

test('a copy of something seen later is not replaced by an older read', async () => {
  const s = setup();
  try {
    const later = { format: 1, source: SOURCE, seenAt: '2999-01-01T00:00:00.000Z', version: 'v9', state: withResource(9) };
    mkdirSync(path.dirname(s.file), { recursive: true });
    writeFileSync(s.file, JSON.stringify(later));
    await new MirroredBackend(remoteLike(s.remote), s.file).load();
    assert.equal(mirrorOf(s.file).version, 'v9');
  } finally {
    s.done();
  }
});

test('offline: the copy is read, the location says what and when, and nothing can be written or locked', async () => {
  const s = setup();
  try {
    const legacy = LocalFileBackend.forApp(s.root, 'dev');
    const offline = new MirrorReader(s.file, { environment: 'dev', source: SOURCE, legacy });
    assert.deepEqual(await offline.load(), { state: null, version: null });
    assert.equal(offline.location, `${SOURCE}, never read on this machine: no local copy, so nothing recorded is known`);

    // State an earlier version kept in the local folder: read as it is, until an apply moves it.
    await legacy.commit(withResource(4), [], null);
    assert.equal((await offline.load()).state?.serial, 4);
    assert.match(offline.location, /\.encore\/state\/dev, recorded by an earlier version \(the next apply moves it into Secret encore-environments-state in namespace dev \(context kind-dev\)\)$/);

    const five = withResource(5);
    const v = await new MirroredBackend(remoteLike(s.remote), s.file).commit(five, [], null);
    const seenAt = mirrorOf(s.file).seenAt;
    assert.deepEqual(await offline.load(), { state: five, version: v }, 'the copy wins over the local state.json');
    assert.equal(offline.location, `${s.file}, a local copy of ${SOURCE} as seen at ${seenAt}`);

    const refused = /^cannot (record state|take the lock|break the lock) of environment "dev" offline: its state is kept in Secret encore-environments-state in namespace dev \(context kind-dev\), and only a local copy was read\. Run it again with the cluster reachable\.$/;
    await assert.rejects(offline.commit(), { name: 'StateError', message: refused });
    await assert.rejects(offline.acquireLock(), { name: 'StateError', message: refused });
    await assert.rejects(offline.breakLock(), { name: 'StateError', message: refused });
    assert.equal(await offline.inspectLock(), null);
    assert.deepEqual(await offline.readJournal(), []);
  } finally {
    s.done();
  }
});

test('migration: state an earlier version kept in the local folder moves into the remote backend on the first commit, then is renamed aside', async () => {
  const s = setup();
  try {
    const legacy = LocalFileBackend.forApp(s.root, 'dev');
    const old = withResource(7);
    await legacy.commit(old, [entry('operation-start'), entry('operation-end')], null);
    const backend = new MigratingBackend(s.remote, legacy);

    const loaded = await backend.load();
    assert.deepEqual(loaded, { state: old, version: null }, 'the local state, to be created remotely');
    await backend.commit({ ...old, serial: 8 }, [entry('step-start')], null);
    assert.equal((await s.remote.load()).state?.serial, 8);
    assert.deepEqual((await s.remote.readJournal()).map((e) => e.event), ['operation-start', 'operation-end', 'step-start'], 'the earlier journal went along');
    const names = readdirSync(legacy.directory).sort();
    assert.equal(names.length, 2, names.join(' '));
    assert.match(names[0]!, /^journal\.jsonl\.migrated-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    assert.match(names[1]!, /^state\.json\.migrated-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    assert.equal(JSON.parse(readFileSync(path.join(legacy.directory, names[1]!), 'utf8')).serial, 7, 'nothing is lost');
    assert.equal((await backend.load()).state?.serial, 8, 'the remote state from now on');

    // Remote state already there: a leftover local state.json is not read, and goes aside after the next commit.
    await legacy.commit(withResource(1, 'stale'), [], null);
    const now = await backend.load();
    assert.equal(now.state?.serial, 8);
    await backend.commit({ ...now.state!, serial: 9 }, [], now.version);
    assert.ok(!existsSync(path.join(legacy.directory, 'state.json')));
  } finally {
    s.done();
  }
});

test('migration through the engine: an apply adopts the local state and still deletes what the app no longer has', async () => {
  const sc = scratch('dev');
  try {
    const full = shopGraph('dev');
    assert.equal((await sc.apply(full)).result.outcome, 'succeeded');
    const smaller = { ...full, resources: full.resources.filter((r) => r.id !== 'users') };
    const remote = new LocalFileBackend(path.join(sc.dir, 'remote'), 'dev');
    const backend = new MirroredBackend(new MigratingBackend(remote, sc.backend), mirrorFile(sc.dir, 'dev'), 'gone');
    const second = await sc.apply(smaller, { backend });
    assert.equal(second.result.outcome, 'succeeded', JSON.stringify(second.result));
    assert.deepEqual([second.plan.counts.create, second.plan.counts.delete], [0, 1]);
    assert.ok(cloudMatches(sc.cloud, smaller), 'users was deleted, nothing created twice');
    assert.ok(!existsSync(path.join(sc.dir, '.encore', 'state', 'dev', 'state.json')));
    assert.deepEqual(Object.keys((await remote.load()).state!.resources).sort(), smaller.resources.map((r) => r.id).sort());

    const gone = await destroy('dev', 'kubernetes', sc.options({ backend, confirm: 'dev' }));
    assert.equal(gone.result.outcome, 'succeeded');
    assert.deepEqual(mirrorOf(mirrorFile(sc.dir, 'dev')).state?.resources, {}, 'the copy says nothing is recorded');
    assert.equal(sc.cloud.objects().length, 0);
  } finally {
    sc.done();
  }
});

test('offline state: Kubernetes, AWS and GCP read the local copy and reach nothing', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mirror-'));
  try {
    const env: Environment = { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev', namespace: 'shop-dev' } };
    const offline = (await providerModule('kubernetes')).offlineState(env, { appRoot: root });
    assert.ok(offline instanceof MirrorReader);
    assert.deepEqual(await offline.load(), { state: null, version: null });
    assert.match(offline.location, /^Secret encore-environments-state in namespace shop-dev \(context "kind-dev"\), never read on this machine: no local copy/);
    const aws = (await providerModule('aws')).offlineState({ ...env, provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' } }, { appRoot: root });
    assert.ok(aws instanceof MirrorReader);
    assert.deepEqual(await aws.load(), { state: null, version: null });
    assert.match(aws.location, /the S3 state bucket of the account of profile shop in eu-west-1/);
    const gcp = (await providerModule('gcp')).offlineState({ ...env, provider: { kind: 'gcp', project: 'p', region: 'europe-west1' } }, { appRoot: root });
    assert.ok(gcp instanceof MirrorReader);
    assert.deepEqual(await gcp.load(), { state: null, version: null });
    assert.match(gcp.location, /the GCS state bucket encore-state-p-europe-west1 of project p/);
    assert.equal(await readMirror(mirrorFile(root, 'dev')), null);
    assert.ok(!existsSync(path.join(root, '.encore')), 'reading wrote nothing');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a local copy or journal that is a FIFO is refused, never read (a read would block forever)', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mirror-fifo-'));
  try {
    const file = mirrorFile(root, 'dev');
    mkdirSync(path.dirname(file), { recursive: true });
    execFileSync('mkfifo', [file]);
    await assert.rejects(readMirror(file), (err: Error) => err.name === 'StateError' && /could not read .*mirror\.json: .*not a regular file|named pipe/.test(err.message));
    const local = new LocalFileBackend(path.join(root, 'local'), 'dev');
    mkdirSync(path.join(root, 'local'), { recursive: true });
    execFileSync('mkfifo', [path.join(root, 'local', 'journal.jsonl')]);
    await assert.rejects(local.readJournal(), /named pipe|not a regular file/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
