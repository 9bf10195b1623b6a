// The image a deploy builds really runs: the sample app is built and pushed by `encore build docker` (the stand-in
// CLI, run by the product's buildDocker) to a real local registry (crane registry serve); its digest is read back by
// the product's RegistryClient; podman (Debian's) pulls it by that digest, runs it on 127.0.0.1 with the
// environment's infra config (made by the planner) mounted, and a request gets an answer taken from that file.
// Run: node --import tsx --test test/integration/deployImage.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { buildDocker, checkEncore, type BuildLine } from '../../src/provisioning/deploy/encoreCli';
import { formatImageRef, parseImageRef, pinnedRef, RegistryClient } from '../../src/provisioning/deploy/registry';
import { gitRevision, imageTag } from '../../src/provisioning/deploy/revision';
import { desiredGraph } from '../../src/provisioning/planner';
import { crane, startRegistry, type TestRegistry } from '../../scripts/registry.mjs';
import { freePort } from '../../scripts/vscode-host.mjs';
import { standinEnv } from '../deploy/encoreStandin';
import { startPodman, type Podman } from '../deploy/podman';

const appRoot = path.join(__dirname, '..', '..', 'examples', 'sample-app');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'deploy-image-'));
let registry: TestRegistry;
let podman: Podman;

before(async () => {
  podman = startPodman();
  registry = await startRegistry();
});
after(async () => {
  await podman?.stop();
  await registry?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The infra config the planner makes for the sample app's `staging` environment, as the pods get it. */
function infraConfigFile(): { file: string; sha256: string } {
  const env: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'c', namespace: 'sample-staging' } };
  const graph = desiredGraph(new AppAnalyzer(appRoot).analyze(), env, { appId: 'sample-app' });
  const resource = graph.resources.find((r) => r.kind === 'infraConfig');
  assert.ok(resource, 'the plan has no infra config');
  const file = path.join(tmp, 'infra.config.json');
  writeFileSync(file, `${JSON.stringify((resource.settings as { document: unknown }).document, null, 2)}\n`);
  return { file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
}

async function getJson(url: string, timeoutMs: number): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return (await res.json()) as Record<string, string>;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} gave no answer within ${timeoutMs} ms (${last})`);
}

async function build(image: string, base?: string): Promise<{ digest: string; lines: BuildLine[] }> {
  const env = standinEnv();
  const check = await checkEncore({ env, appRoot });
  const lines: BuildLine[] = [];
  await buildDocker({ encore: check.path, appRoot, image, ...(base ? { base } : {}), env, onLine: (l) => lines.push(l) });
  const digest = await new RegistryClient(registry.host).digestOf(parseImageRef(image));
  return { digest, lines };
}

test('the pushed image, pulled by digest and run with the environment infra config, answers from that config', async () => {
  const started = performance.now();
  const revision = await gitRevision(appRoot);
  const tag = imageTag(revision);
  const ref = parseImageRef(`${registry.host}/sample-app:${tag}`);
  const { digest, lines } = await build(formatImageRef(ref));
  const built = performance.now();
  // The digest read back from the registry is the one the CLI pushed.
  assert.ok(lines.some((l) => l.stream === 'stdout' && l.line === `pushed ${registry.host}/sample-app@${digest}`), lines.map((l) => l.line).join('\n'));
  const pinned = pinnedRef(ref, digest);

  await podman.run(['pull', '--tls-verify=false', '--quiet', pinned]);
  const pulled = performance.now();
  const inspect = JSON.parse(await podman.run(['image', 'inspect', pinned])) as { RepoDigests: string[]; Labels: Record<string, string> }[];
  assert.ok(inspect[0]!.RepoDigests.includes(`${registry.host}/sample-app@${digest}`), inspect[0]!.RepoDigests.join(', '));
  // The product asked for --skip-config: the stand-in records what it was given.
  assert.equal(inspect[0]!.Labels['dev.encore.standin.skip-config'], 'true');

  const config = infraConfigFile();
  const port = await freePort();
  const container = await podman.run([
    'run', '--detach', '--network=host',
    '--env', 'HOST=127.0.0.1', '--env', `PORT=${port}`, '--env', 'ENCORE_INFRA_CONFIG_PATH=/encore/infra.config.json',
    '--volume', `${config.file}:/encore/infra.config.json:ro`,
    pinned,
  ]);
  try {
    const answer = await getJson(`http://127.0.0.1:${port}/cgi-bin/config`, 20_000);
    const answered = performance.now();
    assert.deepEqual(answer, { env_name: 'staging', app_id: 'sample-app', infra_config_sha256: config.sha256, revision: tag });
    const stopStarted = performance.now();
    await podman.run(['stop', '--time', '10', container]);
    // The entrypoint handles SIGTERM (as PID 1 it must): it stops at once, not after the 10 s grace period.
    assert.ok(performance.now() - stopStarted < 5000, `stop took ${Math.round(performance.now() - stopStarted)} ms`);
    const ms = (a: number, b: number) => `${Math.round(b - a)} ms`;
    console.log(`[deployImage] build+push ${ms(started, built)}, podman pull ${ms(built, pulled)}, run to first answer ${ms(pulled, answered)} (${podman.version})`);
  } catch (err) {
    const logs = await podman.logs(container).catch((e: Error) => e.message);
    throw new Error(`${(err as Error).message}\n--- container log\n${logs}`, { cause: err });
  }
});

test('without the infra config the image refuses to start, saying so (as the Encore runtime does)', async () => {
  const ref = parseImageRef(`${registry.host}/sample-app:no-config`);
  const { digest } = await build(formatImageRef(ref));
  const pinned = pinnedRef(ref, digest);
  await podman.run(['pull', '--tls-verify=false', '--quiet', pinned]);
  const name = `no-config-${process.pid}`;
  await assert.rejects(podman.run(['run', '--name', name, '--network=host', '--env', 'PORT=1', pinned]), /failed: encore runtime \(stand-in\): ENCORE_INFRA_CONFIG_PATH is not set/);
  assert.equal(await podman.run(['inspect', '--format', '{{.State.ExitCode}}', name]), '1');
  assert.match(await podman.logs(name), /ENCORE_INFRA_CONFIG_PATH is not set or not readable \(unset\)/);
});

test('--base builds the image on the base image from the registry', async () => {
  const baseRef = parseImageRef(`${registry.host}/base:1`);
  const { digest: baseDigest } = await build(formatImageRef(baseRef));
  const ref = parseImageRef(`${registry.host}/sample-app:on-base`);
  const { digest } = await build(formatImageRef(ref), pinnedRef(baseRef, baseDigest));
  const layers = (image: string) => (JSON.parse(execFileSync(crane.binary, ['manifest', image], { encoding: 'utf8' })) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
  const baseLayers = layers(pinnedRef(baseRef, baseDigest));
  const appLayers = layers(pinnedRef(ref, digest));
  assert.equal(appLayers.length, baseLayers.length + 1);
  assert.deepEqual(appLayers.slice(0, baseLayers.length), baseLayers);
  await podman.run(['pull', '--tls-verify=false', '--quiet', pinnedRef(ref, digest)]);
  const labels = JSON.parse(await podman.run(['image', 'inspect', '--format', '{{json .Labels}}', pinnedRef(ref, digest)])) as Record<string, string>;
  assert.equal(labels['dev.encore.standin.base'], pinnedRef(baseRef, baseDigest));
});
