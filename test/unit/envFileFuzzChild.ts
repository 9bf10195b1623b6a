// The process that runs the environments store for the fuzz test (envFileFuzz.test.ts), so a hang can be stopped
// by killing it. `read` runs every read path over the app's file; `save` adds an environment through a fresh store.
import { EnvStoreError } from '../../src/environments/errors';
import type { FileProblem } from '../../src/environments/problems';
import { readEnvironments } from '../../src/environments/readEnvironments';
import { EnvStore } from '../../src/environments/store';
import type { Environment } from '../../src/model/environment';

export type EnvFuzzRequest = { id: number; op: 'read'; root: string } | { id: number; op: 'save'; root: string; name: string };

export type EnvFuzzReply =
  | { id: number; op: 'read'; ms: number; ok: boolean; environments: number; errors: FileProblem[]; readKind: string; thrown?: string }
  | { id: number; op: 'save'; ms: number; outcome: string; environments?: Environment[]; thrown?: string };

const added = (name: string): Environment => ({ name, type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'fuzz' } });

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

async function handle(request: EnvFuzzRequest): Promise<DistributiveOmit<EnvFuzzReply, 'id' | 'ms'>> {
  if (request.op === 'read') {
    const loaded = await new EnvStore(request.root).load();
    const read = await readEnvironments(request.root);
    const ok = loaded.ok;
    // The two read paths must agree.
    if ((read.kind === 'invalid') === ok) throw new Error(`EnvStore.load says ok=${ok}, readEnvironments says ${read.kind}`);
    return { op: 'read', ok, environments: loaded.ok ? loaded.environments.length : 0, errors: loaded.ok ? [] : loaded.errors, readKind: read.kind };
  }
  const store = new EnvStore(request.root);
  try {
    await store.create(added(request.name));
  } catch (err) {
    if (err instanceof EnvStoreError) return { op: 'save', outcome: `refused:${err.code}` };
    throw err;
  }
  const after = await new EnvStore(request.root).load();
  return { op: 'save', outcome: after.ok ? 'saved' : `saved but reads back as invalid: ${after.errors[0]?.message}`, environments: after.ok ? after.environments : undefined };
}

process.on('message', (request: EnvFuzzRequest) => {
  const start = performance.now();
  handle(request).then(
    (reply) => process.send?.({ ...reply, id: request.id, ms: performance.now() - start }),
    (err: unknown) => process.send?.({ op: request.op, id: request.id, ms: performance.now() - start, ok: false, environments: 0, errors: [], readKind: '', outcome: '', thrown: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
