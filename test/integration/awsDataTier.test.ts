// The data tier of an AWS Production environment: the CA bundle an RDS instance's clients verify it with, the
// ElastiCache parameter group that carries the code's eviction policy, and destroying an RDS instance (src/provisioning/providers/aws/driver/rds.ts and the engine's typed confirmation):
// its deletion protection is lifted only inside a confirmed destroy, and it keeps a final snapshot unless the
// confirmation declines it ("<name> without snapshot"). The sample app's orders database, its notifications cache
// and the network under them go to moto through the real SDK clients and the shim, through the AWS provider module.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { DescribeCacheParametersCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredGraph, DesiredResource } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { isDriverError } from '../../src/model/providerApi';
import { apply, destroy, isEngineError, planChanges, planDestroy } from '../../src/provisioning/engine';
import { parameterGroupName } from '../../src/provisioning/providers/aws/driver/elasticache';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { rdsCaBundle } from '../../src/provisioning/providers/aws/rdsCa';
import { LocalFileBackend } from '../../src/provisioning/state/localFile';
import { TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { deployer } from '../aws/sampleEnvironment';

const repo = path.join(__dirname, '..', '..');
const sample = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
const env: Environment = { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } };
const full = desiredGraph(sample, env, { appId: 'sample-app' });

/** These resources and everything they depend on (network, subnets, security groups): no cluster. */
function subgraph(...ids: string[]): DesiredGraph {
  const byId = new Map(full.resources.map((r) => [r.id, r]));
  const keep = new Set<string>();
  const visit = (r: DesiredResource) => {
    if (keep.has(r.id)) return;
    keep.add(r.id);
    for (const d of r.dependsOn) visit(byId.get(d)!);
  };
  for (const id of ids) visit(byId.get(id)!);
  return { ...full, resources: full.resources.filter((r) => keep.has(r.id)) };
}

const graph = subgraph('aws:rds:orders', 'aws:elasticache:notifications');
const CACHE = graph.resources.find((r) => r.id === 'aws:elasticache:notifications')!;
const ORDERS = graph.resources.find((r) => r.id === 'aws:rds:orders')!.name;
let bed: AwsTestbed;
let dir: string;
const secrets = new Map<string, { secretAccessKey: string }>();

before(async () => {
  bed = await startAwsTestbed();
  dir = mkdtempSync(path.join(os.tmpdir(), 'aws-destroy-'));
});
afterEach(async () => bed.afterEach());
after(async () => {
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the CA bundle and the cache parameters are in place; deletion protection is lifted only inside a confirmed destroy; "prod without snapshot" declines the final snapshot', { timeout: 300_000 }, async () => {
  const me = await deployer(bed, secrets);
  const rds = new RDSClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials });
  const opened = await (await providerModule('aws')).open(env, { appRoot: dir, timing: { pollIntervalMs: 30, deleteTimeoutMs: 60_000 } });
  const backend = new LocalFileBackend(path.join(dir, 'state'), 'prod');
  const retry = { attempts: 2, baseDelayMs: 10 };
  try {
    assert.ok(graph.resources.every((r) => r.providerType.startsWith('AWS::')), 'only AWS resources: no cluster is needed');
    const applied = await apply(graph, { backend, driver: opened.driver, retry });
    assert.equal(applied.result.outcome, 'succeeded', JSON.stringify(applied.result.failed, null, 2));
    const instance = async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: ORDERS }))).DBInstances?.[0];
    assert.equal((await instance())?.DeletionProtection, true);

    // The infra config's tls_config.ca: the PEM of the CA the instance names, in its region, not only the CA's id.
    const live = await opened.driver.read(graph.resources.find((r) => r.id === 'aws:rds:orders')!, new AbortController().signal);
    const caId = (await instance())?.CACertificateIdentifier;
    assert.equal(live?.outputs.caCertificateId?.value, caId);
    const pem = String(live?.outputs.caCertificate?.value);
    assert.equal(pem, await rdsCaBundle(TEST_REGION, caId));
    const first = new X509Certificate(pem);
    assert.match(first.subject, new RegExp(`CN=Amazon RDS ${TEST_REGION} `), `a certificate of the instance's region (CA ${caId})`);

    // The cache's own parameter group: the eviction policy from the code and the memory Redis keeps for itself.
    const ec = new ElastiCacheClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: me.credentials });
    const group = parameterGroupName(CACHE.name);
    const values = (await ec.send(new DescribeCacheParametersCommand({ CacheParameterGroupName: group, Source: 'user' }))).Parameters ?? [];
    assert.deepEqual(Object.fromEntries(values.map((p) => [p.ParameterName, p.ParameterValue])), { 'maxmemory-policy': sample.caches.find((c) => c.name === 'notifications')!.evictionPolicy, 'reserved-memory-percent': '10' });
    assert.deepEqual([...(bed.shim.elastiCache.parameterGroup(TEST_REGION, group)?.usedBy ?? [])], [CACHE.name], 'the replication group was created with it');
    assert.equal(bed.shim.elastiCache.parameterGroup(TEST_REGION, group)?.family, 'redis7');
    const again = await planChanges(graph, await backend.load(), opened.driver);
    assert.deepEqual(again.entries.filter((e) => e.action !== 'keep').map((e) => `${e.id}: ${JSON.stringify(e.changes)}`), [], 'a re-plan reads the parameters back and changes nothing');

    // The destroy plan names the database that keeps a final snapshot, for the confirmation to offer declining it.
    const plan = await planDestroy('prod', 'aws', await backend.load(), opened.driver);
    assert.deepEqual(plan.finalSnapshots, ['aws:rds:orders']);

    // A destroy without the typed name, or with another one, changes nothing.
    for (const confirm of [undefined, 'production', 'prod  without', 'prod without snapshots']) {
      await assert.rejects(destroy('prod', 'aws', { backend, driver: opened.driver, retry, ...(confirm !== undefined && { confirm }) }), (err) => {
        assert.ok(isEngineError(err) && err.code === 'confirmation-required', String(err));
        assert.match(err.message, /"prod without snapshot" deletes them without one/);
        return true;
      });
    }
    assert.equal((await instance())?.DeletionProtection, true, 'still protected');

    // A delete outside a confirmed destroy (no confirmation in the step) leaves the protection and the instance.
    const rec = (await backend.load()).state!.resources['aws:rds:orders']!.resource;
    const progress: string[] = [];
    await assert.rejects(opened.driver.delete(rec, { signal: new AbortController().signal, progress: (m) => progress.push(m) }), (err) => {
      assert.ok(isDriverError(err) && err.code === 'conflict', String(err));
      assert.match(err.message, /deletion protection, which is lifted only inside a confirmed destroy/);
      return true;
    });
    assert.equal((await instance())?.DeletionProtection, true);
    assert.equal((await instance())?.DBInstanceStatus, 'available');

    // The confirmed destroy that declines the snapshot: the protection lifted, the instance gone, no final snapshot.
    const events: string[] = [];
    const gone = await destroy('prod', 'aws', { backend, driver: opened.driver, retry, confirm: ' prod   without snapshot ', onProgress: (e) => events.push(e.message) });
    assert.equal(gone.result.outcome, 'succeeded', JSON.stringify(gone.result.failed, null, 2));
    assert.ok(events.some((m) => /lifting the deletion protection of .* \(confirmed destroy\)/.test(m)), events.join('\n'));
    assert.ok(events.some((m) => /without a final snapshot \(the confirmation declined it\)/.test(m)), events.join('\n'));
    assert.deepEqual((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [], []);
    assert.deepEqual(((await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier), [], 'no final snapshot');
    await assert.rejects(ec.send(new DescribeCacheParametersCommand({ CacheParameterGroupName: group, Source: 'user' })), { name: 'CacheParameterGroupNotFoundFault' });
    ec.destroy();
  } finally {
    rds.destroy();
    await opened.dispose();
  }
});
