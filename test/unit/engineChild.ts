// An apply or destroy in its own process, for the crash and lock tests. Usage:
//   engineChild.ts apply|destroy <appRoot>
// with ENGINE_CHILD='{"killAt": {"phase": "start"|"done"|"commit", "n": 3}, "latencyMs": {...}, "hang": ["id"], "concurrency": 2}'
// It persists the in-memory cloud in <appRoot>/cloud.json, prints "holding <holder json>" once it has the lock,
// "event <json>" per progress event, and "result <json>" or "error <code> <message>" at the end. With killAt, it
// SIGKILLs itself at that boundary: the n-th step start or done event, or right after the first state commit that
// records n finished steps (commits coalesce, so counting commits themselves would depend on timing).
import path from 'node:path';
import type { EnvState, StateBackend } from '../../src/model/state';
import { apply, destroy } from '../../src/provisioning/engine';
import { LocalFileBackend } from '../../src/provisioning/state';
import { MemoryCloud, MemoryDriver, type Op } from './engineCloud';
import { shopGraph } from './engineGraphs';

interface ChildConfig {
  killAt?: { phase: 'start' | 'done' | 'commit'; n: number };
  latencyMs?: Partial<Record<Op, number>>;
  hang?: string[];
  concurrency?: number;
}

const [mode, appRoot] = process.argv.slice(2);
const config = JSON.parse(process.env.ENGINE_CHILD ?? '{}') as ChildConfig;
const say = (line: string) => process.stdout.write(`${line}\n`);

const counts = { start: 0, done: 0 };
function boundary(phase: 'start' | 'done'): void {
  if (config.killAt?.phase === phase && ++counts[phase] === config.killAt.n) process.kill(process.pid, 'SIGKILL');
}

let initialRecords: number | undefined;
function committed(state: EnvState): void {
  const records = Object.keys(state.resources).length;
  initialRecords ??= records;
  const finished = mode === 'destroy' ? initialRecords - records : Object.values(state.resources).filter((r) => r.status === 'ready').length;
  if (config.killAt?.phase === 'commit' && finished >= config.killAt.n) process.kill(process.pid, 'SIGKILL');
}

async function main(): Promise<void> {
  const cloud = new MemoryCloud(path.join(appRoot, 'cloud.json'));
  cloud.latencyMs = config.latencyMs ?? {};
  for (const id of config.hang ?? []) cloud.hang.add(id);
  const local = LocalFileBackend.forApp(appRoot, 'dev');
  // The real backend, announcing when the lock is held so the parent knows when to race it.
  const backend: StateBackend = Object.assign(Object.create(local) as StateBackend, {
    acquireLock: async (who: Parameters<StateBackend['acquireLock']>[0]) => {
      const held = await local.acquireLock(who);
      say(`holding ${JSON.stringify(held.holder)}`);
      return held;
    },
  });
  const options = {
    backend, driver: new MemoryDriver(cloud), concurrency: config.concurrency ?? 2, confirm: 'dev', retry: { attempts: 2, baseDelayMs: 1 },
    onProgress: (e: { phase: string }) => {
      say(`event ${JSON.stringify(e)}`);
      if (e.phase === 'start' || e.phase === 'done') boundary(e.phase);
    },
    onState: committed,
  };
  try {
    const { result } = mode === 'destroy' ? await destroy('dev', 'kubernetes', options) : await apply(shopGraph(), options);
    say(`result ${JSON.stringify(result)}`);
  } catch (err) {
    say(`error ${(err as { code?: string }).code ?? 'none'} ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

void main();
