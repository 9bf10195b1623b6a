/**
 * A temporary Docker config folder for one build: `encore build docker --push` reads its registry credentials from
 * `$DOCKER_CONFIG/config.json`, so pointing DOCKER_CONFIG at a folder that holds one short-lived credential for the
 * one registry the image goes to leaves the user's own ~/.docker untouched and hands the build nothing else.
 *
 * The folder is 0700 and config.json 0600, and both go when the build ends: on success, on failure, on cancellation,
 * and on the process's exit. A folder left by a process that was killed outright is removed by the next run
 * (`removeAbandonedDockerConfigs`), since it is named after its owner's pid.
 */

import { Buffer } from 'node:buffer';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../../files/processAlive';
import { dockerConfigKey, type RegistryCredential } from './registry';

const PREFIX = 'encore-docker-config-';
const OWNER = 'owner.pid';

export interface TemporaryDockerConfig {
  /** The folder to pass as DOCKER_CONFIG. */
  dir: string;
  /** The environment a child gets: DOCKER_CONFIG set, nothing else changed. */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Removes the folder; safe to call twice. */
  dispose(): void;
}

/** The config.json entry for a credential, as `docker login` would write it. */
function authEntry(credential: RegistryCredential): Record<string, string> {
  if ('registryToken' in credential) return { registrytoken: credential.registryToken };
  if ('identityToken' in credential) return { identitytoken: credential.identityToken, ...(credential.username ? { username: credential.username } : {}) };
  return { auth: Buffer.from(`${credential.username}:${credential.password}`).toString('base64') };
}

/** Creates the folder with a config.json holding `credential` for `registry` only. Call `dispose()` when done. */
export function createTemporaryDockerConfig(registry: string, credential: RegistryCredential, options: { parentDir?: string } = {}): TemporaryDockerConfig {
  const parent = options.parentDir ?? os.tmpdir();
  removeAbandonedDockerConfigs(parent);
  // mkdtemp creates the folder 0700.
  const dir = mkdtempSync(path.join(parent, PREFIX));
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    process.removeListener('exit', dispose);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(path.join(dir, OWNER), `${process.pid}\n`, { mode: 0o600 });
    // No credsStore or credHelpers: the build must use this credential, not the user's keychain.
    const config = { auths: { [dockerConfigKey(registry)]: authEntry(credential) } };
    writeFileSync(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    dispose();
    throw new Error(`could not write a temporary Docker config in ${parent}: ${(err as Error).message}`, { cause: err });
  }
  process.once('exit', dispose);
  return { dir, env: (base = process.env) => ({ ...base, DOCKER_CONFIG: dir }), dispose };
}

/**
 * Runs `fn` with a temporary Docker config and removes it afterwards, whether `fn` resolves, throws or is aborted
 * through `signal` (the folder goes as soon as the abort is signalled, while `fn` winds down).
 */
export async function withTemporaryDockerConfig<T>(
  registry: string,
  credential: RegistryCredential,
  fn: (config: TemporaryDockerConfig) => Promise<T>,
  options: { parentDir?: string; signal?: AbortSignal } = {},
): Promise<T> {
  options.signal?.throwIfAborted();
  const config = createTemporaryDockerConfig(registry, credential, options);
  const onAbort = () => config.dispose();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(config);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    config.dispose();
  }
}

/** Removes temporary Docker configs whose owning process is gone (killed before it could clean up). */
export function removeAbandonedDockerConfigs(parent: string = os.tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(parent, name);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(dir, OWNER), 'utf8'));
    } catch {
      continue;
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) rmSync(dir, { recursive: true, force: true });
  }
}
