// The AWS SDK loads only when an AWS environment is used: never at extension activation or for `encore-env --help`.
// Checked twice: in the bundles (esbuild's metafile: no SDK file is reachable from an entry point except through a
// dynamic import()), and at run time (importing the provider's modules resolves no SDK package; using them does).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';

const root = path.join(__dirname, '..', '..');
const SDK = /^node_modules\/@(aws-sdk|smithy)\//;

/** Inputs reachable from `entry` by static imports and requires only, and every input at all. */
async function reachability(entry: string): Promise<{ statically: Set<string>; all: Set<string> }> {
  const result = await esbuild.build({
    entryPoints: [path.join(root, entry)], bundle: true, write: false, metafile: true, platform: 'node', format: 'cjs',
    target: 'node22', mainFields: ['module', 'main'], external: ['vscode'], logLevel: 'silent', absWorkingDir: root, outdir: path.join(root, 'dist-lazy-check'),
  });
  const inputs = result.metafile.inputs;
  const statically = new Set<string>();
  const queue = [path.relative(root, path.join(root, entry))];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (statically.has(file)) continue;
    statically.add(file);
    for (const imported of inputs[file]?.imports ?? []) if (imported.kind !== 'dynamic-import' && !imported.external) queue.push(imported.path);
  }
  return { statically, all: new Set(Object.keys(inputs)) };
}

for (const entry of ['src/extension/extension.ts', 'src/cli/main.ts', 'src/server/server.ts']) {
  test(`${entry} reaches no AWS SDK module by a static import`, async () => {
    const { statically } = await reachability(entry);
    assert.deepEqual([...statically].filter((f) => SDK.test(f)), []);
  });
}

test('the AWS provider\'s modules reach the SDK only through dynamic import()', async () => {
  for (const entry of ['src/provisioning/providers/aws/connection.ts', 'src/provisioning/providers/aws/eksToken.ts', 'src/provisioning/providers/aws/identity.ts']) {
    const { statically, all } = await reachability(entry);
    assert.deepEqual([...statically].filter((f) => SDK.test(f)), [], entry);
    assert.ok([...all].some((f) => SDK.test(f)), `${entry} should use the SDK (lazily)`);
  }
});

test('importing the provider resolves no SDK package; the first use does', () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'awsLazyChild.ts')], { cwd: root, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const { atImport, afterUse } = JSON.parse(child.stdout.trim().split('\n').pop()!) as { atImport: string[]; afterUse: string[] };
  assert.deepEqual(atImport, []);
  assert.ok(afterUse.includes('@aws-sdk/core'), `resolved after use: ${afterUse.join(', ')}`);
});
