import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ENVIRONMENTS_FILE, type Environment } from '../model/environment';

export type EnvironmentsRead =
  | { kind: 'missing'; file: string }
  | { kind: 'ok'; file: string; environments: Environment[] }
  | { kind: 'invalid'; file: string; message: string };

/**
 * Reads the environments file beside an app's `encore.app`, read-only. It checks the outer shape and each
 * entry's name, type, deploy and provider kind; full schema validation comes with the environment store.
 */
export async function readEnvironments(appRoot: string): Promise<EnvironmentsRead> {
  const file = path.join(appRoot, ENVIRONMENTS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', file };
    return { kind: 'invalid', file, message: `cannot read the file: ${(err as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', file, message: `not valid JSON: ${(err as Error).message}` };
  }
  const problem = shapeProblem(value);
  if (problem) return { kind: 'invalid', file, message: problem };
  return { kind: 'ok', file, environments: (value as { environments: Environment[] }).environments };
}

function shapeProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'the file must hold a JSON object';
  if (!Array.isArray(value.environments)) return '"environments" must be an array';
  const seen = new Set<string>();
  for (const [i, env] of value.environments.entries()) {
    const at = `environments[${i}]`;
    if (!isRecord(env)) return `${at} must be an object`;
    if (typeof env.name !== 'string' || env.name === '') return `${at}.name must be a non-empty string`;
    if (seen.has(env.name)) return `${at}: the name "${env.name}" is used twice`;
    seen.add(env.name);
    if (env.type !== 'production' && env.type !== 'development') {
      return `${at}.type must be "production" or "development"`;
    }
    if (!isRecord(env.deploy) || (env.deploy.trigger !== 'push' && env.deploy.trigger !== 'manual')) {
      return `${at}.deploy.trigger must be "push" or "manual"`;
    }
    if (env.deploy.trigger === 'push' && typeof env.deploy.branch !== 'string') return `${at}.deploy.branch must be a string`;
    if (!isRecord(env.provider) || !['aws', 'gcp', 'kubernetes'].includes(env.provider.kind as string)) {
      return `${at}.provider.kind must be "aws", "gcp" or "kubernetes"`;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
