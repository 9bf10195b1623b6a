// The images the product runs inside a cluster, made on this machine without a Docker daemon and without the
// internet, for the local cluster (scripts/local-cluster.mjs) and its tests: Postgres, Redis and curl from Debian's
// packages, nsqd, MinIO and its client mc from their Go modules, and two tiny Go programs (the pod sandbox and a
// placeholder workload). Each is an OCI image layout in the cache, made once and made again only when its recipe
// changes; `push` copies them into the local registry the cluster's containerd pulls from.
//
// Each local image keeps the contract of the public image the planner names that the manifests rely on (entrypoint,
// environment variables, binaries on PATH, users), with the program versions Debian and the Go module proxy have,
// which the image's labels and `mapping` state: e.g. postgres:16 is served by PostgreSQL 15 from Debian bookworm.
//
// Usage:
//   node scripts/cluster-images.mjs build              makes every image that is missing or whose recipe changed
//   node scripts/cluster-images.mjs push HOST:PORT     pushes them (the local cluster does this itself at start)
//   node scripts/cluster-images.mjs mapping [HOST:PORT] prints "image the planner names → local reference" as JSON
// Environment: ENCORE_ENV_CACHE moves the cache (default ~/.cache/encore-environments).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { buildGoTools, builtFrom, cacheDir, cachedBuild, minutes, recipeKey, root, sha256 } from './cluster-build.mjs';

const say = (message) => process.stderr.write(`[cluster-images] ${message}\n`);

export const imagesDir = path.join(cacheDir, 'cluster-images');
const aptRoot = path.join(imagesDir, 'apt');
/** Where pushed images live in the local registry: `<registry>/mirror/<the planner's name without its registry>`. */
export const MIRROR_PREFIX = 'mirror';

// ---------------------------------------------------------------------------------------------------------------
// the Go programs

const NSQ_VERSION = '1.3.0';
const goTools = {
  small: { name: 'images-go', module: 'test/kube/images', binaries: [{ name: 'pause', pkg: './pause' }, { name: 'placeholder', pkg: './placeholder' }, { name: 'gosu', pkg: './gosu' }] },
  nsq: { name: `nsqd-v${NSQ_VERSION}`, module: 'test/kube/nsq', binaries: [{ name: 'nsqd', pkg: 'github.com/nsqio/nsq/apps/nsqd' }] },
  // MinIO publishes no Go module versions, only RELEASE.* tags the proxy does not serve: the pseudo-version in
  // test/kube/minio/go.mod is the newest commit it serves.
  minio: { name: 'minio-go', module: 'test/kube/minio', binaries: [{ name: 'minio', pkg: 'github.com/minio/minio' }] },
  mc: { name: 'mc-go', module: 'test/kube/mc', binaries: [{ name: 'mc', pkg: 'github.com/minio/mc' }] },
};

function goModuleVersion(module, modulePath) {
  const goMod = readFileSync(path.join(root, module, 'go.mod'), 'utf8');
  return new RegExp(`^\\s*${modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+(\\S+)`, 'm').exec(goMod)?.[1] ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------------------------
// Debian packages, resolved and downloaded by apt in a private root (the host's package state is not touched)

/** The host's Debian sources (not third-party ones), for the private apt root. */
function debianSources() {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  const found = candidates.filter((f) => existsSync(f)).map((f) => [f, readFileSync(f, 'utf8')]);
  const deb822 = found.find(([f]) => f.endsWith('.sources'));
  if (deb822) return { name: 'debian.sources', text: deb822[1] };
  const list = found.find(([f]) => f.endsWith('.list'));
  const lines = (list?.[1] ?? '').split('\n').filter((l) => /^deb\s/.test(l) && /debian/.test(l));
  if (lines.length === 0) throw new Error('no Debian package source found in /etc/apt: the images are made from Debian packages (apt)');
  return { name: 'debian.list', text: `${lines.join('\n')}\n` };
}

function aptOptions() {
  return [
    '-o', `Dir=${aptRoot}`, '-o', `Dir::State::status=${path.join(aptRoot, 'status')}`,
    '-o', 'Dir::Etc::trusted=/etc/apt/trusted.gpg', '-o', 'Dir::Etc::trustedparts=/etc/apt/trusted.gpg.d',
    '-o', 'APT::Install-Recommends=false', '-o', 'Debug::NoLocking=true', '-o', 'APT::Sandbox::User=root', '-q',
  ];
}

let aptUpdated = false;
function aptUpdate() {
  if (aptUpdated) return;
  for (const d of ['etc/apt/sources.list.d', 'etc/apt/preferences.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial']) {
    mkdirSync(path.join(aptRoot, d), { recursive: true });
  }
  // An empty package status: apt resolves each image's packages as for an empty system, so the closure is complete.
  writeFileSync(path.join(aptRoot, 'status'), '');
  const sources = debianSources();
  writeFileSync(path.join(aptRoot, 'etc/apt/sources.list.d', sources.name), sources.text);
  run('apt-get', [...aptOptions(), 'update'], 'apt-get update (private apt root for the images)');
  aptUpdated = true;
}

/** The .deb files of `packages` and everything they depend on (no Recommends), downloaded into the apt cache. */
function debClosure(packages) {
  aptUpdate();
  // The simulation lists every package of the closure ("Inst NAME (VERSION ...)"), downloaded before or not.
  const simulated = run('apt-get', [...aptOptions(), 'install', '-s', ...packages], `apt-get install -s ${packages.join(' ')}`);
  const closure = [...simulated.matchAll(/^Inst (\S+) \((\S+) .*\[(\S+)\]\)/gm)].map((m) => ({ package: m[1], version: m[2], arch: m[3] }));
  if (closure.length === 0) throw new Error(`apt found no packages to install for ${packages.join(' ')}:\n${simulated.slice(-1000)}`);
  run('apt-get', [...aptOptions(), 'install', '-y', '--download-only', ...packages], `apt-get install --download-only ${packages.join(' ')}`);
  const archives = path.join(aptRoot, 'var/cache/apt/archives');
  // apt names the file NAME_VERSION_ARCH.deb with the epoch's ':' written as %3a.
  const debs = closure.map((d) => ({ ...d, file: `${d.package}_${d.version.replace(':', '%3a')}_${d.arch}.deb` }));
  const missing = debs.filter((d) => !existsSync(path.join(archives, d.file)));
  if (missing.length > 0) throw new Error(`apt did not download ${missing.map((d) => d.file).join(', ')} into ${archives}`);
  return debs.map((d) => ({ ...d, path: path.join(archives, d.file) }));
}

function run(command, args, what, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error || result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout || '').trim().slice(-2000)}`, { cause: result.error });
  }
  return result.stdout;
}

// ---------------------------------------------------------------------------------------------------------------
// root filesystems

/** Bookworm's merged /usr: /bin, /lib, /lib64 and /sbin are links into /usr, as on a Debian install. */
function newRootfs(dir) {
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc', 'tmp', 'var/tmp', 'root', 'dev', 'proc', 'sys', 'run']) {
    mkdirSync(path.join(dir, d), { recursive: true });
  }
  for (const [link, target] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']]) symlinkSync(target, path.join(dir, link));
  chmodSync(path.join(dir, 'tmp'), 0o1777);
  chmodSync(path.join(dir, 'var/tmp'), 0o1777);
  chmodSync(path.join(dir, 'root'), 0o700);
}

/** Unpacks a .deb's files (no maintainer scripts run: the image's users and folders are made by the recipe). */
function unpackDeb(deb, dir) {
  const fsys = spawnSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 1024 * 1024 * 1024 });
  if (fsys.status !== 0) throw new Error(`dpkg-deb --fsys-tarfile ${deb} failed: ${fsys.stderr}`);
  const untar = spawnSync('tar', ['-x', '--keep-directory-symlink', '--no-same-owner', '-C', dir], { input: fsys.stdout, maxBuffer: 64 * 1024 * 1024 });
  if (untar.status !== 0) throw new Error(`unpacking ${deb} failed: ${untar.stderr}`);
}

/** busybox's applets as links, where no package put a real program: sh, sleep, date, grep, setpriv, … */
function linkBusybox(dir) {
  const busybox = path.join(dir, 'usr/bin/busybox');
  const applets = run(busybox, ['--list-full'], 'busybox --list-full').split('\n').filter(Boolean);
  for (const applet of applets) {
    // --list-full names bin/sh, usr/bin/env, sbin/ip …: put every one in usr/bin or usr/sbin (the merged folders).
    const name = path.basename(applet);
    const where = applet.includes('sbin/') ? 'usr/sbin' : 'usr/bin';
    const target = path.join(dir, where, name);
    if (exists(path.join(dir, 'usr/bin', name)) || exists(path.join(dir, 'usr/sbin', name))) continue;
    symlinkSync('/usr/bin/busybox', target);
  }
}

function exists(file) {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function writeFile(dir, file, text, mode = 0o644) {
  const target = path.join(dir, file);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
  chmodSync(target, mode);
}

function accounts(dir, users) {
  const all = [{ name: 'root', uid: 0, home: '/root', shell: '/bin/sh' }, ...users, { name: 'nobody', uid: 65534, home: '/nonexistent', shell: '/usr/sbin/nologin' }];
  writeFile(dir, 'etc/passwd', all.map((u) => `${u.name}:x:${u.uid}:${u.uid}:${u.name}:${u.home}:${u.shell}\n`).join(''));
  writeFile(dir, 'etc/group', all.map((u) => `${u.name === 'nobody' ? 'nogroup' : u.name}:x:${u.uid}:\n`).join(''));
  writeFile(dir, 'etc/shadow', all.map((u) => `${u.name}:!:19000::::::\n`).join(''), 0o640);
  writeFile(dir, 'etc/nsswitch.conf', 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n');
  for (const u of users) mkdirSync(path.join(dir, u.home.slice(1)), { recursive: true });
}

// ---------------------------------------------------------------------------------------------------------------
// OCI image layout

/** A one-layer OCI image layout in `out` from the folder `rootfs`; reproducible (sorted, zero times, root owned). */
function writeLayout(rootfs, out, { config, labels, ref }) {
  const tar = spawnSync('tar', [
    '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', rootfs, '-c', '.',
  ], { maxBuffer: 2 * 1024 * 1024 * 1024 });
  if (tar.status !== 0) throw new Error(`tar of ${rootfs} failed: ${tar.stderr}`);
  const layer = gzipSync(tar.stdout, { level: 6 });
  const blobs = path.join(out, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (data) => {
    const digest = sha256(data);
    writeFileSync(path.join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const layerBlob = blob(layer);
  const imageConfig = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { ...config, Labels: labels },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar.stdout)}`] },
    history: [{ created_by: 'scripts/cluster-images.mjs', comment: labels['org.opencontainers.image.description'] }],
  }));
  const configBlob = blob(imageConfig);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layerBlob }],
  }));
  const manifestBlob = blob(manifest);
  writeFileSync(path.join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(path.join(out, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': ref } }],
  }));
  return { digest: manifestBlob.digest, layerBytes: layer.length, unpackedBytes: tar.stdout.length };
}

// ---------------------------------------------------------------------------------------------------------------
// the recipes

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PG_MAJOR = '15';

/**
 * Packages that only install or configure a Debian system (perl and the maintainer-script machinery, Debian's
 * postgres wrappers and locale generator): nothing in the images runs them, so they are left out of every layer.
 */
const INSTALL_ONLY = new Set([
  'perl', 'perl-base', 'perl-modules-5.36', 'libperl5.36', 'libjson-perl', 'libfile-find-rule-perl', 'libnumber-compare-perl',
  'libtext-glob-perl', 'libgdbm6', 'libgdbm-compat4', 'dpkg', 'tar', 'usrmerge', 'passwd', 'adduser', 'debconf',
  'init-system-helpers', 'sysvinit-utils', 'ucf', 'ssl-cert', 'sensible-utils', 'lsb-base', 'locales', 'libc-l10n',
  'postgresql-common', 'postgresql-client-common', 'libsemanage2', 'libsemanage-common', 'libsepol2',
]);

// The official postgres image's docker-entrypoint.sh, the parts the manifests rely on: as root it hands the data folder
// to postgres and re-runs itself as that user; on an empty PGDATA it runs initdb with POSTGRES_USER as superuser and
// POSTGRES_PASSWORD, lets other hosts in with scram-sha-256, creates POSTGRES_DB and runs /docker-entrypoint-initdb.d.
const POSTGRES_ENTRYPOINT = `#!/bin/sh
set -eu
if [ "\${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown -R postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec gosu postgres "$0" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "\${POSTGRES_USER:=postgres}"
  : "\${POSTGRES_DB:=$POSTGRES_USER}"
  if [ -z "\${POSTGRES_PASSWORD:-}" ] && [ "\${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified.' >&2
    echo '       You must specify POSTGRES_PASSWORD to a non-empty value for the superuser.' >&2
    exit 1
  fi
  mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\\n' "\${POSTGRES_PASSWORD:-}" > "$pwfile"
  # shellcheck disable=SC2086
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" -D "$PGDATA" \${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  printf '\\nhost all all all %s\\n' "\${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\\n" >> "$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p \${PGPORT:-5432}" -w start
  if [ "$POSTGRES_DB" != postgres ]; then
    echo 'CREATE DATABASE :"db";' | psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --dbname postgres -v db="$POSTGRES_DB"
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f"; . "$f" ;;
      *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --dbname "$POSTGRES_DB" -f "$f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo 'PostgreSQL init process complete; ready for start up.'
fi
exec "$@"
`;

// The official redis image's entrypoint: options alone mean redis-server; as root it runs redis as the redis user.
const REDIS_ENTRYPOINT = `#!/bin/sh
set -e
if [ "\${1#-}" != "$1" ] || [ "\${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \\! -user redis -exec chown redis '{}' +
  exec gosu redis "$0" "$@"
fi
umask 0077
exec "$@"
`;

// curlimages/curl's entrypoint: arguments that are not a program are curl's.
const CURL_ENTRYPOINT = `#!/bin/sh
set -e
if [ "\${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ]; then set -- curl "$@"; fi
exec "$@"
`;

// minio/minio's entrypoint: arguments that are not "minio" are minio's (the StatefulSet passes "server /data").
const MINIO_ENTRYPOINT = `#!/bin/sh
set -e
if [ "$1" != minio ] && [ -n "$1" ]; then set -- minio "$@"; fi
exec "$@"
`;

/**
 * Every image: `upstream` is the reference the planner writes (src/provisioning/planner/*.ts and the manifests'
 * PLACEHOLDER_IMAGE); `local` is the repository path in the local registry when it is not a stand-in for one.
 */
export const IMAGES = [
  {
    name: 'pause',
    upstream: 'registry.k8s.io/pause:3.10',
    description: 'the pod sandbox and the workloads\' placeholder: a Go program that sleeps until SIGTERM (what registry.k8s.io/pause does)',
    go: ['small'],
    make: ({ dir, bins }) => copyInto(dir, bins.pause, 'pause'),
    config: { Entrypoint: ['/pause'], User: '65535:65535' },
    bare: true,
  },
  {
    name: 'placeholder',
    upstream: null,
    local: 'encore/placeholder:1',
    description: 'a workload that answers HTTP 200 on $PORT (default 8080), for tests that need a pod to serve',
    go: ['small'],
    make: ({ dir, bins }) => copyInto(dir, bins.placeholder, 'placeholder'),
    config: { Entrypoint: ['/placeholder'], Env: ['PORT=8080'], ExposedPorts: { '8080/tcp': {} }, User: '65534:65534' },
    bare: true,
  },
  {
    name: 'busybox',
    upstream: 'busybox:1.35',
    description: 'Debian\'s busybox-static: the local-path provisioner\'s helper pods run its sh, mkdir and rm',
    debs: [],
    config: { Cmd: ['sh'] },
    version: (debs) => debs.find((d) => d.package === 'busybox-static')?.version,
  },
  {
    name: 'postgres',
    upstream: 'postgres:16',
    script: POSTGRES_ENTRYPOINT,
    description: `PostgreSQL ${PG_MAJOR} from Debian bookworm (Debian has no 16), with the official image's entrypoint contract: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA`,
    debs: [`postgresql-${PG_MAJOR}`, `postgresql-client-${PG_MAJOR}`, 'tzdata'],
    users: [{ name: 'postgres', uid: 999, home: '/var/lib/postgresql', shell: '/bin/sh' }],
    go: ['small'],
    make: ({ dir, bins }) => {
      copyInto(dir, bins.gosu, 'usr/local/bin/gosu');
      writeFile(dir, 'usr/local/bin/docker-entrypoint.sh', POSTGRES_ENTRYPOINT, 0o755);
      // The socket folder is writable by every user, as in the official image (chmod 3777), so any uid can run it.
      mkdirSync(path.join(dir, 'var/run/postgresql'), { recursive: true });
      chmodSync(path.join(dir, 'var/run/postgresql'), 0o3777);
      mkdirSync(path.join(dir, 'docker-entrypoint-initdb.d'), { recursive: true });
      mkdirSync(path.join(dir, 'var/lib/postgresql/data'), { recursive: true });
      chmodSync(path.join(dir, 'var/lib/postgresql/data'), 0o777);
    },
    config: {
      Entrypoint: ['docker-entrypoint.sh'],
      Cmd: ['postgres'],
      Env: [`PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:${PATH}`, `PG_MAJOR=${PG_MAJOR}`, 'PGDATA=/var/lib/postgresql/data', 'LANG=C.UTF-8'],
      ExposedPorts: { '5432/tcp': {} },
      Volumes: { '/var/lib/postgresql/data': {} },
      StopSignal: 'SIGINT',
    },
    smoke: ['postgres', 'initdb', 'pg_ctl', 'pg_isready', 'psql'].map((p) => [`/usr/lib/postgresql/${PG_MAJOR}/bin/${p}`, '--version']).concat([['/usr/local/bin/gosu', 'postgres', '/bin/sh', '-c', 'id -u']]),
    version: (debs) => debs.find((d) => d.package === `postgresql-${PG_MAJOR}`)?.version,
  },
  {
    name: 'redis',
    upstream: 'redis:7.2',
    script: REDIS_ENTRYPOINT,
    description: 'Redis from Debian bookworm (7.0; Debian has no 7.2): redis-server, redis-cli, sh',
    debs: ['redis-server', 'redis-tools'],
    users: [{ name: 'redis', uid: 999, home: '/data', shell: '/usr/sbin/nologin' }],
    go: ['small'],
    make: ({ dir, bins }) => {
      copyInto(dir, bins.gosu, 'usr/local/bin/gosu');
      writeFile(dir, 'usr/local/bin/docker-entrypoint.sh', REDIS_ENTRYPOINT, 0o755);
    },
    config: { Entrypoint: ['docker-entrypoint.sh'], Cmd: ['redis-server'], WorkingDir: '/data', ExposedPorts: { '6379/tcp': {} }, Volumes: { '/data': {} } },
    smoke: [['/usr/bin/redis-server', '--version'], ['/usr/bin/redis-cli', '--version'], ['/bin/sh', '-c', 'echo PONG | grep -q PONG']],
    version: (debs) => debs.find((d) => d.package === 'redis-server')?.version,
  },
  {
    name: 'nsq',
    upstream: `nsqio/nsq:v${NSQ_VERSION}`,
    description: `nsqd v${NSQ_VERSION} built from github.com/nsqio/nsq, at /nsqd as in the official image (no entrypoint)`,
    debs: [],
    go: ['nsq'],
    make: ({ dir, bins }) => copyInto(dir, bins.nsqd, 'nsqd'),
    config: { Cmd: ['/nsqd'], ExposedPorts: { '4150/tcp': {}, '4151/tcp': {} }, Volumes: { '/data': {} } },
    smoke: [['/nsqd', '--version'], ['/bin/sh', '-c', 'true']],
    version: () => `v${NSQ_VERSION}`,
  },
  {
    name: 'node',
    upstream: 'node:22-slim',
    description: 'Node.js from Debian bookworm (18; not 22) with OpenSSL 3 for SHA3-256 and fetch, the CronJobs\' image (they sign their calls)',
    debs: ['nodejs', 'ca-certificates'],
    users: [{ name: 'node', uid: 1000, home: '/home/node', shell: '/bin/sh' }],
    config: { Cmd: ['node'], User: 'node', Env: [`PATH=${PATH}`, 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'] },
    smoke: [['/usr/bin/node', '-e', "require('crypto').createHmac('sha3-256', 'k').update('x').digest(); if (typeof fetch !== 'function') process.exit(1)"]],
    version: (debs) => debs.find((d) => d.package === 'nodejs')?.version,
  },
  {
    name: 'curl',
    upstream: 'curlimages/curl:8.14.1',
    script: CURL_ENTRYPOINT,
    description: 'curl from Debian bookworm (7.88; not 8.14) with sh and date, the NSQ Jobs\' image',
    debs: ['curl', 'ca-certificates'],
    users: [{ name: 'curl_user', uid: 100, home: '/home/curl_user', shell: '/bin/sh' }],
    make: ({ dir }) => writeFile(dir, 'entrypoint.sh', CURL_ENTRYPOINT, 0o755),
    config: { Entrypoint: ['/entrypoint.sh'], Cmd: ['curl'], User: 'curl_user', Env: [`PATH=${PATH}`, 'CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt'] },
    smoke: [['/usr/bin/curl', '--version'], ['/bin/sh', '-c', 'date -u +1%H%M']],
    version: (debs) => debs.find((d) => d.package === 'curl')?.version,
  },
  {
    name: 'minio',
    upstream: 'minio/minio:RELEASE.2025-04-22T22-12-26Z',
    script: MINIO_ENTRYPOINT,
    description: 'MinIO server and its client mc built from their Go modules (the newest commits the Go module proxy serves, not that release)',
    debs: ['ca-certificates'],
    go: ['minio', 'mc'],
    make: ({ dir, bins }) => {
      copyInto(dir, bins.minio, 'usr/bin/minio');
      copyInto(dir, bins.mc, 'usr/bin/mc');
      writeFile(dir, 'usr/bin/docker-entrypoint.sh', MINIO_ENTRYPOINT, 0o755);
    },
    config: { Entrypoint: ['/usr/bin/docker-entrypoint.sh'], Cmd: ['minio'], ExposedPorts: { '9000/tcp': {} }, Volumes: { '/data': {} } },
    smoke: [['/usr/bin/minio', '--version'], ['/usr/bin/mc', '--version'], ['/bin/sh', '-c', 'true']],
    version: () => `minio ${goModuleVersion('test/kube/minio', 'github.com/minio/minio')}, mc ${goModuleVersion('test/kube/mc', 'github.com/minio/mc')}`,
  },
];

function copyInto(dir, from, to) {
  const target = path.join(dir, to);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, readFileSync(from));
  chmodSync(target, 0o755);
}

/** The repository path of an image in the local registry: the planner's name under the mirror prefix. */
export function localPath(image) {
  if (image.local) return image.local;
  const withoutRegistry = image.upstream.replace(/^[^/]*[.:][^/]*\//, '');
  return `${MIRROR_PREFIX}/${withoutRegistry}`;
}

/** "image the planner names → local image reference", for a registry on `registry` (HOST:PORT). */
export function imageMapping(registry) {
  return Object.fromEntries(IMAGES.filter((i) => i.upstream).map((i) => [i.upstream, `${registry}/${localPath(i)}`]));
}

/** Where an image's layout lives: named by its recipe hash, so a changed recipe is a new folder. */
function imageKey(image) {
  const goRecipes = (image.go ?? []).map((g) => {
    const tool = goTools[g];
    return [tool.module, ['go.mod', 'go.sum'].map((f) => {
      const file = path.join(root, tool.module, f);
      return existsSync(file) ? sha256(readFileSync(file)) : null;
    }), tool.binaries];
  });
  return recipeKey({
    version: 1,
    debs: image.debs ?? null,
    bare: image.bare ?? false,
    users: image.users ?? [],
    // Not the functions' source: tsx and node print it differently. `recipe` is bumped when `make` changes.
    recipe: image.recipe ?? 1,
    script: image.script ?? null,
    smoke: image.smoke ?? null,
    description: image.description,
    config: image.config,
    excluded: [...INSTALL_ONLY].sort(),
    go: goRecipes,
    small: image.go?.includes('small') ? readdirSync(path.join(root, 'test/kube/images'), { recursive: true }).filter((f) => String(f).endsWith('.go')).sort().map((f) => sha256(readFileSync(path.join(root, 'test/kube/images', String(f))))) : null,
  });
}

export function imageLayoutDir(image) {
  return path.join(imagesDir, 'layouts', `${image.name}-${imageKey(image)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// build and push

/**
 * Makes every image (or those named in `only`) whose layout is missing; returns per image its layout folder and what
 * it cost. Go programs are built first (cached separately: a new image recipe reuses them).
 */
export async function buildClusterImages({ only, log = say } = {}) {
  const wanted = IMAGES.filter((i) => !only || only.includes(i.name));
  const results = [];
  for (const image of wanted) {
    const dir = imageLayoutDir(image);
    if (builtFrom(dir, path.basename(dir))) {
      results.push({ name: image.name, dir, built: false, ...readMeta(dir) });
      continue;
    }
    const started = Date.now();
    const bins = {};
    for (const g of image.go ?? []) Object.assign(bins, (await buildGoTools({ ...goTools[g], log })).paths);
    const goMs = Date.now() - started;
    const layoutStarted = Date.now();
    let meta;
    await cachedBuild({
      dir,
      key: path.basename(dir),
      make: async (tmp) => {
        const rootfs = path.join(tmp, 'rootfs');
        let debs = [];
        if (image.bare) {
          mkdirSync(rootfs);
          for (const d of ['etc', 'tmp', 'dev', 'proc', 'sys']) mkdirSync(path.join(rootfs, d));
          chmodSync(path.join(rootfs, 'tmp'), 0o1777);
          writeFile(rootfs, 'etc/passwd', 'root:x:0:0:root:/:/pause\nnobody:x:65534:65534:nobody:/:/pause\n');
        } else {
          newRootfs(rootfs);
          debs = debClosure([...(image.debs ?? []), 'busybox-static']);
          for (const deb of debs) if (!INSTALL_ONLY.has(deb.package)) unpackDeb(deb.path, rootfs);
          // busybox-static's /bin/busybox sits in usr/bin through the merged /bin.
          linkBusybox(rootfs);
          accounts(rootfs, image.users ?? []);
          // The dynamic loader's cache, as ldconfig makes it on a Debian install.
          if (debs.some((d) => d.package === 'libc6')) run('ldconfig', ['-r', rootfs], `ldconfig -r ${rootfs}`);
          rmSync(path.join(rootfs, 'var/cache/ldconfig/aux-cache'), { force: true });
        }
        image.make?.({ dir: rootfs, bins });
        // Each program the manifests run starts in the finished root filesystem (a missing library shows here).
        for (const argv of image.smoke ?? []) run('chroot', [rootfs, ...argv], `${image.name}: ${argv.join(' ')} in the image`);
        const version = image.version?.(debs) ?? '1';
        const labels = {
          'org.opencontainers.image.title': image.name,
          'org.opencontainers.image.description': image.description,
          'org.opencontainers.image.version': version,
          'encore.dev/stands-in-for': image.upstream ?? '',
          'encore.dev/debian-packages': debs.filter((d) => !INSTALL_ONLY.has(d.package)).map((d) => `${d.package}=${d.version}`).join(' '),
        };
        const ref = localPath(image);
        const written = writeLayout(rootfs, path.join(tmp, 'oci'), { config: { Env: [`PATH=${PATH}`], ...image.config }, labels, ref });
        rmSync(rootfs, { recursive: true, force: true });
        meta = { ...written, ref, version, upstream: image.upstream, goMs, layoutMs: Date.now() - layoutStarted };
        writeFileSync(path.join(tmp, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
      },
    });
    // Layouts of this image's earlier recipes are not used any more.
    for (const old of readdirSync(path.dirname(dir))) {
      if (old.startsWith(`${image.name}-`) && old !== path.basename(dir) && !old.includes('.partial-')) rmSync(path.join(path.dirname(dir), old), { recursive: true, force: true });
    }
    log(`image ${image.name} (${meta.version}) made in ${minutes(Date.now() - started)}: ${(meta.layerBytes / 1e6).toFixed(1)} MB compressed, ${(meta.unpackedBytes / 1e6).toFixed(1)} MB unpacked`);
    results.push({ name: image.name, dir, built: true, ...meta });
  }
  return results;
}

function readMeta(dir) {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  } catch {
    return {};
  }
}

/** True when every image's layout is in the cache (no build needed). */
export function clusterImagesReady() {
  return IMAGES.every((i) => builtFrom(imageLayoutDir(i), path.basename(imageLayoutDir(i))));
}

/**
 * Pushes every built image to `registry` (HOST:PORT, plain HTTP on 127.0.0.1) with crane. Blobs the registry has are
 * not sent again, so a re-push after a restart of the registry (which keeps blobs on disk, not manifests) is quick.
 */
export function pushClusterImages({ registry, crane, log = say }) {
  const pushed = [];
  for (const image of IMAGES) {
    const dir = imageLayoutDir(image);
    if (!builtFrom(dir, path.basename(dir))) throw new Error(`the image ${image.name} is not built: run \`node scripts/cluster-images.mjs build\``);
    const ref = `${registry}/${localPath(image)}`;
    const started = Date.now();
    run(crane, ['push', path.join(dir, 'oci'), ref], `crane push ${image.name} to ${ref}`, { env: { ...process.env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' } });
    pushed.push({ name: image.name, ref, ms: Date.now() - started });
  }
  log(`pushed ${pushed.length} images to ${registry} in ${pushed.reduce((s, p) => s + p.ms, 0)} ms`);
  return pushed;
}

/** Disk used by the images' cache (layouts, the apt downloads), in bytes. */
export function imagesDiskBytes() {
  let total = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) total += statSync(full).size;
    }
  };
  if (existsSync(imagesDir)) walk(imagesDir);
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

async function main([command, arg]) {
  if (command === 'build') {
    const started = Date.now();
    const results = await buildClusterImages({ only: arg ? arg.split(',') : undefined });
    for (const r of results) say(`${r.name}: ${r.built ? 'made' : 'cached'} ${r.dir}`);
    say(`done in ${minutes(Date.now() - started)}; cache ${(imagesDiskBytes() / 1e6).toFixed(0)} MB in ${imagesDir}`);
    return;
  }
  if (command === 'push') {
    if (!arg) throw new Error('usage: node scripts/cluster-images.mjs push HOST:PORT');
    const { craneBin } = await import('./local-cluster.mjs');
    pushClusterImages({ registry: arg, crane: craneBin() });
    return;
  }
  if (command === 'mapping') {
    const { REGISTRY } = await import('./local-cluster.mjs');
    process.stdout.write(`${JSON.stringify(imageMapping(arg ?? REGISTRY), null, 2)}\n`);
    return;
  }
  process.stderr.write('usage: node scripts/cluster-images.mjs build [name,...] | push HOST:PORT | mapping [HOST:PORT]\n');
  process.exitCode = 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    say(err.message);
    process.exitCode = 1;
  });
}
