// BENCH=aws-apply (issue 10): the sample app's AWS Production graph applied through the AWS provider module as the
// CLI opens it: AWS calls go to moto through the real SDK clients and the shim (test/aws/shim.ts), the in-cluster
// half to the real test kube-apiserver reached as the EKS cluster (DescribeCluster's endpoint and CA, the
// `k8s-aws-v1.` token through the EKS token webhook). The shim gives each long-running resource its typical AWS
// creation time scaled down by one factor (EKS 15 min, RDS 10, ElastiCache 8, the rest seconds), and the driver
// polls at its own interval scaled by the same factor.
//
// Each step's duration is measured from its progress events (start → done); the critical path is the longest chain
// of the graph's dependencies summed over those durations (criticalPath in apply.bench.ts), so it is what a
// scheduler with no overhead would take with the same calls. The goal is wall ≤ 1.05 × critical path. Two runs:
// the engine's default concurrency (what `encore-env apply` does) and one slot per resource. The nominal critical
// path (the scaled AWS durations alone, no emulator time) is reported beside it.
//
// Then the plan of the same graph with live reads against the emulator (every resource described), after the
// apply: its wall time, the calls it made, and the changes it found (none expected).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredGraph } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { apply, planChanges } from '../../src/provisioning/engine';
import { DEFAULT_CONCURRENCY } from '../../src/provisioning/engine/operation';
import { desiredGraph } from '../../src/provisioning/planner';
import { providerModule } from '../../src/provisioning/providers';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { buildMoto } from '../../scripts/moto.mjs';
import { TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import type { Durations } from '../aws/shim';
import { bindClusterAdmin, deployer, playLoadBalancers } from '../aws/sampleEnvironment';
import { simulateControllers } from '../integration/kubeControllers';
import { eksTokenValidator } from '../kube/eksTokenValidator';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenValidator, type TokenVerdict, type TokenWebhook } from '../kube/tokenWebhook';
import { criticalPath } from './apply.bench';

const SCALE = Number(process.env.BENCH_AWS_SCALE ?? 0.004);
const MIN = 60_000;
/** AWS's typical creation times, unscaled (ms). What the shim does not list is moto's own time. */
const TYPICAL: NonNullable<Durations['create']> = {
  'eks-cluster': 15 * MIN,
  'rds-instance': 10 * MIN,
  'elasticache-replication-group': 8 * MIN,
  'eks-nodegroup': 20_000,
  'eks-addon': 10_000,
  'ec2-nat-gateway': 30_000,
};
/** Which graph resource types the durations above belong to, for the nominal critical path. */
const TYPICAL_BY_TYPE: Record<string, number> = {
  'AWS::EKS::Cluster': TYPICAL['eks-cluster']!,
  'AWS::RDS::DBInstance': TYPICAL['rds-instance']!,
  'AWS::ElastiCache::ReplicationGroup': TYPICAL['elasticache-replication-group']!,
  'AWS::EKS::Nodegroup': TYPICAL['eks-nodegroup']!,
  // The VPC step waits for its NAT gateways.
  'AWS::EC2::VPC': TYPICAL['ec2-nat-gateway']!,
};
/** The driver's production poll interval (10 s), scaled like the durations. */
const POLL_MS = Math.max(5, Math.round(10_000 * SCALE));
const GOAL = 1.05;

interface ApplyFigures {
  concurrency: number;
  critical_path_ms: number;
  critical_path_steps: number;
  nominal_critical_path_ms: number;
  steps_wall_ms: number;
  total_apply_ms: number;
  ratio: number;
  ratio_to_nominal: number;
  max_concurrent_steps: number;
  aws_calls: number;
}

const sample = () => new AppAnalyzer(path.join(__dirname, '..', '..', 'examples', 'sample-app')).analyze();
const envNamed = (name: string): Environment => ({ name, type: 'production', deploy: { trigger: 'manual' }, provider: { kind: 'aws', region: TEST_REGION, profile: 'shop' } });

async function applyOnce(bed: AwsTestbed, kube: TestKube, dir: string, env: Environment, graph: DesiredGraph, concurrency: number | undefined): Promise<{ figures: ApplyFigures; plan: Record<string, number> }> {
  const cluster = graph.resources.find((r) => r.id === 'aws:eks')!.name;
  bed.shim.eks.connect(cluster, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
  const opened = await (await providerModule('aws')).open(env, { appRoot: dir, timing: { pollIntervalMs: POLL_MS } });
  const admin = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
  const controllers = simulateControllers(admin, env.name);
  const lbs = playLoadBalancers(admin, env.name);
  const started = new Map<string, number>();
  const done = new Map<string, number>();
  let running = 0;
  let maxRunning = 0;
  try {
    const backend = await opened.state();
    await opened.driver.preflight(new AbortController().signal);
    bed.shim.setDurations({ scale: SCALE, create: TYPICAL });
    const firstCall = bed.shim.calls.length;
    const t0 = performance.now();
    const applied = await apply(graph, {
      backend, driver: opened.driver, concurrency, retry: { attempts: 2, baseDelayMs: 10 },
      onProgress: (e) => {
        if (e.phase === 'start') {
          started.set(e.resourceId, performance.now());
          maxRunning = Math.max(maxRunning, ++running);
        }
        if (e.phase === 'done' || e.phase === 'failed') {
          done.set(e.resourceId, performance.now());
          running--;
        }
      },
    });
    const total = performance.now() - t0;
    if (applied.result.outcome !== 'succeeded') throw new Error(`the benchmark's apply ${applied.result.outcome}: ${applied.result.error ?? JSON.stringify(applied.result.failed)}`);
    if (done.size !== graph.resources.length) throw new Error(`${done.size} of ${graph.resources.length} steps finished`);
    const durations = new Map([...done].map(([id, end]) => [id, end - started.get(id)!]));
    const critical = criticalPath(graph, durations);
    const nominal = criticalPath(graph, new Map(graph.resources.map((r) => [r.id, (TYPICAL_BY_TYPE[r.providerType] ?? 0) * SCALE])));
    const wall = Math.max(...done.values()) - Math.min(...started.values());
    const awsCalls = bed.shim.calls.length - firstCall;
    if (process.env.BENCH_APPLY_VERBOSE) console.error(critical.chain.map((id) => `${id} ${Math.round(durations.get(id)!)} ms`).join(' → '));

    // The plan of the same graph with live reads of every resource from the emulator (and the cluster).
    const beforePlan = bed.shim.calls.length;
    const p0 = performance.now();
    const plan = await planChanges(graph, await backend.load(), opened.driver);
    const planMs = performance.now() - p0;
    return {
      figures: {
        concurrency: concurrency ?? DEFAULT_CONCURRENCY,
        critical_path_ms: Math.round(critical.ms),
        critical_path_steps: critical.chain.length,
        nominal_critical_path_ms: Math.round(nominal.ms),
        steps_wall_ms: Math.round(wall),
        total_apply_ms: Math.round(total),
        ratio: Number((wall / critical.ms).toFixed(3)),
        ratio_to_nominal: Number((wall / nominal.ms).toFixed(3)),
        max_concurrent_steps: maxRunning,
        aws_calls: awsCalls,
      },
      plan: {
        plan_live_ms: Math.round(planMs),
        plan_live_aws_calls: bed.shim.calls.length - beforePlan,
        plan_live_changes: plan.counts.create + plan.counts.update + plan.counts.delete,
        plan_resources: graph.resources.length,
      },
    };
  } finally {
    bed.shim.setDurations(undefined);
    await lbs.stop();
    await controllers.stop();
    await opened.dispose();
  }
}

export async function benchAwsApply(): Promise<Record<string, number>> {
  await buildMoto();
  const model = sample();
  // Two environments of the same shape (the same graph but for names), one per run, side by side in moto and the cluster.
  // On AWS each has its own EKS cluster; here one kube-apiserver stands for both, so the second run takes over the
  // first's cluster autoscaler objects (kube-system and cluster-scoped, fixed names as in the upstream chart).
  const runs = [{ env: envNamed('prod'), concurrency: undefined as number | undefined }, { env: envNamed('prodwide'), concurrency: -1 }];
  const graphs = runs.map((r) => desiredGraph(model, r.env, { appId: 'sample-app' }));
  const clusters = graphs.map((g) => g.resources.find((r) => r.id === 'aws:eks')!.name);
  const secrets = new Map<string, { secretAccessKey: string }>();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-bench-aws-'));
  let bed: AwsTestbed | undefined;
  let webhook: TokenWebhook | undefined;
  let kube: TestKube | undefined;
  try {
    bed = await startAwsTestbed();
    const validators = clusters.map((clusterName) => eksTokenValidator({ clusterName, stsEndpoint: bed!.endpoint, secretFor: (id) => secrets.get(id) }));
    const anyCluster: TokenValidator = {
      name: `eks:${clusters[0]}`,
      async validate(token) {
        let verdict: TokenVerdict;
        for (const v of validators) if ((verdict = await v.validate(token)) && 'user' in verdict) return verdict;
        return verdict;
      },
    };
    webhook = await startTokenWebhook([anyCluster]);
    kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
    const me = await deployer(bed, secrets);
    await bindClusterAdmin(kube, me.arn);

    const results: ApplyFigures[] = [];
    let plan: Record<string, number> = {};
    for (const [i, run] of runs.entries()) {
      const graph = graphs[i]!;
      const out = await applyOnce(bed, kube, dir, run.env, graph, run.concurrency === -1 ? graph.resources.length : run.concurrency);
      results.push(out.figures);
      if (i === 0) plan = out.plan;
    }
    const [byDefault, wide] = results as [ApplyFigures, ApplyFigures];
    const prefixed = (prefix: string, f: ApplyFigures) => Object.fromEntries(Object.entries(f).map(([k, v]) => [`${prefix}_${k}`, v]));
    return {
      resources: graphs[0]!.resources.length,
      scale: SCALE,
      poll_ms: POLL_MS,
      ...prefixed('default', byDefault),
      ...prefixed('wide', wide),
      ratio_goal: GOAL,
      ...plan,
      moto_rss_mb: bed.motoRssMb(),
    };
  } finally {
    await kube?.stop();
    await webhook?.close();
    await bed?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
