// Resource names that are built-in JavaScript property names (`__proto__`, `constructor`, `prototype`,
// `hasOwnProperty` and the rest of Object.prototype's), issue 9 item 1, through everything the environments file,
// the form and the webview do with them: the form's draft logic (sizing questions, answers, the environment it
// writes), the quick path's answer steps, the webview messages both ways, and the store (save, load, edit). Nothing may
// land on Object.prototype, every answer must stay where it was typed, and valid files must stay valid.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EnvStore } from '../../src/environments/store';
import { validateDocument, validateEnvironment } from '../../src/environments/validate';
import { draftFromEnvironment, environmentFromDraft, evaluateDraft, newDraft } from '../../src/extension/form/draft';
import { fitHostMessage } from '../../src/extension/form/fitMessage';
import { sizingAnswer, withSizingAnswer } from '../../src/extension/form/quickSteps';
import { cachedGraphs } from '../../src/extension/tree/graphCache';
import type { ModelState } from '../../src/extension/tree/treeData';
import type { Environment } from '../../src/model/environment';
import { checkHostMessage, checkWebviewMessage, type FormDraft, type FormOptions, type HostMessage } from '../../src/model/messages';
import { BUILTIN_PROPERTY_NAMES } from '../../src/model/reservedNames';
import { testApp } from './analyzerApp';
import { scratchApp, staging } from './envStoreFixtures';

const NAMES = [...BUILTIN_PROPERTY_NAMES];
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

function assertUnpolluted(when: string): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeBefore, `Object.prototype gained properties ${when}`);
  const probe: Record<string, unknown> = {};
  for (const field of ['cpu', 'memoryGiB', 'diskGiB', 'replicas', 'minInstances', 'maxInstances', 'databases', 'caches', 'services']) {
    assert.equal(probe[field], undefined, `({}).${field} is defined ${when}`);
  }
  // A valid file still reads as valid (ajv walks inherited keys, so pollution would make every object "unknown").
  assert.deepEqual(validateDocument({ environments: [staging] }), [], `a valid document is refused ${when}`);
}

const noOptions: FormOptions = {
  awsProfiles: [], awsRegions: [], gcpProjects: [], gcpRegions: [], kubeContexts: [], eksClusters: [], gkeClusters: [], branches: [],
  notes: { aws: [], gcp: [], kubernetes: [], git: [] },
  suggested: { awsRegion: 'eu-west-1', gcpRegion: '' },
  productImages: [],
};

/** An app with a service, a database and a cache cluster named after each built-in property. */
function builtinApp() {
  const files: Record<string, string> = {};
  NAMES.forEach((name, i) => {
    files[`s${i}/encore.service.ts`] = `import { Service } from "encore.dev/service";\nexport default new Service("${name}");\n`;
    files[`s${i}/infra.ts`] = [
      'import { api } from "encore.dev/api";',
      'import { SQLDatabase } from "encore.dev/storage/sqldb";',
      'import { CacheCluster, StringKeyspace } from "encore.dev/storage/cache";',
      `export const db = new SQLDatabase("${name}", {});`,
      `export const cache = new CacheCluster("${name}", {});`,
      'export const keys = new StringKeyspace<string>(cache, { keyPattern: "k/:key" });',
      'export const use = api({}, async () => { await db.exec`SELECT 1`; await keys.get("k"); });',
      '',
    ].join('\n');
  });
  return testApp(files, { withService: false });
}

test('the form, the quick path, the messages and the store keep answers for resources named like built-ins, polluting nothing', async () => {
  const app = builtinApp();
  try {
    const model: ModelState = { kind: 'ready', model: app.analyzer.analyze() };
    const graphFor = cachedGraphs(() => undefined);
    const evaluate = (draft: FormDraft, original?: Environment) => evaluateDraft({ draft, otherNames: [], model, graphFor, ...(original && { original }) });

    // One keystroke in the form with Production chosen: the answers default, and nothing is polluted.
    let draft: FormDraft = { ...newDraft(noOptions), name: 'prod', type: 'production', provider: 'aws', trigger: 'manual' };
    const first = evaluate(draft);
    assertUnpolluted('after the first evaluation of a Production draft');
    for (const name of NAMES) {
      for (const group of ['databases', 'caches', 'services'] as const) {
        assert.ok(first.sizing.some((q) => q.group === group && q.resource === name), `no ${group} question for "${name}"`);
      }
    }
    // The quick path answers every question, one at a time; the form sends the same draft.
    first.sizing.forEach((q, i) => {
      draft = withSizingAnswer(draft, q, String(i % 2 === 0 ? q.max : q.min));
    });
    for (const q of first.sizing) assert.ok(sizingAnswer(draft, q) !== undefined, `${q.group}/${q.resource}/${q.field}`);
    const evaluation = evaluate(draft);
    assertUnpolluted('after answering every sizing question');
    assert.deepEqual(evaluation.problems, []);
    const env = evaluation.env;
    for (const [i, q] of first.sizing.entries()) {
      const group = env.sizing?.[q.group] as Record<string, Record<string, number>> | undefined;
      assert.ok(group && Object.hasOwn(group, q.resource), `env.sizing.${q.group} has no own "${q.resource}"`);
      assert.equal(group[q.resource][q.field], i % 2 === 0 ? q.max : q.min, `${q.group}/${q.resource}/${q.field}`);
    }
    assert.deepEqual(validateEnvironment(env), []);

    // Both directions of the webview boundary carry them, after a JSON round trip (what postMessage does).
    const change = checkWebviewMessage(JSON.parse(JSON.stringify({ type: 'change', seq: 1, draft })));
    assert.ok(change.ok, change.ok ? '' : change.problem);
    assert.deepEqual(change.message, { type: 'change', seq: 1, draft });
    const sent: HostMessage = fitHostMessage({ type: 'evaluation', seq: 1, problems: evaluation.problems, sizing: evaluation.sizing, preview: evaluation.preview, summary: evaluation.summary });
    const received = checkHostMessage(JSON.parse(JSON.stringify(sent)));
    assert.ok(received.ok, received.ok ? '' : received.problem);
    assert.deepEqual(received.message, JSON.parse(JSON.stringify(sent)));
    // A draft that carries a "__proto__" key of its own (JSON.parse makes it an own property) is refused as an
    // unknown key, and so is a message type that is a built-in name.
    for (const name of NAMES) {
      const text = JSON.stringify({ type: 'change', seq: 2, draft }).replace('"sizing":', `${JSON.stringify(name)}:{"cpu":1},"sizing":`);
      assert.equal(checkWebviewMessage(JSON.parse(text)).ok, false, name);
      assert.equal(checkWebviewMessage({ type: name }).ok, false, name);
      assert.equal(checkHostMessage({ type: name }).ok, false, name);
    }
    assertUnpolluted('after the webview messages');

    // The store saves them, reads them back as own keys, and Edit gives the same environment again.
    const root = scratchApp('env-builtin-');
    const store = new EnvStore(root);
    await store.create(env);
    const loaded = await new EnvStore(root).load();
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map((e) => e.message).join('\n'));
    assert.deepEqual(loaded.environments, [env]);
    const onDisk = readFileSync(path.join(root, 'encore.environments.json'), 'utf8');
    for (const name of NAMES) assert.ok(onDisk.includes(`"${name}": {`), `"${name}" is not a key in the saved file`);
    const edited = environmentFromDraft(draftFromEnvironment(loaded.environments[0]), [], loaded.environments[0]);
    assert.deepEqual(edited, env);
    const reEvaluated = evaluate(draftFromEnvironment(loaded.environments[0]), loaded.environments[0]);
    assert.deepEqual(reEvaluated.env, env);
    await store.update('prod', { ...env, deploy: { trigger: 'push', branch: 'main' } });
    const again = await new EnvStore(root).load();
    assert.ok(again.ok && again.environments[0].deploy.trigger === 'push');
    assert.deepEqual(again.ok && again.environments[0].sizing, env.sizing);
    assertUnpolluted('after saving and loading the file');
  } finally {
    app.cleanup();
  }
});

test('a hand-written file with sizing keyed by every built-in name loads as it is, and stays valid', async () => {
  const root = scratchApp('env-builtin-file-');
  const file = path.join(root, 'encore.environments.json');
  const entries = (value: string) => NAMES.map((n) => `${JSON.stringify(n)}: ${value}`).join(', ');
  const text = `{"environments": [{"name": "prod", "type": "production", "deploy": {"trigger": "manual"},
    "provider": {"kind": "aws", "region": "eu-west-1"},
    "sizing": {"databases": {${entries('{"cpu": 2, "memoryGiB": 4, "diskGiB": 20}')}},
               "caches": {${entries('{"memoryGiB": 1, "replicas": 1}')}},
               "services": {${entries('{"minInstances": 1, "maxInstances": 3}')}}}}]}\n`;
  writeFileSync(file, text);
  const loaded = await new EnvStore(root).load();
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map((e) => e.message).join('\n'));
  const sizing = loaded.environments[0].sizing!;
  for (const name of NAMES) {
    assert.ok(Object.hasOwn(sizing.databases!, name) && Object.hasOwn(sizing.caches!, name) && Object.hasOwn(sizing.services!, name), name);
    assert.equal(sizing.databases![name].cpu, 2, name);
    assert.equal(Object.getPrototypeOf(sizing.databases!), Object.prototype, 'the "__proto__" key did not replace the prototype');
  }
  // A draft of it and back, and a save that changes nothing else, keep every answer.
  const env = loaded.environments[0];
  assert.deepEqual(environmentFromDraft(draftFromEnvironment(env), [], env), env);
  // A problem under a built-in name points at it, not at Object.prototype's.
  writeFileSync(file, text.replace('"maxInstances": 3', '"maxInstances": 0'));
  const broken = await new EnvStore(root).load();
  assert.equal(broken.ok, false);
  assert.ok(!broken.ok && broken.errors.every((e) => /maxInstances/.test(e.path)), JSON.stringify(!broken.ok && broken.errors.slice(0, 2)));
  assertUnpolluted('after loading the file');
  writeFileSync(file, text);
  assert.equal((await new EnvStore(root).load()).ok, true);
});
