// An apply of the sample app in its own process, against the test kube-apiserver, through the Kubernetes driver and
// the Secret + Lease state backend, for kubeCrash.test.ts. CRASH_CHILD='{"kubeconfig", "namespace", "killAt"}':
// it SIGKILLs itself at the n-th step "done" event, or right after the first state commit that records n ready
// resources (commits coalesce, so counting commits themselves would depend on timing).
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import type { EnvState } from '../../src/model/state';
import { apply } from '../../src/provisioning/engine';
import { plan } from '../../src/provisioning/planner';
import { kubernetesStateBackend } from '../../src/provisioning/providers/kubernetes/driver';
import { kubeDriver } from '../kube/harness';

export interface CrashChildConfig {
  kubeconfig: string;
  namespace: string;
  killAt: { phase: 'done' | 'commit'; n: number };
}

const repo = path.join(__dirname, '..', '..');
const config = JSON.parse(process.env.CRASH_CHILD ?? '{}') as CrashChildConfig;

export function crashEnvironment(namespace: string): Environment {
  return { name: 'dev', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } };
}

export function sampleGraph(namespace: string) {
  return plan(new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze(), crashEnvironment(namespace), { appId: 'sample-app' });
}

async function main(): Promise<void> {
  const env = crashEnvironment(config.namespace);
  const driver = await kubeDriver(env, { appRoot: repo, kubeconfig: config.kubeconfig, pollIntervalMs: 100 });
  const backend = await kubernetesStateBackend(driver, { leaseDurationSeconds: 15 });
  let done = 0;
  const { result } = await apply(sampleGraph(config.namespace), {
    backend, driver,
    onProgress: (e) => {
      if (config.killAt.phase === 'done' && e.phase === 'done' && ++done === config.killAt.n) process.kill(process.pid, 'SIGKILL');
    },
    onState: (state: EnvState) => {
      const ready = Object.values(state.resources).filter((r) => r.status === 'ready').length;
      if (config.killAt.phase === 'commit' && ready >= config.killAt.n) process.kill(process.pid, 'SIGKILL');
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
