// An apply of an app's environment through the provisioning session, in its own process, SIGKILLed at its n-th
// step "done" event, for the kill-and-rerun of localClusterApply.test.ts on the real local cluster.
// APPLY_CHILD='{"appRoot", "environment", "kubeconfig", "killAtDone"}'.
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import { EnvironmentSession } from '../../src/session';

export interface ApplyChildConfig {
  appRoot: string;
  environment: string;
  kubeconfig: string;
  killAtDone: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.APPLY_CHILD ?? '{}') as ApplyChildConfig;
  const session = await EnvironmentSession.open({
    appRoot: config.appRoot,
    environment: config.environment,
    model: () => new AppAnalyzer(config.appRoot).analyze(),
    provider: { kubeconfig: config.kubeconfig, timing: { pollIntervalMs: 250 } },
  });
  let done = 0;
  const { result } = await session.apply({
    onProgress: (e) => {
      if (e.phase === 'done' && ++done === config.killAtDone) process.kill(process.pid, 'SIGKILL');
    },
  });
  process.stdout.write(`result ${JSON.stringify({ outcome: result.outcome, done: result.done.length })}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stdout.write(`error ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
