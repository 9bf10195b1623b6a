// The cluster autoscaler the planner adds to an AWS Production environment (planner/autoscaler.ts): its IRSA role,
// its ServiceAccount, the chart's RBAC and the Deployment in kube-system, rendered as the Kubernetes driver writes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredGraph, DesiredResource } from '../../src/model/desiredGraph';
import { resolveSettings } from '../../src/provisioning/engine';
import { AUTOSCALER, CLUSTER_AUTOSCALER_IMAGE, desiredGraph } from '../../src/provisioning/planner';
import { KUBERNETES_VERSION } from '../../src/provisioning/planner/cluster';
import { renderResource } from '../../src/provisioning/providers/kubernetes/manifests';
import { emptyState, type ResourceState } from '../../src/model/state';
import { appDeployments } from '../../src/session/deploy';
import { appImageOf } from '../../src/session/images';
import { byId, env, everything, sample } from './plannerHelpers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests are plain JSON

const ROLE_ARN = 'arn:aws:iam::123456789012:role/sample-prod-cluster-autoscaler';

/** The resource with the autoscaler role's ARN filled in, as the engine would after applying the role. */
function render(graph: DesiredGraph, r: DesiredResource): Any {
  const resolution = resolveSettings(r.settings, (id, attribute) => (id === AUTOSCALER.roleId && attribute === 'arn' ? { value: ROLE_ARN, secret: false } : undefined));
  assert.deepEqual(resolution.missing, [], `${r.id} resolves`);
  return renderResource({ ...r, settings: resolution.resolved }, { environment: graph.environment, namespace: graph.namespace, production: true }) as Any;
}

for (const [name, model] of [['sample app', sample], ['everything fixture', everything]] as const) {
  test(`${name} · AWS Production: the cluster autoscaler, its role, ServiceAccount, RBAC and Deployment in kube-system`, () => {
    const graph = desiredGraph(model, env('aws', 'production'));
    const cluster = byId(graph, 'aws:eks').name;
    const nodes = byId(graph, 'aws:eks-nodegroup');
    assert.equal(nodes.settings.autoscaler, 'cluster-autoscaler');

    const role = byId(graph, AUTOSCALER.roleId);
    assert.deepEqual((role.settings.trust as Any).irsa.namespace, 'kube-system');
    assert.deepEqual((role.settings.trust as Any).irsa.serviceAccount, 'cluster-autoscaler');
    assert.deepEqual(role.settings.clusterAutoscaler, { clusterName: cluster, nodegroupArn: '${aws:eks-nodegroup.arn}' });
    assert.ok(role.dependsOn.includes('aws:eks') && role.dependsOn.includes('aws:eks-nodegroup'));

    const sa = render(graph, byId(graph, AUTOSCALER.serviceAccountId));
    assert.equal(sa.metadata.namespace, 'kube-system');
    assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], ROLE_ARN);
    assert.equal(sa.automountServiceAccountToken, true, 'the autoscaler calls the Kubernetes API');
    assert.ok(byId(graph, AUTOSCALER.serviceAccountId).dependsOn.includes(AUTOSCALER.roleId));

    const clusterRole = render(graph, byId(graph, AUTOSCALER.clusterRoleId));
    assert.equal(clusterRole.kind, 'ClusterRole');
    assert.equal(clusterRole.metadata.namespace, undefined, 'cluster-scoped');
    assert.equal(clusterRole.metadata.labels['app.kubernetes.io/managed-by'], 'encore-environments');
    const can = (verb: string, resource: string) => (clusterRole.rules as Any[]).some((r) => r.resources.includes(resource) && r.verbs.includes(verb) && !r.resourceNames);
    for (const [verb, resource] of [['list', 'nodes'], ['delete', 'nodes'], ['create', 'pods/eviction'], ['watch', 'pods'], ['list', 'poddisruptionbudgets'], ['create', 'leases']]) assert.ok(can(verb, resource), `may ${verb} ${resource}`);
    assert.ok(!can('update', 'leases'), 'only its own lease is updated');
    const binding = render(graph, byId(graph, AUTOSCALER.clusterRoleBindingId));
    assert.equal(binding.metadata.namespace, undefined);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-autoscaler' });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'cluster-autoscaler', namespace: 'kube-system' }]);
    const nsRole = render(graph, byId(graph, AUTOSCALER.roleInNamespaceId));
    assert.equal(nsRole.metadata.namespace, 'kube-system');
    const nsBinding = render(graph, byId(graph, AUTOSCALER.roleBindingId));
    assert.equal(nsBinding.metadata.namespace, 'kube-system');
    assert.deepEqual(nsBinding.subjects, [{ kind: 'ServiceAccount', name: 'cluster-autoscaler', namespace: 'kube-system' }]);

    assert.equal(byId(graph, AUTOSCALER.deploymentId).kind, 'clusterAddon', 'not one of the app\'s workloads');
    const d = render(graph, byId(graph, AUTOSCALER.deploymentId));
    assert.equal(d.metadata.namespace, 'kube-system');
    assert.equal(d.spec.replicas, 1, 'one replica, even in Production where the HPAs own the app\'s counts');
    const pod = d.spec.template.spec;
    assert.equal(pod.serviceAccountName, 'cluster-autoscaler');
    assert.equal(pod.priorityClassName, 'system-cluster-critical');
    const [c] = pod.containers;
    assert.equal(c.image, CLUSTER_AUTOSCALER_IMAGE);
    assert.match(c.image, new RegExp(`^registry\\.k8s\\.io/autoscaling/cluster-autoscaler:v${KUBERNETES_VERSION.replace('.', '\\.')}\\.\\d+$`), 'the release of the cluster\'s minor version');
    for (const flag of ['--cloud-provider=aws', `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${cluster}`, '--balance-similar-node-groups', '--skip-nodes-with-system-pods=false']) {
      assert.ok(c.command.includes(flag), `${flag} in ${c.command.join(' ')}`);
    }
    assert.deepEqual(c.resources.requests, { cpu: '100m', memory: '600Mi' });
    assert.deepEqual(c.env, [{ name: 'AWS_REGION', value: 'eu-west-1' }]);
    assert.equal(c.livenessProbe.httpGet.path, '/health-check');
    for (const dep of [AUTOSCALER.serviceAccountId, AUTOSCALER.clusterRoleBindingId, AUTOSCALER.roleBindingId, 'aws:eks-nodegroup']) assert.ok(byId(graph, AUTOSCALER.deploymentId).dependsOn.includes(dep), `waits for ${dep}`);
  });
}

test('the image override applies to the autoscaler: a mirror and a replacement', () => {
  const mirrored = desiredGraph(sample, env('aws', 'production', { images: { mirror: 'mirror.example.com/k8s' } }));
  assert.equal(byId(mirrored, AUTOSCALER.deploymentId).settings.image, CLUSTER_AUTOSCALER_IMAGE.replace('registry.k8s.io', 'mirror.example.com/k8s'));
  const replaced = desiredGraph(sample, env('aws', 'production', { images: { replace: { [CLUSTER_AUTOSCALER_IMAGE]: 'local.example.com/ca:1' } } }));
  assert.equal(byId(replaced, AUTOSCALER.deploymentId).settings.image, 'local.example.com/ca:1');
  assert.deepEqual(replaced.warnings.filter((w) => w.includes('images.replace')), []);
});

test('no autoscaler on a fixed node group (AWS Development) or where the cloud scales nodes itself (GCP)', () => {
  for (const [kind, type] of [['aws', 'development'], ['gcp', 'production']] as const) {
    const graph = desiredGraph(sample, env(kind, type));
    assert.equal(graph.resources.some((r) => r.id === AUTOSCALER.deploymentId || r.id === AUTOSCALER.roleId), false, `${kind} ${type}`);
  }
});

test('a deploy rolls out the app\'s Deployments only, and the app image is never read from the autoscaler\'s', () => {
  const graph = desiredGraph(sample, env('aws', 'production'));
  const all = graph.resources.filter((r) => r.providerType === 'k8s/apps/v1/Deployment');
  assert.ok(all.some((r) => r.id === AUTOSCALER.deploymentId));
  const rolled = appDeployments(graph);
  assert.deepEqual(rolled.map((r) => r.id), all.filter((r) => r.id !== AUTOSCALER.deploymentId).map((r) => r.id));
  assert.ok(rolled.length > 0 && rolled.every((r) => r.source !== null), 'every one is a service\'s or the gateway\'s');
  // On the Kubernetes provider there is no add-on: every Deployment is the app's.
  const kube = desiredGraph(sample, env('kubernetes', 'production'));
  assert.deepEqual(appDeployments(kube).map((r) => r.id), kube.resources.filter((r) => r.providerType === 'k8s/apps/v1/Deployment').map((r) => r.id));

  const record = (resource: DesiredResource): ResourceState => ({ resource, status: 'ready', lastAction: 'create', outputs: {}, secretOutputs: [], updatedAt: '2026-12-07T00:00:00.000Z', error: null });
  const state = emptyState('prod', 'aws');
  const addon = byId(graph, AUTOSCALER.deploymentId);
  state.resources[addon.id] = record(addon);
  assert.equal(appImageOf(state), null, 'the autoscaler\'s image is not the app\'s');
  const app = rolled[0]!;
  state.resources[app.id] = record({ ...app, settings: { ...app.settings, placeholder: false, image: 'registry.example.com/app@sha256:' + 'a'.repeat(64) } });
  assert.equal(appImageOf(state), 'registry.example.com/app@sha256:' + 'a'.repeat(64));
});
