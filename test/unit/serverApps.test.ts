// Which app a file belongs to, and finding the apps of several (possibly overlapping) workspace folders.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { appForFile, discoverApps, isInside } from '../../src/server/apps';

test('a file belongs to the innermost app that contains it', () => {
  const roots = ['/ws/shop', '/ws/shop/tools/admin', '/ws/blog'];
  assert.equal(appForFile(roots, '/ws/shop/users/db.ts'), '/ws/shop');
  assert.equal(appForFile(roots, '/ws/shop/tools/admin/api.ts'), '/ws/shop/tools/admin');
  assert.equal(appForFile(roots, '/ws/shop/tools/other.ts'), '/ws/shop');
  assert.equal(appForFile(roots, '/ws/blog/post.ts'), '/ws/blog');
  assert.equal(appForFile(roots, '/ws/shop'), '/ws/shop');
  assert.equal(appForFile(roots, '/ws/other/x.ts'), undefined);
  // Order does not matter.
  assert.equal(appForFile([...roots].reverse(), '/ws/shop/tools/admin/api.ts'), '/ws/shop/tools/admin');
});

test('a sibling folder whose name starts like the app is not inside it', () => {
  assert.equal(isInside('/ws/shop', '/ws/shop2/a.ts'), false);
  assert.equal(isInside('/ws/shop', '/ws/shop/a.ts'), true);
  assert.equal(isInside('/ws/shop', '/ws'), false);
  assert.equal(appForFile(['/ws/shop'], '/ws/shop-admin/a.ts'), undefined);
});

test('apps of overlapping folders are listed once, sorted; nested and side-by-side apps are all found', async () => {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'encore-discover-'));
  try {
    const write = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
      writeFileSync(path.join(ws, rel), text);
    };
    write('shop/encore.app', '{"lang": "typescript"}');
    write('shop/tools/admin/encore.app', '{}');
    write('blog/encore.app', '{"lang": "typescript",}');
    write('broken/encore.app', '{"lang": 3}');
    const errors: string[] = [];
    // The second folder lies inside the first: its app must not appear twice.
    const apps = await discoverApps([ws, path.join(ws, 'shop'), path.join(ws, 'missing')], (m) => errors.push(m));
    assert.deepEqual(
      apps.map((a) => [path.relative(ws, a.root), a.ok ? a.app.lang : 'error']),
      [['blog', 'typescript'], ['broken', 'error'], ['shop', 'typescript'], ['shop/tools/admin', 'go']],
    );
    // A folder that cannot be read is reported, and the other folders still count.
    assert.equal(errors.length, 1);
    assert.match(errors[0], /cannot search .*missing for Encore apps/);
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
});
