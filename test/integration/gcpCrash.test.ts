// Crash safety on GCP: an apply of the sample app's GCP Production environment, in its own process, SIGKILLed at a
// spread of step boundaries of the whole apply one after the other (a run is killed once the steps its state records
// plus its own reach the boundary; each next run finds the dead holder's lock, breaks it without force since its
// process is gone, and continues from state), then run to the end. Afterwards the fakes hold exactly one
// of everything, a further apply changes nothing, and destroy leaves no orphan.
// ENCORE_CRASH_ALL=1 kills it at every boundary in turn (N/N), which takes minutes.
import '../gcp/tls';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isStateError } from '../../src/model/state';
import { apply, destroy, unlock } from '../../src/provisioning/engine';
import { providerModule } from '../../src/provisioning/providers';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { playLoadBalancers } from '../aws/sampleEnvironment';
import { TEST_PROJECT, TEST_REGION } from '../gcp/harness';
import { startGcpEnvironmentBed, type GcpEnvironmentBed } from '../gcp/sampleEnvironment';
import { crashEnvironment, crashGraph, type GcpCrashChildConfig } from './gcpCrashChild';
import { simulateControllers } from './kubeControllers';

const repo = path.join(__dirname, '..', '..');
const graph = crashGraph(TEST_PROJECT, TEST_REGION);
const env = crashEnvironment(TEST_PROJECT, TEST_REGION);

let world: GcpEnvironmentBed;
let dir: string;

before(async () => {
  // An operation a killed run started finishes on its own, as on Google Cloud, though no one polls it.
  world = await startGcpEnvironmentBed({ operationDeadlineMs: 1000 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'gcp-crash-'));
});
after(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runChild(config: GcpCrashChildConfig): Promise<{ exit: NodeJS.Signals | number | null; pid: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'gcpCrashChild.ts')], {
    cwd: repo,
    env: { ...process.env, GCP_CRASH_CHILD: JSON.stringify(config), GCP_CRASH_PROJECT: TEST_PROJECT, GCP_CRASH_REGION: TEST_REGION },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ exit: signal ?? code, pid: child.pid!, output })));
}

test('a GCP apply SIGKILLed at step boundaries, one run after another, converges with no duplicate and no orphan', { timeout: 1_800_000 }, async (t) => {
  const steps = graph.resources.length;
  const kills = process.env.ENCORE_CRASH_ALL === '1' ? Array.from({ length: steps - 1 }, (_, i) => i + 1) : [1, 3, 6, 10, 15, 21, 28, 36, 45];
  const admin = KubeClient.fromKubeConfig(world.kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, 'prod');
  const lbs = playLoadBalancers(admin, 'prod');
  const opened = await (await providerModule('gcp')).open(env, { appRoot: dir, timing: { pollIntervalMs: 20 } });
  const reports: string[] = [];
  let killed = 0;
  try {
    const backend = await opened.state();
    for (const n of kills) {
      const child = await runChild({ appRoot: dir, killAt: n });
      if (child.exit !== 'SIGKILL') {
        assert.match(child.output, /result \{"outcome":"succeeded"/, `run before kill ${n}: ${child.output.slice(-1500)}`);
        assert.doesNotMatch(child.output, /still open after dispose/, 'a finished apply leaves nothing open');
        reports.push(`kill ${n}: the run finished first`);
        break;
      }
      killed += 1;
      const refused = await apply(graph, { backend, driver: opened.driver }).then(() => null, (err: unknown) => err);
      assert.ok(isStateError(refused) && refused.code === 'locked', `after kill ${n}: expected the dead child's lock, got ${String(refused)}`);
      const { broken } = await unlock(backend);
      assert.equal(broken?.pid, child.pid, 'the dead holder\'s lock is broken without force');
      const { state } = await backend.load();
      reports.push(`kill ${n}: ${Object.values(state?.resources ?? {}).filter((r) => r.status === 'ready').length} ready`);
    }
    const last = await apply(graph, { backend, driver: opened.driver, retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(last.result.outcome, 'succeeded', `${reports.join('; ')}\n${JSON.stringify(last.result.failed, null, 2)}`);
    const again = await apply(graph, { backend, driver: opened.driver });
    assert.deepEqual(again.plan.counts, { create: 0, update: 0, delete: 0, keep: steps }, 'a further apply changes nothing');

    // Exactly one of everything: no duplicate made by a run that did not live to record it.
    const count = (type: string) => graph.resources.filter((r) => r.providerType === type).length;
    assert.equal(world.compute.networks.size, 1, 'one network');
    assert.equal(world.compute.subnetworks.size, 1, 'one subnet');
    assert.equal(world.compute.addresses.size, 1, 'one private services range');
    assert.equal(world.compute.connections.size, 1, 'one peering');
    assert.equal(world.gke.clusters.size, 1, 'one cluster');
    assert.equal((([...world.gke.clusters.values()][0]!.nodePools) as unknown[]).length, 1, 'one node pool');
    assert.equal(world.sql.instances.size, count('sqladmin.googleapis.com/Instance'));
    assert.equal(world.redis.instances.size, count('redis.googleapis.com/Instance'));
    assert.equal(world.iam.accounts.size, count('iam.googleapis.com/ServiceAccount'));
    assert.equal(world.registry.repositories.size, 1);
    // App secrets, and the driver's own (each Cloud SQL instance's administrator password).
    assert.equal(world.secrets.secrets.size, count('secretmanager.googleapis.com/Secret') + count('sqladmin.googleapis.com/Instance'));

    const gone = await destroy('prod', 'gcp', { backend, driver: opened.driver, confirm: 'prod', retry: { attempts: 2, baseDelayMs: 10 } });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    for (const [what, size] of [
      ['networks', world.compute.networks.size], ['clusters', world.gke.clusters.size], ['Cloud SQL instances', world.sql.instances.size],
      ['Memorystore instances', world.redis.instances.size], ['service accounts', world.iam.accounts.size], ['secrets', world.secrets.secrets.size],
      ['repositories', world.registry.repositories.size],
    ] as const) assert.equal(size, 0, `no ${what} left`);
    t.diagnostic(`fake-gcs-server gap: bucket labels (the mark a re-run recognises its bucket by) kept by the test proxy in ${world.gcsIam.restored} answers`);
    t.diagnostic(`crash safety on GCP: ${killed}/${kills.length} kills landed in applies of ${steps} steps, then converged (${reports.join('; ')})`);
  } finally {
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
});
