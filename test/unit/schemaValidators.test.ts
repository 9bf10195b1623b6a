// The bundles validate environments with ajv's standalone code generated at build time (esbuild.mjs runs
// standaloneSource()); the unit tests run the validators ajv compiles at run time. Both must give the very same errors,
// schema and failing data included (the messages are built from them), for good and bad documents alike.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { compileValidators, standaloneSource, type SchemaValidators } from '../../src/environments/schemaValidators';
import { eu, prod, staging } from './envStoreFixtures';

const repoRoot = path.join(__dirname, '..', '..');

/** standaloneSource()'s module, loaded as a bundle would run it (its `require` resolves from the repository). */
async function standalone(): Promise<SchemaValidators> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-schema-validators-'));
  const file = path.join(dir, 'validators.mjs');
  const prelude = `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(path.join(repoRoot, 'package.json'))});\n`;
  writeFileSync(file, prelude + standaloneSource());
  const mod = (await import(pathToFileURL(file).href)) as { compileValidators: () => SchemaValidators };
  return mod.compileValidators();
}

const documents: unknown[] = [
  { environments: [staging, prod, eu] },
  { $schema: './encore.environments.schema.json', environments: [] },
  {},
  [],
  'text',
  { environments: [{ ...staging, name: 'Not A Label' }] },
  { environments: [{ ...staging, provider: { kind: 'azure' } }] },
  { environments: [{ ...prod, provider: { kind: 'aws', region: 'mars-1' } }] },
  { environments: [{ ...staging, deploy: { trigger: 'push' } }] },
  { environments: [{ ...staging, deploy: { trigger: 'nightly' } }] },
  { environments: [{ ...eu, provider: { ...eu.provider, project: 'X' } }] },
  { environments: [{ ...prod, sizing: { services: { orders: { minInstances: -1, maxInstances: 'many' } } } }] },
  { environments: [{ ...staging, unknownKey: true, images: { mirror: 7 } }] },
  { environments: [staging], extra: 1 },
];

test('the standalone validators give the same errors as the validators ajv compiles', async () => {
  const compiled = compileValidators();
  const generated = await standalone();
  let failing = 0;
  for (const doc of documents) {
    const a = compiled.file(doc);
    const b = generated.file(doc);
    assert.equal(b, a, JSON.stringify(doc));
    assert.deepEqual(generated.file.errors ?? null, compiled.file.errors ?? null, JSON.stringify(doc));
    if (!a) failing++;
  }
  for (const doc of documents.slice(5)) {
    const env = (doc as { environments?: unknown[] }).environments?.[0];
    if (env === undefined) continue;
    assert.equal(generated.environment(env), compiled.environment(env), JSON.stringify(env));
    assert.deepEqual(generated.environment.errors ?? null, compiled.environment.errors ?? null, JSON.stringify(env));
  }
  // The comparison covered errors, not only documents both accept.
  assert.ok(failing >= 10, `only ${failing} of the documents fail validation`);
});

test('the standalone validators need no ajv compiler: only ajv\'s small run-time helpers', () => {
  const requires = [...standaloneSource().matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  assert.ok(requires.every((r) => r.startsWith('ajv/dist/runtime/')), requires.join(', '));
});
