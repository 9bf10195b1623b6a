// The driver conformance suite: what every ProviderDriver must do (src/model/providerApi.ts), written once and run
// against each driver (the in-memory test cloud, the Kubernetes driver on the real kube-apiserver; the AWS and GCP
// drivers against their emulators): create, read, update, delete, adopt an object made outside the tool, idempotent
// re-apply, not-found on a read of a deleted object, a transient failure reported as such and retried by the
// engine's policy, cancellation honoured.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DesiredResource } from '../../src/model/desiredGraph';
import { isDriverError, type ProviderDriver, type ResolvedResource, type StepContext } from '../../src/model/providerApi';
import { withRetry } from '../../src/provisioning/engine/retry';

export interface ConformanceTarget {
  /** Names the suite: "the Kubernetes driver on the real kube-apiserver". */
  name: string;
  /** Starts what the driver talks to (once for the suite). */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  /** A fresh driver. */
  driver(): Promise<ProviderDriver>;
  /**
   * A resource the driver handles, in a place of its own for each call (a fresh name), and the same resource with
   * a setting changed that the driver applies and reads back.
   */
  resource(): Promise<{ resource: DesiredResource; changed: DesiredResource }>;
  /** Makes the resource's object the way someone else would: outside the tool, without its mark. */
  createOutside(resource: DesiredResource): Promise<void>;
  /** The next `times` calls to the provider fail as it fails transiently (a 500, throttling); returns undo. */
  failTransiently(times: number): () => void;
  /** Calls to the provider hang unanswered until undone. */
  hang(): () => void;
}

const resolved = (r: DesiredResource): ResolvedResource => ({ ...r, resolved: r.settings });
const never = () => new AbortController().signal;

function step(signal = never()): StepContext {
  return { signal, progress: () => undefined };
}

export function driverConformance(target: ConformanceTarget): void {
  describe(`driver conformance: ${target.name}`, () => {
    before(async () => target.setup?.());
    after(async () => target.teardown?.());

    test('create gives outputs; read finds the object as its own, ready, with nothing to change', async () => {
      const driver = await target.driver();
      const { resource } = await target.resource();
      assert.ok(driver.supports(resource.providerType));
      await driver.preflight(never());
      const outputs = await driver.create(resolved(resource), step());
      assert.equal(typeof outputs, 'object');
      await driver.waitReady(resolved(resource), step());
      const live = await driver.read(resource, never());
      assert.ok(live, 'read finds what create made');
      assert.equal(typeof live.externalId, 'string');
      assert.ok(live.externalId.length > 0);
      assert.equal(live.ours, true, 'an object the driver made carries its mark');
      assert.equal(live.status.state, 'ready');
      assert.deepEqual(driver.diff(resolved(resource), live), []);
      await driver.dispose?.();
    });

    test('a re-apply is idempotent: the same object, still nothing to change', async () => {
      const driver = await target.driver();
      const { resource } = await target.resource();
      await driver.create(resolved(resource), step());
      const first = await driver.read(resource, never());
      await driver.create(resolved(resource), step());
      await driver.update(resolved(resource), step());
      const again = await driver.read(resource, never());
      assert.equal(again?.externalId, first?.externalId, 'not made again');
      assert.deepEqual(driver.diff(resolved(resource), again!), []);
      await driver.dispose?.();
    });

    test('update brings the object to the changed settings, and diff says what differs', async () => {
      const driver = await target.driver();
      const { resource, changed } = await target.resource();
      await driver.create(resolved(resource), step());
      const before = await driver.read(resource, never());
      assert.ok(driver.diff(resolved(changed), before!).length > 0, 'the change is seen before the update');
      await driver.update(resolved(changed), step());
      await driver.waitReady(resolved(changed), step());
      const after = await driver.read(changed, never());
      assert.equal(after?.externalId, before?.externalId, 'updated in place');
      assert.deepEqual(driver.diff(resolved(changed), after!), []);
      assert.ok(driver.diff(resolved(resource), after!).length > 0);
      await driver.dispose?.();
    });

    test('an object made outside the tool reads as foreign, and create adopts that very object', async () => {
      const driver = await target.driver();
      const { resource } = await target.resource();
      await target.createOutside(resource);
      const foreign = await driver.read(resource, never());
      assert.ok(foreign, 'read finds the object made outside the tool');
      assert.equal(foreign.ours, false, 'it does not carry the mark');
      await driver.create(resolved(resource), step());
      const adopted = await driver.read(resource, never());
      assert.equal(adopted?.externalId, foreign.externalId, 'adopted, not replaced');
      assert.deepEqual(driver.diff(resolved(resource), adopted!), [], 'brought to the settings');
      await driver.dispose?.();
    });

    test('delete removes the object: read then finds nothing, and a second delete succeeds', async () => {
      const driver = await target.driver();
      const { resource } = await target.resource();
      assert.equal(await driver.read(resource, never()), null, 'nothing before create');
      await driver.create(resolved(resource), step());
      await driver.delete(resource, step());
      assert.equal(await driver.read(resource, never()), null, 'not found once deleted');
      await driver.delete(resource, step());
      await driver.dispose?.();
    });

    test('a transient failure is reported as transient, and the engine retries it to success', async () => {
      const driver = await target.driver();
      const { resource } = await target.resource();
      await driver.create(resolved(resource), step());
      const undo = target.failTransiently(1);
      try {
        await assert.rejects(driver.read(resource, never()), (err) => isDriverError(err) && err.code === 'transient');
      } finally {
        undo();
      }
      const retried: string[] = [];
      const undoAgain = target.failTransiently(2);
      try {
        const live = await withRetry(() => driver.read(resource, never()), { attempts: 4, baseDelayMs: 1 }, never(), (err) => retried.push(err.message));
        assert.ok(live);
        assert.equal(retried.length, 2, 'two failures, then the call went through');
      } finally {
        undoAgain();
      }
      await driver.dispose?.();
    });

    test('cancellation is honoured: a call that hangs ends with an AbortError soon after the signal', async () => {
      const driver = await target.driver();
      const { resource } = await target.resource();
      const controller = new AbortController();
      const undo = target.hang();
      try {
        const started = Date.now();
        setTimeout(() => controller.abort(new Error('cancelled by the test')), 200).unref();
        await assert.rejects(driver.create(resolved(resource), step(controller.signal)), (err: Error) => err.name === 'AbortError' || controller.signal.reason === err || /cancelled by the test/.test(err.message));
        assert.ok(Date.now() - started < 5000, `ended ${Date.now() - started} ms after the start`);
      } finally {
        undo();
      }
      await driver.dispose?.();
    });
  });
}
