// EnvStore: load, validation with positions, create/update/delete/rename, formatting, and refusing to write over
// a file it cannot parse. Real files in temp folders.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EnvStoreError, InvalidFileError, NotFoundError, ValidationError } from '../../src/environments/errors';
import { EnvStore } from '../../src/environments/store';
import { validateEnvironment } from '../../src/environments/validate';
import type { Environment } from '../../src/model/environment';
import { eu, fileText, leftovers, prod, scratchApp, staging } from './envStoreFixtures';

const fileOf = (dir: string) => path.join(dir, 'encore.environments.json');

test('a missing file loads as no environments, and the first create writes it as 2-space JSON with a newline', async () => {
  const dir = scratchApp();
  const store = new EnvStore(dir);
  assert.deepEqual(await store.load(), { ok: true, file: fileOf(dir), exists: false, environments: [], version: { exists: false } });
  const saved = await store.create(staging);
  assert.equal(readFileSync(fileOf(dir), 'utf8'), fileText([staging]));
  assert.deepEqual(saved.environments, [staging]);
  assert.equal(saved.exists, true);
  assert.deepEqual(leftovers(dir), []);
  const again = await new EnvStore(dir).load();
  assert.ok(again.ok && again.exists);
  assert.deepEqual(again.ok && again.environments, [staging]);
  assert.deepEqual(again.version, saved.version);
});

test('create appends with keys in schema order, whatever order the caller built the object in', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const scrambled = { sizing: prod.sizing, provider: { profile: 'shop', region: 'eu-west-1', kind: 'aws' }, deploy: { trigger: 'manual' }, type: 'production', name: 'prod' };
  await new EnvStore(dir).create(scrambled as Environment);
  assert.equal(readFileSync(fileOf(dir), 'utf8'), fileText([staging, prod]));
});

test('$schema stays first, and a file kept with tabs and CRLF keeps its style', async () => {
  const dir = scratchApp();
  const original = JSON.stringify({ $schema: './schema.json', environments: [staging] }, null, '\t').replace(/\n/g, '\r\n') + '\r\n';
  writeFileSync(fileOf(dir), original);
  await new EnvStore(dir).create(eu);
  const text = readFileSync(fileOf(dir), 'utf8');
  assert.equal(text, JSON.stringify({ $schema: './schema.json', environments: [staging, eu] }, null, '\t').replace(/\n/g, '\r\n') + '\r\n');
  assert.ok(text.startsWith('{\r\n\t"$schema"'));
});

test('update changes an environment in place; untouched environments keep their key order', async () => {
  const dir = scratchApp();
  // A hand-written environment with its keys in an unusual order.
  const handWritten = { provider: staging.provider, deploy: staging.deploy, type: staging.type, name: staging.name };
  writeFileSync(fileOf(dir), `${JSON.stringify({ environments: [handWritten, prod] }, null, 2)}\n`);
  const store = new EnvStore(dir);
  await store.load();
  const changed: Environment = { ...prod, provider: { kind: 'aws', region: 'us-east-1' } };
  const saved = await store.update('prod', changed);
  assert.deepEqual(saved.environments, [handWritten, changed]);
  assert.equal(readFileSync(fileOf(dir), 'utf8'), `${JSON.stringify({ environments: [handWritten, changed] }, null, 2)}\n`);
});

test('update can rename to a free name, not to a taken one; unknown names are NotFoundError', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging, prod]));
  const store = new EnvStore(dir);
  const renamed = await store.update('staging', { ...staging, name: 'preview' });
  assert.deepEqual(renamed.environments.map((e) => e.name), ['preview', 'prod']);
  const before = readFileSync(fileOf(dir));
  await assert.rejects(store.update('preview', { ...staging, name: 'prod' }), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(err.problems, [{ path: '/name', message: 'an environment named "prod" already exists' }]);
    return true;
  });
  await assert.rejects(store.update('staging', staging), (err: unknown) => err instanceof NotFoundError && /no environment named "staging"/.test(err.message));
  assert.deepEqual(readFileSync(fileOf(dir)), before);
});

test('create refuses a taken name; delete removes, and an unknown name is NotFoundError', async () => {
  const dir = scratchApp();
  const store = new EnvStore(dir);
  await store.create(staging);
  await store.create(prod);
  await assert.rejects(store.create({ ...eu, name: 'prod' }), (err: unknown) => err instanceof ValidationError && err.problems[0].path === '/name');
  const afterDelete = await store.delete('staging');
  assert.deepEqual(afterDelete.environments, [prod]);
  assert.equal(readFileSync(fileOf(dir), 'utf8'), fileText([prod]));
  await assert.rejects(store.delete('staging'), NotFoundError);
  await store.delete('prod');
  assert.equal(readFileSync(fileOf(dir), 'utf8'), fileText([]));
  assert.deepEqual(leftovers(dir), []);
});

test('an invalid environment is refused with problems relative to it, and nothing is written', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const before = readFileSync(fileOf(dir));
  const store = new EnvStore(dir);
  const bad = { ...eu, name: 'EU_1', provider: { kind: 'gcp', project: 'shop-prod-123', region: 'Europe' } } as Environment;
  await assert.rejects(store.create(bad), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.code, 'invalid-environment');
    assert.deepEqual(err.problems.map((p) => p.path).sort(), ['/name', '/provider/region']);
    assert.match(err.message, /name: must be a DNS label/);
    assert.match(err.message, /provider\.region: must be a GCP region such as europe-west1/);
    return true;
  });
  assert.deepEqual(readFileSync(fileOf(dir)), before);
});

test('keys that look like credentials can never be saved, wherever they are', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  const before = readFileSync(fileOf(dir));
  const store = new EnvStore(dir);
  const attempts: [string, unknown][] = [
    ['/password', { ...eu, password: 'hunter2' }],
    ['/provider/token', { ...staging, name: 'k', provider: { ...staging.provider, token: 'eyJhbGciOi' } }],
    ['/provider/aws_secret_access_key', { ...prod, name: 'p2', provider: { ...prod.provider, aws_secret_access_key: 'x' } }],
    ['/sizing/databases/users/password', { ...prod, name: 'p3', sizing: { databases: { users: { password: 'x' } } } }],
    ['/provider/profile', { ...prod, name: 'p4', provider: { kind: 'aws', region: 'eu-west-1', profile: 'AKIAIOSFODNN7EXAMPLE' } }],
  ];
  for (const [at, env] of attempts) {
    await assert.rejects(store.create(env as Environment), (err: unknown) => {
      assert.ok(err instanceof ValidationError, at);
      const problem = err.problems.find((p) => p.path === at);
      assert.ok(problem, `${at}: ${JSON.stringify(err.problems)}`);
      assert.match(problem.message, /credential|key material/);
      assert.match(problem.message, /never go in encore\.environments\.json/);
      assert.equal(err.problems.filter((p) => p.path === at).length, 1, 'one problem per key, not a second "unknown key"');
      return true;
    });
  }
  assert.deepEqual(readFileSync(fileOf(dir)), before);
  // Resource names in the sizing answers are the app's own names: a database called "tokens" is fine.
  await store.create({ ...prod, sizing: { databases: { tokens: { cpu: 1 } }, caches: { 'session-secrets': { replicas: 1 } } } });
});

test('a file it cannot parse or that fails validation is never written over: bytes unchanged, no leftovers', async () => {
  const broken = [
    ['broken JSON', '{"environments": [\n  {"name": "staging",\n'],
    ['a comment', `// our environments\n${fileText([staging])}`],
    ['a schema error', fileText([{ ...staging, type: 'preview' as 'development' }])],
    ['a duplicate name', fileText([staging, { ...prod, name: 'staging' }])],
    ['a credential', `{"environments": [], "token": "abc"}\n`],
    ['an empty file', ''],
  ];
  for (const [what, text] of broken) {
    const dir = scratchApp();
    writeFileSync(fileOf(dir), text);
    const store = new EnvStore(dir);
    const loaded = await store.load();
    assert.equal(loaded.ok, false, what);
    for (const attempt of [() => store.create(eu), () => store.update('staging', staging), () => store.delete('staging')]) {
      await assert.rejects(attempt(), (err: unknown) => {
        assert.ok(err instanceof InvalidFileError, `${what}: ${String(err)}`);
        assert.match(err.message, /is not valid, so it was left untouched; fix it by hand first/);
        assert.ok(err.problems.length > 0);
        return true;
      });
    }
    assert.equal(readFileSync(fileOf(dir), 'utf8'), text, what);
    assert.deepEqual(leftovers(dir), [], what);
  }
});

test('once the broken file is fixed by hand, the store saves again', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), '{"environments": [');
  const store = new EnvStore(dir);
  assert.equal((await store.load()).ok, false);
  writeFileSync(fileOf(dir), fileText([staging]));
  const saved = await store.create(prod);
  assert.deepEqual(saved.environments, [staging, prod]);
});

test('validation errors carry the JSON pointer and the 1-based line and column of the offending key or value', async () => {
  const dir = scratchApp();
  const text = [
    '{',
    '  "environments": [',
    '    {',
    '      "name": "staging",',
    '      "type": "development",',
    '      "deploy": { "trigger": "push" },',
    '      "provider": { "kind": "aws", "region": "moon-1", "secret": "s" },',
    '      "colour": "red"',
    '    },',
    '    { "name": "staging", "type": "production", "deploy": { "trigger": "manual" }, "provider": { "kind": "kubernetes", "context": "c" } }',
    '  ]',
    '}',
    '',
  ].join('\n');
  writeFileSync(fileOf(dir), text);
  const loaded = await new EnvStore(dir).load();
  assert.equal(loaded.ok, false);
  const errors = loaded.ok ? [] : loaded.errors.map(({ path: p, line, column, length, message }) => ({ p, line, column, length, message }));
  assert.deepEqual(errors, [
    { p: '/environments/0/deploy', line: 6, column: 7, length: 8, message: 'missing "branch"' },
    { p: '/environments/0/provider/region', line: 7, column: 46, length: 8, message: 'must be an AWS region such as eu-west-1 or us-east-1' },
    {
      p: '/environments/0/provider/secret',
      line: 7,
      column: 56,
      length: 8,
      message: '"secret" looks like a credential: credentials never go in encore.environments.json; they come from your AWS profile, Application Default Credentials or kubeconfig',
    },
    { p: '/environments/0/colour', line: 8, column: 7, length: 8, message: 'unknown key "colour" (allowed: name, type, deploy, provider, sizing, images)' },
    { p: '/environments/1/name', line: 10, column: 15, length: 9, message: 'the name "staging" is already used by environments[0]' },
  ]);
  // The offsets point at the same text as line and column.
  for (const e of loaded.ok ? [] : loaded.errors) {
    const lineText = text.split('\n')[e.line - 1];
    assert.equal(lineText.slice(e.column - 1, e.column - 1 + e.length), text.slice(e.offset, e.offset + e.length));
  }
});

test('syntax errors are reported at their place, once, in plain words', async () => {
  const dir = scratchApp();
  for (const [text, line, column, message] of [
    ['{\n  "environments": [],\n}\n', 3, 1, /property name .* trailing comma/],
    ['{\n  "environments": [\n', 3, 1, /closing bracket/],
    ['{ "environments": [] } []', 1, 24, /nothing may follow/],
    ['/* c */ { "environments": [] }', 1, 1, /comments are not allowed/],
    ['{ "environments": [], "environments": [] }', 1, 23, /the key "environments" appears twice/],
  ] as const) {
    writeFileSync(fileOf(dir), text);
    const loaded = await new EnvStore(dir).load();
    assert.ok(!loaded.ok, text);
    assert.equal(loaded.errors.length, 1, `${text}: ${JSON.stringify(loaded.errors)}`);
    assert.deepEqual([loaded.errors[0].line, loaded.errors[0].column], [line, column], text);
    assert.match(loaded.errors[0].message, message);
  }
});

test('a file that cannot be read is a load error with the reason, not a crash', async () => {
  const dir = scratchApp();
  mkdirSync(fileOf(dir));
  const loaded = await new EnvStore(dir).load();
  assert.ok(!loaded.ok);
  assert.match(loaded.errors[0].message, /^cannot read the file: .*not a regular file/);
  assert.equal(loaded.version, undefined);
});

test('a save keeps the permissions of the file it replaces', async () => {
  const dir = scratchApp();
  writeFileSync(fileOf(dir), fileText([staging]));
  chmodSync(fileOf(dir), 0o640);
  await new EnvStore(dir).create(prod);
  assert.equal(statSync(fileOf(dir)).mode & 0o777, 0o640);
});

test('validateEnvironment checks one environment for a form, with paths relative to it', () => {
  assert.deepEqual(validateEnvironment(staging), []);
  assert.deepEqual(validateEnvironment(staging, ['staging']), [{ path: '/name', message: 'an environment named "staging" already exists' }]);
  const problems = validateEnvironment({ name: '', type: 'production', deploy: { trigger: 'push', branch: '' }, provider: { kind: 'kubernetes' } });
  assert.deepEqual(problems.map((p) => `${p.path} ${p.message}`).sort(), [
    '/deploy/branch must not be empty',
    '/name must be a DNS label: lowercase letters, digits and dashes, starting with a letter and not ending with a dash',
    '/name must not be empty',
    '/provider missing "context"',
  ]);
  assert.deepEqual(
    validateEnvironment({ ...prod, sizing: { services: { orders: { minInstances: 5, maxInstances: 2 } } } }).map((p) => `${p.path} ${p.message}`),
    ['/sizing/services/orders/maxInstances must be at least minInstances (5)'],
  );
  assert.deepEqual(validateEnvironment({ ...staging, provider: { kind: 'azure' } }).map((p) => `${p.path} ${p.message}`), [
    '/provider/kind must be "aws", "gcp" or "kubernetes"',
  ]);
});

test('a save into a folder that is gone fails with an io error that names the file and keeps the cause', async () => {
  const dir = scratchApp();
  const store = new EnvStore(path.join(dir, 'removed-app'));
  await store.load();
  await assert.rejects(store.create(staging), (err: unknown) => {
    assert.ok(err instanceof EnvStoreError);
    assert.equal(err.code, 'io');
    assert.match(err.message, /could not save .*removed-app\/encore\.environments\.json: cannot create its lock file: ENOENT/);
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
    return true;
  });
});
