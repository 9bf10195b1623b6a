// The local cluster (scripts/local-cluster.mjs) for real: the sample app's Development manifests, as the Kubernetes
// provider renders them, with every image the planner names replaced by its local stand-in, applied by hand to a real
// single-node cluster (localClusterApply.test.ts applies them through the product, with the image override). Each server's pod becomes Ready on a volume the
// local-path provisioner made, the Jobs that create the databases, topics, channels and buckets run to completion
// against them through cluster DNS, and each server then does its job when asked from inside the cluster. Stopping
// leaves nothing behind: no process, mount, bridge, iptables chain or state, and the kernel settings as they were.
// Needs Linux and root; elsewhere the test fails and says why (it is not skipped). The binaries and images are built
// into the cache first (`node scripts/local-cluster.mjs build`, about 18 minutes cold on two cores).
// Run: node --import tsx --test test/integration/localCluster.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { KubeObject } from '../../src/provisioning/providers/kubernetes/client';
import { PLACEHOLDER_IMAGE } from '../../src/provisioning/planner/constants';
import { renderGraph } from '../../src/provisioning/providers/kubernetes/manifests/graph';
import { desiredGraph } from '../../src/provisioning/planner';
import { buildLocalCluster, kubectlBin, leftovers, startLocalCluster, type LocalCluster } from '../../scripts/local-cluster.mjs';

const repo = path.join(__dirname, '..', '..');
const namespace = 'encore-sample-dev';
let cluster: LocalCluster | undefined;
let sysctlsBefore: Record<string, string | null> = {};

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

function readSysctls(names: string[]): Record<string, string | null> {
  return Object.fromEntries(names.map((n) => {
    try {
      return [n, readFileSync(`/proc/sys/${n}`, 'utf8').trim()];
    } catch {
      return [n, null];
    }
  }));
}

/** kubectl against the local cluster; throws with its stderr (never a secret: values go in by env or stdin). */
function kubectl(args: string[], options: { input?: string; allowFail?: boolean } = {}): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(kubectlBin(), ['--kubeconfig', cluster!.kubeconfigPath, '--context', 'encore-local', ...args], { encoding: 'utf8', input: options.input, maxBuffer: 64 * 1024 * 1024 });
  if (!options.allowFail && result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

const getJson = (args: string[]): Any => JSON.parse(kubectl([...args, '-o', 'json']).stdout);

/** Every container image of a pod template replaced by its local stand-in; an image without one fails the test. */
function withLocalImages(manifest: KubeObject, mapping: Record<string, string>): KubeObject {
  const copy = structuredClone(manifest) as Any;
  const specs = [copy.spec?.template?.spec, copy.spec?.jobTemplate?.spec?.template?.spec].filter(Boolean);
  for (const spec of specs) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      const local = mapping[c.image];
      assert.ok(local, `no local image stands in for ${c.image} (${manifest.kind} ${manifest.metadata.name})`);
      c.image = local;
    }
  }
  return copy as KubeObject;
}

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs: number, why: () => string = () => ''): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s. ${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Pods and events of the namespace, for a failure message. */
function describeNamespace(): string {
  const pods = kubectl(['get', 'pods', '-n', namespace, '-o', 'wide'], { allowFail: true }).stdout;
  const events = kubectl(['get', 'events', '-n', namespace, '--sort-by=.lastTimestamp'], { allowFail: true }).stdout.split('\n').slice(-25).join('\n');
  return `\n${pods}\n${events}`;
}

/** A pod from the curl image to call things from inside the cluster (made once). */
function toolbox(): void {
  if (kubectl(['get', 'pod', 'toolbox', '-n', namespace], { allowFail: true }).status !== 0) {
    kubectl(['create', 'namespace', namespace], { allowFail: true });
    kubectl(['run', 'toolbox', '-n', namespace, `--image=${cluster!.images['curlimages/curl:8.14.1']}`, '--restart=Never', '--command', '--', 'sleep', '3600']);
  }
  kubectl(['wait', '-n', namespace, '--for=condition=Ready', 'pod/toolbox', '--timeout=120s']);
}

before(async () => {
  // Built once into the cache (seconds when it is there); the cold cost is in the README.
  await buildLocalCluster({ log: (m) => console.log(`[build] ${m}`) });
  sysctlsBefore = readSysctls(['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops', 'net/ipv4/conf/all/route_localnet', 'net/ipv4/ip_forward']);
  const started = Date.now();
  cluster = await startLocalCluster({ log: (m) => console.log(`[cluster] ${m}`) });
  console.log(`cluster usable ${Date.now() - started} ms after start (${JSON.stringify(cluster.timings)})`);
});

after(async () => {
  await cluster?.stop();
});

test('the sample app\'s in-cluster servers run on the local images, and each does its job', { timeout: 600_000 }, async () => {
  assert.ok(cluster, 'the cluster started');
  const model = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
  const graph = desiredGraph(model, { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-local', namespace } }, { appId: 'sample' });
  const pairs = renderGraph(graph);
  const rendered = pairs.map(({ manifest }) => manifest);
  // The servers and what the Jobs make in them. The app's Deployments are left out (two wait for app secrets nobody
  // sets here; localClusterApply.test.ts runs them); the placeholder image they run is checked below.
  const kinds = new Set(['Namespace', 'Secret', 'PersistentVolumeClaim', 'Service', 'StatefulSet', 'Job', 'ServiceAccount']);
  const chosen = pairs.filter(({ manifest }) => kinds.has(manifest.kind)).map(({ resource, manifest }) => ({ resource, manifest: withLocalImages(manifest, cluster!.images) }));
  const objects = chosen.map((c) => c.manifest);
  const apply = (list: KubeObject[]) => kubectl(['apply', '--server-side', '--field-manager=local-cluster-test', '-f', '-'], { input: list.map((o) => JSON.stringify(o)).join('\n') });
  const started = Date.now();
  // Everything but the Jobs at once; the Jobs in the graph's order, as the engine applies them (a channel's Job
  // after its topic's: nsqd answers 404 to a channel of a topic it does not have).
  const jobIds = new Set(chosen.filter((c) => c.manifest.kind === 'Job').map((c) => c.resource.id));
  apply(objects.filter((o) => o.kind !== 'Job'));

  // Every claim binds through the default StorageClass (the planner's claims name no class).
  const claims = objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name);
  assert.ok(claims.length >= 4, `claims: ${claims.join(', ')}`);
  const statefulSets = objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name);
  await until('every StatefulSet Ready', () => statefulSets.every((name) => getJson(['get', 'statefulset', name, '-n', namespace]).status?.readyReplicas === 1), 300_000, describeNamespace);
  const serversReadyMs = Date.now() - started;
  for (const claim of claims) {
    const pvc = getJson(['get', 'pvc', claim, '-n', namespace]);
    assert.equal(pvc.status.phase, 'Bound', `${claim} is ${pvc.status.phase}`);
    assert.equal(pvc.spec.storageClassName, 'local-path', `${claim} got the default class`);
  }

  const jobs = objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.name);
  const jobDone = (name: string) => {
    const job = getJson(['get', 'job', name, '-n', namespace]);
    const failed = job.status?.conditions?.find((c: Any) => c.type === 'Failed' && c.status === 'True');
    if (failed) throw new Error(`Job ${name} failed (${failed.message}): ${kubectl(['logs', `job/${name}`, '-n', namespace], { allowFail: true }).stdout}`);
    return job.status?.succeeded === 1;
  };
  const done = new Set<string>();
  while (done.size < jobIds.size) {
    const wave = chosen.filter((c) => jobIds.has(c.resource.id) && !done.has(c.resource.id) && c.resource.dependsOn.every((d) => !jobIds.has(d) || done.has(d)));
    assert.ok(wave.length > 0, 'the Jobs\' dependencies form no cycle');
    apply(wave.map((c) => c.manifest));
    await until(`Jobs ${wave.map((c) => c.manifest.metadata.name).join(', ')} complete`, () => wave.every((c) => jobDone(c.manifest.metadata.name)), 300_000, describeNamespace);
    for (const c of wave) done.add(c.resource.id);
  }
  console.log(`servers Ready ${serversReadyMs} ms, Jobs complete ${Date.now() - started} ms after apply (${statefulSets.length} StatefulSets, ${jobs.length} Jobs)`);

  const pod = (statefulSet: string) => `${statefulSet}-0`;
  const exec = (podName: string, script: string, allowFail = false) => kubectl(['exec', '-n', namespace, podName, '--', 'sh', '-c', script], { allowFail });
  const secretValue = (secret: string, key: string) => Buffer.from(getJson(['get', 'secret', secret, '-n', namespace]).data[key], 'base64').toString('utf8');

  // Postgres: the Job made the database's owner role; it logs in with its password over TCP through cluster DNS.
  const dbJob = objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('encore-db-orders-')) as Any;
  const dbEnv = Object.fromEntries(dbJob.spec.template.spec.containers[0].env.map((e: Any) => [e.name, e]));
  const ownerPassword = secretValue(dbEnv.OWNER_PASSWORD.valueFrom.secretKeyRef.name, dbEnv.OWNER_PASSWORD.valueFrom.secretKeyRef.key);
  const pgHost = dbEnv.PGHOST.value;
  const query = kubectl(['exec', '-i', '-n', namespace, pod('encore-postgres-orders'), '--', 'sh', '-c',
    `read -r PGPASSWORD; export PGPASSWORD; psql -h ${pgHost} -U ${dbEnv.OWNER.value} -d ${dbEnv.DATABASE.value} -tAc "CREATE TABLE IF NOT EXISTS probe(n int); INSERT INTO probe VALUES (42); SELECT current_user || ' ' || current_database() || ' ' || sum(n) FROM probe"`], { input: `${ownerPassword}\n` });
  assert.equal(query.stdout.trim().split('\n').pop(), `${dbEnv.OWNER.value} ${dbEnv.DATABASE.value} 42`);
  const wrong = kubectl(['exec', '-i', '-n', namespace, pod('encore-postgres-orders'), '--', 'sh', '-c', `read -r PGPASSWORD; export PGPASSWORD; psql -h ${pgHost} -U ${dbEnv.OWNER.value} -d ${dbEnv.DATABASE.value} -tAc 'SELECT 1'`], { input: 'not-the-password\n', allowFail: true });
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /password authentication failed/);

  // Redis: answers PING with the password from its Secret, refuses without it.
  assert.equal(exec(pod('encore-redis-notifications'), 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 ping').stdout.trim(), 'PONG');
  assert.match(exec(pod('encore-redis-notifications'), 'redis-cli -p 6379 ping', true).stdout, /NOAUTH/);

  // NSQ: the Jobs (curl image) created the topic and its channel; nsqd reports both, asked from a curl pod.
  toolbox();
  const nsqd = `encore-nsqd-0.encore-nsqd.${namespace}.svc.cluster.local:4151`;
  assert.equal(kubectl(['exec', '-n', namespace, 'toolbox', '--', 'curl', '-fsS', `http://${nsqd}/ping`]).stdout.trim(), 'OK');
  const stats = JSON.parse(kubectl(['exec', '-n', namespace, 'toolbox', '--', 'curl', '-fsS', `http://${nsqd}/stats?format=json`]).stdout) as Any;
  const topic = stats.topics.find((t: Any) => t.topic_name === 'order-placed');
  assert.ok(topic, `topics: ${stats.topics.map((t: Any) => t.topic_name).join(', ')}`);
  assert.ok(topic.channels.length >= 1, 'the subscription\'s channel exists');
  assert.match(kubectl(['exec', '-n', namespace, 'toolbox', '--', 'curl', '-fsS', '-X', 'POST', '-d', 'hello', `http://${nsqd}/pub?topic=probe`]).stdout, /OK/);
  // The CronJob's script (date arithmetic, the signed call with node's fetch) in its own image, at an address in the cluster.
  const cron = rendered.find((m) => m.kind === 'CronJob') as Any;
  const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
  assert.ok(cluster!.images[container.image], `no local stand-in for the cron image ${container.image}`);
  // The signing inputs come from the Secret and the environment in a real Job; here fixed test values stand in.
  const signing = ['ENCORE_APP_SLUG=sample', 'ENCORE_ENV_NAME=dev', 'ENCORE_SERVICE_AUTH_KEY_ID=1', 'ENCORE_CALLER=app:cron-probe', 'ENCORE_SERVICE_AUTH_KEY=test-only-key'];
  const envFlags = [...signing, 'METHOD=GET', `URL=http://${nsqd}/ping`, 'ONLY_AT_MINUTE_OF_DAY_MULTIPLE_OF=1', 'STEP_MINUTES=1'].flatMap((e) => ['--env', e]);
  // Run to completion, then its log: `kubectl run --rm -i` loses the output of a pod that ends before it attaches.
  kubectl(['run', 'cron-probe', '-n', namespace, '--restart=Never', `--image=${cluster!.images[container.image as string]}`, ...envFlags, '--command', '--', ...container.command]);
  const ended = kubectl(['wait', '-n', namespace, 'pod/cron-probe', '--for=jsonpath={.status.phase}=Succeeded', '--timeout=120s'], { allowFail: true });
  const cronLog = kubectl(['logs', '-n', namespace, 'cron-probe'], { allowFail: true });
  kubectl(['delete', 'pod', '-n', namespace, 'cron-probe', '--wait=false']);
  assert.equal(ended.status, 0, `the cron probe did not succeed: ${ended.stderr.trim()}\n${cronLog.stdout}${cronLog.stderr}`);
  assert.match(cronLog.stdout, new RegExp(`^GET http://${escapeRegExp(nsqd)}/ping: 200 OK$`, 'm'));

  // MinIO: the Job (mc from the server's image) made the bucket; mc in the server's pod sees it and makes another.
  const minio = pod('encore-minio');
  const mc = (command: string) => exec(minio, `export MC_CONFIG_DIR=/tmp/.mc; mc alias set s http://127.0.0.1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null && ${command}`);
  assert.match(mc('mc ls s').stdout, /order-receipts\//);
  mc('mc mb s/probe-bucket && echo hello | mc pipe s/probe-bucket/hello.txt');
  assert.equal(mc('mc cat s/probe-bucket/hello.txt').stdout.trim(), 'hello');

  // Every server wrote its data onto its volume: a folder on the node's disk the provisioner made.
  for (const claim of claims) {
    const pvc = getJson(['get', 'pvc', claim, '-n', namespace]);
    const pv = getJson(['get', 'pv', pvc.spec.volumeName]);
    const hostPath = pv.spec.hostPath?.path ?? pv.spec.local?.path;
    assert.ok(hostPath && hostPath.startsWith(cluster.stateDir), `${claim}'s volume is on the node at ${hostPath}`);
    assert.ok(readdirSync(hostPath).length > 0, `${claim}'s volume ${hostPath} has the server's files`);
  }
  const pgClaim = claims.find((c) => c.includes('postgres-orders'))!;
  const pgPath = getJson(['get', 'pv', getJson(['get', 'pvc', pgClaim, '-n', namespace]).spec.volumeName]).spec.hostPath.path as string;
  assert.ok(existsSync(path.join(pgPath, 'pgdata', 'PG_VERSION')), 'initdb ran in the PGDATA subfolder of the volume');

  // The workloads' placeholder image (what a Deployment runs before a deploy) runs, and exits at once on SIGTERM.
  const placeholder = cluster.images[PLACEHOLDER_IMAGE];
  assert.ok(placeholder, `a local image stands in for ${PLACEHOLDER_IMAGE}`);
  kubectl(['create', 'deployment', 'placeholder', '-n', namespace, `--image=${placeholder}`]);
  kubectl(['rollout', 'status', 'deployment/placeholder', '-n', namespace, '--timeout=120s']);
  const deleteStarted = Date.now();
  kubectl(['delete', 'pod', '-n', namespace, '-l', 'app=placeholder', '--wait=true', '--timeout=60s']);
  assert.ok(Date.now() - deleteStarted < 20_000, `the placeholder pod stopped on SIGTERM in ${Date.now() - deleteStarted} ms, not after its 30 s grace period`);
});

test('a workload image serves through a Service, reached by its cluster name', { timeout: 180_000 }, async () => {
  assert.ok(cluster, 'the cluster started');
  toolbox();
  const image = `${cluster.registry}/encore/placeholder:1`;
  kubectl(['create', 'deployment', 'web', '-n', namespace, `--image=${image}`, '--port=8080']);
  kubectl(['expose', 'deployment', 'web', '-n', namespace, '--port=80', '--target-port=8080']);
  kubectl(['rollout', 'status', 'deployment/web', '-n', namespace, '--timeout=120s']);
  const answer = await until('the Service answers', () => {
    const r = kubectl(['exec', '-n', namespace, 'toolbox', '--', 'curl', '-fsS', '--max-time', '5', `http://web.${namespace}.svc.cluster.local/hello`], { allowFail: true });
    return r.status === 0 && r.stdout;
  }, 60_000);
  assert.match(answer, /^encore placeholder on web-.*: GET \/hello/);
});

test('stop leaves nothing on the host and restores the kernel settings', { timeout: 180_000 }, async () => {
  assert.ok(cluster, 'the cluster started');
  const pids = Object.values(cluster.pids).filter((p): p is number => typeof p === 'number');
  const started = Date.now();
  const left = await cluster.stop();
  console.log(`stopped in ${Date.now() - started} ms`);
  assert.deepEqual(left, []);
  assert.deepEqual(leftovers({ host: cluster.savedHostState }), []);
  for (const pid of pids) assert.ok(!existsSync(`/proc/${pid}`) || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('encore'), `process ${pid} is gone`);
  assert.ok(!existsSync(cluster.stateDir), `${cluster.stateDir} is removed`);
  assert.equal(spawnSync('ip', ['link', 'show', 'encore0']).status, 1, 'the bridge is gone');
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    assert.doesNotMatch(spawnSync(tool, [], { encoding: 'utf8' }).stdout, /KUBE-|ENCORE-LOCAL/, `${tool} has no KUBE-* chain left`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.doesNotMatch(mounts, new RegExp(`${cluster.stateDir}|/run/containerd|/run/netns/cni-`), 'no mount left');
  assert.deepEqual(readSysctls(Object.keys(sysctlsBefore)), sysctlsBefore);
  cluster = undefined;
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
