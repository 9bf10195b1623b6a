// A store in its own process, for the cross-process tests in envStoreConcurrency.test.ts. Usage:
//   race <appRoot> <name>          load, print "loaded", wait for "go" on stdin, create <name>, print "result <outcome>"
//   hang <appRoot> <step> <name>   create <name>, and freeze at the save step <step> after printing "at <step>"
//   loop <appRoot>                 create loop-0, loop-1, … for ever, printing "step <step> <i>" and "saved <i>"
import { createInterface } from 'node:readline';
import { ConflictError } from '../../src/environments/errors';
import { EnvStore, type SaveStep } from '../../src/environments/store';
import type { Environment } from '../../src/model/environment';

const [mode, appRoot, ...rest] = process.argv.slice(2);

const env = (name: string): Environment => ({
  name,
  type: 'development',
  deploy: { trigger: 'push', branch: name },
  provider: { kind: 'kubernetes', context: 'kind-dev' },
});

const say = (line: string) => process.stdout.write(`${line}\n`);

async function race(name: string): Promise<void> {
  const store = new EnvStore(appRoot);
  await store.load();
  const go = new Promise<void>((resolve) => createInterface({ input: process.stdin }).on('line', (l) => l === 'go' && resolve()));
  say('loaded');
  await go;
  try {
    await store.create(env(name));
    say('result saved');
  } catch (err) {
    say(err instanceof ConflictError ? 'result conflict' : `result error ${(err as Error).message}`);
  }
  process.exit(0);
}

async function hang(step: SaveStep, name: string): Promise<void> {
  setInterval(() => undefined, 60_000); // keeps the process alive while frozen, until the test kills it
  const store = new EnvStore(appRoot, {
    onStep: async (at) => {
      if (at !== step) return;
      say(`at ${at}`);
      await new Promise(() => undefined);
    },
  });
  await store.create(env(name));
  say('finished');
}

async function loop(): Promise<void> {
  let i = 0;
  // Tells the test where each save is, so it can aim its kill at the write itself.
  const store = new EnvStore(appRoot, { onStep: (step) => void say(`step ${step} ${i}`) });
  await store.load();
  for (; ; i++) {
    await store.create(env(`loop-${i}`));
    say(`saved ${i}`);
  }
}

const run = mode === 'race' ? race(rest[0]) : mode === 'hang' ? hang(rest[0] as SaveStep, rest[1]) : mode === 'loop' ? loop() : Promise.reject(new Error(`unknown mode ${mode}`));
run.catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
