// Fuzz: 1,000 random mutations of the messages between the extension host and the Create / Edit Environment
// webview, both directions, checked in a child process (a hang is stopped, as in analyzerFuzz.test.ts). Every check
// must answer within 2 s and never throw; a refused message gets a short reason that never quotes a value; nothing
// lands on Object.prototype; a message the host accepts is evaluated as the host does (the sample app's model, the
// real planner), and the host's answer must pass the page's check; a message the page accepts must render.
//
// Reproducible: FUZZ_SEED=<n>, FUZZ_COUNT=<n>, FUZZ_ONLY=<i> as in the other fuzz tests.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { FORM_LIMITS } from '../../src/model/limits';
import type { FormDraft, FormOptions, HostMessage, WebviewMessage } from '../../src/model/messages';
import { BUILTIN_PROPERTY_NAMES } from '../../src/model/reservedNames';
import { deriveSeed, Prng } from '../prng';
import { FuzzProcess } from './fuzzProcess';
import { mutate } from './fuzzMutations';
import type { WebviewFuzzReply, WebviewFuzzRequest } from './webviewFuzzChild';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x3eb71e3;
const COUNT = Number(process.env.FUZZ_COUNT ?? 1000);
const ONLY = process.env.FUZZ_ONLY === undefined ? null : Number(process.env.FUZZ_ONLY);
const CALL_BUDGET_MS = 2000;
const HANG_MS = 20_000;
const MAX_FAILURES = 20;
/** A value the fuzzer plants; a reason that quotes it would leak what the user typed into the log. */
const MARKER = 'AKIAFUZZMARKERVALUE1';

const draft: FormDraft = {
  name: 'prod', type: 'production', trigger: 'push', branch: 'main', provider: 'aws', awsProfile: 'shop', awsRegion: 'eu-west-1',
  gcpProject: '', gcpRegion: '', kubeContext: '', kubeNamespace: '', awsCluster: '', gcpCluster: '', gcpAutopilot: false, imageMirror: '', imageReplacements: [],
  sizing: [{ group: 'databases', resource: 'users', field: 'cpu', value: '2' }, { group: 'services', resource: 'orders', field: 'maxInstances', value: '4' }],
};
const options: FormOptions = {
  awsProfiles: [{ value: 'shop', description: 'SSO · eu-west-1 · active' }], awsRegions: [{ value: 'eu-west-1', description: 'Europe (Ireland)' }],
  gcpProjects: [{ value: 'shop-prod-123' }], gcpRegions: [{ value: 'europe-west1' }], kubeContexts: [{ value: 'kind-dev', description: 'current' }], eksClusters: [], gkeClusters: [],
  branches: [{ value: 'main', description: 'current' }], notes: { aws: [], gcp: ['No Application Default Credentials'], kubernetes: [], git: [] },
  suggested: { awsRegion: 'eu-west-1', gcpRegion: '' },
  productImages: [{ value: 'postgres:16', description: 'the databases' }],
};
const toHost: WebviewMessage[] = [
  { type: 'ready' }, { type: 'ready', draft }, { type: 'change', seq: 3, draft }, { type: 'submit', seq: 4, draft: { ...draft, type: 'development', provider: 'kubernetes', kubeContext: 'kind-dev' } },
  { type: 'cancel' }, { type: 'refreshOptions' }, { type: 'openEnvironmentsFile' }, { type: 'dropped', problem: 'a "init" message: options.branches: more than 500 items' },
];
const toPage: HostMessage[] = [
  { type: 'init', mode: 'create', appName: 'shop', draft, options },
  { type: 'init', mode: 'edit', appName: 'shop', originalName: 'prod', draft, options },
  { type: 'options', options },
  {
    type: 'evaluation', seq: 1, problems: [{ field: 'name', message: 'Must be a DNS label' }],
    sizing: [{ group: 'databases', resource: 'users', resourceKind: 'database', field: 'cpu', label: 'users database: vCPUs', defaultValue: 2, min: 1, max: 64, integer: true, unit: 'vCPU' }],
    preview: { state: 'ok', resourceCount: 1, groups: [{ label: 'users', description: 'database', icon: 'database', resources: [{ label: 'RDS', detail: 'AWS::RDS::DBInstance x', stateful: true }] }], warnings: ['w'] },
    summary: 'Production · AWS eu-west-1 · manual deploy',
  },
  { type: 'evaluation', seq: 2, problems: [], sizing: [], preview: { state: 'unavailable', message: 'Go app' }, summary: '' },
  { type: 'submitting' }, { type: 'submitFailed', message: 'changed underneath', problems: [{ field: 'form', message: 'x' }], offerFile: true },
  { type: 'dropped', message: 'The extension could not read the form' },
  { type: 'init', mode: 'create', appName: 'shop', draft: { ...draft, provider: 'gcp', gcpProject: 'shop-prod-123', gcpRegion: 'europe-west1', gcpCluster: 'europe-west1/shared' }, options },
  {
    type: 'gkeClusters',
    clusters: { project: 'shop-prod-123', state: 'done', problems: ['Could not list the GKE clusters'], clusters: [{ value: 'europe-west1/shared', description: 'Standard · running · Workload Identity off', enableWorkloadIdentity: 'gcloud container clusters update shared --location europe-west1 --workload-pool=shop-prod-123.svc.id.goog' }] },
  },
];

const KEYS = [...BUILTIN_PROPERTY_NAMES, 'type', 'draft', 'seq', 'name', 'sizing', 'value', 'extra', ''];
const TYPES = [...toHost.map((m) => m.type), ...toPage.map((m) => m.type), ...BUILTIN_PROPERTY_NAMES, 'explode', ''];
const values = (rng: Prng): unknown =>
  rng.pick<() => unknown>([
    () => null, () => 0, () => -1, () => 1e308, () => '', () => MARKER, () => true, () => [], () => ({}),
    () => MARKER.repeat(rng.pick([10, 100, 2_000])), () => '😀'.repeat(rng.pick([100, 600])), () => '\ud800',
    () => Array.from({ length: rng.pick([3, 600, 4_000]) }, () => ({ value: MARKER })),
    () => Array.from({ length: rng.pick([3, 600]) }, () => MARKER),
    () => { let v: unknown = MARKER; for (let i = 0; i < rng.pick([10, 1_000, 5_000]); i++) v = [v]; return v; },
    () => rng.pick(TYPES), () => rng.pick([...BUILTIN_PROPERTY_NAMES]),
    () => ({ group: 'databases', resource: rng.pick([...BUILTIN_PROPERTY_NAMES, 'x'.repeat(201)]), field: 'cpu', value: '2' }),
  ])();

/** Every place in a JSON value, as key paths. */
function places(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (out.length > 2_000) return out;
  if (Array.isArray(value)) value.slice(0, 20).forEach((v, i) => places(v, [...at, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) places(v, [...at, k], out);
  return out;
}

/** One structural mutation, done on the JSON text's value and serialised again (so `__proto__` keys are own keys). */
function mutateValue(rng: Prng, json: string): { json: string; description: string } {
  const root = JSON.parse(json) as unknown;
  const target = rng.pick(places(root));
  const parentPath = target.slice(0, -1);
  const key = target.at(-1);
  const parent = parentPath.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root) as Record<string | number, unknown> | unknown[] | undefined;
  const op = rng.int(0, 3);
  if (target.length === 0 || op === 0) {
    if (target.length === 0) return { json: JSON.stringify(values(rng)), description: 'replace the whole message' };
    const v = values(rng);
    (parent as Record<string | number, unknown>)[key as string | number] = v;
    return { json: JSON.stringify(root), description: `set ${target.join('.')} to a ${Array.isArray(v) ? `list of ${v.length}` : typeof v}` };
  }
  if (op === 1 && parent && !Array.isArray(parent)) {
    delete (parent as Record<string, unknown>)[key as string];
    return { json: JSON.stringify(root), description: `delete ${target.join('.')}` };
  }
  // Add a key: through the text, so a "__proto__" key becomes an own property when the receiver parses it.
  const holder = target.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
  if (typeof holder === 'object' && holder !== null && !Array.isArray(holder)) {
    const name = rng.pick(KEYS);
    const marker = '"__FUZZ_INSERT__":0';
    (holder as Record<string, unknown>).__FUZZ_INSERT__ = 0;
    const text = JSON.stringify(root).replace(marker, `${JSON.stringify(name)}:${JSON.stringify(values(rng))}`);
    return { json: text, description: `add the key ${JSON.stringify(name)} at ${target.join('.') || 'the top'}` };
  }
  return { json: JSON.stringify(root), description: 'no change' };
}

function fuzzMessage(rng: Prng): { to: 'host' | 'page'; json: string; description: string } {
  const to = rng.chance(0.5) ? 'host' : 'page';
  let json = JSON.stringify(to === 'host' ? rng.pick(toHost) : rng.pick(toPage));
  const steps: string[] = [];
  for (let i = 0, n = rng.int(1, 3); i < n; i++) {
    if (rng.chance(0.2)) {
      // A text mutation that still parses as JSON (what postMessage could carry), else a structural one.
      const m = mutate(rng, json, []);
      try {
        JSON.parse(m.text);
        json = m.text;
        steps.push(`text: ${m.description}`);
        continue;
      } catch {
        // fall through
      }
    }
    const m = mutateValue(rng, json);
    json = m.json;
    steps.push(m.description);
  }
  return { to, json, description: steps.join('; then ') };
}

test('the webview messages survive 1,000 random mutations in both directions', { timeout: 300_000 }, async () => {
  assert.ok(Number.isInteger(SEED) && Number.isInteger(COUNT), 'FUZZ_SEED and FUZZ_COUNT must be integers');
  const target = new FuzzProcess<Omit<WebviewFuzzRequest, 'id'>, WebviewFuzzReply>(path.join(__dirname, 'webviewFuzzChild.ts'), HANG_MS);
  const failures: string[] = [];
  const reported = new Set<string>();
  let accepted = 0;
  let repeats = 0;
  try {
    for (let i = 0; i < COUNT; i++) {
      if (ONLY !== null && i !== ONLY) continue;
      if (failures.length >= MAX_FAILURES) break;
      const rng = new Prng(deriveSeed(SEED, i));
      const m = fuzzMessage(rng);
      const problems: string[] = [];
      try {
        const { reply } = await target.call({ to: m.to, json: m.json });
        if (reply.thrown) problems.push(`threw ${reply.thrown.split('\n').slice(0, 4).join(' ')}`);
        if (reply.ms > CALL_BUDGET_MS) problems.push(`took ${Math.round(reply.ms)} ms, over the ${CALL_BUDGET_MS} ms budget`);
        if (reply.polluted) problems.push(`Object.prototype gained ${reply.polluted.join(', ')}`);
        if (reply.answerDropped) problems.push(`the host's answer would be dropped by the page: ${reply.answerDropped}`);
        if (reply.accepted) accepted++;
        else if (!reply.thrown) {
          if (!reply.problem) problems.push('refused without a reason');
          else {
            if (reply.problem.includes(MARKER.slice(0, 12))) problems.push(`the reason quotes a value: ${reply.problem.slice(0, 200)}`);
            if (reply.problem.length > FORM_LIMITS.line) problems.push(`the reason is ${reply.problem.length} characters long`);
          }
        }
      } catch (err) {
        problems.push(err instanceof Error ? err.message : String(err));
      }
      const key = (p: string) => p.replace(/\d+/g, '#');
      const fresh = problems.filter((p) => !reported.has(key(p)));
      if (problems.length > 0 && fresh.length === 0) repeats++;
      if (fresh.length > 0) {
        for (const p of fresh) reported.add(key(p));
        failures.push(`seed ${SEED}, mutation #${i}, to the ${m.to} (${m.description.slice(0, 300)}):\n      ${fresh.join('\n      ')}\n    replay: FUZZ_SEED=${SEED} FUZZ_ONLY=${i} node --import tsx --test test/unit/webviewFuzz.test.ts`);
      }
    }
  } finally {
    target.close();
  }
  if (failures.length > 0) assert.fail(`${failures.length} distinct failures (seed ${SEED}), repeated ${repeats} more times:\n\n${failures.join('\n\n')}`);
  if (ONLY === null && COUNT >= 100) assert.ok(accepted > COUNT / 20 && accepted < COUNT - COUNT / 20, `${accepted} of ${COUNT} mutated messages were accepted`);
});
