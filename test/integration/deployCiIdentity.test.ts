// Deploy on push on a Kubernetes environment: the CI identity in the environment's plan (a ServiceAccount, a Role
// limited to the namespace, a RoleBinding), applied to the real test kube-apiserver; `setup-ci --print-kubeconfig`
// prints a kubeconfig for it (a token the API server minted, the environment's context name) without writing it
// anywhere; a deploy with only that kubeconfig succeeds (local registry, stand-in encore, the test playing the
// controllers), and the same identity is refused outside its namespace and for what a deploy does not do.
// Run: npm test -- integration test/integration/deployCiIdentity.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { runDeployCommand } from '../../src/cli/deploy/commands';
import { EXIT } from '../../src/cli/exitCodes';
import { runProvisionCommand, type CliIO } from '../../src/cli/provision/commands';
import type { Environment } from '../../src/model/environment';
import { CI_IDENTITY, CI_RULES } from '../../src/provisioning/planner/ciIdentity';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { KubeApiError } from '../../src/provisioning/providers/kubernetes/errors';
import { startRegistry, type TestRegistry } from '../../scripts/registry.mjs';
import { standinEnv } from '../deploy/encoreStandin';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { simulateControllers } from './kubeControllers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const repo = path.join(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'deploy-ci-'));
let kube: TestKube;
let registry: TestRegistry;
let admin: KubeClient;

before(async () => {
  [kube, registry] = await Promise.all([startTestKube(), startRegistry()]);
  admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
});
after(async () => {
  admin?.close();
  await Promise.all([kube?.stop(), registry?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

function io(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false, ask: () => Promise.reject(new Error('no questions')), signal: new AbortController().signal, stdout: () => out, stderr: () => err };
}

const GIT = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];

test('the CI identity is planned, limited to the namespace, and a deploy with its kubeconfig alone succeeds', async () => {
  const dir = path.join(tmp, 'app');
  cpSync(path.join(repo, 'examples', 'sample-app'), dir, { recursive: true });
  const namespace = uniqueName('dci');
  const env: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'push', branch: 'main' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace, registry: `${registry.host}/sample-app` } };
  writeFileSync(path.join(dir, 'encore.environments.json'), `${JSON.stringify({ environments: [env] }, null, 2)}\n`);
  writeFileSync(path.join(dir, '.gitignore'), '.encore/\nnode_modules/\n');
  const git = (...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'the sample app');
  const deps = { provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 50 } }, env: standinEnv({ DOCKER_CONFIG: path.join(dir, '.no-docker-config') }), rolloutPollMs: 50 };

  // Before the apply there is no identity to mint a token for: said, with what to do.
  const early = io();
  assert.equal(await runDeployCommand('setup-ci', ['--env', 'staging', '--print-kubeconfig', dir], early, deps), EXIT.failure, early.stderr());
  assert.match(early.stderr(), /apply the environment first/);

  const controllers = simulateControllers(admin, namespace, { intervalMs: 50 });
  try {
    const plan = io();
    assert.equal(await runProvisionCommand('plan', ['--env', 'staging', dir], plan, deps), EXIT.ok, plan.stderr());
    assert.match(plan.stdout(), /ServiceAccount encore-deployer/);
    const applied = io();
    assert.equal(await runProvisionCommand('apply', ['--env', 'staging', '--yes', dir], applied, deps), EXIT.ok, applied.stderr());

    const role = await admin.get<Any & { apiVersion: string; kind: string; metadata: { name: string } }>('rbac.authorization.k8s.io/v1', 'Role', namespace, CI_IDENTITY.name);
    assert.deepEqual(role.rules.map((r: Any) => ({ apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs })), CI_RULES);
    const binding = await admin.get<Any & { apiVersion: string; kind: string; metadata: { name: string } }>('rbac.authorization.k8s.io/v1', 'RoleBinding', namespace, CI_IDENTITY.name);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: CI_IDENTITY.name, namespace }]);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CI_IDENTITY.name });
    // Read back as planned: a plan right after the apply has nothing to change (no drift on the Role or the binding).
    const again = io();
    assert.equal(await runProvisionCommand('plan', ['--env', 'staging', '--detailed-exitcode', dir], again, deps), EXIT.ok, again.stdout());

    const printed = io();
    assert.equal(await runDeployCommand('setup-ci', ['--env', 'staging', '--print-kubeconfig', dir], printed, deps), EXIT.ok, printed.stderr());
    const kc = new KubeConfig();
    kc.loadFromString(printed.stdout());
    assert.deepEqual(kc.getContexts().map((c) => [c.name, c.namespace]), [['encore-test', namespace]], "the environment's context name, so the workflow's deploy finds it");
    const token = kc.getUsers()[0]?.token ?? '';
    assert.ok(token.length > 20);
    assert.ok(!printed.stderr().includes(token), 'the token goes to stdout only');
    assert.equal(git('status', '--porcelain', '--ignored'), '!! .encore/', 'nothing written into the repository but the ignored local state');

    // The CI's kubeconfig alone (as the workflow writes it to $RUNNER_TEMP): a deploy succeeds.
    const ciKubeconfig = path.join(tmp, 'ci-kubeconfig');
    writeFileSync(ciKubeconfig, printed.stdout(), { mode: 0o600 });
      const ci = io();
      const code = await runDeployCommand('deploy', ['--env', 'staging', '--ci', dir], ci, { ...deps, provider: { ...deps.provider, kubeconfig: ciKubeconfig }, env: { ...deps.env, GITHUB_EVENT_NAME: 'push', GITHUB_ACTOR: 'octocat' } });
      assert.equal(code, EXIT.ok, ci.stderr());
      const result = JSON.parse(ci.stdout().trim().split('\n').at(-1)!) as Any;
      assert.equal(result.record.result, 'succeeded');
      assert.equal(result.record.trigger, 'push');

    // The same identity outside what a deploy does: refused by the API server.
    const asCi = KubeClient.fromKubeConfig(kc, 'encore-test');
    try {
      const other = uniqueName('other');
      await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: other } });
      const refused = async (what: string, p: Promise<unknown>) => assert.rejects(p, (err: Error) => err instanceof KubeApiError && err.code === 403, what);
      await refused('secrets of another namespace', asCi.list('v1', 'Secret', other));
      await refused('Deployments of another namespace', asCi.list('apps/v1', 'Deployment', other));
      await refused('deleting a Deployment', asCi.request('DELETE', `/apis/apps/v1/namespaces/${namespace}/deployments/orders`));
      await refused('its own Role', asCi.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: CI_IDENTITY.name, namespace }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] } as never));
      await refused('the namespace list', asCi.list('v1', 'Namespace', undefined));
    } finally {
      asCi.close();
    }
  } finally {
    await controllers.stop();
  }
});
