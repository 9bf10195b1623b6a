// `npm run bench`: runs every benchmark and prints one JSON object per benchmark.
import { benchActivation } from './activation.bench';

const benches: Record<string, () => Promise<Record<string, number>>> = {
  activation: benchActivation,
};

(async () => {
  for (const [name, run] of Object.entries(benches)) {
    const started = Date.now();
    const result = await run();
    console.log(JSON.stringify({ bench: name, ...result, wall_ms: Date.now() - started }));
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
