// The product on a real cluster: the sample app's Development environment applied THROUGH THE PROVISIONING SESSION
// (the CLI's and the extension's front door: environments file → planner → engine → Kubernetes driver) to the local
// cluster (scripts/local-cluster.mjs, context encore-local), pulling every image through the environment's image
// override (`images` in the environments file) from the local registry, as a newcomer does it: Apply, which stops at
// once at the workloads that wait for an app secret, Set Secret Value, Apply again. Then each part is checked for what it does,
// from inside the cluster: the servers' pods Ready on bound volumes, each database made with its role and the app's
// migrations applied, Redis, NSQ's topic and channel, MinIO's bucket, the infra config mounted in the workloads' pods,
// the placeholder Deployments running, a CronJob's Job calling its service. Destroy leaves no object, volume or pod.
// Then one apply killed halfway (SIGKILL) and run again converges on the real cluster.
// Needs Linux and root; elsewhere the test fails and says why (it is not skipped). scripts/test.mjs builds the
// cluster's binaries and images first (`node scripts/local-cluster.mjs build`, about 18 minutes cold on two cores).
// Run: npm test -- integration test/integration/localClusterApply.test.ts
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { isStateError } from '../../src/model/state';
import type { Environment } from '../../src/model/environment';
import { overrideImage } from '../../src/model/imageOverride';
import { CLOUD_ONLY_IMAGES, PRODUCT_IMAGES } from '../../src/provisioning/planner';
import { PLACEHOLDER_IMAGE } from '../../src/provisioning/planner/constants';
import { EnvironmentSession } from '../../src/session';
import { buildLocalCluster, kubectlBin, startLocalCluster, type LocalCluster } from '../../scripts/local-cluster.mjs';
import { MIRROR_PREFIX } from '../../scripts/cluster-images.mjs';
import type { ApplyChildConfig } from './localClusterApplyChild';

const repo = path.join(__dirname, '..', '..');
const TOOLS = 'encore-apply-tools';
let cluster: LocalCluster | undefined;
let appRoot = '';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

function kubectl(args: string[], options: { input?: string; allowFail?: boolean } = {}): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(kubectlBin(), ['--kubeconfig', cluster!.kubeconfigPath, '--context', 'encore-local', ...args], { encoding: 'utf8', input: options.input, maxBuffer: 64 * 1024 * 1024 });
  if (!options.allowFail && result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}
const getJson = (args: string[]): Any => JSON.parse(kubectl([...args, '-o', 'json']).stdout);

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs: number, why: () => string = () => ''): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s. ${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function describeNamespace(namespace: string): string {
  const pods = kubectl(['get', 'pods', '-n', namespace, '-o', 'wide'], { allowFail: true }).stdout;
  const events = kubectl(['get', 'events', '-n', namespace, '--sort-by=.lastTimestamp'], { allowFail: true }).stdout.split('\n').slice(-25).join('\n');
  return `\n${pods}\n${events}`;
}

/**
 * The Development environment as a user writes it for this cluster: the mirror is the local registry's, and the
 * placeholder is replaced by one that answers HTTP, so the CronJob's call has a server to reach before a deploy.
 */
function developmentEnvironment(name: string, namespace: string): Environment {
  return {
    name,
    type: 'development',
    deploy: { trigger: 'manual' },
    provider: { kind: 'kubernetes', context: 'encore-local', namespace },
    images: { mirror: `${cluster!.registry}/${MIRROR_PREFIX}`, replace: { [PLACEHOLDER_IMAGE]: `${cluster!.registry}/encore/placeholder:1` } },
  };
}

function openSession(environment: string): Promise<EnvironmentSession> {
  return EnvironmentSession.open({
    appRoot,
    environment,
    model: () => new AppAnalyzer(appRoot).analyze(),
    provider: { kubeconfig: cluster!.kubeconfigPath, timing: { pollIntervalMs: 250 } },
  });
}

/** A curl pod in a namespace of its own (destroy must find nothing of the environment's left, this included). */
function toolbox(): void {
  if (kubectl(['get', 'pod', 'toolbox', '-n', TOOLS], { allowFail: true }).status !== 0) {
    kubectl(['create', 'namespace', TOOLS], { allowFail: true });
    kubectl(['run', 'toolbox', '-n', TOOLS, `--image=${cluster!.images['curlimages/curl:8.14.1']}`, '--restart=Never', '--command', '--', 'sleep', '3600']);
  }
  kubectl(['wait', '-n', TOOLS, '--for=condition=Ready', 'pod/toolbox', '--timeout=120s']);
}

/**
 * Applies as a newcomer does: Apply stops the workloads that read an app secret nobody has set, at once and saying
 * which; Set Secret Value for each; Apply again, which converges. The values leave this process only to the driver.
 */
async function applyEnvironment(session: EnvironmentSession, namespace: string): Promise<void> {
  const started = Date.now();
  const secrets = await session.secrets();
  assert.deepEqual(secrets.map((s) => s.name), ['EmailApiKey', 'SessionSigningKey']);
  const first = await session.apply();
  assert.equal(first.result.outcome, 'failed', `the first apply stops at the workloads that wait for a secret value${describeNamespace(namespace)}`);
  const readers = [...new Set(secrets.flatMap((s) => s.services))].map((service) => `k8s:deployment:${service}`).sort();
  assert.deepEqual(first.result.failed.map((f) => f.id).sort(), readers, JSON.stringify(first.result.failed));
  for (const f of first.result.failed) assert.match(f.error, /cannot start its pods until the secret (EmailApiKey|SessionSigningKey) \(Secret encore-secret-[a-z0-9-]+\) has a value: set it/);
  console.log(`first apply: ${first.result.done.length} steps done, ${first.result.failed.length} waiting for a secret value, in ${Date.now() - started} ms`);

  const signal = new AbortController().signal;
  for (const s of secrets) await session.setSecretValue(s.name, `local-${s.name}-${Math.random().toString(36).slice(2)}`, signal);
  assert.deepEqual((await session.secretStatuses(signal)).map((s) => s.status), ['set', 'set']);
  const second = await session.apply();
  assert.equal(second.result.outcome, 'succeeded', `apply: ${JSON.stringify(second.result.failed)} ${second.result.error ?? ''}${describeNamespace(namespace)}`);
  console.log(`apply through the session: converged ${Date.now() - started} ms after the first apply began`);
}

before(async () => {
  await buildLocalCluster({ log: (m) => console.log(`[build] ${m}`) });
  cluster = await startLocalCluster({ log: (m) => console.log(`[cluster] ${m}`) });
  appRoot = path.join(mkdtempSync(path.join(os.tmpdir(), 'local-apply-')), 'sample-app');
  cpSync(path.join(repo, 'examples', 'sample-app'), appRoot, { recursive: true });
  const environments = [developmentEnvironment('dev', 'encore-sample-dev'), developmentEnvironment('crash', 'encore-sample-crash')];
  writeFileSync(path.join(appRoot, 'encore.environments.json'), `${JSON.stringify({ environments }, null, 2)}\n`);
});

after(async () => {
  kubectl(['delete', 'namespace', TOOLS, '--ignore-not-found', '--wait=false'], { allowFail: true });
  await cluster?.stop();
  if (appRoot) rmSync(path.dirname(appRoot), { recursive: true, force: true });
});

test('the image override\'s mirror names exactly the images the local registry holds', () => {
  assert.ok(cluster, 'the cluster started');
  const mirror = `${cluster.registry}/${MIRROR_PREFIX}`;
  // The cloud-only images (EKS's cluster autoscaler) never run on a local cluster, so its registry does not hold them.
  for (const image of PRODUCT_IMAGES.filter((i) => !CLOUD_ONLY_IMAGES.includes(i))) assert.equal(overrideImage(image, { mirror }), cluster.images[image], `${image} through the mirror`);
});

test('the sample app\'s Development environment, applied through the session, runs on the real cluster; destroy leaves nothing', { timeout: 1_500_000 }, async () => {
  assert.ok(cluster, 'the cluster started');
  const namespace = 'encore-sample-dev';
  const session = await openSession('dev');
  try {
    const graph = await session.graph();
    assert.deepEqual(graph.warnings, []);
    await applyEnvironment(session, namespace);

    // Every image came through the override, and from the local registry.
    const pods = getJson(['get', 'pods', '-n', namespace]).items as Any[];
    const images = new Set(pods.flatMap((p) => p.spec.containers.map((c: Any) => c.image as string)));
    for (const image of images) assert.ok(image.startsWith(`${cluster.registry}/`), `${image} is pulled from the local registry`);

    // StatefulSets: each pod Ready, each volume bound through the default StorageClass, on the node's disk.
    const statefulSets = getJson(['get', 'statefulsets', '-n', namespace]).items as Any[];
    assert.deepEqual(statefulSets.map((s) => s.metadata.name).sort(), ['encore-minio', 'encore-nsqd', 'encore-postgres-orders', 'encore-postgres-users', 'encore-redis-notifications']);
    for (const s of statefulSets) assert.equal(s.status.readyReplicas, 1, `${s.metadata.name} is Ready`);
    const claims = getJson(['get', 'pvc', '-n', namespace]).items as Any[];
    assert.equal(claims.length, statefulSets.length);
    const volumePaths: string[] = [];
    for (const pvc of claims) {
      assert.equal(pvc.status.phase, 'Bound', `${pvc.metadata.name} is ${pvc.status.phase}`);
      assert.equal(pvc.spec.storageClassName, 'local-path');
      const pv = getJson(['get', 'pv', pvc.spec.volumeName]);
      const hostPath = pv.spec.hostPath?.path ?? pv.spec.local?.path;
      assert.ok(hostPath && readdirSync(hostPath).length > 0, `${pvc.metadata.name}'s volume ${hostPath} has the server's files`);
      volumePaths.push(hostPath);
    }

    // Each database: its role owns it, logs in with the password from its Secret, and sees the migrated tables.
    const secretValue = (secret: string, key: string) => Buffer.from(getJson(['get', 'secret', secret, '-n', namespace]).data[key], 'base64').toString('utf8');
    // Over TCP at the address the database's Job used, through cluster DNS.
    const hostOf = (db: string) => (graph.resources.find((r) => r.id === `database:${db}`)!.settings.job as { host: string }).host;
    const psql = (db: string, sql: string) => kubectl(['exec', '-i', '-n', namespace, `encore-postgres-${db}-0`, '--', 'sh', '-c',
      `read -r PGPASSWORD; export PGPASSWORD; psql -h ${hostOf(db)} -U ${db} -d ${db} -v ON_ERROR_STOP=1 -qtAc "${sql}"`], { input: `${secretValue(`encore-postgres-${db}`, 'password')}\n` }).stdout.trim();
    assert.equal(psql('users', "SELECT version || ' ' || dirty FROM schema_migrations"), '2 false');
    assert.equal(psql('users', "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'users'"), 'created_at,email,id,name');
    assert.equal(psql('users', "SELECT tableowner FROM pg_tables WHERE tablename = 'users'"), 'users');
    assert.equal(psql('users', "INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com') RETURNING name"), 'Ada');
    assert.equal(psql('orders', "SELECT version FROM schema_migrations"), '1');
    assert.equal(psql('orders', "SELECT count(*) FROM pg_tables WHERE tablename = 'orders' AND tableowner = 'orders'"), '1');

    // Redis answers with the password from its Secret, and refuses without it.
    const redis = (cmd: string) => kubectl(['exec', '-n', namespace, 'encore-redis-notifications-0', '--', 'sh', '-c', cmd], { allowFail: true }).stdout.trim();
    assert.equal(redis('REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 ping'), 'PONG');
    assert.match(redis('redis-cli -p 6379 ping'), /NOAUTH/);

    // NSQ: the topic and the subscription's channel, asked from another namespace through cluster DNS.
    toolbox();
    const curl = (...args: string[]) => kubectl(['exec', '-n', TOOLS, 'toolbox', '--', 'curl', '-fsS', '--max-time', '10', ...args]).stdout;
    const stats = JSON.parse(curl(`http://encore-nsqd-0.encore-nsqd.${namespace}.svc.cluster.local:4151/stats?format=json`)) as Any;
    const topic = (stats.topics as Any[]).find((t) => t.topic_name === 'order-placed');
    assert.ok(topic, `topics: ${(stats.topics as Any[]).map((t) => t.topic_name).join(', ')}`);
    assert.deepEqual((topic.channels as Any[]).map((c) => c.channel_name), ['notify-customer']);

    // MinIO: the bucket exists.
    const mc = kubectl(['exec', '-n', namespace, 'encore-minio-0', '--', 'sh', '-c', 'export MC_CONFIG_DIR=/tmp/.mc; mc alias set s http://127.0.0.1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null && mc ls s']).stdout;
    assert.match(mc, /order-receipts\//);

    // The Deployments: one pod each, Running, with the infra config Secret mounted; the file is read on the node.
    const deployments = getJson(['get', 'deployments', '-n', namespace]).items as Any[];
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['auth', 'encore-gateway', 'notifications', 'orders', 'users']);
    const infraSecret = getJson(['get', 'secret', 'encore-infra-config', '-n', namespace]);
    for (const d of deployments) {
      assert.equal(d.status.availableReplicas, 1, `${d.metadata.name} is available`);
      const [pod] = (getJson(['get', 'pods', '-n', namespace, '-l', Object.entries(d.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',')]).items as Any[]).filter((p) => !p.metadata.deletionTimestamp);
      assert.equal(pod?.status.phase, 'Running', `${d.metadata.name}'s pod is Running`);
      assert.equal(pod.spec.containers[0].image, `${cluster.registry}/encore/placeholder:1`);
      const volume = (pod.spec.volumes as Any[]).find((v) => v.secret?.secretName === 'encore-infra-config');
      assert.ok(volume, `${d.metadata.name} mounts the infra config`);
      const infraText = Buffer.from(infraSecret.data[volume.secret.items[0].key], 'base64').toString('utf8');
      assert.equal(JSON.parse(infraText).metadata.env_name, 'dev');
      const dir = path.join(cluster.stateDir, 'kubelet', 'pods', pod.metadata.uid, 'volumes', 'kubernetes.io~secret', volume.name);
      const file = path.join(dir, volume.secret.items[0].path);
      assert.equal(readFileSync(file, 'utf8'), infraText, `${file} holds the infra config`);
    }

    // A CronJob's Job, run now, calls its endpoint on the service's in-cluster address and succeeds.
    kubectl(['create', 'job', 'digest-now', '--from=cronjob/daily-digest', '-n', namespace]);
    await until('the CronJob\'s Job completes', () => {
      const job = getJson(['get', 'job', 'digest-now', '-n', namespace]);
      if (job.status?.failed) throw new Error(`the Job failed: ${kubectl(['logs', 'job/digest-now', '-n', namespace], { allowFail: true }).stdout}`);
      return job.status?.succeeded === 1;
    }, 120_000, () => describeNamespace(namespace));
    assert.match(kubectl(['logs', 'job/digest-now', '-n', namespace]).stdout, /: 200 encore placeholder on notifications-[^:]+: POST \/notifications\.dailyDigest$/m);

    // A second apply changes nothing.
    const again = await session.plan();
    assert.deepEqual({ ...again.plan.counts, keep: 0 }, { create: 0, update: 0, delete: 0, keep: 0 }, JSON.stringify(again.plan.counts));

    // Destroy: no object of the environment, no claim, no volume, no pod, and the volumes' folders gone from the disk.
    const destroyed = await session.destroy({ confirm: 'dev' });
    assert.equal(destroyed.result.outcome, 'succeeded', JSON.stringify(destroyed.result.failed));
    await until('the namespace is gone', () => kubectl(['get', 'namespace', namespace], { allowFail: true }).status !== 0, 180_000, () => describeNamespace(namespace));
    const pvs = (getJson(['get', 'pv']).items as Any[]).filter((pv) => pv.spec.claimRef?.namespace === namespace);
    await until('the volumes are deleted', () => (getJson(['get', 'pv']).items as Any[]).every((pv) => pv.spec.claimRef?.namespace !== namespace) || undefined, 120_000, () => JSON.stringify(pvs.map((p) => p.metadata.name)));
    await until('the volumes\' folders are removed from the node', () => volumePaths.every((p) => !existsSync(p)), 120_000, () => volumePaths.filter((p) => existsSync(p)).join(', '));
    assert.equal((getJson(['get', 'pods', '-A']).items as Any[]).filter((p) => p.metadata.namespace === namespace).length, 0);
  } finally {
    await session.dispose();
  }
});

test('an apply killed halfway on the real cluster resumes after unlock and converges', { timeout: 1_500_000 }, async () => {
  assert.ok(cluster, 'the cluster started');
  const namespace = 'encore-sample-crash';
  const session = await openSession('crash');
  try {
    const steps = (await session.graph()).resources.length;
    const killAtDone = Math.round(steps / 2);
    const config: ApplyChildConfig = { appRoot, environment: 'crash', kubeconfig: cluster.kubeconfigPath, killAtDone };
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'localClusterApplyChild.ts')], { cwd: repo, env: { ...process.env, APPLY_CHILD: JSON.stringify(config) } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exit = await new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    assert.equal(exit, 'SIGKILL', `the child was not killed at step ${killAtDone} of ${steps}: ${output.slice(-1000)}`);

    const refused = await session.apply().then(() => null, (err: unknown) => err);
    assert.ok(isStateError(refused) && refused.code === 'locked', `expected the dead child's lock, got ${String(refused)}`);
    assert.equal(refused.holder?.pid, child.pid);
    const { broken } = await session.unlock();
    assert.equal(broken?.pid, child.pid, 'the dead holder\'s lock is broken without force');

    await applyEnvironment(session, namespace);
    const { state } = await (await session.state()).load();
    assert.deepEqual(Object.keys(state!.resources).sort(), (await session.graph()).resources.map((r) => r.id).sort());
    assert.ok(Object.values(state!.resources).every((r) => r.status === 'ready'), 'every resource is ready in state');
    for (const s of getJson(['get', 'statefulsets', '-n', namespace]).items as Any[]) assert.equal(s.status.readyReplicas, 1, `${s.metadata.name} is Ready`);
    for (const d of getJson(['get', 'deployments', '-n', namespace]).items as Any[]) assert.equal(d.status.availableReplicas, 1, `${d.metadata.name} is available`);
    // One Job per database, topic, channel and bucket, each complete (none made twice by the re-run).
    // Complete as the product's readiness reads it: a pod succeeded, or the Complete condition.
    const jobs = (getJson(['get', 'jobs', '-n', namespace]).items as Any[]).map((j) => ({
      name: j.metadata.name as string,
      done: (j.status?.succeeded ?? 0) >= 1 || (j.status?.conditions ?? []).some((c: Any) => c.type === 'Complete' && c.status === 'True'),
    }));
    assert.equal(jobs.length, 5, JSON.stringify(jobs));
    const notDone = jobs.filter((j) => !j.done).map((j) => `${j.name}: ${JSON.stringify(getJson(['get', 'job', j.name, '-n', namespace]).status)}\n${kubectl(['logs', `job/${j.name}`, '-n', namespace, '--all-containers', '--prefix'], { allowFail: true }).stdout}`);
    assert.deepEqual(notDone, [], `${JSON.stringify(jobs)}${describeNamespace(namespace)}`);

    const destroyed = await session.destroy({ confirm: 'crash' });
    assert.equal(destroyed.result.outcome, 'succeeded', JSON.stringify(destroyed.result.failed));
    await until('the namespace is gone', () => kubectl(['get', 'namespace', namespace], { allowFail: true }).status !== 0, 180_000, () => describeNamespace(namespace));
  } finally {
    await session.dispose();
  }
});
