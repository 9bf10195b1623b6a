// Where the local cluster cannot run, it refuses before changing anything, says why, and names what to use
// instead (a kind, minikube or k3d context). Checked for real where this machine allows: a port it needs taken by
// another listener, and a user who is not root; the other-OS case in a child process whose process.platform says
// darwin. Run: node --import tsx --test test/integration/localClusterRefusals.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { CannotRunHere, checkHost, PORTS, stateDir } from '../../scripts/local-cluster.mjs';

const repo = path.join(__dirname, '..', '..');
const script = path.join(repo, 'scripts', 'local-cluster.mjs');

/** Runs checkHost() in a child Node, after `prelude`, as `asUser` (a uid) when given; returns its message. */
function childCheck({ prelude = '', asUser }: { prelude?: string; asUser?: number } = {}): { status: number | null; message: string } {
  const code = `${prelude}; import(${JSON.stringify(script)}).then((m) => m.checkHost({ ports: false })).then(() => { console.log('ok'); }, (e) => { console.log(e.constructor.name + ': ' + e.message); process.exit(4); });`;
  const command = asUser === undefined ? [process.execPath, '-e', code] : ['/usr/bin/setpriv', `--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', process.execPath, '-e', code];
  const result = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', cwd: '/' });
  return { status: result.status, message: `${result.stdout}${result.stderr}`.trim() };
}

test('a port the cluster needs is taken: it refuses and says which, and what to use instead', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORTS.apiserver, '127.0.0.1', () => resolve());
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await assert.rejects(checkHost(), (err: Error) => {
    assert.ok(err instanceof CannotRunHere, err.message);
    assert.match(err.message, new RegExp(`${PORTS.apiserver} \\(apiserver\\)`));
    assert.match(err.message, /kind .*minikube .*k3d/);
    return true;
  });
  assert.ok(!existsSync(stateDir), 'nothing was written on the host');
});

test('not root: it refuses and says why', () => {
  const { status, message } = childCheck({ asUser: 65534 });
  assert.equal(status, 4, message);
  assert.match(message, /^CannotRunHere: The local cluster needs root/);
  assert.match(message, /kind .*minikube .*k3d/);
});

test('not Linux: it refuses and says what to use instead', () => {
  const { status, message } = childCheck({ prelude: "Object.defineProperty(process, 'platform', { value: 'darwin' })" });
  assert.equal(status, 4, message);
  assert.match(message, /^CannotRunHere: The local cluster runs Kubernetes' node components .* need Linux; this is darwin/);
  assert.match(message, /kind .*minikube .*k3d/);
});

test('as root on Linux with free ports, the checks pass', async () => {
  assert.equal(process.getuid?.(), 0, 'these tests run as root, as CI does');
  await checkHost();
});
