/**
 * What is created inside a server the environment runs (planner: `postgres/Database`, `nsq/Topic`, `nsq/Channel`,
 * `minio/Bucket`): a Kubernetes Job per resource that waits for the server, then creates the object idempotently
 * (CREATE DATABASE only when missing, nsqd's create calls, `mc mb --ignore-existing`). The engine applies it after
 * the server's StatefulSet is ready (the graph's dependsOn), and waitReady waits for the Job to succeed. Where it
 * connects, as whom, and with which image are the planner's settings (`job`).
 *
 * A Job's pod template cannot change, so the Job's name ends in a hash of its template: a changed setting makes a
 * new Job (the driver deletes the old ones), an unchanged one re-applies as a no-op. The settings the Job was made
 * from are kept in an annotation; they hold names and flags only, never a secret.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { ANNOTATION, meta, num, obj, sha256, stableJson, str, type EnvVar, type RenderContext } from './common';

export const JOB_TYPES = ['postgres/Database', 'nsq/Topic', 'nsq/Channel', 'minio/Bucket'] as const;

const POSTGRES_SCRIPT = `set -eu
until pg_isready -q -d postgres; do echo "waiting for $PGHOST"; sleep 2; done
psql -v ON_ERROR_STOP=1 -d postgres -v db="$DATABASE" -v owner="$OWNER" -v pw="$OWNER_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'owner', :'pw') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner')\\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\\gexec
SQL
echo "database $DATABASE is there"
[ -z "$MIGRATIONS" ] && exit 0
# The migrations, as the database's owner, each in one transaction with its version: the table is
# golang-migrate's (one row, the last version applied, and whether it failed halfway), as Encore's tools keep it.
export PGUSER="$OWNER" PGPASSWORD="$OWNER_PASSWORD" PGDATABASE="$DATABASE"
psql -v ON_ERROR_STOP=1 -qc 'CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)'
if [ "$(psql -tAc 'SELECT count(*) FROM schema_migrations WHERE dirty')" != 0 ]; then
  echo "schema_migrations of $DATABASE is marked dirty: a migration failed halfway; fix the database by hand, then set dirty to false"; exit 1
fi
current=$(psql -tAc 'SELECT coalesce(max(version), 0) FROM schema_migrations')
for v in $MIGRATIONS; do
  [ "$v" -le "$current" ] && continue
  eval "sql=\\\${MIGRATION_$v}"
  echo "applying migration $v to $DATABASE"
  printf '%s\\n' "$sql" | psql -v ON_ERROR_STOP=1 -q -1 -f - -c 'DELETE FROM schema_migrations' -c "INSERT INTO schema_migrations (version, dirty) VALUES ($v, false)"
done
echo "database $DATABASE is at migration $(psql -tAc 'SELECT coalesce(max(version), 0) FROM schema_migrations')"`;

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

interface JobPlan {
  base: string;
  image: string;
  script: string;
  env: EnvVar[];
}

/** A `{name, key}` reference to a key of a Kubernetes Secret, as the planner writes it. */
function secretKeyRef(settings: JsonObject, key: string, id: string): EnvVar['valueFrom'] {
  const ref = obj(settings, key, id);
  return { secretKeyRef: { name: str(ref, 'name', id), key: str(ref, 'key', id) } };
}

/** The migrations as environment variables: their versions in order, and each one's SQL (planner: migrationsToApply). */
function migrationEnv(job: JsonObject, id: string): EnvVar[] {
  const list = Array.isArray(job.migrations) ? (job.migrations as JsonObject[]) : [];
  const versions = list.map((m) => {
    const v = num(m, 'version', id);
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${id}: migration version ${v} is not a whole number`);
    return v;
  });
  return [{ name: 'MIGRATIONS', value: versions.join(' ') }, ...list.map((m, i) => ({ name: `MIGRATION_${versions[i]}`, value: str(m, 'sql', id) }))];
}

function plan(r: DesiredResource): JobPlan {
  const s = r.settings;
  const job = obj(s, 'job', r.id);
  const base = str(job, 'name', r.id);
  const image = str(job, 'image', r.id);
  switch (r.providerType) {
    case 'postgres/Database': {
      const admin = obj(job, 'admin', r.id);
      return {
        base,
        image,
        script: POSTGRES_SCRIPT,
        env: [
          { name: 'PGHOST', value: str(job, 'host', r.id) },
          { name: 'PGPORT', value: String(num(job, 'port', r.id)) },
          // The server's administrator creates the role and the database.
          { name: 'PGUSER', value: str(admin, 'user', r.id) },
          { name: 'PGPASSWORD', valueFrom: secretKeyRef(admin, 'passwordSecret', r.id) },
          { name: 'DATABASE', value: str(s, 'database', r.id) },
          { name: 'OWNER', value: str(s, 'owner', r.id) },
          { name: 'OWNER_PASSWORD', valueFrom: { secretKeyRef: { name: str(s, 'passwordSecret', r.id), key: 'password' } } },
          ...migrationEnv(job, r.id),
        ],
      };
    }
    case 'nsq/Topic':
    case 'nsq/Channel': {
      const call = r.providerType === 'nsq/Topic' ? `topic/create?topic=${r.name}` : `channel/create?topic=${str(s, 'topicName', r.id)}&channel=${r.name}`;
      return {
        base,
        image,
        script: NSQ_SCRIPT,
        env: [
          { name: 'NSQD', value: str(job, 'nsqdHttp', r.id) },
          { name: 'CALL', value: call },
        ],
      };
    }
    case 'minio/Bucket':
      return {
        base,
        image,
        script: MINIO_SCRIPT,
        env: [
          { name: 'HOST', value: str(job, 'endpoint', r.id) },
          { name: 'MINIO_ROOT_USER', value: str(job, 'rootUser', r.id) },
          { name: 'MINIO_ROOT_PASSWORD', valueFrom: secretKeyRef(job, 'rootPasswordSecret', r.id) },
          { name: 'BUCKET', value: r.name },
          { name: 'VERSIONING', value: String(s.versioning === true) },
          { name: 'ANONYMOUS_READ', value: String(s.anonymousRead === true) },
        ],
      };
    default:
      throw new Error(`${r.id}: no Job creates a ${r.providerType}`);
  }
}

export function renderJob(r: DesiredResource, ctx: RenderContext): KubeObject {
  const p = plan(r);
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
