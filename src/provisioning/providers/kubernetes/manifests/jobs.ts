/**
 * What is created inside a server the environment runs (planner: `postgres/Database`, `nsq/Topic`, `nsq/Channel`,
 * `minio/Bucket`): a Kubernetes Job per resource that waits for the server, then creates the object idempotently
 * (CREATE DATABASE only when missing, nsqd's create calls, `mc mb --ignore-existing`). The engine applies it after
 * the server's StatefulSet is ready (the graph's dependsOn), and waitReady waits for the Job to succeed.
 *
 * A Job's pod template cannot change, so the Job's name ends in a hash of its template: a changed setting makes a
 * new Job (the driver deletes the old ones), an unchanged one re-applies as a no-op. The settings the Job was made
 * from are kept in an annotation; they hold names and flags only, never a secret.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { nsqName } from '../../../planner/pubsub';
import { CRON_IMAGE } from '../../../planner/cron';
import { dnsLabel } from '../../../planner/names';
import type { KubeObject } from '../client';
import { ANNOTATION, meta, nameFromId, sha256, stableJson, str, type EnvVar, type RenderContext, type ServerInfo } from './common';
import { NSQD_HTTP_PORT } from './servers';

export const JOB_TYPES = ['postgres/Database', 'nsq/Topic', 'nsq/Channel', 'minio/Bucket'] as const;

const POSTGRES_SCRIPT = `set -eu
until pg_isready -q -d postgres; do echo "waiting for $PGHOST"; sleep 2; done
psql -v ON_ERROR_STOP=1 -d postgres -v db="$DATABASE" -v owner="$OWNER" -v pw="$OWNER_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'owner', :'pw') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner')\\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\\gexec
SQL
echo "database $DATABASE is there"`;

const NSQ_SCRIPT = `set -eu
until curl -fsS "http://$NSQD/ping" >/dev/null; do echo "waiting for $NSQD"; sleep 2; done
curl -fsS -X POST "http://$NSQD/$CALL"
echo "done: $CALL"`;

const MINIO_SCRIPT = `set -eu
export MC_CONFIG_DIR=/tmp/.mc
until mc alias set s "http://$HOST" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1 && mc ls s >/dev/null 2>&1; do echo "waiting for $HOST"; sleep 2; done
mc mb --ignore-existing "s/$BUCKET"
if [ "$VERSIONING" = true ]; then mc version enable "s/$BUCKET"; fi
if [ "$ANONYMOUS_READ" = true ]; then mc anonymous set download "s/$BUCKET"; else mc anonymous set none "s/$BUCKET"; fi`;

function envOf(server: ServerInfo, name: string, id: string): EnvVar {
  const found = server.env.find((e) => e.name === name);
  if (!found) throw new Error(`${id}: the server ${server.name} has no ${name} in its environment`);
  return found;
}

function podHost(server: string, ctx: RenderContext, port: number): string {
  // The first replica through the headless Service (the StatefulSet's serviceName is its own name).
  return `${server}-0.${server}.${ctx.namespace}.svc.cluster.local:${port}`;
}

interface JobPlan {
  base: string;
  image: string;
  script: string;
  env: EnvVar[];
}

function plan(r: DesiredResource, ctx: RenderContext): JobPlan {
  const s = r.settings;
  switch (r.providerType) {
    case 'postgres/Database': {
      const server = requireServer(r, ctx);
      const host = podHost(server.name, ctx, 5432);
      return {
        base: dnsLabel('encore-db-', r.name, 43),
        image: server.image,
        script: POSTGRES_SCRIPT,
        env: [
          { name: 'PGHOST', value: host.replace(/:\d+$/, '') },
          { name: 'PGPORT', value: '5432' },
          // The server's superuser (POSTGRES_USER of its StatefulSet) creates the role and the database.
          { ...envOf(server, 'POSTGRES_USER', r.id), name: 'PGUSER' },
          { ...envOf(server, 'POSTGRES_PASSWORD', r.id), name: 'PGPASSWORD' },
          { name: 'DATABASE', value: str(s, 'database', r.id) },
          { name: 'OWNER', value: str(s, 'owner', r.id) },
          { name: 'OWNER_PASSWORD', valueFrom: { secretKeyRef: { name: str(s, 'passwordSecret', r.id), key: 'password' } } },
        ],
      };
    }
    case 'nsq/Topic':
    case 'nsq/Channel': {
      const nsqd = nameFromId(str(s, 'nsqd', r.id), 'k8s:statefulset:');
      const call =
        r.providerType === 'nsq/Topic'
          ? `topic/create?topic=${r.name}`
          : `channel/create?topic=${nsqName(nameFromId(str(s, 'topic', r.id), 'nsq:topic:'))}&channel=${r.name}`;
      return {
        base: dnsLabel(r.providerType === 'nsq/Topic' ? 'encore-nsq-topic-' : 'encore-nsq-channel-', r.providerType === 'nsq/Topic' ? r.name : r.id.slice('nsq:channel:'.length), 43),
        image: CRON_IMAGE,
        script: NSQ_SCRIPT,
        env: [
          { name: 'NSQD', value: podHost(nsqd, ctx, NSQD_HTTP_PORT) },
          { name: 'CALL', value: call },
        ],
      };
    }
    case 'minio/Bucket': {
      const server = requireServer(r, ctx);
      return {
        base: dnsLabel('encore-bucket-', r.name, 43),
        // MinIO's server image carries its client, mc.
        image: server.image,
        script: MINIO_SCRIPT,
        env: [
          { name: 'HOST', value: podHost(server.name, ctx, 9000) },
          envOf(server, 'MINIO_ROOT_USER', r.id),
          envOf(server, 'MINIO_ROOT_PASSWORD', r.id),
          { name: 'BUCKET', value: r.name },
          { name: 'VERSIONING', value: String(s.versioning === true) },
          { name: 'ANONYMOUS_READ', value: String(s.anonymousRead === true) },
        ],
      };
    }
    default:
      throw new Error(`${r.id}: no Job creates a ${r.providerType}`);
  }
}

function requireServer(r: DesiredResource, ctx: RenderContext): ServerInfo {
  if (!ctx.server) throw new Error(`${r.id}: the server it lives in (${String(r.settings.server)}) must be known to render its Job`);
  return ctx.server;
}

/** The id of the StatefulSet a Job-made resource lives in, or null for NSQ (the Job only needs its name). */
export function serverIdOf(r: DesiredResource): string | null {
  return r.providerType === 'postgres/Database' || r.providerType === 'minio/Bucket' ? str(r.settings, 'server', r.id) : null;
}

export function renderJob(r: DesiredResource, ctx: RenderContext): KubeObject {
  const p = plan(r, ctx);
  const labels = { ...(meta(r, ctx).labels ?? {}) };
  const podSpec = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    containers: [{ name: 'create', image: p.image, command: ['sh', '-c', p.script], env: p.env }],
  };
  const name = `${p.base}-${sha256(stableJson(podSpec)).slice(0, 8)}`;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(r, ctx, { name, annotations: { [ANNOTATION.settings]: stableJson(r.settings) } }),
    spec: {
      backoffLimit: 6,
      // Waiting for the server counts against this: 15 minutes covers a slow image pull and a first initdb.
      activeDeadlineSeconds: 900,
      template: { metadata: { labels }, spec: podSpec },
    },
  };
}
