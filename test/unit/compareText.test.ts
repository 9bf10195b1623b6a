import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareText, plainOrderHolds } from '../../src/analyzer/compareText';

/** A seeded generator (mulberry32): the same strings every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('compareText orders as localeCompare: plain names and paths, and with prefixes, cases and symbols around them', (t) => {
  // Under another locale this checks the fallback alone (compareText is then localeCompare).
  if (!plainOrderHolds()) t.diagnostic('not an English or C locale: the plain order is not exercised');
  const next = random(13);
  const pick = (alphabet: string, max: number) => Array.from({ length: Math.floor(next() * max) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  const plain = 'abzABZ09-./_ ,:';
  const other = 'aAbBzZ09-./_ ,:;\\~é$\'()\t';
  const prefixes = ['', '/app/db/migrations/', '/tmp/encore-bench-cli-AbC12/', '/x/Y_z/', 'Svc/', 'A', 'é/'];
  let checked = 0;
  for (let n = 0; n < 20000; n++) {
    const prefix = prefixes[Math.floor(next() * prefixes.length)];
    const alphabet = next() < 0.7 ? plain : other;
    const a = prefix + pick(alphabet, 8);
    const b = (next() < 0.8 ? prefix : prefixes[Math.floor(next() * prefixes.length)]) + pick(alphabet, 8);
    assert.equal(Math.sign(compareText(a, b)), Math.sign(a.localeCompare(b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    checked++;
  }
  assert.equal(checked, 20000);
  // Where code units and the collation disagree, the collation wins.
  assert.ok(compareText('a_b', 'a-b') < 0 && 'a_b' < 'a-b' === false);
  assert.ok(compareText('B', 'a') > 0 && compareText('svc/B', 'svc/a') > 0);
  for (const [a, b] of [['2_add_updated_at.up.sql', '1_create_items.up.sql'], ['10_x.up.sql', '1_x.up.sql'], ['a_b', 'a.b'], ['deleteItem', 'webhook'], ['getItem', 'getitem'], ['aB', 'ab'], ['Ab', 'aB'], ['session/:key', 'views/:key'], ['a b', 'a,b']]) {
    assert.equal(Math.sign(compareText(a, b)), Math.sign(a.localeCompare(b)), `${a} vs ${b}`);
  }
  assert.ok(compareText('/app/a', '/app/a/b') < 0 && compareText('x', 'x') === 0);
});

test('the plain order is used only for the root and English collations on Linux', () => {
  assert.equal(plainOrderHolds({}, 'linux'), true);
  assert.equal(plainOrderHolds({ LANG: 'C.UTF-8' }, 'linux'), true);
  assert.equal(plainOrderHolds({ LANG: 'en_GB.UTF-8' }, 'linux'), true);
  assert.equal(plainOrderHolds({ LANG: 'POSIX' }, 'linux'), true);
  assert.equal(plainOrderHolds({ LANG: 'lt_LT.UTF-8' }, 'linux'), false);
  assert.equal(plainOrderHolds({ LANG: 'en_US.UTF-8', LC_MESSAGES: 'sv_SE.UTF-8' }, 'linux'), false);
  assert.equal(plainOrderHolds({ LANG: 'lt_LT.UTF-8', LC_ALL: 'C' }, 'linux'), true);
  assert.equal(plainOrderHolds({ LANG: 'eno' }, 'linux'), false);
  assert.equal(plainOrderHolds({ LANG: 'en_US.UTF-8' }, 'darwin'), false);
  assert.equal(plainOrderHolds({}, 'win32'), false);
});
