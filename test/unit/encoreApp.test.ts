import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEncoreApp } from '../../src/model/encoreApp';

test('a TypeScript app with comments and a trailing comma', () => {
  const text = '// my app\n{\n  "id": "shop-x7k",\n  "lang": "typescript", /* TS */\n}\n';
  assert.deepEqual(parseEncoreApp(text), { ok: true, app: { id: 'shop-x7k', lang: 'typescript' } });
});

test('a missing lang means Go, as in Encore', () => {
  assert.deepEqual(parseEncoreApp('{"id": "legacy"}'), { ok: true, app: { id: 'legacy', lang: 'go' } });
});

test('an empty file is an unlinked Go app, and an empty id is no id', () => {
  assert.deepEqual(parseEncoreApp(''), { ok: true, app: { lang: 'go' } });
  assert.deepEqual(parseEncoreApp('{"id": "", "lang": "typescript"}'), { ok: true, app: { lang: 'typescript' } });
});

test('malformed JSON says where', () => {
  assert.deepEqual(parseEncoreApp('{\n  "lang": "typescript"\n  "id": "x"\n}'), {
    ok: false,
    error: 'CommaExpected at line 3, column 3',
  });
});

test('wrong types and unknown languages are rejected with the field named', () => {
  assert.deepEqual(parseEncoreApp('[]'), { ok: false, error: 'expected a JSON object' });
  assert.deepEqual(parseEncoreApp('{"id": 3}'), { ok: false, error: '"id" must be a string' });
  assert.deepEqual(parseEncoreApp('{"lang": "python"}'), { ok: false, error: '"lang" must be "typescript" or "go", not "python"' });
});
