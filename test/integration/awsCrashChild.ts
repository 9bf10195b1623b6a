// An apply of the sample app's AWS Production environment in its own process, for awsCrash.test.ts: the provider
// module as the CLI opens it (its AWS profile from the inherited AWS_CONFIG_FILE, moto behind the shim, the EKS
// cluster's API on the test kube-apiserver). AWS_CRASH_CHILD='{"appRoot", "killAt"}': it SIGKILLs itself at the
// killAt-th step "done" event.
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { apply } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';

export interface AwsCrashChildConfig {
  appRoot: string;
  killAt: number;
}

const repo = path.join(__dirname, '..', '..');

export function crashEnvironment(region: string): Environment {
  return { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region, profile: 'shop' } };
}

export function crashGraph(region: string) {
  return desiredGraph(new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze(), crashEnvironment(region), { appId: 'sample-app' });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.AWS_CRASH_CHILD ?? '{}') as AwsCrashChildConfig;
  const region = process.env.AWS_CRASH_REGION ?? 'eu-west-1';
  const opened = await (await providerModule('aws')).open(crashEnvironment(region), { appRoot: config.appRoot, timing: { pollIntervalMs: 30 } });
  let done = 0;
  const { result } = await apply(crashGraph(region), {
    backend: await opened.state(),
    driver: opened.driver,
    retry: { attempts: 2, baseDelayMs: 10 },
    onProgress: (e) => {
      if (e.phase === 'done' && ++done === config.killAt) process.kill(process.pid, 'SIGKILL');
    },
  });
  process.stdout.write(`result ${JSON.stringify({ outcome: result.outcome, done: result.done.length })}\n`);
  await opened.dispose();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stdout.write(`error ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
