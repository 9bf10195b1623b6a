// Desired graphs and a scratch setup for the engine's tests.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DesiredGraph, DesiredResource, JsonObject, ResourceKind } from '../../src/model/desiredGraph';
import type { ProgressEvent } from '../../src/model/plan';
import { apply, destroy, type RunOptions } from '../../src/provisioning/engine';
import { LocalFileBackend } from '../../src/provisioning/state';
import { MemoryCloud, MemoryDriver } from './engineCloud';

export function res(id: string, dependsOn: string[] = [], extra: Partial<DesiredResource> = {}): DesiredResource {
  const kind: ResourceKind = extra.kind ?? 'deployment';
  return {
    id, kind, providerType: `mem/${kind}`, name: id.replace(/[^a-z0-9-]/gi, '-'), source: null, settings: { replicas: 1 },
    dependsOn, stateful: false, summary: `${id} (${kind})`, ...extra,
  };
}

export function graph(resources: DesiredResource[], environment = 'dev'): DesiredGraph {
  return { environment, provider: 'kubernetes', type: 'development', namespace: environment, resources, warnings: [] };
}

/**
 * A small environment with every shape the engine cares about: a generated secret whose value another resource
 * embeds (a DSN), outputs referenced across resources, stateful volume, database and bucket, and a fan-in.
 */
export function shopGraph(environment = 'dev', tweak: (r: DesiredResource) => DesiredResource = (r) => r): DesiredGraph {
  const settings = (s: JsonObject) => ({ settings: s });
  return graph(
    [
      res('ns', [], { kind: 'namespace', ...settings({ labels: { env: environment } }) }),
      res('db-password', ['ns'], { kind: 'secret', ...settings({ keys: { password: { generate: 'password', length: 32 } } }) }),
      res('db-volume', ['ns'], { kind: 'pvc', stateful: true, ...settings({ storageGiB: 10 }) }),
      res('db-server', ['ns', 'db-volume', 'db-password'], { kind: 'statefulSet', ...settings({ image: 'postgres:16', replicas: 1 }) }),
      res('db-orders', ['db-server', 'db-password'], { kind: 'database', stateful: true, ...settings({ server: 'db-server', database: 'orders' }) }),
      res('bucket', ['ns'], { kind: 'bucket', stateful: true, ...settings({ versioning: true }) }),
      res('config', ['ns', 'db-orders', 'db-password', 'db-server', 'bucket'], {
        kind: 'infraConfig',
        ...settings({ dsn: 'postgres://orders:${db-password.password}@${db-server.host}:5432/orders', bucketHost: '${bucket.host}', serverUid: '${db-server.uid}' }),
      }),
      res('orders', ['ns', 'config'], { ...settings({ image: 'orders:1', replicas: 1, configUid: '${config.uid}' }) }),
      res('users', ['ns', 'config'], { ...settings({ image: 'users:1', replicas: 1 }) }),
    ].map(tweak),
    environment,
  );
}

export interface Scratch {
  dir: string;
  cloud: MemoryCloud;
  driver: MemoryDriver;
  backend: LocalFileBackend;
  events: ProgressEvent[];
  options(extra?: Partial<RunOptions>): RunOptions;
  apply(g: DesiredGraph, extra?: Partial<RunOptions>): ReturnType<typeof apply>;
  destroy(environment: string, extra?: Partial<RunOptions>): ReturnType<typeof destroy>;
  done(): void;
}

/** A temp app root with a local state backend and a fresh in-memory cloud (persisted when `persist`). */
export function scratch(environment = 'dev', persist = false): Scratch {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-'));
  const cloud = new MemoryCloud(persist ? path.join(dir, 'cloud.json') : undefined);
  const driver = new MemoryDriver(cloud);
  const backend = LocalFileBackend.forApp(dir, environment);
  const events: ProgressEvent[] = [];
  const options = (extra: Partial<RunOptions> = {}): RunOptions => ({
    backend, driver, retry: { attempts: 3, baseDelayMs: 1 }, onProgress: (e) => events.push(e), ...extra,
  });
  return {
    dir, cloud, driver, backend, events, options,
    apply: (g, extra) => apply(g, options(extra)),
    destroy: (env, extra) => destroy(env, 'kubernetes', options(extra)),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The cloud holds exactly the graph's objects, one each: no duplicate, no orphan. */
export function cloudMatches(cloud: MemoryCloud, g: DesiredGraph): boolean {
  const want = g.resources.map((r) => `${r.providerType}|${r.name}`).sort();
  const have = cloud.objects().map((o) => `${o.providerType}|${o.name}`).sort();
  return JSON.stringify(want) === JSON.stringify(have);
}
