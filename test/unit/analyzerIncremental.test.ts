// Edits re-analyse only what they touch and keep usage edges right: overlays for open documents, file events for
// the rest.
import assert from 'node:assert/strict';
import { existsSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { testApp } from './analyzerApp';

const DB = 'import { SQLDatabase } from "encore.dev/storage/sqldb";\nexport const db = new SQLDatabase("main", { migrations: "./migrations" });\n';
const USER = (name: string) => `import { api } from "encore.dev/api";\nimport { db } from "../svc/db";\nexport const ${name} = api({}, async () => { await db.exec\`SELECT 1\`; });\n`;
const SERVICE = (name: string) => `import { Service } from "encore.dev/service";\nexport default new Service("${name}");\n`;

test('an unsaved edit that adds or removes a use updates usedBy, and closing the document restores the disk version', () => {
  const app = testApp({
    'svc/db.ts': DB,
    'svc/migrations/1_a.up.sql': '',
    'other/encore.service.ts': SERVICE('other'),
    'other/api.ts': 'import { api } from "encore.dev/api";\nexport const hello = api({}, async () => {});\n',
  });
  try {
    assert.deepEqual(app.analyzer.analyze().databases[0].usedBy, []);
    const file = path.join(app.root, 'other', 'api.ts');
    assert.deepEqual(app.analyzer.setOverlay(file, USER('hello')).databases[0].usedBy, ['other']);
    assert.deepEqual(app.analyzer.setOverlay(file, '').databases[0].usedBy, []);
    assert.deepEqual(app.analyzer.clearOverlay(file).endpoints.map((e) => e.name), ['hello']);
  } finally {
    app.cleanup();
  }
});

test('an error appears with the edit that causes it and goes with the edit that fixes it', () => {
  const app = testApp({ 'svc/db.ts': DB, 'svc/migrations/': '' });
  try {
    const file = path.join(app.root, 'svc', 'db.ts');
    assert.deepEqual(app.analyzer.analyze().diagnostics, []);
    const broken = app.analyzer.setOverlay(file, DB.replace('"main"', 'dbName'));
    assert.deepEqual(broken.diagnostics.map((d) => d.message), ['expected string literal']);
    assert.deepEqual(broken.databases, []);
    assert.deepEqual(app.analyzer.setOverlay(file, DB).diagnostics, []);
  } finally {
    app.cleanup();
  }
});

test('file events: a new migration, a new file, a deleted file and a deleted folder', () => {
  const app = testApp({ 'svc/db.ts': DB, 'svc/migrations/1_a.up.sql': '' });
  try {
    const analyzer = app.analyzer;
    assert.equal(analyzer.analyze().databases[0].migrations.length, 1);
    const migration = app.write('svc/migrations/2_b.up.sql', '');
    assert.deepEqual(analyzer.fileChanged(migration).databases[0].migrations.map((m) => m.filename), ['1_a.up.sql', '2_b.up.sql']);
    const user = app.write('users/encore.service.ts', SERVICE('users'));
    analyzer.fileChanged(user);
    const api = app.write('users/api.ts', USER('list'));
    assert.deepEqual(analyzer.fileChanged(api).databases[0].usedBy, ['users']);
    unlinkSync(api);
    assert.deepEqual(analyzer.fileChanged(api).databases[0].usedBy, []);
    rmSync(path.join(app.root, 'users'), { recursive: true });
    assert.deepEqual(analyzer.fileChanged(path.join(app.root, 'users')).services.map((s) => s.name), ['svc']);
    rmSync(path.join(app.root, 'svc', 'migrations'), { recursive: true });
    const model = analyzer.fileChanged(path.join(app.root, 'svc', 'migrations'));
    assert.deepEqual(model.diagnostics.map((d) => d.message), ['migrations directory does not exist']);
  } finally {
    app.cleanup();
  }
});

test('a watcher event for an open document is ignored: the editor text wins', () => {
  const app = testApp({ 'svc/db.ts': DB, 'svc/migrations/': '' });
  try {
    const file = path.join(app.root, 'svc', 'db.ts');
    app.analyzer.analyze();
    app.analyzer.setOverlay(file, DB.replace('"main"', '"edited"'));
    writeFileSync(file, DB.replace('"main"', '"on-disk"'));
    assert.deepEqual(app.analyzer.fileChanged(file).databases.map((d) => d.name), ['edited']);
    assert.deepEqual(app.analyzer.clearOverlay(file).databases.map((d) => d.name), ['on-disk']);
  } finally {
    app.cleanup();
  }
});

test('files outside the walk are not relevant, and overlays for them change nothing', () => {
  const app = testApp({ 'svc/db.ts': DB, 'svc/migrations/': '', 'sub/encore.app': '{}' });
  try {
    const a = app.analyzer;
    a.analyze();
    for (const rel of ['node_modules/x/db.ts', '.hidden/db.ts', 'svc/db.test.ts', 'svc/db.spec.ts', 'svc/db.tsx', 'svc/db.js', 'sub/db.ts', 'encore.gen/clients.ts', 'svc/__tests__/x.ts', '../outside.ts']) {
      const file = path.join(app.root, rel);
      assert.equal(a.isRelevant(file), false, rel);
      assert.deepEqual(a.setOverlay(file, DB.replace('"main"', '"other"')).databases.map((d) => d.name), ['main'], rel);
    }
    assert.equal(a.isRelevant(path.join(app.root, 'svc', 'db.ts')), true);
    assert.ok(!existsSync(path.join(app.root, 'svc', 'db.tsx')));
  } finally {
    app.cleanup();
  }
});
