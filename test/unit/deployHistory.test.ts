// The deploy history: records validated field by field (a corrupt entry is reported and never used, and stays as it
// was stored), append-only with the last 100 kept, a re-recorded deploy neither duplicated nor rewritten, rollback and
// promote entries naming what they restore or promote, and content hashes independent of key order.
// Run: node --import tsx --test test/unit/deployHistory.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  appendRecord, canonicalJson, contentHash, currentDeploy, HISTORY_LIMIT, HistoryError, newDeployId, parseHistory, recordProblem,
  rollbackCandidates, storedHistory, type DeployRecord,
} from '../../src/provisioning/deploy/history';

const hex = (c: string, n = 64) => c.repeat(n);
let seq = 0;
function record(overrides: Partial<DeployRecord> = {}): DeployRecord {
  seq += 1;
  return {
    id: `d-20260101-000000-${seq.toString(16).padStart(4, '0')}`,
    environment: 'staging',
    revision: { commit: hex('a', 40), dirty: false, branch: 'main' },
    image: { repository: '127.0.0.1:5000/sample-app', digest: `sha256:${hex('b')}` },
    infraConfigHash: `sha256:${hex('c')}`,
    appModelHash: `sha256:${hex('d')}`,
    by: 'arn:aws:iam::123456789012:user/dev',
    at: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:01:30.250Z',
    trigger: 'manual',
    result: 'succeeded',
    ...overrides,
  };
}

test('a complete record validates; each broken field is named', () => {
  assert.equal(recordProblem(record()), undefined);
  assert.equal(recordProblem(record({ revision: { commit: hex('e', 64), dirty: true } })), undefined);
  const broken: [unknown, RegExp][] = [
    [null, /not an object/],
    [[], /not an object/],
    [{ ...record(), id: 'Bad ID' }, /id is missing or not a deploy id/],
    [{ ...record(), environment: '' }, /environment/],
    [{ ...record(), revision: { commit: 'abc', dirty: false } }, /revision\.commit is not a full commit sha/],
    [{ ...record(), revision: { commit: hex('a', 40), dirty: 'no' } }, /revision\.dirty/],
    [{ ...record(), image: { repository: 'r/app', digest: 'latest' } }, /image\.digest is not a sha256 digest/],
    [{ ...record(), image: { repository: 'r/app@sha256:x', digest: `sha256:${hex('b')}` } }, /image\.repository/],
    [{ ...record(), infraConfigHash: 'md5:1' }, /infraConfigHash is not a sha256 hash/],
    [{ ...record(), appModelHash: undefined }, /appModelHash/],
    [{ ...record(), by: '' }, /by is missing/],
    [{ ...record(), by: 'a\nb' }, /by is missing/],
    [{ ...record(), at: '2026-01-01 00:00' }, /at is not an ISO 8601 UTC time/],
    [{ ...record(), at: '2026-13-45T00:00:00Z' }, /at is not/],
    [{ ...record(), finishedAt: '2025-12-31T00:00:00Z' }, /finishedAt .* after at/],
    [{ ...record(), trigger: 'cron' }, /trigger is not one of manual, push, ci, rollback, promote/],
    [{ ...record(), result: 'ok' }, /result is not one of succeeded, failed, cancelled/],
    [{ ...record(), trigger: 'rollback' }, /a rollback must name the deploy it restores/],
    [{ ...record(), restores: 'd-1' }, /restores is only for rollbacks, not manual/],
    [{ ...record(), trigger: 'promote' }, /a promote must name the environment and deploy it promotes/],
    [{ ...record(), trigger: 'promote', promotedFrom: { environment: 'staging' } }, /promotedFrom/],
    [{ ...record(), promotedFrom: { environment: 'staging', deployId: 'd-1' } }, /promotedFrom is only for promotes/],
  ];
  for (const [value, why] of broken) assert.match(recordProblem(value) ?? 'valid', why, JSON.stringify(value));
});

test('rollback and promote records name what they restore and where they come from', () => {
  assert.equal(recordProblem(record({ trigger: 'rollback', restores: 'd-20251231-120000-00aa' })), undefined);
  assert.equal(recordProblem(record({ trigger: 'promote', promotedFrom: { environment: 'staging', deployId: 'd-20251231-120000-00aa' } })), undefined);
});

test('a stored history with corrupt entries: the valid ones are read, each corrupt one is reported, none is trusted', () => {
  const good1 = record();
  const good2 = record({ result: 'failed', message: 'deployment "api" exceeded its progress deadline' });
  const doc = {
    version: 1,
    entries: [good1, { ...record(), image: { repository: 'r', digest: 'sha256:evil' } }, 'garbage', good2, { ...good1, by: 'someone else' }, { ...record(), extra: 'from a newer version' }],
  };
  const { records, problems } = parseHistory(JSON.parse(JSON.stringify(doc)));
  assert.deepEqual(records.map((r) => r.id), [good1.id, good2.id, doc.entries[5] && (doc.entries[5] as DeployRecord).id]);
  assert.equal('extra' in records[2]!, false, 'an unknown field was carried into a record');
  assert.equal(problems.length, 3);
  assert.match(problems[0]!, /^entry 2 \(d-[\w-]+\): image\.digest is not a sha256 digest$/);
  assert.equal(problems[1], 'entry 3: not an object');
  assert.match(problems[2]!, /^entry 5 \(d-[\w-]+\): the deploy id is recorded twice; only its first entry is used$/);
});

test('a document that is not a history is refused, never treated as empty', () => {
  assert.deepEqual(parseHistory(undefined), { records: [], problems: [] });
  for (const doc of [null, 'x', [], { entries: 'no' }, { version: 1 }]) {
    assert.throws(() => parseHistory(doc), (err: Error) => err instanceof HistoryError && /not a history .*was not changed/.test(err.message), JSON.stringify(doc));
    assert.throws(() => appendRecord(doc, record()), HistoryError);
  }
  assert.throws(() => storedHistory({ version: 2, entries: [] }), /version 2, and this version .* reads version 1: update/);
});

test('append-only: a new record goes last, stored entries (corrupt ones too) stay as they were', () => {
  const first = record();
  const corrupt = { id: 'd-x', note: 'hand-edited' };
  const doc = { version: 1, entries: [first, corrupt] };
  const next = record({ trigger: 'push' });
  const out = appendRecord(doc, next);
  assert.equal(out.appended, true);
  assert.deepEqual(out.history.entries, [first, corrupt, next]);
  assert.deepEqual(doc.entries, [first, corrupt], 'the input was changed');
  assert.deepEqual(appendRecord(undefined, next).history.entries, [next]);
});

test('the last 100 are kept', () => {
  let doc: unknown;
  const ids: string[] = [];
  for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
    const r = record();
    ids.push(r.id);
    doc = appendRecord(doc, r).history;
  }
  const { records, problems } = parseHistory(doc);
  assert.equal(records.length, 100);
  assert.deepEqual(records.map((r) => r.id), ids.slice(5));
  assert.deepEqual(problems, []);
  assert.equal(appendRecord(doc, record(), 3).history.entries.length, 3);
});

test('recording the same deploy again (a re-run after an interruption) changes nothing; different details are refused', () => {
  const r = record();
  const doc = appendRecord(undefined, r).history;
  assert.deepEqual(appendRecord(doc, { ...r, revision: { ...r.revision } }), { history: doc, appended: false });
  assert.equal(appendRecord(JSON.parse(JSON.stringify(doc)), r).history.entries.length, 1);
  assert.throws(() => appendRecord(doc, { ...r, result: 'failed' }), /already in the history with different details: history is never rewritten/);
  assert.throws(() => appendRecord(doc, { ...r, image: { ...r.image, digest: 'bad' } }), /cannot be recorded: image\.digest/);
});

test('the current deploy is the newest succeeded one; rollback candidates are the earlier succeeded ones, newest first', () => {
  const a = record();
  const b = record();
  const failed = record({ result: 'failed' });
  const c = record({ trigger: 'rollback', restores: a.id });
  const cancelled = record({ result: 'cancelled' });
  const records = [a, b, failed, c, cancelled];
  assert.equal(currentDeploy(records), c);
  assert.deepEqual(rollbackCandidates(records).map((r) => r.id), [b.id, a.id]);
  assert.equal(currentDeploy([failed]), undefined);
  assert.deepEqual(rollbackCandidates([]), []);
});

test('deploy ids sort by time and are valid; content hashes do not depend on key order', () => {
  const id = newDeployId(new Date('2026-03-04T05:06:07.890Z'), () => 0.5);
  assert.equal(id, 'd-20260304-050607-8000');
  assert.equal(recordProblem(record({ id })), undefined);
  assert.ok(newDeployId(new Date('2026-03-04T05:06:08Z')) > newDeployId(new Date('2026-03-04T05:06:07Z'), () => 0.99));
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  assert.equal(contentHash({ x: 1, y: [1, 2] }), contentHash({ y: [1, 2], x: 1 }));
  assert.notEqual(contentHash({ y: [2, 1], x: 1 }), contentHash({ y: [1, 2], x: 1 }));
  assert.match(contentHash({}), /^sha256:[a-f0-9]{64}$/);
});
