// Secret outputs never land in state, the journal, progress events or plans.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DriverError } from '../../src/model/providerApi';
import { planChanges } from '../../src/provisioning/engine';
import { scratch, shopGraph } from './engineGraphs';

/** Every file of the state folder, concatenated. */
function stateFiles(dir: string): string {
  return readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
}

test('a generated password reaches the resource that embeds it, but not state, journal, events or plans', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    const { plan, result } = await s.apply(g);
    assert.equal(result.outcome, 'succeeded');
    const password = s.cloud.get('mem/secret', 'db-password')?.secrets.password ?? '';
    assert.equal(password.length, 24);
    assert.ok(String(s.cloud.get('mem/infraConfig', 'config')?.settings.dsn).includes(password), 'the driver got the real value');

    // Change something so a second run reads the secret back live, then plan again with live reads.
    const changed = shopGraph('dev', (r) => (r.id === 'config' ? { ...r, settings: { ...r.settings, poolSize: 3 } } : r));
    const second = await s.apply(changed);
    const livePlan = await planChanges(changed, await s.backend.load(), s.driver);

    const files = stateFiles(s.backend.directory);
    assert.ok(files.length > 1000);
    for (const [what, text] of [
      ['state folder', files],
      ['progress events', JSON.stringify(s.events)],
      ['plans', JSON.stringify([plan, second.plan, livePlan])],
      ['results', JSON.stringify([result, second.result])],
    ]) {
      assert.ok(!text.includes(password), `the password leaked into the ${what}`);
    }

    const { state } = await s.backend.load();
    assert.deepEqual(state?.resources['db-password'].secretOutputs, ['password']);
    assert.deepEqual(Object.keys(state?.resources['db-password'].outputs ?? {}).sort(), ['host', 'uid']);
    assert.equal(state?.resources.config.resource.settings.dsn, 'postgres://orders:${db-password.password}@db-server.internal:5432/orders');
  } finally {
    s.done();
  }
});

test('a driver error that quotes a secret is redacted before it is recorded or shown', async () => {
  const s = scratch();
  try {
    const g = shopGraph();
    await s.apply(g);
    const password = s.cloud.get('mem/secret', 'db-password')?.secrets.password ?? '';
    const changed = shopGraph('dev', (r) => (r.id === 'config' ? { ...r, settings: { ...r.settings, poolSize: 3 } } : r));
    s.cloud.failOn('config', 'update', () => new DriverError('invalid', `admission webhook refused dsn postgres://orders:${password}@db-server`), 1);
    const { result } = await s.apply(changed);
    assert.equal(result.outcome, 'failed');
    assert.match(result.failed[0].error, /refused dsn postgres:\/\/orders:\*\*\*@db-server/);
    assert.ok(!stateFiles(s.backend.directory).includes(password));
    assert.ok(!JSON.stringify(s.events).includes(password));
    assert.ok(!JSON.stringify(result).includes(password));
  } finally {
    s.done();
  }
});
