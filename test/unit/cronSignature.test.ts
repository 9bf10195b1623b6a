// The CronJob pod's program (manifests/cronJob.ts CRON_SCRIPT), run with this machine's node as the pod runs it
// (`node -e`), against a loopback HTTP server that checks each call with the verifier written from Encore's runtime
// (deploy/serviceAuth.ts, itself checked against Encore's test vector): a call signed with the environment's key is
// accepted, a tampered or wrongly keyed one refused; the minute guard of "every 90 minutes" skips the runs between.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { Environment } from '../../src/model/environment';
import { verifyCall, type Headers, type ServiceAuthKey } from '../../src/provisioning/deploy/serviceAuth';
import { desiredGraph } from '../../src/provisioning/planner';
import { renderResource } from '../../src/provisioning/providers/kubernetes/manifests';
import { CRON_SCRIPT } from '../../src/provisioning/providers/kubernetes/manifests/cronJob';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests are plain JSON

const repo = path.join(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cron-sign-'));
// The pod's clock, moved for the test: the script reads Date.now() only.
const clock = path.join(tmp, 'clock.js');
writeFileSync(clock, 'if (process.env.FAKE_NOW) { const t = Number(process.env.FAKE_NOW); Date.now = () => t; }\n');

const KEY: ServiceAuthKey = { id: 1, key: 'kP3x-generated-key-of-the-environment-0123456789abcdefABCDEF_xyz' };
const target = { appSlug: 'sample-app', envName: 'staging' };
let server: http.Server;
let url: string;
let calls: { method: string; path: string; headers: Headers; verdict: ReturnType<typeof verifyCall> }[] = [];
let verifyAt: () => Date = () => new Date();

before(async () => {
  server = http.createServer((req, res) => {
    const verdict = verifyCall([KEY], target, req.headers, verifyAt());
    calls.push({ method: req.method!, path: req.url!, headers: req.headers, verdict });
    // As Encore's runtime: a private endpoint answers only a verified internal call.
    res.writeHead(verdict.ok ? 200 : 401, { 'content-type': 'application/json' }).end(verdict.ok ? '{}' : JSON.stringify({ code: 'unauthenticated', message: verdict.reason }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications.dailyDigest`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

/** The env the rendered CronJob gives its container, with the Secret's value filled in as the kubelet would. */
function podEnv(key: string, extra: Record<string, string> = {}): Record<string, string> {
  const model = new AppAnalyzer(path.join(repo, 'examples', 'sample-app')).analyze();
  const env: Environment = { name: 'staging', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev' } };
  const graph = desiredGraph(model, env, { appId: 'sample-app' });
  const cron = graph.resources.find((r) => r.id === 'k8s:cronjob:daily-digest')!;
  const manifest = renderResource(cron, { environment: 'staging', namespace: 'staging', production: false }) as Any;
  const container = manifest.spec.jobTemplate.spec.template.spec.containers[0];
  assert.deepEqual(container.command.slice(0, 2), ['node', '-e']);
  assert.equal(container.command[2], CRON_SCRIPT);
  const out: Record<string, string> = {};
  for (const v of container.env as { name: string; value?: string; valueFrom?: Any }[]) {
    if (v.valueFrom) {
      assert.deepEqual(v.valueFrom, { secretKeyRef: { name: 'encore-service-auth', key: 'key' } }, 'the key comes from the Secret only');
      out[v.name] = key;
    } else out[v.name] = v.value!;
  }
  return { ...out, URL: url, ...extra };
}

function runScript(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', clock, '-e', CRON_SCRIPT], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('the CronJob signs its call as Encore verifies it: caller, method, date and signature with the environment key', async () => {
  calls = [];
  verifyAt = () => new Date();
  const env = podEnv(KEY.key);
  assert.equal(env.ENCORE_SERVICE_AUTH_KEY_ID, '1');
  assert.equal(env.ENCORE_APP_SLUG, 'sample-app');
  assert.equal(env.ENCORE_ENV_NAME, 'staging');
  const r = await runScript(env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(calls.length, 1);
  const call = calls[0]!;
  assert.deepEqual(call.verdict, { ok: true, keyId: 1 });
  assert.equal(call.method, 'POST');
  assert.equal(call.path, '/notifications.dailyDigest');
  assert.equal(call.headers['x-encore-cron-trigger'], 'scheduled');
  assert.equal(call.headers['x-encore-meta-caller'], 'app:cron-daily-digest');
  assert.equal(call.headers['x-encore-meta-svc-auth-method'], 'encore-auth');
  assert.match(String(call.headers['x-encore-meta-svc-auth']), /^ENCORE1-HMAC-SHA3-256 cred="\d{8}\/sample-app\/staging\/1", op=[0-9a-f]{64}, sig=[0-9a-f]{64}$/);
  // The key never shows in the pod's output.
  assert.ok(!r.stdout.includes(KEY.key) && !r.stderr.includes(KEY.key));
});

test('a call signed with another key, or verified 3 minutes later, is refused, and the Job fails', async () => {
  calls = [];
  verifyAt = () => new Date();
  const wrong = await runScript(podEnv('not-the-environment-key'));
  assert.notEqual(wrong.code, 0);
  assert.deepEqual(calls[0]!.verdict, { ok: false, reason: 'the signature does not match' });
  assert.match(wrong.stdout, /401/);
  calls = [];
  verifyAt = () => new Date(Date.now() + 180_000);
  const late = await runScript(podEnv(KEY.key));
  assert.notEqual(late.code, 0);
  assert.deepEqual(calls[0]!.verdict, { ok: false, reason: 'the date is more than 120 s away from this clock' });
});

test('the minute guard of "every 90 minutes": runs at its slots (also when the pod starts late), skips the others', async () => {
  const at = (hhmm: string) => {
    const t = Date.parse(`2026-03-04T${hhmm}:07Z`);
    verifyAt = () => new Date(t);
    return String(t);
  };
  const every90 = { ONLY_AT_MINUTE_OF_DAY_MULTIPLE_OF: '90', STEP_MINUTES: '30' };
  for (const [hhmm, runs] of [['00:00', true], ['01:30', true], ['01:32', true], ['02:00', false], ['03:00', true], ['09:00', true], ['23:59', false]] as const) {
    calls = [];
    const r = await runScript(podEnv(KEY.key, { ...every90, FAKE_NOW: at(hhmm) }));
    assert.equal(r.code, 0, `${hhmm}: ${r.stderr}`);
    if (runs) assert.deepEqual(calls.map((c) => c.verdict), [{ ok: true, keyId: 1 }], hhmm);
    else {
      assert.equal(calls.length, 0, hhmm);
      assert.match(r.stdout, /^not a scheduled minute \(\d+\)/, hhmm);
    }
  }
});
