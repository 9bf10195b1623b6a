// A plan that finds a resource new to a Production environment asks its sizing questions (on a terminal) and saves
// the answers onto the environment as the file holds it when they are saved, or says which defaults it used
// (elsewhere).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { CliIO } from '../../src/cli/provision/commands';
import { terminalSizing } from '../../src/cli/provision/sizing';
import type { Environment } from '../../src/model/environment';
import { EnvironmentSession } from '../../src/session';

function session(root: string, name: string, io: CliIO, notes: string[] = []): Promise<EnvironmentSession> {
  return EnvironmentSession.open({
    appRoot: root, environment: name, model: () => new AppAnalyzer(root).analyze(),
    hooks: { askSizing: terminalSizing(io), note: (t) => notes.push(t) },
  });
}

const repo = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-sizing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function appWith(env: Environment): string {
  const root = path.join(dir, `app-${Math.random().toString(36).slice(2)}`);
  cpSync(path.join(repo, 'examples', 'sample-app'), root, { recursive: true });
  writeFileSync(path.join(root, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
  return root;
}

// Everything answered except the users database, as if it had just been added to the app.
const prod: Environment = {
  name: 'prod',
  type: 'production',
  deploy: { trigger: 'manual' },
  provider: { kind: 'aws', region: 'eu-west-1' },
  sizing: {
    databases: { orders: { cpu: 2, memoryGiB: 8, diskGiB: 20 } },
    caches: { notifications: { memoryGiB: 5, replicas: 1 } },
    services: Object.fromEntries(['auth', 'notifications', 'orders', 'users'].map((s) => [s, { minInstances: 2, maxInstances: 10 }])),
  },
};

test('on a terminal, the new database is asked about, a bad answer is asked again, and the answers are saved', async () => {
  const root = appWith(prod);
  const answers = ['', '1000', '16', ''];
  const asked: string[] = [];
  const errors: string[] = [];
  const io: CliIO = {
    out: () => {},
    err: (t) => errors.push(t),
    interactive: true,
    ask: async (q) => {
      asked.push(q.trim());
      return answers.shift() ?? '';
    },
    signal: new AbortController().signal,
  };
  const notes: string[] = [];
  const s = await session(root, 'prod', io, notes);
  assert.equal(await s.size(), true);
  assert.deepEqual(asked, [
    'users database: vCPUs [2 vCPU]:', 'users database: memory [8 GiB]:', 'users database: memory [8 GiB]:', 'users database: initial disk [20 GiB]:',
  ]);
  assert.match(errors.join(''), /Enter a value from/);
  assert.deepEqual(notes, ['saved the sizing answers to encore.environments.json']);
  const saved = JSON.parse(readFileSync(path.join(root, 'encore.environments.json'), 'utf8')).environments[0];
  assert.deepEqual(saved.sizing.databases.users, s.env.sizing?.databases?.users);
  assert.equal(saved.sizing.databases.users.memoryGiB, 16);
  assert.deepEqual(saved.sizing.databases.orders, prod.sizing?.databases?.orders);
});

test('an edit of the file made while the questions wait is kept: the answers go onto the environment as it is then', async () => {
  const root = appWith(prod);
  const file = path.join(root, 'encore.environments.json');
  let edited = false;
  const io: CliIO = {
    out: () => {}, err: () => {}, interactive: true, signal: new AbortController().signal,
    ask: async () => {
      if (!edited) {
        // A teammate's change lands (git pull, an editor) while the first question is on the screen.
        const doc = JSON.parse(readFileSync(file, 'utf8'));
        doc.environments[0].deploy = { trigger: 'push', branch: 'release' };
        doc.environments[0].sizing.caches.notifications.memoryGiB = 13;
        doc.environments.push({ name: 'qa', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-qa' } });
        writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
        edited = true;
      }
      return '';
    },
  };
  const s = await session(root, 'prod', io);
  assert.equal(await s.size(), true);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(saved.environments.map((e: Environment) => e.name), ['prod', 'qa'], 'the environment added meanwhile is kept');
  assert.deepEqual(saved.environments[0].deploy, { trigger: 'push', branch: 'release' }, 'the edit to the same environment is kept');
  assert.equal(saved.environments[0].sizing.caches.notifications.memoryGiB, 13);
  assert.deepEqual(saved.environments[0].sizing.databases.users, { cpu: 2, memoryGiB: 8, diskGiB: 20 });
  assert.deepEqual(s.env.deploy, { trigger: 'push', branch: 'release' }, 'the session plans with the environment as saved');
});

test('without a terminal, plan names the new resource and the defaults it used, and changes no file', () => {
  const root = appWith(prod);
  const before = readFileSync(path.join(root, 'encore.environments.json'), 'utf8');
  const r = spawnSync(process.execPath, [path.join(repo, 'dist', 'cli.js'), 'plan', '--env', 'prod', '--offline', root], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /note: new in Production environment "prod" since its sizing was answered: database users\. This plan uses Encore's defaults \(users cpu 2 vCPU, users memoryGiB 8 GiB, users diskGiB 20 GiB\)/);
  assert.equal(readFileSync(path.join(root, 'encore.environments.json'), 'utf8'), before);
});

test('a Development environment is never asked', async () => {
  const dev: Environment = { name: 'dev', type: 'development', deploy: prod.deploy, provider: prod.provider };
  const root = appWith(dev);
  const io = { out() {}, err() {}, interactive: true, ask: async () => assert.fail('asked'), signal: new AbortController().signal } as CliIO;
  const s = await session(root, 'dev', io);
  assert.equal(await s.size(), true);
  assert.deepEqual(s.env, dev);
});
