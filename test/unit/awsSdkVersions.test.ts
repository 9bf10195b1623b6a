// The AWS SDK is one SDK: every @aws-sdk/* (and @smithy/*) package exactly once in package-lock.json, the clients and
// the credential providers pinned to one exact release. Two copies of @aws-sdk/core would mean two credential caches,
// two retry quotas and a bundle twice the size.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..');
const SDK_RELEASE = '3.1127.0';
const PINNED = ['credential-providers', 'client-sts', 'client-ec2', 'client-eks', 'client-iam', 'client-rds', 'client-elasticache', 'client-sns', 'client-sqs', 'client-s3', 'client-secrets-manager', 'client-ecr'].map((n) => `@aws-sdk/${n}`);

interface LockPackage {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
interface Lock {
  packages: Record<string, LockPackage>;
}

/** The package at a lock path: `node_modules/a/node_modules/@s/b` → `@s/b`. */
const nameAt = (lockPath: string) => lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** Where Node resolves `name` from the package at `from`: the nearest node_modules up the tree that has it. */
function resolveFrom(lock: Lock, from: string, name: string): string | undefined {
  for (let dir = from; ; ) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

/** Every package name matching `scope` that the lock holds in more than one version, with who pulls in each. */
export function duplicateVersions(lock: Lock, scope: RegExp): string[] {
  const copies = new Map<string, Map<string, string[]>>();
  for (const [lockPath, pkg] of Object.entries(lock.packages)) {
    if (!lockPath.includes('node_modules/') || !scope.test(nameAt(lockPath)) || !pkg.version) continue;
    const byVersion = copies.get(nameAt(lockPath)) ?? new Map<string, string[]>();
    byVersion.set(pkg.version, [...(byVersion.get(pkg.version) ?? []), lockPath]);
    copies.set(nameAt(lockPath), byVersion);
  }
  const problems: string[] = [];
  for (const [name, byVersion] of copies) {
    if (byVersion.size < 2) continue;
    const described = [...byVersion].map(([version, paths]) => {
      const dependents = Object.entries(lock.packages)
        .filter(([from, pkg]) => ({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })[name] !== undefined && paths.includes(resolveFrom(lock, from, name) ?? ''))
        .map(([from]) => (from === '' ? 'the project' : `${nameAt(from)}@${lock.packages[from].version}`));
      return `${version} (pulled in by ${dependents.join(', ') || 'nothing'})`;
    });
    problems.push(`${name}: ${described.join(' and ')}`);
  }
  return problems.sort();
}

test('package-lock.json holds one version of every @aws-sdk/* and @smithy/* package', () => {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as Lock;
  const sdk = Object.keys(lock.packages).filter((p) => /node_modules\/@aws-sdk\//.test(p));
  assert.ok(sdk.length >= PINNED.length, `the lock holds only ${sdk.length} @aws-sdk packages`);
  const duplicates = duplicateVersions(lock, /^@(aws-sdk|smithy)\//);
  assert.deepEqual(duplicates, [], `two versions of an SDK package; pin them to one (npm dedupe, or align the clients):\n${duplicates.join('\n')}`);
});

test('the clients and the credential providers are pinned to one exact release in package.json', () => {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of PINNED) assert.equal(manifest.dependencies[name], SDK_RELEASE, name);
  for (const [name, range] of Object.entries(manifest.dependencies)) {
    if (/^@(aws-sdk|smithy)\//.test(name)) assert.match(range, /^\d+\.\d+\.\d+$/, `${name} is "${range}": pin it exactly`);
  }
});

test('a second version is reported with both versions and who pulls each in', () => {
  const lock: Lock = {
    packages: {
      '': { dependencies: { '@aws-sdk/client-s3': '3.1.0', 'other-tool': '1.0.0' } },
      'node_modules/@aws-sdk/client-s3': { version: '3.1.0', dependencies: { '@aws-sdk/core': '^3.900.0' } },
      'node_modules/@aws-sdk/core': { version: '3.981.2' },
      'node_modules/other-tool': { version: '1.0.0', dependencies: { '@aws-sdk/core': '3.500.0' } },
      'node_modules/other-tool/node_modules/@aws-sdk/core': { version: '3.500.0' },
    },
  };
  assert.deepEqual(duplicateVersions(lock, /^@aws-sdk\//), [
    '@aws-sdk/core: 3.981.2 (pulled in by @aws-sdk/client-s3@3.1.0) and 3.500.0 (pulled in by other-tool@1.0.0)',
  ]);
});
