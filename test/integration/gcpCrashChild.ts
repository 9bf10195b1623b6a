// An apply of the sample app's GCP Production environment in its own process, for gcpCrash.test.ts: the provider
// module as the CLI opens it (ADC and the endpoint overrides from the inherited CLOUDSDK_CONFIG and
// GOOGLE_APPLICATION_CREDENTIALS, the fakes in the parent process on loopback, the GKE cluster's API on the test
// kube-apiserver). GCP_CRASH_CHILD='{"appRoot", "killAt"}': it SIGKILLs itself once killAt steps of the whole apply
// are done: the steps the state it starts from records as ready, plus its own "done" events.
// GCP_CRASH_CLUSTER='{"name", "location"}' applies it onto that existing GKE cluster instead of one of its own.
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { apply } from '../../src/provisioning/engine';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';

export interface GcpCrashChildConfig {
  appRoot: string;
  killAt: number;
}

const repo = path.join(__dirname, '..', '..');

/** `cluster`: on an existing GKE cluster (GCP_CRASH_CLUSTER='{"name", "location"}' in the child). */
export function crashEnvironment(project: string, region: string, cluster?: { name: string; location: string }): Environment {
  return { name: 'prod', type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'gcp', project, region, ...(cluster ? { cluster } : {}) } };
}

export function crashGraph(project: string, region: string, cluster?: { name: string; location: string }) {
  return desiredGraph(new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze(), crashEnvironment(project, region, cluster), { appId: 'sample-app' });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.GCP_CRASH_CHILD ?? '{}') as GcpCrashChildConfig;
  const [project, region] = [process.env.GCP_CRASH_PROJECT ?? 'encore-test', process.env.GCP_CRASH_REGION ?? 'europe-west1'];
  const cluster = process.env.GCP_CRASH_CLUSTER ? (JSON.parse(process.env.GCP_CRASH_CLUSTER) as { name: string; location: string }) : undefined;
  const opened = await (await providerModule('gcp')).open(crashEnvironment(project, region, cluster), { appRoot: config.appRoot, timing: { pollIntervalMs: 20 } });
  const backend = await opened.state();
  const { state } = await backend.load();
  let done = Object.values(state?.resources ?? {}).filter((r) => r.status === 'ready').length;
  if (done >= config.killAt) done = config.killAt - 1;
  const { result } = await apply(crashGraph(project, region, cluster), {
    backend,
    driver: opened.driver,
    retry: { attempts: 2, baseDelayMs: 10 },
    onProgress: (e) => {
      if (e.phase === 'done' && ++done === config.killAt) process.kill(process.pid, 'SIGKILL');
    },
  });
  process.stdout.write(`result ${JSON.stringify({ outcome: result.outcome, done: result.done.length, failed: result.failed })}\n`);
  await opened.dispose();
  // A disposed provider leaves nothing that keeps the process alive; if something does, say what and end anyway.
  setTimeout(() => {
    const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().map((h) => h.constructor.name);
    process.stdout.write(`still open after dispose: ${handles.join(', ')}\n`);
    process.exit(0);
  }, 3000).unref();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stdout.write(`error ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
