// Encore's service-to-service signature: Encore's own test vector byte for byte, the rules of the operation hash
// (sorted headers and values, skipped headers), the cred date, the newest key signing, and the verifier refusing
// every kind of tampering. Run: node --import tsx --test test/unit/deployServiceAuth.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  credDate, finishRotation, generateKey, HEADER, infraConfigAuthEntry, MAX_CLOCK_SKEW_MS, operationHash, signCall, signingKeyOf,
  startRotation, verifyCall, type Headers, type ServiceAuthKey,
} from '../../src/provisioning/deploy/serviceAuth';

const target = { appSlug: 'app', envName: 'env' };
const vectorTime = new Date(1234567890 * 1000);

test("Encore's test vector: key 123 \"secret data\", app/env, Unix 1234567890, no meta headers", () => {
  const headers = signCall([{ id: 123, key: 'secret data' }], target, {}, vectorTime);
  assert.deepEqual(headers, {
    'x-encore-meta-svc-auth-method': 'encore-auth',
    'x-encore-meta-date': 'Fri, 13 Feb 2009 23:31:30 GMT',
    'x-encore-meta-svc-auth':
      'ENCORE1-HMAC-SHA3-256 cred="20090213/app/env/123", op=f3c70a419394ce9d56efafad2208154b92c8596d7396b3a2b4ea7fd925d28dc2, sig=fc0c88b47c13d999353ecc8681d91d9c03209a1f05583b92d84e429fedfe387a',
  });
});

test('the signing time is whole seconds: milliseconds do not change the signature', () => {
  const a = signCall([{ id: 123, key: 'secret data' }], target, {}, new Date(1234567890 * 1000 + 999));
  assert.equal(a[HEADER.auth], signCall([{ id: 123, key: 'secret data' }], target, {}, vectorTime)[HEADER.auth]);
});

test('the operation hash covers the meta headers in order of name, whatever order and case they come in', () => {
  const ordered: Headers = { 'x-encore-meta-caller': 'app:deploy-1', 'x-encore-meta-callee': 'api:svc.tick', 'x-correlation-id': 'c1' };
  const shuffled: Headers = { 'X-Correlation-Id': 'c1', 'x-encore-meta-callee': 'api:svc.tick', 'X-Encore-Meta-Caller': 'app:deploy-1' };
  assert.deepEqual(operationHash(ordered), operationHash(shuffled));
  assert.notDeepEqual(operationHash(ordered), operationHash({}));
  assert.notDeepEqual(operationHash(ordered), operationHash({ ...ordered, 'x-encore-meta-caller': 'app:deploy-2' }));
});

test('the auth headers, traceparent, tracestate and non-meta headers are not part of the operation hash', () => {
  const base: Headers = { 'x-encore-meta-caller': 'app:d' };
  const noisy: Headers = {
    ...base,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'congo=t61rcWkgMzE',
    'x-encore-meta-svc-auth-method': 'encore-auth',
    'x-encore-meta-date': 'Fri, 13 Feb 2009 23:31:30 GMT',
    'x-encore-meta-svc-auth': 'anything',
    'content-type': 'application/json',
    host: 'svc:8080',
  };
  assert.deepEqual(operationHash(noisy), operationHash(base));
});

test('a header with several values is hashed with its values sorted', () => {
  const a = operationHash({ 'x-encore-meta-authdata': ['b', 'a', 'c'] });
  assert.deepEqual(a, operationHash({ 'x-encore-meta-authdata': ['c', 'a', 'b'] }));
  assert.notDeepEqual(a, operationHash({ 'x-encore-meta-authdata': ['a', 'b'] }));
  // The same values split over two spellings of the name are one header.
  assert.deepEqual(a, operationHash({ 'x-encore-meta-authdata': ['c', 'a'], 'X-Encore-Meta-AuthData': 'b' }));
});

test("the cred's date is the date header's day (UTC), also just before and after midnight", () => {
  const key = [{ id: 1, key: 'k' }];
  for (const iso of ['2026-03-01T00:00:00Z', '2026-02-28T23:59:59Z', '2026-12-31T23:59:59Z']) {
    const time = new Date(iso);
    const h = signCall(key, target, {}, time);
    assert.match(h[HEADER.auth]!, new RegExp(`cred="${credDate(time)}/app/env/1"`));
    assert.equal(credDate(new Date(h[HEADER.date]!)), credDate(time));
  }
  assert.equal(credDate(new Date('2026-02-28T23:59:59Z')), '20260228');
});

test('the newest key id signs; every configured key verifies', () => {
  const keys: ServiceAuthKey[] = [{ id: 7, key: 'old' }, { id: 12, key: 'new' }, { id: 9, key: 'middle' }];
  assert.equal(signingKeyOf(keys).id, 12);
  const now = new Date();
  const headers = { 'x-encore-meta-caller': 'app:d1' };
  const signed = signCall(keys, target, headers, now);
  assert.match(signed[HEADER.auth]!, /\/12", op=/);
  assert.deepEqual(verifyCall(keys, target, { ...headers, ...signed }, now), { ok: true, keyId: 12 });
  // A call signed by a caller that still has only the old key.
  const old = signCall([keys[0]!], target, headers, now);
  assert.deepEqual(verifyCall(keys, target, { ...headers, ...old }, now), { ok: true, keyId: 7 });
  assert.throws(() => signingKeyOf([]), /no service-auth key/);
});

function signedCall(now = new Date()) {
  const keys = [{ id: 3, key: generateKey(3).key }];
  const meta: Headers = { 'x-encore-meta-caller': 'app:deploy-42', 'x-encore-meta-callee': 'api:billing.charge', 'x-encore-meta-version': '1' };
  return { keys, now, headers: { ...meta, ...signCall(keys, target, meta, now) } as Record<string, string> };
}

test('the verifier accepts a signed call and refuses every tampering, with the reason', () => {
  const { keys, now, headers } = signedCall();
  assert.deepEqual(verifyCall(keys, target, headers, now), { ok: true, keyId: 3 });
  const refused = (h: Headers, why: RegExp, t = target, at = now) => {
    const verdict = verifyCall(keys, t, h, at);
    assert.equal(verdict.ok, false, `accepted: ${JSON.stringify(h)}`);
    if (!verdict.ok) assert.match(verdict.reason, why);
  };
  refused({ ...headers, 'x-encore-meta-caller': 'app:deploy-43' }, /signature does not match/);
  refused({ ...headers, 'x-encore-meta-userid': 'root' }, /signature does not match/);
  refused({ ...headers, [HEADER.auth]: headers[HEADER.auth]!.replace(/sig=(.)/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`) }, /signature does not match/);
  refused({ ...headers, [HEADER.auth]: headers[HEADER.auth]!.replace(/op=\w+/, `op=${'0'.repeat(64)}`) }, /signature does not match/);
  refused({ ...headers, [HEADER.auth]: `${headers[HEADER.auth]}, extra=1` }, /unknown parameter "extra"/);
  refused({ ...headers, [HEADER.auth]: headers[HEADER.auth]!.replace('/3"', '/4"') }, /unknown key id 4/);
  refused({ ...headers, [HEADER.method]: 'noop' }, /unknown auth method "noop"/);
  refused({ ...headers, 'x-encore-meta-version': '2' }, /meta version/);
  refused({ ...headers, [HEADER.auth]: undefined }, /missing/);
  refused(headers, /another app or environment/, { appSlug: 'app', envName: 'production' });
  refused({ ...headers, [HEADER.auth]: headers[HEADER.auth]!.replace('ENCORE1-HMAC-SHA3-256', 'ENCORE1-HMAC-SHA256') }, /scheme/);
  // A date header moved to another day (the cred still names the first one).
  const nextDay = new Date(now.getTime() + 86_400_000);
  refused({ ...headers, [HEADER.date]: nextDay.toUTCString() }, /cred's date/, target, nextDay);
  // The same key string under another id does not verify: the id is signed too.
  assert.equal(verifyCall([{ id: 4, key: keys[0]!.key }], target, headers, now).ok, false);
});

test('the verifier allows 120 s of clock skew either way, and no more', () => {
  const { keys, now, headers } = signedCall(new Date('2026-05-05T12:00:00Z'));
  for (const skew of [-MAX_CLOCK_SKEW_MS, MAX_CLOCK_SKEW_MS, 0, 119_000]) {
    assert.equal(verifyCall(keys, target, headers, new Date(now.getTime() + skew)).ok, true, `skew ${skew}`);
  }
  for (const skew of [-MAX_CLOCK_SKEW_MS - 1000, MAX_CLOCK_SKEW_MS + 1000]) {
    const v = verifyCall(keys, target, headers, new Date(now.getTime() + skew));
    assert.deepEqual(v, { ok: false, reason: 'the date is more than 120 s away from this clock' });
  }
});

test('keys are 32 random bytes, base64url; the infra config entry is {type:"key", id, key} or refers to a variable', () => {
  const a = generateKey(1);
  const b = generateKey(1);
  assert.notEqual(a.key, b.key);
  assert.equal(Buffer.from(a.key, 'base64url').length, 32);
  assert.match(a.key, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(infraConfigAuthEntry(a), { type: 'key', id: 1, key: a.key });
  assert.deepEqual(infraConfigAuthEntry(a, 'ENCORE_SERVICE_AUTH_KEY'), { type: 'key', id: 1, key: { $env: 'ENCORE_SERVICE_AUTH_KEY' } });
  assert.throws(() => generateKey(-1), RangeError);
  assert.throws(() => generateKey(1.5), RangeError);
});

test('rotation: two keys during it, the new one signs, the old one verifies until it is finished', () => {
  const first = startRotation([]);
  assert.deepEqual(first.map((k) => k.id), [1]);
  const rotating = startRotation(first);
  assert.deepEqual(rotating.map((k) => k.id), [1, 2]);
  assert.equal(rotating[0]!.key, first[0]!.key);
  assert.throws(() => startRotation(rotating), /already in progress \(keys 1 and 2\)/);
  const now = new Date();
  const byOld = signCall(first, target, {}, now);
  const byNew = signCall(rotating, target, {}, now);
  assert.match(byNew[HEADER.auth]!, /\/2", op=/);
  assert.equal(verifyCall(rotating, target, byOld, now).ok, true);
  assert.equal(verifyCall(rotating, target, byNew, now).ok, true);
  const done = finishRotation(rotating);
  assert.deepEqual(done, [rotating[1]]);
  assert.deepEqual(verifyCall(done, target, byOld, now), { ok: false, reason: 'unknown key id 1' });
  assert.equal(verifyCall(done, target, byNew, now).ok, true);
  assert.deepEqual(startRotation(done).map((k) => k.id), [2, 3]);
});

test('no error message or verdict contains a key', () => {
  const { keys, now, headers } = signedCall();
  const verdicts = [
    verifyCall(keys, target, { ...headers, 'x-encore-meta-caller': 'x' }, now),
    verifyCall(keys, target, { ...headers, [HEADER.auth]: 'ENCORE1-HMAC-SHA3-256 garbage' }, now),
  ];
  for (const v of verdicts) assert.ok(!JSON.stringify(v).includes(keys[0]!.key));
});
