// `npm run bench`: runs every benchmark and prints one JSON object per benchmark.
// BENCH=name[,name] runs only those (e.g. `BENCH=analyzer npm run bench`).
import { benchActivation } from './activation.bench';
import { benchAnalyzer } from './analyzer.bench';
import { benchApply } from './apply.bench';
import { benchAwsApply } from './awsApply.bench';
import { benchCli } from './cli.bench';
import { benchDeploy } from './deploy.bench';
import { benchGcpApply } from './gcpApply.bench';
import { benchPlan } from './plan.bench';
import { benchTree } from './tree.bench';

const benches: Record<string, () => Promise<Record<string, number>>> = {
  activation: benchActivation,
  analyzer: benchAnalyzer,
  apply: benchApply,
  'aws-apply': benchAwsApply,
  cli: benchCli,
  deploy: benchDeploy,
  'gcp-apply': benchGcpApply,
  plan: benchPlan,
  tree: benchTree,
};

const only = process.env.BENCH?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((name) => !(name in benches)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; the benchmarks are ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

(async () => {
  for (const [name, run] of Object.entries(benches)) {
    if (only && !only.includes(name)) continue;
    const started = Date.now();
    const result = await run();
    console.log(JSON.stringify({ bench: name, ...result, wall_ms: Date.now() - started }));
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
