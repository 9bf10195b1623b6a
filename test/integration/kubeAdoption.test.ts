// Adoption against the real kube-apiserver: an environment pointed at a namespace that already holds objects the tool
// never made. The plan says what it would take over, apply refuses to without --adopt, a Deployment of the same
// name as a service is never replaced silently, and destroy leaves the namespace (and every foreign object in it)
// in place while deleting what the tool made inside.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EXIT } from '../../src/cli/exitCodes';
import { runProvisionCommand, type CliIO } from '../../src/cli/provision/commands';
import type { ProvisionDeps } from '../../src/cli/provision/context';
import type { Environment } from '../../src/model/environment';
import type { Plan } from '../../src/model/plan';
import type { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { kubeDriver, startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { simulateControllers } from './kubeControllers';

const repo = path.join(__dirname, '..', '..');
let kube: TestKube;
let app: string;
let client: KubeClient;
const namespace = uniqueName('shared');
const env: Environment = { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };

const deps = (): ProvisionDeps => ({ provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 100, deleteTimeoutMs: 30_000 } } });

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const [command, ...rest] = args;
  const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), interactive: false, ask: async () => '', signal: new AbortController().signal };
  const code = await runProvisionCommand(command as 'plan', [...rest, app], io, deps());
  return { code, out, err };
}

before(async () => {
  kube = await startTestKube();
  app = mkdtempSync(path.join(os.tmpdir(), 'kube-adopt-'));
  cpSync(path.join(repo, 'examples', 'sample-app'), app, { recursive: true });
  writeFileSync(path.join(app, 'encore.environments.json'), JSON.stringify({ environments: [env] }));
  client = await (await kubeDriver(env, { appRoot: app, kubeconfig: kube.kubeconfigPath })).client();
  // Someone else's namespace, with their own objects in it: a ConfigMap, and a Deployment named like a service.
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { team: 'payments' } } });
  await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'payments-settings', namespace }, data: { mode: 'live' } });
  await client.create({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users', namespace },
    spec: {
      replicas: 3,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'users' } },
      template: { metadata: { labels: { 'app.kubernetes.io/name': 'users' } }, spec: { containers: [{ name: 'legacy', image: 'legacy/users:7' }] } },
    },
  });
});
after(async () => {
  await kube?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
});

test('foreign objects are shown in the plan, taken over only with --adopt, and left in place by destroy', async () => {
  const controllers = simulateControllers(client, namespace);
  try {
    const planned = await cli(['plan', '--env', 'dev', '--json']);
    assert.equal(planned.code, EXIT.ok, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    assert.deepEqual([...plan.foreignAdoptions].sort(), ['k8s:deployment:users', 'k8s:namespace']);
    assert.ok(plan.entries.filter((e) => e.adopt).every((e) => e.foreign), 'nothing here was made by the tool');
    const text = await cli(['plan', '--env', 'dev']);
    assert.match(text.out, /k8s:namespace .*\[adopt: made outside the tool\]/);
    assert.match(text.out, /Objects that exist but were not made by this tool, which apply would take over \(this needs --adopt; destroy leaves them in place\):\n {2}! k8s:namespace /);

    const refused = await cli(['apply', '--env', 'dev', '--yes']);
    assert.equal(refused.code, EXIT.confirmation, refused.err);
    assert.match(refused.err, /apply would take over 2 objects that exist but were not made by this tool \((Namespace|Deployment) .*\): .* Nothing was changed\. To go ahead, review the plan, then run apply again with --adopt\./);
    const legacy = (await client.get('apps/v1', 'Deployment', namespace, 'users')) as unknown as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    assert.equal(legacy.spec.template.spec.containers[0]!.image, 'legacy/users:7', 'the foreign Deployment was not replaced');
    assert.equal((await client.list('apps/v1', 'StatefulSet', namespace)).items.length, 0, 'nothing was created');

    const adopted = await cli(['apply', '--env', 'dev', '--yes', '--adopt', '--json']);
    assert.equal(adopted.code, EXIT.ok, adopted.err);

    const destroyed = await cli(['destroy', '--env', 'dev', '--confirm', 'dev']);
    assert.equal(destroyed.code, EXIT.ok, destroyed.err);
    assert.match(destroyed.err, /k8s:namespace .*\[adopted: left in place\]/);
    const ns = await client.find('v1', 'Namespace', undefined, namespace);
    assert.ok(ns && !ns.metadata.deletionTimestamp, 'the adopted namespace is still there');
    assert.ok(await client.find('v1', 'ConfigMap', namespace, 'payments-settings'), 'the foreign ConfigMap is still there');
    assert.ok(await client.find('apps/v1', 'Deployment', namespace, 'users'), 'the adopted Deployment is left in place');
    for (const [apiVersion, kind] of [['apps/v1', 'StatefulSet'], ['batch/v1', 'CronJob'], ['v1', 'Service']]) {
      assert.deepEqual((await client.list(apiVersion!, kind!, namespace)).items.map((o) => o.metadata.name), [], `every ${kind} the tool made is gone`);
    }
    const deployments = (await client.list('apps/v1', 'Deployment', namespace)).items.map((o) => o.metadata.name);
    assert.deepEqual(deployments, ['users'], 'the Deployments the tool made are gone');
  } finally {
    await controllers.stop();
  }
});
