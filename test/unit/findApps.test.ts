import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { findApps } from '../../src/analyzer/findApps';

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
