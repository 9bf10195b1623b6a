// Kubernetes context discovery: KUBECONFIG with several files merged as kubectl does, exec plugins found and
// missing on PATH, relative plugin paths, removed auth providers, and broken or missing files.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { discoverKubeContexts } from '../../src/provisioning/providers/kubernetes/discovery';

const root = mkdtempSync(path.join(os.tmpdir(), 'discovery-kube-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function executable(file: string): string {
  write(file, '#!/bin/sh\necho "{}"\n');
  chmodSync(file, 0o755);
  return file;
}

// A PATH with `aws` on it, and without gke-gcloud-auth-plugin.
const bin = path.join(root, 'bin');
const aws = executable(path.join(bin, 'aws'));
write(path.join(bin, 'not-executable'), 'data');

const local = write(
  path.join(root, 'kube', 'local.yaml'),
  `apiVersion: v1
kind: Config
current-context: kind-dev
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTi1FWEFNUExF
- name: gke_shop-prod-123_europe-west1_main
  cluster:
    server: https://34.76.0.1
contexts:
- name: kind-dev
  context:
    cluster: kind-dev
    user: kind-dev
    namespace: shop
- name: gke_shop-prod-123_europe-west1_main
  context:
    cluster: gke_shop-prod-123_europe-west1_main
    user: gke_shop-prod-123_europe-west1_main
users:
- name: kind-dev
  user:
    client-certificate-data: LS0tLS1DRVJULUVYQU1QTEU=
    client-key-data: LS0tLS1LRVktRVhBTVBMRQ==
- name: gke_shop-prod-123_europe-west1_main
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin for use with kubectl by following
        https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin
      provideClusterInfo: true
`,
);

const eks = write(
  path.join(root, 'kube', 'eks.yaml'),
  `apiVersion: v1
kind: Config
current-context: arn:aws:eks:eu-west-1:444455556666:cluster/prod
clusters:
- name: arn:aws:eks:eu-west-1:444455556666:cluster/prod
  cluster:
    server: https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com
- name: kind-dev
  cluster:
    server: https://10.0.0.1:6443
- name: onprem
  cluster:
    server: https://k8s.internal:6443
contexts:
- name: arn:aws:eks:eu-west-1:444455556666:cluster/prod
  context:
    cluster: arn:aws:eks:eu-west-1:444455556666:cluster/prod
    user: arn:aws:eks:eu-west-1:444455556666:cluster/prod
- name: kind-dev
  context:
    cluster: kind-dev
    user: someone-else
- name: onprem
  context:
    cluster: onprem
    user: onprem-oidc
- name: dangling
  context:
    cluster: nowhere
    user: nobody
- name: old-gke
  context:
    cluster: onprem
    user: old-gke
users:
- name: arn:aws:eks:eu-west-1:444455556666:cluster/prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [--region, eu-west-1, eks, get-token, --cluster-name, prod]
      env:
      - name: AWS_PROFILE
        value: prod-deployer
- name: onprem-oidc
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./helpers/token-helper
- name: old-gke
  user:
    auth-provider:
      name: gcp
      config:
        access-token: ya29.SECRETACCESSTOKEN
`,
);
executable(path.join(root, 'kube', 'helpers', 'token-helper'));

const env = (KUBECONFIG: string) => ({ KUBECONFIG, PATH: bin });

test('several KUBECONFIG files merge as kubectl merges them: first definition and first current-context win', async () => {
  const found = await discoverKubeContexts({ homedir: root, env: env([local, path.join(root, 'missing.yaml'), eks].join(path.delimiter)), platform: 'linux' });
  assert.deepEqual(found.files, [local, eks], 'a missing KUBECONFIG entry is skipped, as kubectl does');
  assert.equal(found.currentContext, 'kind-dev');
  assert.deepEqual(
    found.contexts.map((c) => [c.name, c.file, c.cluster, c.user, c.namespace ?? '-', c.current]),
    [
      ['kind-dev', local, 'kind-dev', 'kind-dev', 'shop', true],
      ['gke_shop-prod-123_europe-west1_main', local, 'gke_shop-prod-123_europe-west1_main', 'gke_shop-prod-123_europe-west1_main', '-', false],
      ['arn:aws:eks:eu-west-1:444455556666:cluster/prod', eks, 'arn:aws:eks:eu-west-1:444455556666:cluster/prod', 'arn:aws:eks:eu-west-1:444455556666:cluster/prod', '-', false],
      ['onprem', eks, 'onprem', 'onprem-oidc', '-', false],
      ['dangling', eks, 'nowhere', 'nobody', '-', false],
      ['old-gke', eks, 'onprem', 'old-gke', '-', false],
    ],
  );
  // kind-dev's cluster is the first file's, not the second's.
  assert.equal(found.contexts[0].server, 'https://127.0.0.1:6443');
  assert.deepEqual(found.problems, []);
});

test('exec plugins: found on PATH, relative to the kubeconfig file, or missing with the fix', async () => {
  const found = await discoverKubeContexts({ homedir: root, env: env([local, eks].join(path.delimiter)), platform: 'linux' });
  const byName = new Map(found.contexts.map((c) => [c.name, c]));
  assert.deepEqual(byName.get('arn:aws:eks:eu-west-1:444455556666:cluster/prod')?.exec, { command: 'aws', resolved: aws, found: true, args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'prod'] });
  assert.deepEqual(byName.get('arn:aws:eks:eu-west-1:444455556666:cluster/prod')?.problems, []);
  assert.deepEqual(byName.get('onprem')?.exec, { command: './helpers/token-helper', resolved: path.join(root, 'kube', 'helpers', 'token-helper'), found: true });
  const gke = byName.get('gke_shop-prod-123_europe-west1_main');
  assert.equal(gke?.exec?.found, false);
  assert.equal(gke?.exec?.resolved, undefined);
  assert.deepEqual(gke?.problems, [
    'the exec plugin "gke-gcloud-auth-plugin" was not found on PATH: Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin, or put it on PATH. VS Code started from the desktop may not see your shell\'s PATH; an absolute path in kubeconfig also works.',
  ]);
  assert.deepEqual(byName.get('kind-dev')?.exec, undefined, 'client certificates need no plugin');
});

test('a missing plugin without an installHint gets ours; a file that is not executable does not count', async () => {
  const dir = path.join(root, 'hints');
  const file = write(
    path.join(dir, 'config'),
    `current-context: a
contexts:
- {name: a, context: {cluster: c, user: u1}}
- {name: b, context: {cluster: c, user: u2}}
clusters:
- {name: c, cluster: {server: "https://c"}}
users:
- {name: u1, user: {exec: {command: gke-gcloud-auth-plugin}}}
- {name: u2, user: {exec: {command: not-executable}}}
`,
  );
  const found = await discoverKubeContexts({ homedir: root, env: env(file), platform: 'linux' });
  assert.match(found.contexts[0].problems[0], /^the exec plugin "gke-gcloud-auth-plugin" was not found on PATH: install it with "gcloud components install gke-gcloud-auth-plugin"/);
  assert.match(found.contexts[1].problems[0], /^the exec plugin "not-executable" was not found on PATH: install "not-executable", or put it on PATH/);
});

test('dangling clusters and users, a removed auth provider and a current-context that does not exist are explained', async () => {
  const found = await discoverKubeContexts({ homedir: root, env: env(eks), platform: 'linux' });
  const byName = new Map(found.contexts.map((c) => [c.name, c]));
  assert.deepEqual(byName.get('dangling')?.problems, [
    'its cluster "nowhere" is not defined in any kubeconfig file',
    'its user "nobody" is not defined in any kubeconfig file',
  ]);
  assert.deepEqual(byName.get('old-gke')?.problems, [
    'its user uses the "gcp" auth-provider, which current kubectl and client libraries no longer support; switch to the exec plugin gke-gcloud-auth-plugin',
  ]);
  assert.ok(!JSON.stringify(found).includes('SECRETACCESSTOKEN'));
  assert.equal(found.currentContext, 'arn:aws:eks:eu-west-1:444455556666:cluster/prod');

  const wrongCurrent = write(path.join(root, 'wrong-current.yaml'), 'current-context: gone\ncontexts: []\n');
  const wrong = await discoverKubeContexts({ homedir: root, env: env(wrongCurrent), platform: 'linux' });
  assert.deepEqual(wrong.problems, [`no contexts in ${wrongCurrent}`, 'the current-context "gone" is not defined in any kubeconfig file']);
});

test('without KUBECONFIG, ~/.kube/config is read; without any file, one clear problem', async () => {
  const home = path.join(root, 'home');
  const config = write(path.join(home, '.kube', 'config'), 'current-context: x\ncontexts:\n- name: x\n  context: {cluster: x}\nclusters:\n- name: x\n  cluster: {server: "https://x"}\n');
  const found = await discoverKubeContexts({ homedir: home, env: { PATH: bin }, platform: 'linux' });
  assert.deepEqual(found.files, [config]);
  assert.deepEqual(found.contexts.map((c) => [c.name, c.current, c.problems]), [['x', true, []]]);

  const empty = path.join(root, 'empty-home');
  mkdirSync(empty);
  const none = await discoverKubeContexts({ homedir: empty, env: { PATH: bin }, platform: 'linux' });
  assert.deepEqual(none.contexts, []);
  assert.equal(none.problems.length, 1);
  assert.match(none.problems[0], /^no kubeconfig: .*\.kube\/config does not exist\. Create a cluster context with your provider's CLI/);

  const noneInEnv = await discoverKubeContexts({ homedir: empty, env: env(path.join(root, 'a.yaml') + path.delimiter + path.join(root, 'b.yaml')), platform: 'linux' });
  assert.match(noneInEnv.problems[0], /^none of the kubeconfig files in KUBECONFIG exists: /);
});

test('a broken YAML file is reported with its line, without quoting it, and the other files still count', async () => {
  const broken = write(path.join(root, 'broken.yaml'), 'users:\n- name: u\n  user:\n    token: sk-SECRET-TOKEN\n   bad: [indent\n');
  const found = await discoverKubeContexts({ homedir: root, env: env([broken, local].join(path.delimiter)), platform: 'linux' });
  assert.deepEqual(found.files, [broken, local]);
  assert.ok(found.problems.some((p) => p.startsWith(`${broken} line `)), found.problems.join('\n'));
  assert.ok(found.problems.includes(`${broken} is not valid YAML and was skipped`));
  assert.ok(!found.problems.join('\n').includes('sk-SECRET-TOKEN'));
  assert.equal(found.contexts.length, 2);

  const notAConfig = write(path.join(root, 'list.yaml'), '- a\n- b\n');
  const odd = write(path.join(root, 'odd.yaml'), 'contexts: {a: 1}\nusers:\n- user: {}\n');
  const emptyFile = write(path.join(root, 'empty.yaml'), '');
  const more = await discoverKubeContexts({ homedir: root, env: env([notAConfig, odd, emptyFile].join(path.delimiter)), platform: 'linux' });
  assert.deepEqual(more.problems, [
    `${notAConfig} is not a kubeconfig (it does not hold a mapping) and was skipped`,
    `${odd}: "contexts" is not a list and was ignored`,
    `${odd}: an entry of "users" has no name and was ignored`,
    `no contexts in ${notAConfig}, ${odd}, ${emptyFile}`,
  ]);
});

test('on Windows, KUBECONFIG entries are separated by semicolons', async () => {
  const found = await discoverKubeContexts({ homedir: root, env: { KUBECONFIG: `${local};${eks}`, PATH: bin }, platform: 'win32' });
  assert.deepEqual(found.files, [local, eks]);
});
