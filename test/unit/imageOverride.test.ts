// The image-override setting (`images` in the environments file): reading image references, the published schema,
// the store's validation with its reasons, the form keeping it on edit, and the planner applying it to every image
// the product runs, never to the app's own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ValidationError } from '../../src/environments/errors';
import { parseEnvironmentsText } from '../../src/environments/parse';
import { EnvStore } from '../../src/environments/store';
import { validateEnvironment } from '../../src/environments/validate';
import { draftFromEnvironment, environmentFromDraft } from '../../src/extension/form/draft';
import type { DesiredGraph } from '../../src/model/desiredGraph';
import type { Environment } from '../../src/model/environment';
import { imageReferenceProblem, mirrorProblem, overrideImage, parseImage } from '../../src/model/imageOverride';
import { CLOUD_ONLY_IMAGES, desiredGraph, PRODUCT_IMAGES } from '../../src/provisioning/planner';
import { PLACEHOLDER_IMAGE } from '../../src/provisioning/planner/constants';
import { renderGraph } from '../../src/provisioning/providers/kubernetes/manifests/graph';
import { fileText, scratchApp, staging } from './envStoreFixtures';
import { env, everything, sample } from './plannerHelpers';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('image references are read as Docker reads them, without adding Docker Hub\'s implicit parts', () => {
  assert.deepEqual(parseImage('postgres:16'), { registry: undefined, path: 'postgres', tag: '16' });
  assert.deepEqual(parseImage('registry.k8s.io/pause:3.10'), { registry: 'registry.k8s.io', path: 'pause', tag: '3.10' });
  assert.deepEqual(parseImage('127.0.0.1:15000/mirror/nsqio/nsq:v1.3.0'), { registry: '127.0.0.1:15000', path: 'mirror/nsqio/nsq', tag: 'v1.3.0' });
  assert.deepEqual(parseImage(`localhost/app@${DIGEST}`), { registry: 'localhost', path: 'app', digest: DIGEST });
  assert.deepEqual(parseImage('[::1]:5000/redis'), { registry: '[::1]:5000', path: 'redis' });
  for (const good of ['redis', 'nsqio/nsq', 'minio/minio:RELEASE.2025-04-22T22-12-26Z', `a.b/c/d:e@${DIGEST}`, 'my-registry.example.com:443/a__b/c-d']) {
    assert.equal(imageReferenceProblem(good), undefined, good);
  }
});

test('an image reference that is not one is refused with why', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    [' postgres:16', /spaces/],
    ['https://registry.example.com/postgres:16', /URL scheme/],
    ['Postgres:16', /uppercase/],
    ['postgres:16!', /not a tag/],
    ['postgres:.16', /not a tag/],
    ['user:pass@registry.example.com/postgres', /not a digest.*login never goes here/],
    ['postgres@sha256:abc', /not a digest/],
    ['reg.example.com//postgres', /empty path component/],
    ['reg.example.com:99999/postgres', /not a port/],
    ['reg_example.com/postgres', /not a registry host/],
    ['a/-b', /not a repository name component/],
    [`reg.example.com/${'a'.repeat(250)}`, /longer than 255/],
  ];
  for (const [text, why] of cases) assert.match(imageReferenceProblem(text) ?? '(accepted)', why, text);
});

test('a mirror is a registry host with an optional path, nothing else', () => {
  for (const good of ['registry.example.com', 'registry.example.com/mirror', '127.0.0.1:15000/mirror', 'localhost:5000', 'localhost/a/b']) {
    assert.equal(mirrorProblem(good), undefined, good);
  }
  assert.match(mirrorProblem('mycorp') ?? '', /registry host.*Docker Hub account/);
  assert.match(mirrorProblem('mycorp/mirror') ?? '', /"mycorp" would be read as a Docker Hub account/);
  assert.match(mirrorProblem('registry.example.com/mirror/') ?? '', /ends with a slash/);
  assert.match(mirrorProblem('registry.example.com/mirror:1') ?? '', /has a tag/);
  assert.match(mirrorProblem('user:pw@registry.example.com') ?? '', /never a login/);
  assert.match(mirrorProblem('http://registry.example.com') ?? '', /URL scheme/);
});

test('a replacement wins over the mirror, and the mirror takes the place of the image\'s registry', () => {
  const override = { mirror: 'm.example.com/hub', replace: { 'redis:7.2': 'other.example.com/redis@' + DIGEST } };
  assert.equal(overrideImage('redis:7.2', override), `other.example.com/redis@${DIGEST}`);
  assert.equal(overrideImage('postgres:16', override), 'm.example.com/hub/postgres:16');
  assert.equal(overrideImage('registry.k8s.io/pause:3.10', override), 'm.example.com/hub/pause:3.10');
  assert.equal(overrideImage('nsqio/nsq:v1.3.0', override), 'm.example.com/hub/nsqio/nsq:v1.3.0');
  assert.equal(overrideImage('postgres:16', { replace: { 'redis:7.2': 'x.example.com/r:1' } }), 'postgres:16');
  assert.equal(overrideImage('postgres:16', undefined), 'postgres:16');
  // Only own keys: an image named like an Object.prototype member is not "replaced" by it.
  assert.equal(overrideImage('constructor', { replace: {} }), 'constructor');
});

test('the store refuses an image override whose references are not valid, saying where and why', async () => {
  const problems = validateEnvironment({ ...staging, images: { mirror: 'mycorp', replace: { 'Postgres:16': 'reg.example.com/pg:16', 'redis:7.2': 'http://reg.example.com/redis' } } });
  assert.deepEqual(problems.map((p) => [p.path, p.target ?? 'value']), [
    ['/images/mirror', 'value'],
    ['/images/replace/Postgres:16', 'key'],
    ['/images/replace/redis:7.2', 'value'],
  ]);
  assert.match(problems[0]!.message, /^is not a registry mirror: it must start with a registry host/);
  assert.match(problems[1]!.message, /^"Postgres:16" is not an image reference: .*uppercase/);
  assert.match(problems[2]!.message, /^"http:\/\/reg.example.com\/redis" is not an image reference: .*URL scheme/);

  // Schema rules: unknown keys, empty values, an empty override.
  const messages = (images: unknown) => validateEnvironment({ ...staging, images }).map((p) => `${p.path} ${p.message}`);
  assert.deepEqual(messages({}), ['/images must have at least 1 entry; leave it out instead']);
  assert.deepEqual(messages({ mirror: '' }), ['/images/mirror must not be empty']);
  assert.match(messages({ registry: 'x.example.com' })[0]!, /^\/images\/registry unknown key "registry" \(allowed: mirror, replace\)/);
  assert.deepEqual(messages({ replace: { 'redis:7.2': 7 } }), ['/images/replace/redis:7.2 must be a string']);
  // An image called like a credential is an image name, not a credential key.
  assert.deepEqual(messages({ replace: { 'vault-token:1': 'reg.example.com/vault-token:1' } }), []);

  const dir = scratchApp();
  const store = new EnvStore(dir);
  await assert.rejects(store.create({ ...staging, images: { mirror: 'reg.example.com/' } }), (err: unknown) => err instanceof ValidationError && /images\.mirror: .*ends with a slash/.test(err.message));
  const loaded = await store.load();
  assert.ok(loaded.ok && !loaded.exists, 'nothing was written');
});

test('an image override is saved in schema order, read back, and kept by an edit in the form', async () => {
  const dir = scratchApp();
  const store = new EnvStore(dir);
  const images = { replace: { 'postgres:16': 'reg.example.com/pg:16' }, mirror: '127.0.0.1:15000/mirror' };
  const withImages: Environment = { ...staging, images };
  await store.create(withImages);
  const text = readFileSync(path.join(dir, 'encore.environments.json'), 'utf8');
  assert.equal(text, fileText([{ ...staging, images: { mirror: images.mirror, replace: images.replace } }]));
  const loaded = await new EnvStore(dir).load();
  assert.ok(loaded.ok);
  assert.deepEqual(loaded.environments[0]!.images, { mirror: '127.0.0.1:15000/mirror', replace: { 'postgres:16': 'reg.example.com/pg:16' } });

  // Saving an edit in the form (a new branch) keeps the override as it was.
  const draft = { ...draftFromEnvironment(loaded.environments[0]!), branch: 'develop' };
  const edited = environmentFromDraft(draft, [], loaded.environments[0]!);
  await store.update('staging', edited);
  const after = await new EnvStore(dir).load();
  assert.ok(after.ok);
  assert.deepEqual(after.environments[0]!.images, loaded.environments[0]!.images);
  assert.deepEqual(after.environments[0]!.deploy, { trigger: 'push', branch: 'develop' });

  // A hand-written file with a bad reference is reported at its place.
  const bad = fileText([{ ...staging, images: { replace: { 'redis:7.2': 'reg.example.com/Redis:7' } } }]);
  const parsed = parseEnvironmentsText(bad);
  assert.ok(!parsed.ok);
  assert.equal(parsed.problems.length, 1);
  assert.match(parsed.problems[0]!.message, /"reg.example.com\/Redis:7" is not an image reference: "Redis" has uppercase letters/);
  assert.equal(parsed.problems[0]!.line, bad.split('\n').findIndex((l) => l.includes('Redis:7')) + 1, 'the problem points at the value');
});

/** Every container image of the manifests the Kubernetes provider renders for the graph. */
function renderedImages(graph: DesiredGraph): string[] {
  const images: string[] = [];
  for (const { manifest } of renderGraph(graph)) {
    const m = manifest as { spec?: { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } };
    for (const spec of [m.spec?.template?.spec, m.spec?.jobTemplate?.spec?.template?.spec]) {
      for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) images.push(c.image);
    }
  }
  return images;
}
type PodSpec = { containers?: { image: string }[]; initContainers?: { image: string }[] };

/** Every `image` setting of the graph, at any depth (a server's, a Job's), in graph order. */
function settingImages(graph: DesiredGraph): string[] {
  const images: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        if (k === 'image' && typeof child === 'string') images.push(child);
        else walk(child);
      }
    }
  };
  for (const r of graph.resources) walk(r.settings);
  return images;
}

test('the planner pulls every image the product runs from the override, in every kind of environment', () => {
  const mirror = 'mirror.example.com/hub';
  for (const [kind, type] of [['kubernetes', 'development'], ['aws', 'development'], ['gcp', 'development'], ['kubernetes', 'production'], ['aws', 'production']] as const) {
    // On AWS and GCP the manifests need the cloud's outputs to render; the settings they read are checked instead.
    const images = kind === 'kubernetes' ? renderedImages : settingImages;
    const plain = images(desiredGraph(everything, env(kind, type)));
    const mirrored = images(desiredGraph(everything, env(kind, type, { images: { mirror } })));
    assert.ok(plain.length > 0, `${kind} ${type} runs images`);
    assert.equal(mirrored.length, plain.length);
    plain.forEach((image, i) => {
      assert.ok(PRODUCT_IMAGES.includes(image), `${kind} ${type}: ${image} is listed among the product's images`);
      assert.equal(mirrored[i], overrideImage(image, { mirror }), `${kind} ${type}: ${image}`);
      assert.ok(mirrored[i]!.startsWith(`${mirror}/`));
    });
  }
  // The Development graph of the everything app runs each of the product's images but the cloud-only ones, which
  // its AWS Production graph adds (the cluster autoscaler).
  const local = renderedImages(desiredGraph(everything, env('kubernetes', 'development')));
  assert.deepEqual([...new Set(local)].sort(), PRODUCT_IMAGES.filter((i) => !CLOUD_ONLY_IMAGES.includes(i)).sort());
  const eks = settingImages(desiredGraph(everything, env('aws', 'production')));
  for (const image of CLOUD_ONLY_IMAGES) assert.ok(eks.includes(image), `${image} runs on AWS Production`);
});

test('per-image replacements win, the app\'s own image is never rewritten, and a replacement of an unknown image is a warning', () => {
  const replace = Object.fromEntries(PRODUCT_IMAGES.map((image, i) => [image, `local.example.com/stand-in-${i}:1`]));
  const graph = desiredGraph(sample, env('kubernetes', 'development', { images: { mirror: 'unused.example.com', replace } }));
  const images = renderedImages(graph);
  assert.ok(images.every((i) => i.startsWith('local.example.com/stand-in-')), images.join(', '));
  assert.deepEqual(graph.warnings, []);

  const appImage = `registry.example.com/sample@${DIGEST}`;
  const deployed = desiredGraph(sample, env('kubernetes', 'development', { images: { mirror: 'm.example.com' } }), { appImage });
  const deployments = deployed.resources.filter((r) => r.providerType === 'k8s/apps/v1/Deployment');
  assert.ok(deployments.length > 0);
  for (const d of deployments) assert.equal(d.settings.image, appImage);
  const beforeDeploy = desiredGraph(sample, env('kubernetes', 'development', { images: { mirror: 'm.example.com' } }));
  for (const d of beforeDeploy.resources.filter((r) => r.providerType === 'k8s/apps/v1/Deployment')) assert.equal(d.settings.image, overrideImage(PLACEHOLDER_IMAGE, { mirror: 'm.example.com' }));

  const typo = desiredGraph(sample, env('kubernetes', 'development', { images: { replace: { 'postgres:15': 'x.example.com/pg:15' } } }));
  assert.equal(typo.warnings.length, 1);
  assert.match(typo.warnings[0]!, /^images.replace names "postgres:15", which is not an image Encore Environments runs, so it changes nothing \(the images are: postgres:16, /);
  assert.ok(renderedImages(typo).includes('postgres:16'));
});

test('the schema documents every image the product runs, so a user can write a replacement without reading code', () => {
  const schema = readFileSync(path.join(__dirname, '../../schemas/encore.environments.schema.json'), 'utf8');
  for (const image of PRODUCT_IMAGES) assert.ok(schema.includes(image), `the schema's images.replace description names ${image}`);
});
