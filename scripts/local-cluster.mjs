// A real single-node Kubernetes cluster on this machine, on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kubelet, kube-proxy and containerd v2 with Debian's runc and bridge network plugin, a local image
// registry holding the images scripts/cluster-images.mjs makes, and Rancher's local-path provisioner as the default
// StorageClass. Everything is built from the Go module proxy and Debian's packages into the cache once
// (../shared/notes/local-cluster.md has the hands-on background: the configuration, the blockers and their fixes).
//
// Usage:
//   node scripts/local-cluster.mjs build                  builds the binaries and the images into the cache
//   node scripts/local-cluster.mjs start [--foreground] [--merge-kubeconfig]
//        builds if needed, starts the cluster and returns once it is usable (--foreground: stays until Ctrl+C and
//        stops it then); prints the kubeconfig path (context encore-local); --merge-kubeconfig also writes the
//        context into ~/.kube/config (nothing else writes there)
//   node scripts/local-cluster.mjs stop                   stops it and removes everything it made on the host
//   node scripts/local-cluster.mjs status                 says whether it runs, and where
//   node scripts/local-cluster.mjs merge-kubeconfig       writes the encore-local context into ~/.kube/config
//
// What it changes on the host while it runs (and undoes on stop): it needs root; the kubelet and kube-proxy set
// kernel settings (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops, net.ipv4.conf.all.route_localnet; the
// cluster also turns on net.ipv4.ip_forward), saved before start and restored on stop; a bridge `encore0`
// (10.244.0.1/24) with a route for the service range 10.96.0.0/24; iptables chains (KUBE-*, ENCORE-LOCAL-FORWARD,
// which keeps pod traffic on the machine); mounts and state under /var/lib/encore-local-cluster, plus the paths
// the kubelet and containerd hard-code (/var/lib/kubelet, /var/log/pods, /var/log/containers, /run/containerd,
// /run/netns), removed on stop when they were not there before. Ports on 127.0.0.1: 16443 (API), 12379-12380
// (etcd), 10248-10250 (kubelet), 10249 and 10256 (kube-proxy), 15000 (image registry); cluster DNS on 10.244.0.1:53.
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { lookup, Resolver } from 'node:dns/promises';
import {
  closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { buildGoTools, cacheDir, childCpuSeconds, minutes, root } from './cluster-build.mjs';
import { buildClusterImages, IMAGES, imageMapping, localPath, pushClusterImages } from './cluster-images.mjs';
import { buildKubeBinaries, ETCD_VERSION, etcdBin, KUBE_VERSION, kubeApiserverBin, kubeLdflags, requiredVersion } from './kube-test-server.mjs';

const say = (message) => process.stderr.write(`[local-cluster] ${message}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

export const CONTEXT = 'encore-local';
export const PORTS = Object.freeze({
  apiserver: 16443, etcdClient: 12379, etcdPeer: 12380, kubelet: 10250, kubeletHealthz: 10248, proxyMetrics: 10249, proxyHealthz: 10256, registry: 15000,
});
export const REGISTRY = `127.0.0.1:${PORTS.registry}`;
export const SERVER = `https://127.0.0.1:${PORTS.apiserver}`;
const POD_CIDR = '10.244.0.0/24';
const GATEWAY = '10.244.0.1';
const SERVICE_CIDR = '10.96.0.0/24';
const BRIDGE = 'encore0';
const FORWARD_CHAIN = 'ENCORE-LOCAL-FORWARD';
/** Cluster DNS (CoreDNS on the bridge's address, what pods get as their nameserver) for cluster.local. */
export const DNS_ADDRESS = GATEWAY;
export const CLUSTER_DOMAIN = 'cluster.local';

export const CONTAINERD_VERSION = requiredVersion(path.join(root, 'test/kube/containerd'), 'github.com/containerd/containerd/v2');
const CRANE_VERSION = requiredVersion(path.join(root, 'test/kube/crane'), 'github.com/google/go-containerregistry');
const LOCAL_PATH_VERSION = requiredVersion(path.join(root, 'test/kube/local-path-provisioner'), 'github.com/rancher/local-path-provisioner');
const COREDNS_VERSION = requiredVersion(path.join(root, 'test/kube/coredns'), 'github.com/coredns/coredns');

/** Runtime state: etcd's data, containerd's images, the kubelet's pods, volumes, logs. Removed on stop. */
export const stateDir = process.env.ENCORE_LOCAL_CLUSTER_STATE || '/var/lib/encore-local-cluster';
/** Kept between runs: the certificates, tokens and the kubeconfig, so a context written once stays valid. */
export const homeDir = path.join(cacheDir, 'local-cluster');
export const kubeconfigPath = path.join(homeDir, 'kubeconfig');
const pkiDir = path.join(homeDir, 'pki');
// The registry keeps blobs on disk but manifests in memory: the images are pushed at every start, into the state.
const registryBlobs = path.join(stateDir, 'registry');
const clusterFile = path.join(stateDir, 'cluster.json');
const configDir = path.join(stateDir, 'config');
const logDir = path.join(stateDir, 'logs');

/** The kernel settings the cluster changes (the kubelet's setupKernelTunables, kube-proxy, and forwarding). */
const SYSCTLS = [
  'vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes', 'net/ipv4/conf/all/route_localnet', 'net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables',
  'net/bridge/bridge-nf-call-ip6tables',
];
/** Host paths the kubelet and containerd write whatever their configuration says; removed on stop if we made them. */
const FIXED_HOST_PATHS = ['/var/lib/kubelet', '/var/log/pods', '/var/log/containers', '/run/containerd', '/run/netns', '/var/lib/cni', '/opt/containerd'];

// ---------------------------------------------------------------------------------------------------------------
// binaries

const nodeTools = () => ({
  name: `cluster-v${KUBE_VERSION}`,
  module: 'test/kube/cluster',
  binaries: ['kubelet', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl'].map((name) => ({ name, pkg: `k8s.io/kubernetes/cmd/${name}`, ldflags: kubeLdflags() })),
});
const containerdLd = `-s -w -X github.com/containerd/containerd/v2/version.Version=v${CONTAINERD_VERSION}`;
const containerdTools = () => ({
  name: `containerd-v${CONTAINERD_VERSION}`,
  module: 'test/kube/containerd',
  // No btrfs, devmapper or zfs snapshotters: they need cgo and headers; overlayfs is what the cluster uses.
  binaries: ['containerd', 'containerd-shim-runc-v2', 'ctr'].map((name) => ({ name, pkg: `github.com/containerd/containerd/v2/cmd/${name}`, ldflags: containerdLd, tags: 'no_btrfs no_devmapper no_zfs' })),
});
const craneTools = () => ({ name: `crane-v${CRANE_VERSION}`, module: 'test/kube/crane', binaries: [{ name: 'crane', pkg: 'github.com/google/go-containerregistry/cmd/crane' }] });
const localPathTools = () => ({ name: `local-path-provisioner-v${LOCAL_PATH_VERSION}`, module: 'test/kube/local-path-provisioner', binaries: [{ name: 'local-path-provisioner', pkg: 'github.com/rancher/local-path-provisioner' }] });

const corednsTools = () => ({ name: `coredns-v${COREDNS_VERSION}`, module: 'test/kube/coredns', binaries: [{ name: 'coredns', pkg: '.' }] });

const bin = (tools, name) => path.join(cacheDir, tools().name, name);
export const craneBin = () => bin(craneTools, 'crane');
export const kubectlBin = () => bin(nodeTools, 'kubectl');

/**
 * Builds everything the cluster runs into the cache, each part only when missing or when its wrapper module changed:
 * kube-apiserver and etcd (scripts/kube-test-server.mjs), the node's Kubernetes binaries, containerd, crane, the
 * local-path provisioner, and the images. Returns what each part cost.
 */
export async function buildLocalCluster({ log = say, images = true } = {}) {
  const costs = [];
  const timed = async (what, fn) => {
    const started = Date.now();
    const cpu = childCpuSeconds();
    const result = await fn();
    costs.push({ what, ms: Date.now() - started, cpuSeconds: childCpuSeconds() - cpu });
    return result;
  };
  await timed(`kube-apiserver v${KUBE_VERSION}, etcd ${ETCD_VERSION}`, () => buildKubeBinaries());
  for (const tools of [nodeTools, containerdTools, craneTools, localPathTools, corednsTools]) {
    const t = tools();
    await timed(t.binaries.map((b) => b.name).join(', '), () => buildGoTools({ ...t, log }));
  }
  if (images) await timed('images', () => buildClusterImages({ log }));
  return costs;
}

// ---------------------------------------------------------------------------------------------------------------
// refusing where it cannot run

export class CannotRunHere extends Error {}

const ALTERNATIVE =
  'Use a cluster you already have instead: a kind (kind create cluster), minikube (minikube start) or k3d (k3d cluster create) ' +
  'cluster gives a kubeconfig context the environment can target.';

function which(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

/** Throws CannotRunHere with what is missing and what to use instead. */
export async function checkHost({ ports = true } = {}) {
  if (process.platform !== 'linux') {
    throw new CannotRunHere(`The local cluster runs Kubernetes' node components (kubelet, containerd, runc), which need Linux; this is ${process.platform}. ${ALTERNATIVE}`);
  }
  if (process.getuid?.() !== 0) {
    throw new CannotRunHere(`The local cluster needs root: the kubelet and containerd make cgroups, mounts, network namespaces, a bridge and iptables rules. Run it as root (sudo -E node scripts/local-cluster.mjs start). ${ALTERNATIVE}`);
  }
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const v1Missing = ['cpu', 'memory', 'pids'].filter((c) => !existsSync(`/sys/fs/cgroup/${c}`) && !existsSync(`/sys/fs/cgroup/${c},cpuacct`));
  if (!v2 && v1Missing.length > 0) {
    throw new CannotRunHere(`No usable cgroups: /sys/fs/cgroup has neither cgroup v2 nor the v1 controllers ${v1Missing.join(', ')}, which the kubelet needs to run pods. ${ALTERNATIVE}`);
  }
  if (ports) {
    const taken = [];
    for (const [name, port] of Object.entries(PORTS)) if (!(await portFree(port))) taken.push(`${port} (${name})`);
    if (taken.length > 0) {
      throw new CannotRunHere(`Ports the local cluster uses on 127.0.0.1 are taken: ${taken.join(', ')}. Stop what listens there (ss -ltnp shows it) or, if it is an earlier local cluster, run \`node scripts/local-cluster.mjs stop\`. ${ALTERNATIVE}`);
    }
  }
  const foreign = kubeChains().filter((c) => !c.ours);
  if (foreign.length > 0 && !existsSync(clusterFile)) {
    throw new CannotRunHere(`iptables already has Kubernetes chains (${foreign.slice(0, 3).map((c) => c.chain).join(', ')}…): another kubelet or kube-proxy seems to run on this host, and the local cluster would fight over them. ${ALTERNATIVE}`);
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Debian packages the node needs, installed (apt-get, as root) only when missing. */
function ensureHostPackages(log) {
  const needs = [
    { pkg: 'runc', ok: existsSync('/usr/sbin/runc') },
    { pkg: 'containernetworking-plugins', ok: ['bridge', 'host-local', 'portmap', 'loopback'].every((p) => existsSync(`/usr/lib/cni/${p}`)) },
    { pkg: 'iptables', ok: which('iptables') && which('ip6tables') && which('iptables-save') },
    { pkg: 'iproute2', ok: which('ip') },
    { pkg: 'openssl', ok: which('openssl') },
    { pkg: 'util-linux', ok: existsSync('/usr/bin/setpriv') },
    { pkg: 'mount', ok: which('umount') },
  ];
  const missing = needs.filter((n) => !n.ok).map((n) => n.pkg);
  if (missing.length === 0) return;
  log(`installing Debian packages the node needs: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env, encoding: 'utf8' });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env, stdio: 'ignore' });
    result = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env, encoding: 'utf8' });
  }
  if (result.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed: ${(result.stderr || result.stdout).trim().slice(-1500)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// certificates, tokens, kubeconfigs (made once, kept in the cache)

function openssl(args, what) {
  const result = spawnSync('openssl', args, { cwd: pkiDir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${what} failed: ${result.stderr.trim()}`);
}

const COMPONENTS = {
  admin: { user: 'encore-local-admin', groups: ['system:masters'] },
  // In system:masters, with the controllers sharing its credentials: per-controller service account credentials
  // cost about 4 s at every start (the note's measurements).
  controllerManager: { user: 'system:kube-controller-manager', groups: ['system:masters'] },
  scheduler: { user: 'system:kube-scheduler', groups: [] },
  kubelet: { user: null, groups: ['system:nodes'] },
  proxy: { user: 'system:kube-proxy', groups: [] },
  provisioner: { user: 'local-path-provisioner', groups: [] },
  dns: { user: 'system:encore-local-dns', groups: [] },
};

/** Makes the CA, the serving and kubelet-client certificates, the service-account key and tokens, if missing. */
function ensurePki() {
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const done = path.join(pkiDir, '.complete');
  if (!existsSync(done)) {
    for (const f of readdirSync(pkiDir)) rmSync(path.join(pkiDir, f), { force: true });
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=encore-local-ca'], 'CA');
    const sign = (name, subject, ext) => {
      writeFileSync(path.join(pkiDir, `${name}.ext`), ext);
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], `${name} request`);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-out', `${name}.crt`, '-extfile', `${name}.ext`], `${name} certificate`);
      rmSync(path.join(pkiDir, `${name}.csr`));
      rmSync(path.join(pkiDir, `${name}.ext`));
    };
    const sans = ['IP:127.0.0.1', 'IP:10.96.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'];
    sign('apiserver', '/CN=kube-apiserver', `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
    sign('kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path.join(pkiDir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    const tokens = Object.fromEntries(Object.keys(COMPONENTS).map((c) => [c, randomBytes(24).toString('hex')]));
    writeFileSync(path.join(pkiDir, 'tokens.json'), JSON.stringify(tokens), { mode: 0o600 });
    writeFileSync(done, '');
  }
  const tokens = JSON.parse(readFileSync(path.join(pkiDir, 'tokens.json'), 'utf8'));
  // A component added since the tokens were made gets its own.
  const added = Object.keys(COMPONENTS).filter((c) => !tokens[c]);
  for (const c of added) tokens[c] = randomBytes(24).toString('hex');
  if (added.length > 0) writeSecretFile(path.join(pkiDir, 'tokens.json'), JSON.stringify(tokens));
  return { tokens, ca: readFileSync(path.join(pkiDir, 'ca.crt'), 'utf8') };
}

function kubeconfigObject({ ca, token, user }) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT, cluster: { server: SERVER, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user } }],
    'current-context': CONTEXT,
  };
}

function writeSecretFile(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Writes the encore-local cluster, user and context into ~/.kube/config (or `target`), replacing earlier entries of
 * those names and leaving every other entry and the current context alone. The old file is kept as config.bak.
 */
export function mergeKubeconfig({ target = path.join(os.homedir(), '.kube', 'config') } = {}) {
  const ours = YAML.parse(readFileSync(kubeconfigPath, 'utf8'));
  const existing = existsSync(target) ? (YAML.parse(readFileSync(target, 'utf8')) ?? {}) : {};
  const merged = { apiVersion: 'v1', kind: 'Config', ...existing };
  for (const key of ['clusters', 'users', 'contexts']) {
    const names = new Set(ours[key].map((e) => e.name));
    merged[key] = [...(existing[key] ?? []).filter((e) => !names.has(e.name)), ...ours[key]];
  }
  if (!merged['current-context']) merged['current-context'] = CONTEXT;
  if (existsSync(target)) writeSecretFile(`${target}.bak`, readFileSync(target, 'utf8'));
  writeSecretFile(target, YAML.stringify(merged));
  return target;
}

// ---------------------------------------------------------------------------------------------------------------
// configuration files

function nodeName() {
  return cachedNodeName;
}
let cachedNodeName = 'localhost';

/**
 * The node is named for the host when that name resolves to a loopback address, else "localhost": the API server
 * reaches the kubelet (logs, exec, port-forward) through the node's Hostname address, and the kubelet listens on
 * 127.0.0.1 only.
 */
async function pickNodeName() {
  const host = os.hostname().toLowerCase();
  try {
    const { address } = await lookup(host, { family: 4 });
    cachedNodeName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(host) && address.startsWith('127.') ? host : 'localhost';
  } catch {
    cachedNodeName = 'localhost';
  }
  return cachedNodeName;
}

const dirs = () => ({
  etcd: path.join(stateDir, 'etcd'),
  containerd: path.join(stateDir, 'containerd'),
  sock: path.join(stateDir, 'containerd', 'containerd.sock'),
  kubelet: path.join(stateDir, 'kubelet'),
  volumes: path.join(stateDir, 'volumes'),
  podLogs: path.join(stateDir, 'pod-logs'),
});

function writeConfigs({ tokens, ca }) {
  const d = dirs();
  for (const dir of [configDir, logDir, d.etcd, d.containerd, d.kubelet, d.volumes, d.podLogs, path.join(configDir, 'cni'), path.join(configDir, 'certs.d', REGISTRY)]) {
    mkdirSync(dir, { recursive: true });
  }
  const node = nodeName();
  const lines = Object.entries(COMPONENTS).map(([component, { user, groups }]) => {
    const name = user ?? `system:node:${node}`;
    return `${tokens[component]},${name},${name},"${groups.join(',')}"`;
  });
  writeSecretFile(path.join(configDir, 'tokens.csv'), `${lines.join('\n')}\n`);
  for (const component of Object.keys(COMPONENTS)) {
    const user = COMPONENTS[component].user ?? `system:node:${node}`;
    writeSecretFile(path.join(configDir, `${component}.kubeconfig`), YAML.stringify(kubeconfigObject({ ca, token: tokens[component], user })));
  }

  writeFileSync(path.join(configDir, 'containerd.toml'), `version = 3
root = ${JSON.stringify(path.join(d.containerd, 'root'))}
state = ${JSON.stringify(path.join(d.containerd, 'state'))}
[grpc]
  address = ${JSON.stringify(d.sock)}
[plugins.'io.containerd.internal.v1.opt']
  path = ${JSON.stringify(path.join(d.containerd, 'opt'))}
[plugins.'io.containerd.nri.v1.nri']
  disable = true
[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ${JSON.stringify(`${REGISTRY}/${localPath(IMAGES.find((i) => i.name === 'pause'))}`)}
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = ${JSON.stringify(path.join(configDir, 'certs.d'))}
[plugins.'io.containerd.cri.v1.runtime']
  # CAP_SYS_RESOURCE may be missing from the bounding set: without this every sandbox fails to start.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = '/usr/sbin/runc'
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['/usr/lib/cni']
    conf_dir = ${JSON.stringify(path.join(configDir, 'cni'))}
[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = '127.0.0.1'
`);
  // The local registry speaks plain HTTP on 127.0.0.1.
  writeFileSync(path.join(configDir, 'certs.d', REGISTRY, 'hosts.toml'), `server = "http://${REGISTRY}"\n[host."http://${REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n`);
  writeFileSync(path.join(configDir, 'cni', '10-encore-local.conflist'), JSON.stringify({
    cniVersion: '0.4.0',
    name: 'encore-local',
    plugins: [
      {
        // No masquerade and no default route: pods reach each other, the services and this machine, nothing else.
        type: 'bridge', bridge: BRIDGE, isGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR, gateway: GATEWAY }]], routes: [{ dst: SERVICE_CIDR }], dataDir: path.join(stateDir, 'cni-ipam') },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2));
  writeFileSync(path.join(configDir, 'kubelet.yaml'), YAML.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // Kubernetes 1.35 still runs on cgroup v1 when told to; the hosts this was checked on have only v1 controllers.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${d.sock}`,
    address: '127.0.0.1',
    port: PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: PORTS.kubeletHealthz,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: path.join(pkiDir, 'ca.crt') } },
    authorization: { mode: 'Webhook' },
    failSwapOn: false,
    rotateCertificates: false,
    serializeImagePulls: false,
    resolvConf: '/etc/resolv.conf',
    clusterDNS: [DNS_ADDRESS],
    clusterDomain: CLUSTER_DOMAIN,
    podLogsDir: d.podLogs,
    // The disk is the developer's: never evict pods or delete images because it is fuller than a node's would be.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
  }));
  // Answers for the cluster's names only; other names are refused at once (pods cannot leave the machine anyway).
  writeFileSync(path.join(configDir, 'Corefile'), `${CLUSTER_DOMAIN}:53 in-addr.arpa:53 {
  bind ${DNS_ADDRESS}
  errors
  cache 5
  loadbalance
  kubernetes ${CLUSTER_DOMAIN} in-addr.arpa {
    kubeconfig ${path.join(configDir, 'dns.kubeconfig')} ${CONTEXT}
    pods insecure
  }
}
`);
  writeFileSync(path.join(configDir, 'kube-proxy.yaml'), YAML.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: path.join(configDir, 'proxy.kubeconfig') },
    mode: 'iptables',
    hostnameOverride: node,
    bindAddress: '127.0.0.1',
    healthzBindAddress: `127.0.0.1:${PORTS.proxyHealthz}`,
    metricsBindAddress: `127.0.0.1:${PORTS.proxyMetrics}`,
    clusterCIDR: POD_CIDR,
    nodePortAddresses: ['127.0.0.0/8'],
    // Leaves the host's conntrack settings alone.
    conntrack: { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  }));
}

/** What the cluster needs in the API once it runs: the local-path provisioner's objects and the default StorageClass. */
function bootstrapObjects() {
  const busybox = `${REGISTRY}/${localPath(IMAGES.find((i) => i.name === 'busybox'))}`;
  const ns = 'local-path-storage';
  const helperPod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'helper-pod' },
    spec: {
      priorityClassName: 'system-node-critical',
      tolerations: [{ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' }],
      containers: [{ name: 'helper-pod', image: busybox, imagePullPolicy: 'IfNotPresent' }],
    },
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'local-path-provisioner-service-account', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'local-path-provisioner-role' },
      rules: [
        { apiGroups: [''], resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete', 'patch', 'update'] },
        { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'local-path-provisioner-bind' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'local-path-provisioner-role' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: COMPONENTS.provisioner.user }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'encore-local:dns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'encore-local:dns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'encore-local:dns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: COMPONENTS.dns.user }],
    },
    {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'local-path-config', namespace: ns },
      data: {
        'config.json': JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [dirs().volumes] }] }),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        'helperPod.yaml': YAML.stringify(helperPod),
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
      metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
      // A claim binds when its pod is scheduled, on that pod's node, as with kind's and k3d's local-path class.
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
      // No allowVolumeExpansion: the provisioner cannot resize (a volume is a folder on the node's disk, its size is
      // not enforced), so a larger claim would wait forever for a resizer. The product then says the disk cannot grow.
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// host changes: kernel settings, the bridge, iptables

const sysctlPath = (name) => `/proc/sys/${name}`;
function readSysctl(name) {
  try {
    return readFileSync(sysctlPath(name), 'utf8').trim();
  } catch {
    return null;
  }
}
function writeSysctl(name, value) {
  try {
    writeFileSync(sysctlPath(name), `${value}\n`);
    return true;
  } catch {
    return false;
  }
}

/** Saves the kernel settings once: a start after an unclean stop keeps the values from before the first start. */
function saveHostState() {
  const file = path.join(stateDir, 'host.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const saved = {
    sysctls: Object.fromEntries(SYSCTLS.map((s) => [s, readSysctl(s)]).filter(([, v]) => v !== null)),
    existingPaths: FIXED_HOST_PATHS.filter((p) => existsSync(p)),
    netns: existsSync('/run/netns') ? readdirSync('/run/netns') : [],
  };
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(saved, null, 2));
  return saved;
}

function sh(command, args, { check = true } = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (check && result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${(result.stderr || result.stdout || result.error?.message || '').trim()}`);
  return result;
}

function setUpNetwork() {
  writeSysctl('net/ipv4/ip_forward', '1');
  if (sh('ip', ['link', 'show', BRIDGE], { check: false }).status !== 0) sh('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  sh('ip', ['addr', 'replace', `${GATEWAY}/24`, 'dev', BRIDGE]);
  sh('ip', ['link', 'set', BRIDGE, 'up']);
  // The service range goes to the bridge, never out through the default route, whether or not a rule matches it.
  sh('ip', ['route', 'replace', SERVICE_CIDR, 'dev', BRIDGE]);
  if (sh('iptables', ['-n', '-L', FORWARD_CHAIN], { check: false }).status !== 0) sh('iptables', ['-N', FORWARD_CHAIN]);
  sh('iptables', ['-F', FORWARD_CHAIN]);
  // Pod traffic that would leave the bridge for another interface is dropped: the pods only talk on this machine.
  sh('iptables', ['-A', FORWARD_CHAIN, '-i', BRIDGE, '!', '-o', BRIDGE, '-j', 'DROP']);
  if (sh('iptables', ['-C', 'FORWARD', '-j', FORWARD_CHAIN], { check: false }).status !== 0) sh('iptables', ['-I', 'FORWARD', '1', '-j', FORWARD_CHAIN]);
}

/** KUBE-* chains (and ours) in the host's iptables and ip6tables: [{ tool, table, chain, ours }]. */
function kubeChains() {
  const found = [];
  for (const tool of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle']) {
      const result = spawnSync(`${tool}-save`, ['-t', table], { encoding: 'utf8' });
      if (result.status !== 0) continue;
      for (const match of result.stdout.matchAll(/^:(\S+) /gm)) {
        const chain = match[1];
        if (chain.startsWith('KUBE-') || chain === FORWARD_CHAIN) found.push({ tool, table, chain, ours: existsSync(clusterFile) || chain === FORWARD_CHAIN });
      }
    }
  }
  return found;
}

/** Removes every KUBE-* chain and ours, with the rules that jump to them, in iptables and ip6tables. */
function removeKubeChains() {
  const chains = kubeChains();
  const byTable = new Map();
  for (const c of chains) {
    const key = `${c.tool} ${c.table}`;
    if (!byTable.has(key)) byTable.set(key, []);
    byTable.get(key).push(c.chain);
  }
  for (const [key, names] of byTable) {
    const [tool, table] = key.split(' ');
    const set = new Set(names);
    // The rules in built-in chains that jump to them, deleted by number from the bottom up.
    for (const builtin of ['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']) {
      const listed = spawnSync(tool, ['-t', table, '-n', '-L', builtin, '--line-numbers'], { encoding: 'utf8' });
      if (listed.status !== 0) continue;
      const numbers = listed.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => /^\d+$/.test(f[0]) && set.has(f[1])).map((f) => Number(f[0]));
      for (const n of numbers.sort((a, b) => b - a)) spawnSync(tool, ['-t', table, '-D', builtin, String(n)]);
    }
    for (const chain of names) spawnSync(tool, ['-t', table, '-F', chain]);
    for (const chain of names) spawnSync(tool, ['-t', table, '-X', chain]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// processes

/** Starts a process whose output goes to logs/<name>.log; it gets SIGKILL when this process dies (setpriv). */
function startProcess(name, binPath, args, { env } = {}) {
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn('/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', binPath, ...args], { stdio: ['ignore', fd, fd], env: env ?? process.env });
  closeSync(fd);
  const proc = { name, bin: binPath, child, pid: child.pid, logFile, exited: false, code: null };
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.code = code ?? signal;
  });
  return proc;
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The executable of a running PID, or null: used to never signal a PID that was reused by something else. */
function exeOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

async function stopPid(pid, binPath, graceMs) {
  if (!pid || exeOf(pid) !== binPath) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until && exeOf(pid) === binPath) await delay(100);
  if (exeOf(pid) === binPath) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    while (exeOf(pid) === binPath) await delay(50);
  }
}

function recordCluster(record) {
  writeFileSync(clusterFile, JSON.stringify(record, null, 2));
}

// ---------------------------------------------------------------------------------------------------------------
// the API

function api(method, urlPath, { token, ca, body, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${SERVER}${urlPath}`, {
      method, ca, timeout: timeoutMs,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json' } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitFor(what, check, { timeoutMs, procs, signal }) {
  const started = Date.now();
  let last = 'no answer yet';
  for (;;) {
    if (signal?.aborted) throw new Error('start was interrupted');
    const dead = procs.find((p) => p.exited);
    if (dead) throw new Error(`${dead.name} exited with ${dead.code} while waiting for ${what}\n--- ${dead.logFile}\n${tail(dead.logFile)}`);
    try {
      const result = await check();
      if (result === true) return Date.now() - started;
      if (typeof result === 'string') last = result;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${seconds(timeoutMs)} (${last})`);
    await delay(200);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// start

/**
 * Starts the cluster and resolves once it is usable: API ready, the node Ready, the default ServiceAccount there,
 * the images in the local registry and the default StorageClass served by the provisioner. Binaries and images must
 * be built (`buildLocalCluster()`; with `build: true` this builds what is missing first). Throws CannotRunHere
 * where the machine cannot run it. `signal` aborts a start in progress (Ctrl+C): what was started is torn down.
 * The processes die with this one (setpriv --pdeathsig); stop() tears everything down and restores the host.
 */
export async function startLocalCluster({ build = false, signal, log = say, readyTimeoutMs = 180_000, mergeIntoKubeconfig = false } = {}) {
  if (existsSync(clusterFile)) {
    const record = readRecord();
    if (record && supervisorAlive(record)) throw new CannotRunHere(`The local cluster already runs (pid ${record.supervisor}); \`node scripts/local-cluster.mjs stop\` stops it.`);
    log('cleaning up after a local cluster that was not stopped');
    await teardown({ log });
  }
  await checkHost();
  if (build) await buildLocalCluster({ log });
  const missing = [kubeApiserverBin, etcdBin, bin(nodeTools, 'kubelet'), bin(containerdTools, 'containerd'), craneBin(), bin(localPathTools, 'local-path-provisioner')].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(`the local cluster is not built (${missing.map((f) => path.basename(f)).join(', ')} missing): run \`node scripts/local-cluster.mjs build\` first (about 10 minutes cold on two cores)`);
  }
  ensureHostPackages(log);
  const started = Date.now();
  const timings = {};
  const mark = (name) => (timings[name] = Date.now() - started);
  const procs = [];
  const record = { supervisor: process.pid, startedAt: new Date().toISOString(), node: null, procs: [] };
  const note = (proc) => {
    procs.push(proc);
    record.procs.push({ name: proc.name, pid: proc.pid, bin: proc.bin });
    recordCluster(record);
  };
  try {
    const host = saveHostState();
    record.node = await pickNodeName();
    recordCluster(record);
    const { tokens, ca } = ensurePki();
    writeConfigs({ tokens, ca });
    mark('configs');
    setUpNetwork();
    const d = dirs();
    const p = (f) => path.join(pkiDir, f);
    const c = (f) => path.join(configDir, f);

    mkdirSync(registryBlobs, { recursive: true });
    // A soft memory limit: the pushes at start leave crane's heap at about 200 MiB otherwise, returned only slowly.
    note(startProcess('registry', craneBin(), ['registry', 'serve', '--address', REGISTRY, '--disk', registryBlobs], { env: { ...process.env, GOMEMLIMIT: '48MiB' } }));
    const etcdUrl = `http://127.0.0.1:${PORTS.etcdClient}`;
    const peerUrl = `http://127.0.0.1:${PORTS.etcdPeer}`;
    note(startProcess('etcd', etcdBin, [
      '--name', 'encore-local', '--data-dir', d.etcd, '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `encore-local=${peerUrl}`,
      '--unsafe-no-fsync', '--log-level', 'warn',
    ]));
    // containerd finds its own shim (containerd-shim-runc-v2) on PATH.
    const containerdDir = path.dirname(bin(containerdTools, 'containerd'));
    const nodeEnv = { ...process.env, PATH: `${containerdDir}:/usr/sbin:/usr/bin:/sbin:/bin` };
    note(startProcess('containerd', bin(containerdTools, 'containerd'), ['--config', c('containerd.toml')], { env: nodeEnv }));
    note(startProcess('kube-apiserver', kubeApiserverBin, [
      `--etcd-servers=${etcdUrl}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${PORTS.apiserver}`,
      `--tls-cert-file=${p('apiserver.crt')}`, `--tls-private-key-file=${p('apiserver.key')}`, `--client-ca-file=${p('ca.crt')}`,
      `--token-auth-file=${c('tokens.csv')}`, '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local', `--service-account-key-file=${p('sa.key')}`,
      `--service-account-signing-key-file=${p('sa.key')}`, `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // The API listens on 127.0.0.1 only, which it refuses to publish as the kubernetes Service's endpoint.
      '--endpoint-reconciler-type=none', '--enable-priority-and-fairness=false',
      `--kubelet-client-certificate=${p('kubelet-client.crt')}`, `--kubelet-client-key=${p('kubelet-client.key')}`,
      '--kubelet-preferred-address-types=Hostname',
    ]));

    // The images go into the registry while the API server starts.
    await waitFor('the image registry', async () => (await fetch(`http://${REGISTRY}/v2/`)).ok, { timeoutMs: 20_000, procs, signal });
    const pushed = pushClusterImages({ registry: REGISTRY, crane: craneBin(), log });
    mark('images pushed');

    const admin = { token: tokens.admin, ca };
    await waitFor('the API server\'s /readyz', async () => {
      const r = await api('GET', '/readyz', admin);
      return r.status === 200 || `/readyz answered ${r.status}`;
    }, { timeoutMs: readyTimeoutMs, procs, signal });
    mark('api ready');

    note(startProcess('kube-controller-manager', bin(nodeTools, 'kube-controller-manager'), [
      `--kubeconfig=${c('controllerManager.kubeconfig')}`, '--bind-address=127.0.0.1', '--secure-port=0', '--leader-elect=false',
      '--use-service-account-credentials=false', `--service-account-private-key-file=${p('sa.key')}`, `--root-ca-file=${p('ca.crt')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
    ]));
    note(startProcess('kube-scheduler', bin(nodeTools, 'kube-scheduler'), [`--kubeconfig=${c('scheduler.kubeconfig')}`, '--bind-address=127.0.0.1', '--secure-port=0', '--leader-elect=false']));
    note(startProcess('kubelet', bin(nodeTools, 'kubelet'), [
      `--config=${c('kubelet.yaml')}`, `--kubeconfig=${c('kubelet.kubeconfig')}`, `--root-dir=${d.kubelet}`,
      `--cert-dir=${path.join(d.kubelet, 'pki')}`, `--hostname-override=${record.node}`,
    ], { env: nodeEnv }));
    note(startProcess('kube-proxy', bin(nodeTools, 'kube-proxy'), [`--config=${c('kube-proxy.yaml')}`], { env: nodeEnv }));

    writeFileSync(c('bootstrap.yaml'), bootstrapObjects().map((o) => YAML.stringify(o)).join('---\n'));
    const applied = spawnSync(kubectlBin(), ['--kubeconfig', c('admin.kubeconfig'), 'apply', '--server-side', '--field-manager=encore-local-cluster', '-f', c('bootstrap.yaml')], { encoding: 'utf8' });
    if (applied.status !== 0) throw new Error(`applying the cluster's own objects failed: ${applied.stderr.trim()}`);
    note(startProcess('local-path-provisioner', bin(localPathTools, 'local-path-provisioner'), [
      'start', '--kubeconfig', c('provisioner.kubeconfig'), '--namespace', 'local-path-storage',
      '--helper-image', `${REGISTRY}/${localPath(IMAGES.find((i) => i.name === 'busybox'))}`,
      '--service-account-name', 'local-path-provisioner-service-account', '--configmap-name', 'local-path-config',
    ]));

    note(startProcess('coredns', bin(corednsTools, 'coredns'), ['-conf', c('Corefile')]));

    await waitFor(`node ${record.node} Ready`, async () => {
      const r = await api('GET', `/api/v1/nodes/${record.node}`, admin);
      if (r.status !== 200) return `node: ${r.status}`;
      const ready = r.json.status?.conditions?.find((x) => x.type === 'Ready');
      return ready?.status === 'True' || `Ready=${ready?.status ?? 'unknown'} (${ready?.message ?? ''})`;
    }, { timeoutMs: readyTimeoutMs, procs, signal });
    mark('node ready');
    await waitFor('the default ServiceAccount', async () => (await api('GET', '/api/v1/namespaces/default/serviceaccounts/default', admin)).status === 200, { timeoutMs: readyTimeoutMs, procs, signal });
    mark('usable');
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([DNS_ADDRESS]);
    await waitFor('cluster DNS', async () => {
      const [address] = await resolver.resolve4(`kubernetes.default.svc.${CLUSTER_DOMAIN}`);
      return address === '10.96.0.1' || `kubernetes.default is ${address}`;
    }, { timeoutMs: 30_000, procs, signal });
    mark('dns');

    writeSecretFile(kubeconfigPath, YAML.stringify(kubeconfigObject({ ca, token: tokens.admin, user: COMPONENTS.admin.user })));
    if (mergeIntoKubeconfig) log(`wrote the ${CONTEXT} context into ${mergeKubeconfig()}`);
    record.ready = true;
    record.timings = timings;
    recordCluster(record);
    log(`usable in ${seconds(timings.usable)} (API ${seconds(timings['api ready'])}, node Ready ${seconds(timings['node ready'])}); kubeconfig ${kubeconfigPath}, context ${CONTEXT}`);

    const onExit = () => {
      for (const proc of procs) proc.child.kill('SIGKILL');
    };
    process.once('exit', onExit);
    let stopping;
    return {
      kubeconfigPath,
      context: CONTEXT,
      server: SERVER,
      registry: REGISTRY,
      images: imageMapping(REGISTRY),
      pushed,
      node: record.node,
      stateDir,
      logDir,
      token: tokens.admin,
      ca,
      timings,
      pids: Object.fromEntries(procs.map((proc) => [proc.name, proc.pid])),
      savedHostState: host,
      stop() {
        stopping ??= (async () => {
          process.removeListener('exit', onExit);
          return teardown({ log, procs, admin });
        })();
        return stopping;
      },
    };
  } catch (err) {
    log(`start failed, tearing down: ${err.message.split('\n')[0]}`);
    await teardown({ log, procs });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// stop

function readRecord() {
  try {
    return JSON.parse(readFileSync(clusterFile, 'utf8'));
  } catch {
    return null;
  }
}

function supervisorAlive(record) {
  if (!record?.supervisor || record.supervisor === process.pid) return false;
  try {
    process.kill(record.supervisor, 0);
    return /node/.test(exeOf(record.supervisor) ?? '');
  } catch {
    return false;
  }
}

/** Mount points under the cluster's paths, deepest first. */
function clusterMounts() {
  const prefixes = [stateDir, '/run/containerd/', '/run/netns/cni-', '/var/lib/kubelet'];
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\040/g, ' '))
    .filter((m) => prefixes.some((p) => m === p || m.startsWith(p.endsWith('/') || p.endsWith('-') ? p : `${p}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Tears the cluster down, from live process handles or from the state file alone (after a crash): the pods first
 * (so the kubelet unmounts their volumes and removes their network), then the processes by PID, leftover containers,
 * iptables chains, mounts, the bridge, cgroups, the state, and the kernel settings as they were before the start.
 * Returns what it could not remove (empty when clean).
 */
export async function teardown({ log = say, procs, admin } = {}) {
  const record = readRecord();
  const known = procs ?? (record?.procs ?? []).map((p) => ({ ...p, child: null }));
  const byName = (name) => known.find((p) => p.name === name);
  const alive = (p) => p && exeOf(p.pid) === p.bin;
  let credentials = admin;
  if (!credentials && existsSync(path.join(pkiDir, 'tokens.json'))) {
    credentials = { token: JSON.parse(readFileSync(path.join(pkiDir, 'tokens.json'), 'utf8')).admin, ca: readFileSync(path.join(pkiDir, 'ca.crt'), 'utf8') };
  }
  const stopNamed = async (names, graceMs = 5000) => {
    await Promise.all(names.map((n) => byName(n)).filter(Boolean).map((p) => stopPid(p.pid, p.bin, graceMs)));
  };

  // 1. No controller may make new pods while the old ones go.
  await stopNamed(['kube-controller-manager', 'kube-scheduler', 'local-path-provisioner', 'coredns']);
  // 2. The pods, while the API server and the kubelet run: the kubelet stops them, unmounts, and frees their network.
  if (credentials && alive(byName('kube-apiserver')) && alive(byName('kubelet'))) {
    try {
      const list = await api('GET', '/api/v1/pods', credentials);
      for (const pod of list.json?.items ?? []) {
        await api('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}?gracePeriodSeconds=2`, credentials);
      }
      const ctr = bin(containerdTools, 'ctr');
      const sock = dirs().sock;
      const until = Date.now() + 60_000;
      for (;;) {
        const remaining = await api('GET', '/api/v1/pods', credentials);
        // Running tasks, not containers: the kubelet removes exited containers only at its next garbage
        // collection (a minute), and an API pod is only deleted once its volumes are unmounted.
        const tasks = spawnSync(ctr, ['-a', sock, '-n', 'k8s.io', 'tasks', 'ls'], { encoding: 'utf8' }).stdout?.split('\n').slice(1).filter((l) => /\bRUNNING\b/.test(l)) ?? [];
        if ((remaining.json?.items ?? []).length === 0 && tasks.length === 0) {
          log(`pods gone after ${seconds(60_000 - (until - Date.now()))}`);
          break;
        }
        if (Date.now() > until) {
          log(`pods still there after 60 s (${(remaining.json?.items ?? []).length} in the API, ${tasks.length} running containers); stopping anyway`);
          break;
        }
        await delay(250);
      }
    } catch (err) {
      log(`deleting the pods failed (${err.message}); stopping the processes anyway`);
    }
  }
  // 3. The processes, node first, then the control plane, by PID.
  await stopNamed(['kube-proxy']);
  await stopNamed(['kubelet']);
  await stopNamed(['kube-apiserver']);
  await stopNamed(['etcd', 'registry']);
  // 4. Containers the kubelet did not get to: runc's, their shims, then containerd.
  const runcRoot = '/run/containerd/runc/k8s.io';
  if (existsSync(runcRoot)) {
    const ids = spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
    for (const id of ids) {
      spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'kill', '-a', id, 'KILL']);
      spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'delete', '-f', id]);
    }
  }
  await stopNamed(['containerd']);
  const shim = bin(containerdTools, 'containerd-shim-runc-v2');
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f)).map(Number)) {
    if (exeOf(pid) === shim) await stopPid(pid, shim, 2000);
  }
  for (const p of known) if (p.child && !p.exited) p.child.kill('SIGKILL');
  // 5. iptables: kube-proxy's own cleanup, then what it leaves (the kubelet's chains) and ours.
  const proxy = bin(nodeTools, 'kube-proxy');
  if (existsSync(proxy)) spawnSync(proxy, ['--cleanup'], { encoding: 'utf8', timeout: 30_000 });
  if (existsSync(clusterFile)) removeKubeChains();
  else for (const c of kubeChains().filter((x) => x.chain === FORWARD_CHAIN)) spawnSync(c.tool, ['-t', c.table, '-X', c.chain]);
  // 6. Mounts (pod volumes, network namespaces, container root filesystems), deepest first.
  for (const mount of clusterMounts()) {
    if (spawnSync('umount', [mount]).status !== 0) spawnSync('umount', ['-l', mount]);
  }
  // 7. The bridge (its route goes with it), leftover network namespaces of our pods, the kubelet's cgroups.
  spawnSync('ip', ['link', 'del', BRIDGE]);
  const host = existsSync(path.join(stateDir, 'host.json')) ? JSON.parse(readFileSync(path.join(stateDir, 'host.json'), 'utf8')) : null;
  if (host && existsSync('/run/netns')) {
    for (const ns of readdirSync('/run/netns')) if (ns.startsWith('cni-') && !host.netns.includes(ns)) spawnSync('ip', ['netns', 'delete', ns]);
  }
  removeCgroups('kubepods');
  // 8. The kernel settings as they were, the host paths we made, the state.
  if (host) {
    for (const [name, value] of Object.entries(host.sysctls)) if (readSysctl(name) !== value) writeSysctl(name, value);
    for (const p of FIXED_HOST_PATHS) if (!host.existingPaths.includes(p) && existsSync(p)) rmSync(p, { recursive: true, force: true });
  }
  rmSync(stateDir, { recursive: true, force: true });

  const left = leftovers({ host });
  if (left.length > 0) log(`not everything could be removed: ${left.join('; ')}`);
  else log('stopped; nothing of the cluster is left on the host');
  return left;
}

function removeCgroups(name) {
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c));
  const rmdirDeep = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) rmdirDeep(path.join(dir, e.name));
    spawnSync('rmdir', [dir]);
  };
  for (const r of roots) if (existsSync(path.join(r, name))) rmdirDeep(path.join(r, name));
}

/** What of the cluster is still on the host: processes, mounts, the bridge, iptables chains, state, settings. */
export function leftovers({ host } = {}) {
  const found = [];
  const ours = new Set([etcdBin, kubeApiserverBin, craneBin(), ...['kubelet', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((n) => bin(nodeTools, n)),
    ...['containerd', 'containerd-shim-runc-v2'].map((n) => bin(containerdTools, n)), bin(localPathTools, 'local-path-provisioner'), bin(corednsTools, 'coredns')]);
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f)).map(Number)) {
    const exe = exeOf(pid);
    if (exe && ours.has(exe) && pid !== process.pid) {
      // kube-test-server's etcd and kube-apiserver share the binaries: only those on our ports count.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if ((exe === etcdBin || exe === kubeApiserverBin) && !cmdline.includes(String(PORTS.etcdClient)) && !cmdline.includes(String(PORTS.apiserver))) continue;
      found.push(`process ${pid} (${path.basename(exe)})`);
    }
  }
  for (const m of clusterMounts()) found.push(`mount ${m}`);
  if (spawnSync('ip', ['link', 'show', BRIDGE]).status === 0) found.push(`network interface ${BRIDGE}`);
  for (const c of kubeChains()) found.push(`${c.tool} chain ${c.table}/${c.chain}`);
  if (existsSync(stateDir)) found.push(`folder ${stateDir}`);
  if (host) {
    for (const [name, value] of Object.entries(host.sysctls)) if (readSysctl(name) !== value) found.push(`kernel setting ${name.replace(/\//g, '.')} is ${readSysctl(name)}, was ${value}`);
  }
  return found;
}

/** Stops a cluster started by another process (the CLI's background mode) or cleans up after one that died. */
export async function stopLocalCluster({ log = say } = {}) {
  const record = readRecord();
  if (record && supervisorAlive(record)) {
    log(`stopping the local cluster (pid ${record.supervisor})`);
    process.kill(record.supervisor, 'SIGTERM');
    const until = Date.now() + 120_000;
    while (Date.now() < until && supervisorAlive(record)) await delay(200);
    if (!supervisorAlive(record)) return leftovers({});
    log('it did not stop within 2 minutes; tearing down from here');
    try {
      process.kill(record.supervisor, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (!record && !existsSync(stateDir)) {
    log('the local cluster is not running');
    return leftovers({});
  }
  return teardown({ log });
}

/** Whether the cluster runs, and how to reach it. */
export async function localClusterStatus() {
  const record = readRecord();
  if (!record) return { running: false };
  const procs = record.procs.map((p) => ({ name: p.name, pid: p.pid, alive: exeOf(p.pid) === p.bin }));
  let ready = false;
  let nodeReady = false;
  try {
    const tokens = JSON.parse(readFileSync(path.join(pkiDir, 'tokens.json'), 'utf8'));
    const admin = { token: tokens.admin, ca: readFileSync(path.join(pkiDir, 'ca.crt'), 'utf8'), timeoutMs: 2000 };
    ready = (await api('GET', '/readyz', admin)).status === 200;
    const node = await api('GET', `/api/v1/nodes/${record.node}`, admin);
    nodeReady = node.json?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  } catch {
    // not answering
  }
  return { running: procs.every((p) => p.alive), ready, nodeReady, node: record.node, supervisor: record.supervisor, startedAt: record.startedAt, procs, kubeconfigPath, context: CONTEXT, registry: REGISTRY, images: imageMapping(REGISTRY) };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

function printHowToUse() {
  process.stdout.write(`${kubeconfigPath}\n`);
  say(`kubectl: export KUBECONFIG=${kubeconfigPath}   (context ${CONTEXT})`);
  say(`or keep your own: export KUBECONFIG=$HOME/.kube/config:${kubeconfigPath}, or run \`node scripts/local-cluster.mjs merge-kubeconfig\` to write the context into ~/.kube/config`);
  say(`images: ${REGISTRY}/mirror/… (\`node scripts/cluster-images.mjs mapping\` lists them)`);
}

/** Starts in this process; SIGINT or SIGTERM during the start aborts it (torn down), after it stops the cluster. */
async function runForeground({ merge, build }) {
  const abort = new globalThis.AbortController();
  let handle;
  let stopping = false;
  const onSignal = async () => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    if (handle) {
      say('stopping');
      await handle.stop();
      process.exit(0);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    handle = await startLocalCluster({ build, signal: abort.signal, mergeIntoKubeconfig: merge });
  } catch (err) {
    if (abort.signal.aborted) {
      say('start interrupted; torn down');
      process.exit(130);
    }
    throw err;
  }
  if (stopping) {
    await handle.stop();
    process.exit(0);
  }
  return handle;
}

async function main(argv) {
  const [command] = argv;
  const merge = argv.includes('--merge-kubeconfig');
  try {
    if (command === 'build') {
      const started = Date.now();
      const costs = await buildLocalCluster({});
      for (const c of costs) say(`${c.what}: ${minutes(c.ms)} wall, ${c.cpuSeconds.toFixed(0)} s CPU`);
      say(`built in ${minutes(Date.now() - started)}`);
      return;
    }
    if (command === 'start' && argv.includes('--foreground')) {
      await runForeground({ merge, build: true });
      printHowToUse();
      say('Ctrl+C stops the cluster');
      await new Promise(() => {});
    }
    if (command === 'start') {
      // Builds in this process (its output is the user's), then starts a supervisor that outlives it.
      await checkHost();
      await buildLocalCluster({});
      const logFile = path.join(homeDir, 'supervisor.log');
      mkdirSync(homeDir, { recursive: true });
      const fd = openSync(logFile, 'w');
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '__supervise', ...(merge ? ['--merge-kubeconfig'] : [])], {
        detached: true, stdio: ['ignore', fd, fd, 'ipc'],
      });
      closeSync(fd);
      const interrupt = () => {
        say('interrupted: stopping the cluster that was starting');
        child.kill('SIGTERM');
      };
      process.on('SIGINT', interrupt);
      process.on('SIGTERM', interrupt);
      const outcome = await new Promise((resolve) => {
        child.on('message', (m) => resolve(m));
        child.on('exit', (code) => resolve({ failed: `the cluster's supervisor exited with ${code}` }));
      });
      if (outcome.ready) {
        child.disconnect();
        child.unref();
        say(`running in the background (supervisor pid ${child.pid}, log ${logFile}); \`node scripts/local-cluster.mjs stop\` stops it`);
        printHowToUse();
        process.exit(0);
      }
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
      throw new Error(`${outcome.failed}\n--- ${logFile}\n${tail(logFile, 30)}`);
    }
    if (command === '__supervise') {
      process.on('SIGHUP', () => {});
      const handle = await runForeground({ merge, build: false });
      process.send?.({ ready: true, timings: handle.timings });
      await new Promise(() => {});
    }
    if (command === 'stop') {
      const left = await stopLocalCluster();
      process.exitCode = left.length > 0 ? 1 : 0;
      return;
    }
    if (command === 'status') {
      const status = await localClusterStatus();
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      process.exitCode = status.running ? 0 : 3;
      return;
    }
    if (command === 'merge-kubeconfig') {
      if (!existsSync(kubeconfigPath)) throw new Error(`no kubeconfig at ${kubeconfigPath} yet: start the cluster once first`);
      say(`wrote the ${CONTEXT} context into ${mergeKubeconfig()} (the previous file is kept as config.bak)`);
      return;
    }
    process.stderr.write('usage: node scripts/local-cluster.mjs build | start [--foreground] [--merge-kubeconfig] | stop | status | merge-kubeconfig\n');
    process.exitCode = 2;
  } catch (err) {
    say(err.message);
    if (command === '__supervise') process.send?.({ failed: err.message });
    process.exit(err instanceof CannotRunHere ? 4 : 1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2));
}
