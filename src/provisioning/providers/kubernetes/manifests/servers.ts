/**
 * The servers that run inside the cluster as StatefulSets (planner/inCluster.ts): Postgres, Redis, nsqd, MinIO.
 * Which one a StatefulSet is, and its ports, are the planner's settings (`serverKind`, `ports`); each gets the
 * environment, probes and mount its image expects.
 * The claim template is named `data`, so the claims the planner creates ahead (`data-<name>-<ordinal>`) are adopted.
 * The planner's `args` are passed through as the container's args in every case, so they read back unchanged.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { ANNOTATION, LABEL, meta, num, obj, optStr, podLabels, str, strList, type EnvVar, type RenderContext } from './common';

export type ServerKind = 'postgres' | 'redis' | 'nsqd' | 'minio';
const SERVER_KINDS: readonly string[] = ['postgres', 'redis', 'nsqd', 'minio'] satisfies ServerKind[];

function serverKindOf(r: DesiredResource): ServerKind {
  const kind = str(r.settings, 'serverKind', r.id);
  if (!SERVER_KINDS.includes(kind)) throw new Error(`${r.id}: no in-cluster server of kind "${kind}" is known`);
  return kind as ServerKind;
}

/** The planner's ports (`[{name, port}]`), the first being the server's main one. */
function portsOf(r: DesiredResource): { name: string; port: number }[] {
  const list = r.settings.ports;
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${r.id}: setting "ports" must be a non-empty list`);
  return list.map((p) => {
    const entry = p as { name?: unknown; port?: unknown };
    if (typeof entry.name !== 'string' || typeof entry.port !== 'number') throw new Error(`${r.id}: a port needs a name and a number, got ${JSON.stringify(p)}`);
    return { name: entry.name, port: entry.port };
  });
}

interface ServerSpec {
  env: EnvVar[];
  mountPath: string;
  command?: string[];
  readinessProbe: JsonObject;
}

const secretRef = (secret: string, key: string): EnvVar['valueFrom'] => ({ secretKeyRef: { name: secret, key } });

function spec(kind: ServerKind, r: DesiredResource, ports: { name: string; port: number }[]): ServerSpec {
  const s = r.settings;
  const port = num(s, 'port', r.id);
  const portNamed = (name: string): number => {
    const found = ports.find((p) => p.name === name);
    if (!found) throw new Error(`${r.id}: a ${kind} server needs a port named "${name}"`);
    return found.port;
  };
  const secret = optStr(s, 'credentialsSecret', r.id);
  const needSecret = (): string => {
    if (!secret) throw new Error(`${r.id}: a ${kind} server needs a credentials Secret`);
    return secret;
  };
  switch (kind) {
    case 'postgres': {
      const user = str(s, 'user', r.id);
      const database = str(s, 'database', r.id);
      return {
        // The image's first start creates the role and the database; the database Job (jobs.ts) makes sure of it later.
        env: [
          { name: 'POSTGRES_USER', value: user },
          { name: 'POSTGRES_DB', value: database },
          { name: 'POSTGRES_PASSWORD', valueFrom: secretRef(needSecret(), 'password') },
          // A subfolder: a fresh volume's root holds lost+found, which initdb refuses to start in.
          { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
        ],
        mountPath: '/var/lib/postgresql/data',
        readinessProbe: { exec: { command: ['pg_isready', '-h', '127.0.0.1', '-U', user, '-d', database] }, periodSeconds: 5, failureThreshold: 6 },
      };
    }
    case 'redis': {
      const replication = s.replication as { primary?: string } | null | undefined;
      // Ordinal 0 is the primary; the others follow it. The password comes from the environment, not the command
      // line, so `ps` in the pod does not show it.
      const follow = replication?.primary
        ? ` if [ "\${HOSTNAME##*-}" != 0 ]; then set -- "$@" --replicaof ${replication.primary}.${str(s, 'serviceName', r.id)} ${port} --masterauth "$REDIS_PASSWORD"; fi;`
        : '';
      return {
        env: [{ name: 'REDIS_PASSWORD', valueFrom: secretRef(needSecret(), 'auth') }],
        mountPath: '/data',
        command: ['sh', '-c', `${follow} exec redis-server "$@" --dir /data --port ${port} --requirepass "$REDIS_PASSWORD"`, 'redis-server'],
        readinessProbe: { exec: { command: ['sh', '-c', 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p ' + port + ' ping | grep -q PONG'] }, periodSeconds: 5 },
      };
    }
    case 'nsqd':
      return {
        // The image has no entrypoint: the planner's args start with the binary (`/nsqd`).
        env: [],
        mountPath: '/data',
        readinessProbe: { httpGet: { path: '/ping', port: portNamed('http') }, periodSeconds: 5 },
      };
    case 'minio':
      return {
        env: [
          { name: 'MINIO_ROOT_USER', value: str(s, 'rootUser', r.id) },
          { name: 'MINIO_ROOT_PASSWORD', valueFrom: secretRef(needSecret(), 'secretKey') },
        ],
        mountPath: '/data',
        readinessProbe: { httpGet: { path: '/minio/health/ready', port }, periodSeconds: 5 },
      };
  }
}

export function renderStatefulSet(r: DesiredResource, ctx: RenderContext): KubeObject {
  const s = r.settings;
  const image = str(s, 'image', r.id);
  const kind = serverKindOf(r);
  const ports = portsOf(r);
  const server = spec(kind, r, ports);
  const template = obj(s, 'volumeClaimTemplate', r.id);
  const labels = podLabels(r, ctx, r.name);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(r, ctx, { labels: { [LABEL.name]: r.name } }),
    spec: {
      serviceName: str(s, 'serviceName', r.id),
      replicas: num(s, 'replicas', r.id),
      selector: { matchLabels: { [LABEL.name]: r.name } },
      template: {
        metadata: { labels, annotations: { [ANNOTATION.resourceId]: r.id } },
        spec: {
          containers: [
            {
              name: kind,
              image,
              ...(server.command ? { command: server.command } : {}),
              args: strList(s, 'args', r.id),
              ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
              env: server.env,
              resources: obj(s, 'resources', r.id),
              volumeMounts: [{ name: str(template, 'name', r.id), mountPath: server.mountPath }],
              readinessProbe: server.readinessProbe,
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: str(template, 'name', r.id) },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: `${num(template, 'storageGiB', r.id)}Gi` } } },
        },
      ],
    },
  };
}
