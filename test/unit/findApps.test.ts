import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { findApps, type DirectoryListings } from '../../src/analyzer/findApps';

const dir = mkdtempSync(path.join(os.tmpdir(), 'find-apps-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
}

file('encore.app', '{"lang": "typescript"}');
file('services/billing/encore.app', '{"id": "billing", "lang": "typescript"}'); // nested app
file('legacy/encore.app', '{}'); // Go
file('broken/encore.app', '{"lang": ');
file('node_modules/dep/encore.app', '{"lang": "typescript"}');
file('.git/encore.app', '{"lang": "typescript"}');
file('web/encore.gen/encore.app', '{"lang": "typescript"}');
file('web/__tests__/encore.app', '{"lang": "typescript"}');
file('docs/encore.app.md', 'not an app');

test('finds nested and side-by-side apps, sorted, and skips what Encore skips', async () => {
  const apps = await findApps(dir);
  assert.deepEqual(
    apps.map((a) => [path.relative(dir, a.root), a.ok ? a.app.lang : 'error']),
    [['', 'typescript'], ['broken', 'error'], ['legacy', 'go'], ['services/billing', 'typescript']],
  );
});

test('a malformed encore.app is reported with its path, not thrown', async () => {
  const broken = (await findApps(dir)).find((a) => a.root.endsWith('broken'));
  assert.ok(broken && !broken.ok);
  assert.equal(broken.error, `${path.join(dir, 'broken', 'encore.app')}: ValueExpected at line 1, column 10`);
});

test('a directory that does not exist is an error', async () => {
  await assert.rejects(findApps(path.join(dir, 'nope')), /cannot read .*nope: ENOENT/);
});

test("the folders findApps read serve each app's walk, which then gives what it gives reading them itself", async () => {
  const { listSourceFiles } = await import('../../src/analyzer/walk');
  const fixtures = path.join(__dirname, '..', 'fixtures', 'apps');
  const listings: DirectoryListings = new Map();
  const apps = (await findApps(fixtures, listings)).filter((a) => a.ok);
  assert.ok(apps.length >= 7, `${apps.length} apps`);
  for (const app of apps) assert.deepEqual(listSourceFiles(app.root, listings), listSourceFiles(app.root), app.root);

  // Taken from the listing, not read again: a file removed after findApps is still in the walk's list.
  const own = mkdtempSync(path.join(os.tmpdir(), 'find-apps-listed-'));
  try {
    mkdirSync(path.join(own, 'svc'));
    writeFileSync(path.join(own, 'encore.app'), '{"lang": "typescript"}');
    writeFileSync(path.join(own, 'svc', 'api.ts'), 'export {};\n');
    const read: DirectoryListings = new Map();
    await findApps(own, read);
    assert.deepEqual([...read.keys()].sort(), [own, path.join(own, 'svc')]);
    rmSync(path.join(own, 'svc', 'api.ts'));
    assert.deepEqual(listSourceFiles(own, read).files, [path.join(own, 'svc', 'api.ts')]);
    assert.deepEqual(listSourceFiles(own).files, []);
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
