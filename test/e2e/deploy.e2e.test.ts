// Deploy, Roll Back and Promote from the Environments view in real VS Code (code-server), on the sample app's
// Kubernetes environments (a development one and a production one, in two namespaces): the extension host has the stand-in `encore` (test/deploy/encore-standin) first on its PATH, the
// environments' registry is a real local one (crane registry serve), and their cluster is the test kube-apiserver,
// reached through KUBECONFIG only. The environments are applied beforehand (the CLI, in process, with the controller
// stand-in); during the deploys the test plays the Deployment controller itself: a Deployment on a new image is
// first reported progressing (updated, none available yet), then rolled out a few seconds later, so the progress
// notification shows the rollout being watched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { startRegistry, type TestRegistry } from '../../scripts/registry.mjs';
import { runProvisionCommand, type CliIO } from '../../src/cli/provision/commands';
import { EXIT } from '../../src/cli/exitCodes';
import type { Environment } from '../../src/model/environment';
import { parseHistory, type DeployRecord } from '../../src/provisioning/deploy/history';
import { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { HISTORY_SECRET } from '../../src/provisioning/providers/kubernetes/deployTarget';
import { STANDIN, STANDIN_DIR } from '../deploy/encoreStandin';
import { simulateControllers } from '../integration/kubeControllers';
import { startTestKube, uniqueName, type TestKube } from '../kube/harness';
import { contextMenu, escapeRegExp, openWorkbench, quickPick, sampleApp, step, treeRow, type Workbench } from './harness';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

const ENV = 'e2e';
/** The second deployable environment, which the deploy ENV runs is promoted to. */
const PROD = 'e2e-prod';
const GIT = ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', '-c', 'commit.gpgsign=false'];
const git = (dir: string, ...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } }).trim();

/**
 * The Deployment controller's part of a rollout: a Deployment on an image pinned by digest whose new generation is
 * not yet observed is reported updated with no replica available, then, `delayMs` later, rolled out.
 */
function playRollouts(client: KubeClient, namespaces: string[], delayMs: number) {
  let stopped = false;
  const progressing = new Map<string, number>();
  const seen: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      for (const d of (await Promise.all(namespaces.map(async (ns) => (await client.list('apps/v1', 'Deployment', ns).catch(() => ({ items: [] }))).items as Any[]))).flat()) {
        const name = d.metadata.name as string;
        const namespace = d.metadata.namespace as string;
        const generation = d.metadata.generation as number;
        const n = d.spec.replicas ?? 1;
        if (!String(d.spec.template.spec.containers[0].image).includes('@sha256:') || d.status?.observedGeneration === generation && d.status?.availableReplicas === n) continue;
        const key = `${namespace}/${name}@${generation}`;
        const since = progressing.get(key);
        if (since === undefined) {
          progressing.set(key, Date.now());
          seen.push(key);
          await client.mergePatch('apps/v1', 'Deployment', namespace, name, { status: { observedGeneration: generation, replicas: n, updatedReplicas: n, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: n } }, 'status');
        } else if (Date.now() - since >= delayMs) {
          await client.mergePatch('apps/v1', 'Deployment', namespace, name, { status: { observedGeneration: generation, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n } }, 'status');
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { seen, stop: async () => ((stopped = true), await loop) };
}

function quietIO(): CliIO & { stderr: () => string } {
  let err = '';
  return {
    out: () => {},
    err: (t) => void (err += t),
    interactive: false,
    ask: () => Promise.reject(new Error('no questions here')),
    signal: new AbortController().signal,
    stderr: () => err,
  };
}

describe('deploy: Deploy from the tree, the Deployments node, the CodeLens, Roll Back, Promote', { timeout: 600_000 }, () => {
  let wb: Workbench;
  let kube: TestKube;
  let registry: TestRegistry;
  let client: KubeClient;
  let rollouts: ReturnType<typeof playRollouts> | undefined;
  const namespace = uniqueName('e2edeploy');
  const prodNamespace = uniqueName('e2eprod');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'encore-e2e-deploy-app-'));
  const app = path.join(tmp, 'sample-app');
  const get = () => wb;
  /** The deploys made from the UI, oldest first. */
  const made: { short: string; record?: DeployRecord }[] = [];

  const history = async (ns = namespace): Promise<DeployRecord[]> => {
    const secret = await client.get<Any & { apiVersion: string; kind: string; metadata: { name: string } }>('v1', 'Secret', ns, HISTORY_SECRET);
    const parsed = parseHistory(JSON.parse(Buffer.from(secret.data['history.json'], 'base64').toString('utf8')));
    assert.deepEqual(parsed.problems, []);
    return parsed.records;
  };
  const images = async (ns = namespace) => ((await client.list('apps/v1', 'Deployment', ns)).items as Any[]).map((d) => String(d.spec.template.spec.containers[0].image));

  before(async () => {
    [kube, registry] = await Promise.all([startTestKube(), startRegistry()]);
    client = KubeClient.fromKubeConfig(kube.kubeConfig(), 'encore-test');
    // The sample app in a git repository of its own, its environments applied (state in the cluster, the local copy
    // in .encore/, which git ignores so the tree is clean); the workbench opens a copy of it. Both environments pull
    // from the same registry, as a promote needs.
    cpSync(sampleApp, app, { recursive: true });
    const kubernetes = (ns: string) => ({ kind: 'kubernetes' as const, context: 'encore-test', namespace: ns, registry: `${registry.host}/sample-app` });
    const envs: Environment[] = [
      { name: ENV, type: 'development', deploy: { trigger: 'manual' }, provider: kubernetes(namespace) },
      { name: PROD, type: 'production', deploy: { trigger: 'manual' }, provider: kubernetes(prodNamespace) },
    ];
    writeFileSync(path.join(app, 'encore.environments.json'), `${JSON.stringify({ environments: envs }, null, 2)}\n`);
    writeFileSync(path.join(app, '.gitignore'), '.encore/\nnode_modules/\n');
    git(app, 'init', '-q', '-b', 'main');
    git(app, 'add', '-A');
    git(app, 'commit', '-q', '-m', 'the sample app');
    for (const [name, ns] of [[ENV, namespace], [PROD, prodNamespace]] as const) {
      const controllers = simulateControllers(client, ns, { intervalMs: 50 });
      try {
        const io = quietIO();
        const code = await runProvisionCommand('apply', ['--env', name, '--yes', app], io, { provider: { kubeconfig: kube.kubeconfigPath, timing: { pollIntervalMs: 50 } } });
        assert.equal(code, EXIT.ok, io.stderr());
      } finally {
        await controllers.stop();
      }
    }
    rollouts = playRollouts(client, [namespace, prodNamespace], 4000);
    wb = await openWorkbench('deploy', app, {
      env: (_workspace, scratch) => ({
        KUBECONFIG: kube.kubeconfigPath,
        // VS Code's server would take PATH from a login shell (/etc/profile resets it), which would hide the
        // stand-in; VSCODE_CLI=1 is its documented way to skip resolving the shell environment.
        VSCODE_CLI: '1',
        // The stand-in encore first, then the Node it runs on; no Docker credentials of the machine's.
        PATH: [STANDIN_DIR, path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter),
        DOCKER_CONFIG: path.join(scratch, 'no-docker-config'),
        NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
      }),
    });
  });
  after(async () => {
    await wb?.close();
    await rollouts?.stop();
    client?.close();
    await Promise.all([kube?.stop(), registry?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  });

  /** The Encore CLIs the deploys' preflights ran, as the extension's log says. */
  const encoreUsed = (w: Workbench) => [...w.extensionLog().matchAll(new RegExp(`deploy "${ENV}" \\[preflight\\] Encore CLI \\S+ at (.+)`, 'g'))].map((m) => m[1]!.trim());

  /** Answers a modal dialog: its message must match `message`; presses `button`. */
  async function answerDialog(w: Workbench, message: RegExp, button: string): Promise<string> {
    const dialog = w.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    const text = await dialog.locator('.dialog-message-text').innerText();
    assert.match(text, message);
    await dialog.locator('.dialog-buttons .monaco-button', { hasText: new RegExp(`^\\s*${button}\\s*$`) }).click();
    await dialog.waitFor({ state: 'hidden' });
    return text;
  }

  /**
   * The Deployments node of environment `env`, expanded, the other environments collapsed (their entries are rows of
   * the same level); its entries' rows once `count` are listed.
   */
  async function deployEntries(w: Workbench, count: number, env = ENV) {
    const { page } = w;
    await w.showEnvironmentsView();
    for (const name of [ENV, PROD]) {
      const row = treeRow(page, name).and(page.locator('[aria-level="1"]'));
      await row.waitFor();
      if (((await row.getAttribute('aria-expanded')) === 'true') !== (name === env)) await row.click();
    }
    const node = page.locator('.part.sidebar .monaco-list-row[role="treeitem"][aria-level="2"]', { has: page.locator('.label-name', { hasText: /^\s*Deployments\s*$/ }) });
    await node.waitFor({ timeout: 60_000 });
    if ((await node.getAttribute('aria-expanded')) !== 'true') await node.click();
    const entries = page.locator('.part.sidebar .monaco-list-row[role="treeitem"][aria-level="3"]', { has: page.locator('.label-description', { hasText: / · (manual|rollback|promote|push|ci) · / }) });
    for (let i = 0; (await entries.count()) !== count; i++) {
      if (i > 100) throw new Error(`the Deployments node lists ${await entries.count()} entries, not ${count}: ${(await entries.allInnerTexts()).join(' | ')}`);
      await page.waitForTimeout(300);
    }
    return entries;
  }

  /** How many times the language server's log says it analysed the app, over every window so far. */
  const analyses = (w: Workbench) => [...w.channelLog('Encore Language Server').matchAll(/analysed .*sample-app/g)].length;
  /** The analyses before the window was last (re)loaded. */
  let analysedBefore = 0;

  async function deployFromTree(w: Workbench): Promise<DeployRecord> {
    const { page } = w;
    const short = git(w.workspace, 'rev-parse', '--short', 'HEAD');
    await w.runCommand('Notifications: Clear All Notifications');
    await w.showEnvironmentsView();
    // The tree refreshes when the app's model first arrives; an inline action clicked during that refresh reaches the
    // command without its node (VS Code drops the old elements), and the palette's environment picker shows instead.
    // The channel's log holds every window's lines: only an analysis of this window counts (see analysedBefore).
    for (let i = 0; analyses(w) <= analysedBefore; i++) {
      if (i > 200) throw new Error(`the language server never analysed the app:\n${w.channelLog('Encore Language Server')}`);
      await page.waitForTimeout(300);
    }
    await page.waitForTimeout(1_000);
    const row = treeRow(page, ENV);
    await row.waitFor();
    await row.hover();
    await row.locator('.actions .action-label[aria-label="Deploy"]').click();
    // The revision and the clean tree are said before anything starts.
    await answerDialog(w, new RegExp(`^Deploy ${short} \\(main\\) to "${ENV}"\\?`), 'Deploy');
    const progress = w.toast(`deploying ${short} to "${ENV}"`);
    await progress.waitFor();
    // The rollout is watched in kubectl's words while the test's controller holds the new replicas unavailable.
    await progress.filter({ hasText: /Waiting for deployment "[^"]+" rollout to finish: 0 of \d+ updated replicas are available/ }).waitFor({ timeout: 120_000 });
    await w.screenshot(`deploy-${made.length + 1}-rollout`);
    const done = w.toast(new RegExp(`deploy d-[\\w-]+ to "${ENV}" succeeded`));
    await done.waitFor({ timeout: 120_000 });
    const records = await history();
    const record = records.at(-1)!;
    assert.equal(record.result, 'succeeded');
    assert.equal(record.trigger, 'manual');
    assert.equal(record.revision.commit, git(w.workspace, 'rev-parse', 'HEAD'));
    assert.equal(record.revision.dirty, false);
    assert.ok((await done.innerText()).includes(record.id));
    for (const image of await images()) assert.equal(image, `${registry.host}/sample-app@${record.image.digest}`);
    made.push({ short, record });
    return record;
  }

  step('Deploy from the tree: the revision asked about, the rollout watched in the progress notification', get, async (w) => {
    const record = await deployFromTree(w);
    assert.ok(rollouts!.seen.length >= 2, `the test's controller saw ${rollouts!.seen.join(', ')}`);
    assert.match(w.extensionLog(), new RegExp(`deploy "${ENV}" \\[rollout\\] [\\w-]+: Waiting for deployment "[\\w-]+" rollout to finish`));
    assert.match(w.extensionLog(), new RegExp(`deploy "${ENV}" \\| `), 'the build output did not reach the log');
    // No setting yet: the encore first on the extension host's PATH.
    assert.deepEqual(encoreUsed(w), [STANDIN]);
    assert.ok(record.image.digest.startsWith('sha256:'));
  });

  step('the Deployments node lists the deploy, marked current', get, async (w) => {
    const entries = await deployEntries(w, 1);
    const [r1] = made;
    const label = (await entries.first().locator('.label-name').innerText()).trim();
    assert.equal(label, `● ${r1!.record!.revision.commit.slice(0, 7)}`);
    assert.match(await entries.first().locator('.label-description').innerText(), / · manual · .+ · succeeded$/);
    await w.screenshot('deployments-one');
  });

  step("the service's CodeLens says the revision it runs", get, async (w) => {
    const { page } = w;
    await w.openFile('users/encore.service.ts');
    const short = made[0]!.record!.revision.commit.slice(0, 7);
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: new RegExp(`^${ENV}: .* · runs ${short}$`) }).waitFor({ timeout: 60_000 });
    await w.screenshot('codelens-runs');
  });

  step('a second commit deployed with the Encore CLI the encore.deploy.encorePath setting names: two entries, the newest current', get, async (w) => {
    // The setting is machine-scoped, so in code-server it is a remote setting (Machine/settings.json); the window is
    // reloaded so that the new extension host reads it. The CLI it names is the stand-in under another path.
    const configured = path.join(w.scratch, 'tools', 'encore');
    mkdirSync(path.dirname(configured), { recursive: true });
    symlinkSync(STANDIN, configured);
    mkdirSync(path.join(w.userDataDir, 'Machine'), { recursive: true });
    writeFileSync(path.join(w.userDataDir, 'Machine', 'settings.json'), `${JSON.stringify({ 'encore.deploy.encorePath': configured }, null, 2)}\n`);
    analysedBefore = analyses(w);
    await w.openFolder(w.workspace);
    writeFileSync(path.join(w.workspace, 'users', 'CHANGELOG.md'), 'a change\n');
    git(w.workspace, 'add', '-A');
    git(w.workspace, 'commit', '-q', '-m', 'a change');
    const r2 = await deployFromTree(w);
    assert.notEqual(r2.image.digest, made[0]!.record!.image.digest);
    assert.deepEqual(encoreUsed(w).filter((p) => p !== STANDIN), [configured], 'this deploy did not run the CLI the setting names');
    await w.openFile('users/encore.service.ts');
    const entries = await deployEntries(w, 2);
    assert.deepEqual((await entries.locator('.label-name').allInnerTexts()).map((t) => t.trim()), [`● ${r2.revision.commit.slice(0, 7)}`, made[0]!.record!.revision.commit.slice(0, 7)]);
    await w.page.locator('.monaco-editor .codelens-decoration a', { hasText: new RegExp(`^${ENV}: .* · runs ${r2.revision.commit.slice(0, 7)}$`) }).waitFor({ timeout: 60_000 });
  });

  step('Roll Back to This Deploy on the first entry: its image again, a new entry that restores it, marked current', get, async (w) => {
    const { page } = w;
    await w.runCommand('Notifications: Clear All Notifications');
    const [first, second] = made.map((m) => m.record!);
    const entries = await deployEntries(w, 2);
    await contextMenu(page, entries.nth(1), 'Roll Back to This Deploy');
    await answerDialog(w, new RegExp(`^Roll "${ENV}" back to ${first!.id} \\(${first!.revision.commit.slice(0, 12)}, deployed `), 'Roll Back');
    await w.toast(`rolling "${ENV}" back to ${first!.id}`).filter({ hasText: /rollout to finish/ }).waitFor({ timeout: 120_000 });
    await w.toast(new RegExp(`deploy d-[\\w-]+ to "${ENV}" succeeded`)).waitFor({ timeout: 120_000 });
    const records = await history();
    assert.deepEqual(records.map((r) => r.id).slice(0, 2), [first!.id, second!.id]);
    const back = records.at(-1)!;
    assert.equal(records.length, 3);
    assert.equal(back.trigger, 'rollback');
    assert.equal(back.restores, first!.id);
    assert.equal(back.image.digest, first!.image.digest);
    for (const image of await images()) assert.equal(image, `${registry.host}/sample-app@${first!.image.digest}`);
    const after = await deployEntries(w, 3);
    const labels = (await after.locator('.label-name').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(labels, [`● ${first!.revision.commit.slice(0, 7)}`, second!.revision.commit.slice(0, 7), first!.revision.commit.slice(0, 7)]);
    assert.match(await after.first().locator('.label-description').innerText(), / · rollback · .+ · succeeded$/);
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: new RegExp(`^${ENV}: .* · runs ${first!.revision.commit.slice(0, 7)}$`) }).waitFor({ timeout: 60_000 });
    await w.screenshot('rolled-back');
  });

  step('Promote to… on the deploy "e2e" runs: its image rolled out to "e2e-prod" with no build, a promote entry there', get, async (w) => {
    const { page } = w;
    await w.runCommand('Notifications: Clear All Notifications');
    const runs = (await history()).at(-1)!;
    const short = runs.revision.commit.slice(0, 7);
    const entries = await deployEntries(w, 3);
    await contextMenu(page, entries.first(), 'Promote to…');
    await quickPick(page, PROD);
    const logBefore = w.extensionLog().length;
    await answerDialog(w, new RegExp(`^Roll out ${escapeRegExp(runs.image.digest.slice(0, 19))}… \\(${runs.revision.commit.slice(0, 12)}\\), which "${ENV}" runs, to "${PROD}"\\?`), 'Promote');
    await w.toast(`promoting ${runs.id} from "${ENV}" to "${PROD}"`).filter({ hasText: /rollout to finish/ }).waitFor({ timeout: 120_000 });
    await w.toast(new RegExp(`deploy d-[\\w-]+ to "${PROD}" succeeded`)).waitFor({ timeout: 120_000 });
    const records = await history(prodNamespace);
    assert.equal(records.length, 1);
    const promoted = records[0]!;
    assert.equal(promoted.result, 'succeeded');
    assert.equal(promoted.trigger, 'promote');
    assert.deepEqual(promoted.promotedFrom, { environment: ENV, deployId: runs.id });
    assert.equal(promoted.image.digest, runs.image.digest);
    assert.equal(promoted.revision.commit, runs.revision.commit);
    for (const image of await images(prodNamespace)) assert.equal(image, `${registry.host}/sample-app@${runs.image.digest}`);
    // Nothing was built, and the source environment's history is as it was.
    assert.doesNotMatch(w.extensionLog().slice(logBefore), new RegExp(`deploy "${PROD}" (\\||\\[build\\])`));
    assert.equal((await history()).length, 3);
    const prod = await deployEntries(w, 1, PROD);
    assert.equal((await prod.first().locator('.label-name').innerText()).trim(), `● ${short}`);
    assert.match(await prod.first().locator('.label-description').innerText(), / · promote · .+ · succeeded$/);
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: new RegExp(`^${PROD}: .* · runs ${short}$`) }).waitFor({ timeout: 60_000 });
    await w.screenshot('promoted');
  });
});
