// Connecting through the kubeconfig: KUBECONFIG with several files merged as kubectl does (the first definition of
// a name wins), relative certificate paths resolved per file, the environment's context rather than the current
// one, ~/.kube/config when KUBECONFIG is unset, and a missing exec plugin refused before any request.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { connect, listContexts } from '../../src/provisioning/providers/kubernetes/connection';
import { KubeConfigError } from '../../src/provisioning/providers/kubernetes/errors';

function kubeconfig(dir: string, name: string, doc: Record<string, unknown>): string {
  const file = path.join(dir, name);
  writeFileSync(file, stringify({ apiVersion: 'v1', kind: 'Config', ...doc }));
  return file;
}

const cluster = (name: string, server: string, ca?: string) => ({ name, cluster: { server, ...(ca ? { 'certificate-authority': ca } : {}) } });
const context = (name: string, c: string, user: string) => ({ name, context: { cluster: c, user } });

test('KUBECONFIG files are merged, the first definition wins, and the environment context is used, not the current one', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-conn-'));
  mkdirSync(path.join(dir, 'b'));
  writeFileSync(path.join(dir, 'b', 'ca.crt'), 'not a real certificate');
  const a = kubeconfig(dir, 'a.yaml', { 'current-context': 'kind-dev', clusters: [cluster('kind', 'https://127.0.0.1:1111')], users: [{ name: 'me', user: { token: 'a' } }], contexts: [context('kind-dev', 'kind', 'me')] });
  const b = kubeconfig(path.join(dir, 'b'), 'config', {
    'current-context': 'staging',
    clusters: [cluster('kind', 'https://127.0.0.1:2222'), cluster('staging', 'https://staging.example:6443', 'ca.crt')],
    users: [{ name: 'me', user: { token: 'b' } }],
    contexts: [context('staging', 'staging', 'me')],
  });
  const env = { PATH: process.env.PATH, KUBECONFIG: `${a}${path.delimiter}${b}` };
  const listed = await listContexts({ env, homedir: dir });
  assert.deepEqual(listed.contexts.map((c) => [c.name, c.current]), [['kind-dev', true], ['staging', false]]);

  const staging = await connect({ context: 'staging', env, homedir: dir });
  assert.equal(staging.client.server, 'https://staging.example:6443');
  assert.equal(staging.kubeConfig.getCurrentContext(), 'staging');
  assert.equal(staging.kubeConfig.getCurrentCluster()?.caFile, path.join(dir, 'b', 'ca.crt'), 'a relative path resolves against its own file');
  assert.equal(staging.kubeConfig.getCurrentUser()?.token, 'a', 'the first file defines user "me"');
  const kind = await connect({ context: 'kind-dev', env, homedir: dir });
  assert.equal(kind.client.server, 'https://127.0.0.1:1111', 'the first file defines cluster "kind"');
});

test('without KUBECONFIG, ~/.kube/config; an explicit file replaces both', async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'kube-home-'));
  mkdirSync(path.join(home, '.kube'));
  kubeconfig(path.join(home, '.kube'), 'config', { clusters: [cluster('c', 'https://home:6443')], users: [{ name: 'u', user: { token: 't' } }], contexts: [context('home', 'c', 'u')] });
  const other = kubeconfig(home, 'other.yaml', { clusters: [cluster('c', 'https://other:6443')], users: [{ name: 'u', user: { token: 't' } }], contexts: [context('home', 'c', 'u')] });
  assert.equal((await connect({ context: 'home', env: { PATH: process.env.PATH }, homedir: home })).client.server, 'https://home:6443');
  assert.equal((await connect({ context: 'home', kubeconfig: other, env: { PATH: process.env.PATH }, homedir: home })).client.server, 'https://other:6443');
});

test('a missing exec plugin and a missing context are refused with what to do', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-exec-'));
  const file = kubeconfig(dir, 'config', {
    clusters: [cluster('eks', 'https://eks.example')],
    users: [{ name: 'aws', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'x'] } } }],
    contexts: [context('eks', 'eks', 'aws')],
  });
  await assert.rejects(connect({ context: 'eks', kubeconfig: file, env: { PATH: dir }, homedir: dir }), (err: Error) => {
    assert.ok(err instanceof KubeConfigError);
    assert.match(err.message, /Context "eks" cannot authenticate: the exec plugin "aws" was not found on PATH: install the AWS CLI v2, or put it on PATH/);
    return true;
  });
  await assert.rejects(connect({ context: 'gke', kubeconfig: file, env: { PATH: dir }, homedir: dir }), /The kubeconfig context "gke" does not exist .*contexts: eks/);
});
