// The Kubernetes test equipment works: a real kube-apiserver with etcd, built from the Go module proxy
// (npm run kube:build), answers the real @kubernetes/client-node loaded from nothing but the kubeconfig it writes,
// with the behaviour the provider depends on: namespaces, server-side apply with field managers and conflicts,
// dry-run validation with field causes, Leases with optimistic concurrency, and /status written by the tests
// themselves (no controllers run). Run: node --import tsx --test test/integration/kubeServer.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
  setHeaderOptions,
  type KubernetesObject,
  type V1Deployment,
  type V1Lease,
} from '@kubernetes/client-node';
import { buildKubeBinaries, ETCD_VERSION, KUBE_VERSION } from '../../scripts/kube-test-server.mjs';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';

const MANAGER = 'encore-env';
let kube: TestKube;

/** Resident memory now and at its peak (VmRSS, VmHWM), from /proc. */
function rss(pid: number | undefined): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mib = (field: string) => (Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024).toFixed(0);
    return `${mib('VmRSS')} MiB (peak ${mib('VmHWM')} MiB)`;
  } catch {
    return 'unknown';
  }
}

before(async () => {
  let t0 = performance.now();
  await buildKubeBinaries();
  console.log(`build (kube-apiserver v${KUBE_VERSION}, etcd ${ETCD_VERSION}): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  kube = await startTestKube();
  console.log(
    `start to ready: ${(kube.readyMs / 1000).toFixed(1)} s (etcd spawned to /readyz 200); ` +
    `startKubeServer() returned after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
});

after(async () => {
  if (!kube) return;
  console.log(`RSS at the end: kube-apiserver ${rss(kube.pids.apiserver)}, etcd ${rss(kube.pids.etcd)}`);
  await kube.stop();
});

/** The Kubernetes Status an API call failed with, and its HTTP code; fails the test if the call succeeded. */
async function apiError(call: Promise<unknown>): Promise<{ code: number; status: KubeStatus }> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = err.body;
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as KubeStatus;
    return { code: err.code, status };
  }
  assert.fail('the call succeeded, but an API error was expected');
}

interface KubeStatus {
  kind: string;
  reason: string;
  message: string;
  code: number;
  details?: { name?: string; kind?: string; causes?: { reason: string; message: string; field: string }[] };
}

async function createNamespace(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kube.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

function deployment(namespace: string, name: string, spec: { replicas?: number; image?: string; templateApp?: string } = {}): V1Deployment {
  const doc: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': MANAGER } },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: spec.templateApp ?? name } },
        spec: { containers: [{ name: 'api', image: spec.image ?? 'registry.example/api:1', ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
  if (spec.replicas !== undefined) doc.spec!.replicas = spec.replicas;
  return doc;
}

async function apply<T extends KubernetesObject>(object: T, manager: string, options: { force?: boolean; dryRun?: boolean } = {}): Promise<T> {
  const objects = KubernetesObjectApi.makeApiClient(kube.kubeConfig());
  return objects.patch(object, undefined, options.dryRun ? 'All' : undefined, manager, options.force, PatchStrategy.ServerSideApply);
}

test('the server answers through the kubeconfig with the stamped version, over verified TLS', async () => {
  const kc = kube.kubeConfig();
  assert.equal(kc.getCurrentCluster()?.server, kube.server);
  assert.equal(kc.getCurrentCluster()?.skipTLSVerify, false);
  assert.equal(kc.getCurrentCluster()?.caFile, kube.caFile);
  assert.match(kube.server, /^https:\/\/127\.0\.0\.1:\d+$/);
  const version = await kc.makeApiClient(VersionApi).getCode();
  assert.equal(version.gitVersion, `v${KUBE_VERSION}`);
  assert.equal(`${version.major}.${version.minor}`, KUBE_VERSION.split('.').slice(0, 2).join('.'));
});

test('a namespace is created, read back Active, and listed beside default and kube-system', async () => {
  const core = kube.kubeConfig().makeApiClient(CoreV1Api);
  const name = await createNamespace('ns');
  const read = await core.readNamespace({ name });
  assert.equal(read.status?.phase, 'Active');
  assert.ok(read.metadata?.uid);
  const names = (await core.listNamespace()).items.map((ns) => ns.metadata?.name);
  for (const expected of [name, 'default', 'kube-system']) assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  const again = await apiError(core.createNamespace({ body: { metadata: { name } } }));
  assert.equal(again.code, 409);
  assert.equal(again.status.reason, 'AlreadyExists');
});

test('a user without RBAC rights is refused with 403 Forbidden', async () => {
  const core = kube.kubeConfig('encore-test-viewer').makeApiClient(CoreV1Api);
  const refused = await apiError(core.listNamespace());
  assert.equal(refused.code, 403);
  assert.equal(refused.status.reason, 'Forbidden');
  assert.match(refused.status.message, /User "viewer" cannot list resource "namespaces"/);
});

test('server-side apply of a Deployment records its field manager, defaults the spec, and a repeated apply changes nothing', async () => {
  const namespace = await createNamespace('ssa');
  const applied = await apply(deployment(namespace, 'api', { replicas: 2 }), MANAGER);
  assert.equal(applied.spec?.replicas, 2);
  // Defaults the provider's drift detection will meet on a real cluster.
  assert.equal(applied.spec?.strategy?.type, 'RollingUpdate');
  assert.equal(applied.spec?.revisionHistoryLimit, 10);
  assert.equal(applied.spec?.template.spec?.containers[0]?.ports?.[0]?.protocol, 'TCP');
  assert.equal(applied.spec?.template.spec?.restartPolicy, 'Always');
  assert.equal(applied.metadata?.generation, 1);

  const managed = applied.metadata?.managedFields ?? [];
  assert.equal(managed.length, 1, JSON.stringify(managed));
  assert.equal(managed[0]?.manager, MANAGER);
  assert.equal(managed[0]?.operation, 'Apply');
  assert.equal(managed[0]?.apiVersion, 'apps/v1');
  const fields = managed[0]?.fieldsV1 as Record<string, Record<string, unknown>>;
  assert.ok(fields['f:spec']?.['f:replicas'], JSON.stringify(fields));
  assert.ok(fields['f:metadata']?.['f:labels'], JSON.stringify(fields));

  const again = await apply(deployment(namespace, 'api', { replicas: 2 }), MANAGER);
  assert.equal(again.metadata?.resourceVersion, applied.metadata?.resourceVersion, 'an identical apply is a no-op');
  assert.equal(again.metadata?.generation, 1);
});

test('an apply by another manager that changes an owned field is a 409 conflict naming the owner; force takes it over', async () => {
  const namespace = await createNamespace('conflict');
  await apply(deployment(namespace, 'api', { replicas: 2 }), MANAGER);

  const conflict = await apiError(apply(deployment(namespace, 'api', { replicas: 5 }), 'someone-else'));
  assert.equal(conflict.code, 409);
  assert.equal(conflict.status.reason, 'Conflict');
  assert.match(conflict.status.message, /Apply failed with 1 conflict: conflict with "encore-env": \.spec\.replicas/);
  assert.deepEqual(conflict.status.details?.causes?.map((c) => [c.reason, c.field]), [['FieldManagerConflict', '.spec.replicas']]);

  const apps = kube.kubeConfig().makeApiClient(AppsV1Api);
  assert.equal((await apps.readNamespacedDeployment({ name: 'api', namespace })).spec?.replicas, 2, 'the refused apply changed nothing');

  const forced = await apply(deployment(namespace, 'api', { replicas: 5 }), 'someone-else', { force: true });
  assert.equal(forced.spec?.replicas, 5);
  const owners = Object.fromEntries((forced.metadata?.managedFields ?? []).map((m) => [m.manager, m.fieldsV1 as Record<string, Record<string, unknown>>]));
  assert.ok(owners['someone-else']?.['f:spec']?.['f:replicas'], 'the forcing manager owns .spec.replicas');
  assert.equal(owners[MANAGER]?.['f:spec']?.['f:replicas'], undefined, 'the first manager lost .spec.replicas');
});

test('a server-side dry-run apply of an invalid Deployment is a 422 with field causes and stores nothing', async () => {
  const namespace = await createNamespace('dryrun');
  const invalid = deployment(namespace, 'api', { replicas: -1, templateApp: 'not-api', image: '' });
  const refused = await apiError(apply(invalid, MANAGER, { dryRun: true }));
  assert.equal(refused.code, 422);
  assert.equal(refused.status.reason, 'Invalid');
  assert.equal(refused.status.details?.kind, 'Deployment');
  const fields = (refused.status.details?.causes ?? []).map((c) => c.field).sort();
  assert.deepEqual(fields, ['spec.replicas', 'spec.template.metadata.labels', 'spec.template.spec.containers[0].image']);

  // The same manifest made valid passes the dry run, comes back defaulted, and is still not stored.
  const valid = await apply(deployment(namespace, 'api', { replicas: 1 }), MANAGER, { dryRun: true });
  assert.equal(valid.spec?.strategy?.type, 'RollingUpdate');
  const apps = kube.kubeConfig().makeApiClient(AppsV1Api);
  const missing = await apiError(apps.readNamespacedDeployment({ name: 'api', namespace }));
  assert.equal(missing.code, 404);
  assert.equal(missing.status.reason, 'NotFound');
});

/**
 * A metav1.MicroTime as kube-apiserver parses it: RFC 3339 with exactly six fractional digits. client-node 1.4 has no
 * serializer for V1MicroTime (typed as Date): a Date goes out as toISOString(), with three digits, which the server
 * refuses, and what comes back is the server's string, not a Date.
 */
function microTime(date: Date): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

test('a Lease is created and updated with its resourceVersion; an update with a stale one is a 409 conflict', async () => {
  const namespace = await createNamespace('lease');
  const leases = kube.kubeConfig().makeApiClient(CoordinationV1Api);
  const acquired = new Date();
  const spec = { holderIdentity: 'alice@laptop', leaseDurationSeconds: 60 };

  // The pitfall the provider's lock must avoid: MicroTime fields given as a JS Date are a 400.
  const millis = await apiError(
    leases.createNamespacedLease({ namespace, body: { metadata: { name: 'encore-env-lock', namespace }, spec: { ...spec, acquireTime: acquired } } }),
  );
  assert.equal(millis.code, 400);
  assert.equal(millis.status.reason, 'BadRequest');
  assert.match(millis.status.message, /cannot parse "\.\d{3}Z" as "\.000000"/);

  const lease: V1Lease = {
    metadata: { name: 'encore-env-lock', namespace },
    spec: { ...spec, acquireTime: microTime(acquired), renewTime: microTime(acquired) },
  };
  const created = await leases.createNamespacedLease({ namespace, body: lease });
  const firstVersion = created.metadata?.resourceVersion;
  assert.ok(firstVersion);
  assert.equal(created.spec?.holderIdentity, 'alice@laptop');
  assert.equal(created.spec?.renewTime as unknown, microTime(acquired) as unknown, 'the server keeps the microseconds; the client returns its string');

  const exists = await apiError(leases.createNamespacedLease({ namespace, body: lease }));
  assert.equal(exists.code, 409);
  assert.equal(exists.status.reason, 'AlreadyExists');

  const renewed = await leases.replaceNamespacedLease({
    name: 'encore-env-lock',
    namespace,
    body: { ...created, spec: { ...created.spec, renewTime: microTime(new Date(acquired.getTime() + 1000)) } },
  });
  assert.notEqual(renewed.metadata?.resourceVersion, firstVersion);

  // A second writer that read the lease before the renewal: its update carries the old resourceVersion.
  const stale = await apiError(
    leases.replaceNamespacedLease({ name: 'encore-env-lock', namespace, body: { ...created, spec: { ...created.spec, holderIdentity: 'bob@ci' } } }),
  );
  assert.equal(stale.code, 409);
  assert.equal(stale.status.reason, 'Conflict');
  assert.match(stale.status.message, /the object has been modified; please apply your changes to the latest version and try again/);
  const current = await leases.readNamespacedLease({ name: 'encore-env-lock', namespace });
  assert.equal(current.spec?.holderIdentity, 'alice@laptop');
  assert.equal(current.metadata?.resourceVersion, renewed.metadata?.resourceVersion);
});

test('a PATCH of a Deployment\'s /status sets what a controller would, and leaves spec and generation alone', async () => {
  const namespace = await createNamespace('status');
  const applied = await apply(deployment(namespace, 'api', { replicas: 2 }), MANAGER);
  assert.equal(applied.status?.availableReplicas, undefined, 'no controller runs: nobody writes status');
  const apps = kube.kubeConfig().makeApiClient(AppsV1Api);
  const now = new Date();
  const patched = await apps.patchNamespacedDeploymentStatus(
    {
      name: 'api',
      namespace,
      body: {
        status: {
          observedGeneration: 1,
          replicas: 2,
          readyReplicas: 2,
          availableReplicas: 2,
          updatedReplicas: 2,
          conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastTransitionTime: now, lastUpdateTime: now }],
        },
        // A status write ignores spec changes.
        spec: { replicas: 7 },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  assert.equal(patched.status?.availableReplicas, 2);
  assert.equal(patched.status?.conditions?.[0]?.type, 'Available');
  const read = await apps.readNamespacedDeployment({ name: 'api', namespace });
  assert.equal(read.spec?.replicas, 2);
  assert.equal(read.metadata?.generation, 1);
  assert.equal(read.status?.readyReplicas, 2);
  assert.equal(read.status?.observedGeneration, 1);
});
