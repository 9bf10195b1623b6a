// The Kubernetes provider's pure parts: label values, quantities, the settings diff, generated passwords, error
// codes, and what the renderers decide (HPA-owned replicas, the placeholder image, Redis replicas, Job names). The
// cron pod's script has its own tests (cronSignature.test.ts).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { DesiredResource } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { desiredGraph } from '../../src/provisioning/planner';
import { diffSettings } from '../../src/provisioning/providers/kubernetes/diff';
import { toDriverError } from '../../src/provisioning/providers/kubernetes/driverErrors';
import { apiError, refreshHint } from '../../src/provisioning/providers/kubernetes/errors';
import { generatePassword, labelValue, renderResource, secretValues } from '../../src/provisioning/providers/kubernetes/manifests';
import { renderGraph } from '../../src/provisioning/providers/kubernetes/manifests/graph';
import { microTime } from '../../src/provisioning/providers/kubernetes/microTime';
import { parseQuantity, sameQuantity } from '../../src/provisioning/providers/kubernetes/quantity';

const repo = path.join(__dirname, '..', '..');
const everything = new AppAnalyzer(path.join(repo, 'test', 'fixtures', 'apps', 'everything')).analyze();
const env = (type: 'production' | 'development'): Environment => ({ name: type === 'production' ? 'prod' : 'dev', type, deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'kind-dev' } });
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests are plain JSON

test('label values: ids become valid, unique label values; plain names stay as they are', () => {
  assert.equal(labelValue('dev'), 'dev');
  const a = labelValue('k8s:deployment:orders');
  assert.match(a, /^k8s\.deployment\.orders-[0-9a-f]{8}$/);
  assert.notEqual(labelValue('k8s.deployment:orders'), a);
  const long = labelValue(`nsq:channel:${'x'.repeat(80)}/y`);
  assert.ok(long.length <= 63 && /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(long), long);
});

test('quantities compare by value, as the server canonicalises them', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('1Gi'), 2 ** 30);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('ten'), null);
  assert.ok(sameQuantity('1024Mi', '1Gi'));
  assert.ok(sameQuantity('0.5', '500m'));
  assert.ok(!sameQuantity('1Gi', '1G'));
});

test('the settings diff: dotted paths, quantities by value, references known after apply, secret keys hidden', () => {
  const changes = diffSettings(
    { replicas: 2, resources: { requests: { cpu: '0.5', memory: '1024Mi' } }, ports: [{ port: 81 }], host: '${aws:rds:x.address}' },
    { replicas: 1, resources: { requests: { cpu: '500m', memory: '1Gi' } }, ports: [{ port: 80 }], host: 'old' },
  );
  assert.deepEqual(changes, [
    { path: 'replicas', before: 1, after: 2 },
    { path: 'ports.0.port', before: 80, after: 81 },
    { path: 'host', before: 'old', after: '${aws:rds:x.address}', knownAfterApply: true },
  ]);
  assert.deepEqual(diffSettings({ keys: { a: { generate: 'password' } } }, { keys: {} }, { sensitive: (p) => p.startsWith('keys.') }), [{ path: 'keys.a', sensitive: true }]);
});

test('generated passwords: the asked length of letters and digits, different every time, kept when live', () => {
  const a = generatePassword(64);
  assert.match(a, /^[A-Za-z0-9]{64}$/);
  assert.notEqual(generatePassword(64), a);
  const r = { id: 's', settings: { keys: { password: { generate: 'password', length: 20 }, value: { setBy: 'a person' } } } } as unknown as DesiredResource;
  assert.deepEqual(Object.keys(secretValues(r, null)), ['password'], 'a value set by a person is never invented');
  assert.deepEqual(secretValues(r, { password: 'kept' }), { password: 'kept' });
});

test('MicroTime strings have six fractional digits', () => {
  assert.equal(microTime(new Date('2026-05-01T10:00:00.123Z')), '2026-05-01T10:00:00.123000Z');
});

const code = (err: Error) => (err as unknown as { code: string }).code;

test('error codes: 401 and missing plugins are unavailable, 403 forbidden, SSA schema 500s invalid, other 5xx transient', () => {
  const ctx = { label: 'context "kind-dev"', server: 'https://k:6443', refreshHint: refreshHint('kind-dev', '/usr/bin/aws') };
  const req = { method: 'GET', path: '/version' };
  const e401 = apiError(401, '{"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"}', req, ctx);
  assert.match(e401.message, /refused its credentials \(401 Unauthorized\).*"aws sso login"/);
  assert.equal(code(toDriverError(e401)), 'unavailable');
  assert.equal(code(toDriverError(apiError(403, '{"message":"no"}', req, ctx))), 'forbidden');
  assert.equal(code(toDriverError(apiError(500, '{"message":"failed to create typed patch object (x): .spec.a: field not declared in schema"}', req, ctx))), 'invalid');
  assert.equal(code(toDriverError(apiError(503, 'upstream down', req, ctx))), 'transient');
  assert.equal(code(toDriverError(apiError(422, '{"reason":"Invalid"}', req, ctx))), 'invalid');
});

test('renderers: Production leaves replicas to the HPA, the placeholder image has no probe, Redis replicas follow ordinal 0', () => {
  const prod = renderGraph(desiredGraph(everything, env('production'), { appId: 'everything' }));
  const deployment = prod.find((x) => x.manifest.kind === 'Deployment')!.manifest as Any;
  assert.equal(deployment.spec.replicas, undefined);
  assert.equal(deployment.spec.template.spec.containers[0].image, 'registry.k8s.io/pause:3.10');
  assert.equal(deployment.spec.template.spec.containers[0].readinessProbe, undefined);
  assert.match(deployment.metadata.annotations['encore.dev/image'], /^placeholder/);
  assert.match(deployment.spec.template.metadata.annotations['encore.dev/infra-config-sha256'], /^[0-9a-f]{64}$/);
  const redis = prod.find((x) => x.manifest.kind === 'StatefulSet' && x.manifest.metadata.name.startsWith('encore-redis-'))!.manifest as Any;
  const script: string = redis.spec.template.spec.containers[0].command[2];
  assert.match(script, /--replicaof encore-redis-products-0\.encore-redis-products 6379 --masterauth "\$REDIS_PASSWORD"/);
  assert.ok(!JSON.stringify(redis).includes('requirepass $('), 'the password is not in the command line');

  const image = `registry.example/app@sha256:${'a'.repeat(64)}`;
  const dev = desiredGraph(everything, env('development'), { appId: 'everything', appImage: image });
  const r = dev.resources.find((x) => x.kind === 'deployment')!;
  const real = renderResource(r, { environment: 'dev', namespace: 'dev', production: false }) as Any;
  assert.equal(real.spec.replicas, 1);
  assert.equal(real.spec.template.spec.containers[0].image, image);
  assert.equal(real.metadata.annotations['encore.dev/image'], image);
  assert.deepEqual(real.spec.template.spec.containers[0].readinessProbe.httpGet, { path: '/__encore/healthz', port: 8080 });
  assert.deepEqual(real.spec.template.spec.volumes[0].secret, { secretName: 'encore-infra-config', items: [{ key: 'infra.config.json', path: 'infra.config.json' }] });
});

test('a Job is named after a hash of its template: the same settings give the same name, a change a new one', () => {
  const g = renderGraph(desiredGraph(everything, env('development'), { appId: 'everything' }));
  const g2 = renderGraph(desiredGraph(everything, env('development'), { appId: 'everything' }));
  const names = (x: typeof g) => x.filter((m) => m.manifest.kind === 'Job').map((m) => m.manifest.metadata.name);
  assert.deepEqual(names(g), names(g2));
  for (const n of names(g)) assert.ok(n.length <= 52 && /-[0-9a-f]{8}$/.test(n), n);
  const bucket = g.find((m) => m.resource.providerType === 'minio/Bucket')!;
  const flipped = { ...bucket.resource, settings: { ...bucket.resource.settings, versioning: !bucket.resource.settings.versioning } };
  const again = renderResource(flipped, { environment: 'dev', namespace: 'dev', production: false });
  assert.notEqual(again.metadata.name, bucket.manifest.metadata.name);
});

