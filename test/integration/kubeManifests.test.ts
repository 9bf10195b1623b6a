// Manifest validation: every object the Kubernetes provider would write for the sample app and the "everything"
// fixture, in Development and Production, passes a server-side dry-run apply (dryRun=All, fieldValidation=Strict)
// against a real kube-apiserver: schema, defaulting, validation (selectors, DNS names, cron syntax, HPA bounds) and
// unknown fields all checked by the server itself. Run: node --import tsx --test test/integration/kubeManifests.test.ts
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment, EnvironmentType } from '../../src/model/environment';
import { resolveSettings } from '../../src/provisioning/engine';
import { AUTOSCALER, desiredGraph } from '../../src/provisioning/planner';
import { KubeApiError } from '../../src/provisioning/providers/kubernetes/errors';
import { connect } from '../../src/provisioning/providers/kubernetes/connection';
import { renderResource } from '../../src/provisioning/providers/kubernetes/manifests';
import { renderGraph } from '../../src/provisioning/providers/kubernetes/manifests/graph';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';

const repo = path.join(__dirname, '..', '..');
const apps = {
  sample: new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze(),
  everything: new AppAnalyzer(path.join(repo, 'test', 'fixtures', 'apps', 'everything')).analyze(),
};
let kube: TestKube;

before(async () => {
  kube = await startTestKube();
});
after(async () => {
  await kube?.stop();
});

function environment(type: EnvironmentType, namespace: string): Environment {
  return { name: type === 'production' ? 'prod' : 'dev', type, deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };
}

for (const [appName, model] of Object.entries(apps)) {
  for (const type of ['development', 'production'] as const) {
    test(`${appName} · kubernetes ${type}: every manifest passes a strict server-side dry-run apply`, async () => {
      const namespace = uniqueName(`dry-${type.slice(0, 4)}`);
      const graph = desiredGraph(model, environment(type, namespace), { appId: appName });
      const rendered = renderGraph(graph);
      const { client } = await connect({ kubeconfig: kube.kubeconfigPath, context: 'encore-test' });
      // Namespaced objects can only be dry-run into a namespace that exists: the Namespace is applied for real first.
      await client.apply(rendered[0]!.manifest);
      const kinds = new Map<string, number>();
      const refused: string[] = [];
      for (const { resource, manifest } of rendered) {
        try {
          const answer = await client.apply(manifest, { dryRun: true });
          assert.equal(answer.metadata.name, manifest.metadata.name);
          kinds.set(manifest.kind, (kinds.get(manifest.kind) ?? 0) + 1);
        } catch (err) {
          if (!(err instanceof KubeApiError)) throw err;
          refused.push(`${resource.id} (${manifest.kind} ${manifest.metadata.name}): ${err.message}`);
        }
      }
      assert.deepEqual(refused, [], refused.join('\n'));
      const expected = ['Namespace', 'PersistentVolumeClaim', 'Secret', 'Service', 'StatefulSet', 'Job', 'ServiceAccount', 'Deployment', 'CronJob'];
      if (type === 'production') expected.push('HorizontalPodAutoscaler');
      for (const kind of expected) assert.ok(kinds.has(kind), `${kind} among ${[...kinds.keys()].join(', ')}`);
      // Every provider-supported resource of the graph was rendered and checked.
      assert.equal(rendered.length, graph.resources.length);
      console.log(`${appName} ${type}: ${rendered.length} manifests accepted (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})`);
    });
  }
}

test('the dry run is strict: an unknown field and an invalid value are refused with their field', async () => {
  const namespace = uniqueName('dry-bad');
  const graph = desiredGraph(apps.sample, environment('development', namespace), { appId: 'sample' });
  const rendered = renderGraph(graph);
  const { client } = await connect({ kubeconfig: kube.kubeconfigPath, context: 'encore-test' });
  await client.apply(rendered[0]!.manifest);
  const deployment = rendered.find((x) => x.manifest.kind === 'Deployment')!.manifest;
  const typo = structuredClone(deployment) as unknown as { spec: Record<string, unknown> };
  typo.spec.replicaz = 2;
  await assert.rejects(client.apply(typo as never, { dryRun: true }), (err: KubeApiError) => {
    // Server-side apply answers an unknown field with a 500, not a 400: the driver maps it to 'invalid', not 'transient'.
    assert.equal(err.code, 500);
    assert.match(err.message, /failed to create typed patch object .*\.spec\.replicaz: field not declared in schema/);
    return true;
  });
  const cron = structuredClone(rendered.find((x) => x.manifest.kind === 'CronJob')!.manifest) as unknown as { spec: Record<string, unknown> };
  cron.spec.schedule = 'every day';
  await assert.rejects(client.apply(cron as never, { dryRun: true }), (err: KubeApiError) => {
    assert.equal(err.code, 422);
    assert.ok(err.causes.some((c) => c.field === 'spec.schedule'), JSON.stringify(err.causes));
    return true;
  });
});

test('aws production: the cluster autoscaler\'s objects (kube-system and cluster-scoped) pass a strict server-side dry-run apply', async () => {
  for (const [appName, model] of Object.entries(apps)) {
    const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' } };
    const graph = desiredGraph(model, env, { appId: appName });
    const ids = [AUTOSCALER.serviceAccountId, AUTOSCALER.clusterRoleId, AUTOSCALER.clusterRoleBindingId, AUTOSCALER.roleInNamespaceId, AUTOSCALER.roleBindingId, AUTOSCALER.deploymentId];
    const { client } = await connect({ kubeconfig: kube.kubeconfigPath, context: 'encore-test' });
    const kinds: string[] = [];
    for (const id of ids) {
      const r = graph.resources.find((x) => x.id === id)!;
      // The role's ARN is known only after apply: the one IAM would give.
      const resolution = resolveSettings(r.settings, (ref, attribute) => (ref === AUTOSCALER.roleId && attribute === 'arn' ? { value: `arn:aws:iam::123456789012:role/${appName}-cluster-autoscaler`, secret: false } : undefined));
      assert.deepEqual(resolution.missing, [], `${id} resolves`);
      const manifest = renderResource({ ...r, settings: resolution.resolved }, { environment: graph.environment, namespace: graph.namespace, production: true });
      const clusterScoped = manifest.kind.startsWith('Cluster');
      assert.equal(manifest.metadata.namespace, clusterScoped ? undefined : 'kube-system', `${manifest.kind} ${manifest.metadata.name}`);
      const answer = await client.apply(manifest, { dryRun: true });
      assert.equal(answer.metadata.name, 'cluster-autoscaler');
      assert.equal(answer.metadata.namespace, clusterScoped ? undefined : 'kube-system');
      kinds.push(answer.kind);
    }
    assert.deepEqual(kinds, ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment'], appName);
  }
});
