// The server's workspace with the real analyzer on scratch apps: multi-root workspaces with nested and side-by-side
// apps, Go and unreadable apps, open documents as overlays, debounced bursts, apps appearing, and an analyzer that
// throws (the server must report it and carry on).
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { ServerState } from '../../src/model/protocol';
import { AppWorkspace, GO_NOT_ANALYSED, type WorkspaceHost } from '../../src/server/workspace';

const repoRoot = path.join(__dirname, '..', '..');
const SERVICE = (name: string) => `import { Service } from "encore.dev/service";\nexport default new Service("${name}");\n`;
const TOPIC = 'import { Topic } from "encore.dev/pubsub";\nexport const t = new Topic<{ a: string }>("events", { deliveryGuarantee: "at-least-once" });\n';

interface Recorder extends WorkspaceHost {
  changes: string[][];
  statuses: { state: ServerState; message?: string }[];
  errors: string[];
  infos: string[];
}

function recorder(debounceMs = 20): Recorder {
  const r: Recorder = {
    changes: [],
    statuses: [],
    errors: [],
    infos: [],
    changed: (roots) => void r.changes.push(roots),
    status: (state, message) => void r.statuses.push(message === undefined ? { state } : { state, message }),
    info: (m) => void r.infos.push(m),
    debug: () => {},
    error: (m) => void r.errors.push(m),
    debounceMs: () => debounceMs,
  };
  return r;
}

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the server workspace', () => {
  let scratch: string;
  let shop: string; // folder 1: the sample app, with a Go app nested below it
  let nestedGo: string;
  let mono: string; // folder 2: a monorepo with a TypeScript app and a broken one side by side
  let events: string;
  let broken: string;

  before(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'encore-ws-'));
    shop = path.join(scratch, 'shop');
    cpSync(path.join(repoRoot, 'examples', 'sample-app'), shop, { recursive: true });
    nestedGo = path.join(shop, 'tools', 'legacy');
    write(path.join(nestedGo, 'encore.app'), '{}');
    write(path.join(nestedGo, 'svc', 'encore.service.ts'), SERVICE('legacy'));
    mono = path.join(scratch, 'mono');
    events = path.join(mono, 'events');
    write(path.join(events, 'encore.app'), '{"lang": "typescript"}');
    write(path.join(events, 'bus', 'encore.service.ts'), SERVICE('bus'));
    write(path.join(events, 'bus', 'topic.ts'), TOPIC);
    broken = path.join(mono, 'broken');
    write(path.join(broken, 'encore.app'), '{"lang": "typescript"');
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('every app of every folder is reported: analysed, Go (not analysed), or unreadable', async () => {
    const host = recorder();
    const ws = new AppWorkspace(host);
    await ws.setFolders([shop, mono]);
    const entries = ws.entries();
    assert.deepEqual(entries.map((e) => e.root), [broken, events, shop, nestedGo].sort());
    const byRoot = new Map(entries.map((e) => [e.root, e]));
    const shopEntry = byRoot.get(shop)!;
    assert.ok('model' in shopEntry && shopEntry.lang === 'typescript');
    assert.deepEqual(shopEntry.model.services.map((s) => s.name), ['auth', 'notifications', 'orders', 'users']);
    const eventsEntry = byRoot.get(events)!;
    assert.ok('model' in eventsEntry);
    assert.deepEqual(eventsEntry.model.topics.map((t) => t.name), ['events']);
    assert.deepEqual(byRoot.get(nestedGo), { root: nestedGo, lang: 'go', notAnalysed: GO_NOT_ANALYSED });
    const brokenEntry = byRoot.get(broken)!;
    assert.ok('error' in brokenEntry);
    assert.match(brokenEntry.error, /encore\.app: .*at line 1/);
    // The broken file gets a diagnostic on itself; the analysed apps are clean.
    const { models, unreadable } = ws.diagnosticSources();
    assert.equal(models.length, 2);
    assert.deepEqual(unreadable.map((u) => u.appFile), [path.join(broken, 'encore.app')]);
    assert.match(unreadable[0].message, /^cannot read encore\.app: .*at line 1/);
    // A request for one app, by its root or by a path inside it.
    assert.deepEqual(ws.entries(path.join(shop, 'users')).map((e) => e.root), [shop]);
    assert.deepEqual(ws.entries(path.join(nestedGo, 'svc')).map((e) => e.root), [nestedGo]);
    assert.deepEqual(ws.entries(scratch), []);
    assert.deepEqual(host.statuses.map((s) => s.state), ['analysing', 'analysing', 'ready']);
    assert.deepEqual(host.changes, [[broken, events, shop, nestedGo].sort()]);
    assert.deepEqual(host.errors, []);
    ws.dispose();
  });

  test('an open document is analysed from its text at once when a request needs it, and from disk after closing', async () => {
    const host = recorder(10_000); // no debounce during the test: only the request applies the edit
    const ws = new AppWorkspace(host);
    await ws.setFolders([shop]);
    const file = path.join(shop, 'users', 'db.ts');
    const text = readFileSync(file, 'utf8');
    ws.openDocument(file, text.replace('"users"', 'dbName'));
    const broken = ws.modelFor(file)!;
    assert.deepEqual(broken.diagnostics.map((d) => [d.file, d.message]), [[file, 'expected string literal']]);
    assert.deepEqual(broken.databases.map((d) => d.name), ['orders']);
    ws.closeDocument(file);
    const back = ws.modelFor(file)!;
    assert.deepEqual(back.diagnostics, []);
    assert.deepEqual(back.databases.map((d) => d.name), ['orders', 'users']);
    ws.dispose();
  });

  test('a burst of edits is analysed once, after the quiet time, from the last text', async () => {
    const host = recorder(30);
    const ws = new AppWorkspace(host);
    await ws.setFolders([mono]);
    host.changes.length = 0;
    const file = path.join(events, 'bus', 'topic.ts');
    for (const name of ['e', 'ev', 'eve', 'even', 'events-renamed']) ws.openDocument(file, TOPIC.replace('"events"', `"${name}"`));
    assert.deepEqual(host.changes, []);
    await sleep(120);
    assert.deepEqual(host.changes, [[events]]);
    assert.deepEqual(ws.entries(events).map((e) => ('model' in e ? e.model.topics.map((t) => t.name) : [])), [['events-renamed']]);
    ws.dispose();
  });

  test('files of a nested Go app are not analysed by the app around it', async () => {
    const ws = new AppWorkspace(recorder(10_000));
    await ws.setFolders([shop]);
    const goFile = path.join(nestedGo, 'svc', 'db.ts');
    ws.openDocument(goFile, 'import { SQLDatabase } from "encore.dev/storage/sqldb";\nexport const db = new SQLDatabase("users");\n');
    assert.equal(ws.modelFor(goFile), undefined);
    // Had the outer app taken the file, "users" would now be defined twice.
    assert.deepEqual(ws.modelFor(path.join(shop, 'users', 'db.ts'))!.diagnostics, []);
    ws.dispose();
  });

  test('a file created and deleted on disk is picked up from watcher events', async () => {
    const host = recorder(10);
    const ws = new AppWorkspace(host);
    await ws.setFolders([mono]);
    const extra = write(path.join(events, 'bus', 'more.ts'), TOPIC.replace('const t', 'const u'));
    ws.fileChanged(extra);
    await sleep(60);
    assert.deepEqual(ws.modelFor(extra)!.diagnostics.map((d) => d.message), ['PubSub topic with this name already defined']);
    unlinkSync(extra);
    ws.fileChanged(extra);
    await sleep(60);
    assert.deepEqual(ws.modelFor(path.join(events, 'bus', 'topic.ts'))!.diagnostics, []);
    ws.dispose();
  });

  test('an encore.app that appears or goes away finds the apps again', async () => {
    const host = recorder(10);
    const ws = new AppWorkspace(host);
    await ws.setFolders([mono]);
    const appFile = write(path.join(mono, 'later', 'encore.app'), '{"lang": "typescript"}');
    write(path.join(mono, 'later', 'svc', 'encore.service.ts'), SERVICE('later'));
    ws.fileChanged(appFile);
    await ws.settled();
    assert.ok(ws.entries().some((e) => e.root === path.dirname(appFile) && 'model' in e));
    assert.deepEqual(host.changes.at(-1), [broken, events, path.dirname(appFile)].sort());
    rmSync(path.dirname(appFile), { recursive: true });
    ws.fileChanged(appFile);
    await ws.settled();
    assert.deepEqual(ws.entries().map((e) => e.root), [broken, events]);
    // The app that went away is announced, so the client drops what it showed for it.
    assert.ok(host.changes.at(-1)!.includes(path.dirname(appFile)));
    ws.dispose();
  });

  test('an analyzer that throws is reported (status, log, entry) and retried on the next change; the rest carries on', async () => {
    const host = recorder(10);
    let failures = 1;
    // The real analyzer, except that its first full analysis of the events app throws, as a bug would.
    const ws = new AppWorkspace(host, (root) => {
      const analyzer = new AppAnalyzer(root);
      if (root === events && failures-- > 0) analyzer.analyze = () => { throw new Error('analyzer bug'); };
      return analyzer;
    });
    await ws.setFolders([mono, shop]);
    assert.deepEqual(host.statuses.at(-1), { state: 'error', message: `analysing ${events} failed: analyzer bug` });
    assert.equal(host.errors.length, 1);
    assert.match(host.errors[0], /analysing .*events failed: Error: analyzer bug\n\s+at /);
    assert.deepEqual(ws.entries(events), [{ root: events, error: 'analysis failed: analyzer bug' }]);
    // The other apps are served as usual, and requests do not retry the failed app over and over.
    assert.ok('model' in ws.entries(shop)[0]);
    assert.equal(ws.modelFor(path.join(events, 'bus', 'topic.ts')), undefined);
    assert.equal(host.errors.length, 1);
    // An edit is a reason to try again: this time the analysis succeeds, with the edit applied.
    const file = path.join(events, 'bus', 'topic.ts');
    ws.openDocument(file, TOPIC.replace('"events"', '"events-v2"'));
    await sleep(60);
    assert.deepEqual(host.statuses.at(-1), { state: 'ready' });
    assert.deepEqual(ws.modelFor(file)!.topics.map((t) => t.name), ['events-v2']);
    ws.closeDocument(file);
    ws.dispose();
  });
});
