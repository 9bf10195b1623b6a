import { imageReferenceProblem, mirrorProblem } from '../model/imageOverride';
import { findCredentials } from './credentials';
import { pointer, type Problem } from './problems';
import { schemaErrorsOfEnvironment, schemaErrorsOfFile } from './schema';
import { schemaProblem } from './schemaMessages';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Everything wrong with a whole environments document: the published schema, then the rules a JSON schema cannot
 * state (unique names, maxInstances ≥ minInstances, image references), and anything that looks like a credential.
 */
export function validateDocument(value: unknown): Problem[] {
  const problems = merge(findCredentials(value), schemaErrorsOfFile(value).flatMap((e) => schemaProblem(e) ?? []));
  const envs = isRecord(value) && Array.isArray(value.environments) ? value.environments : [];
  const firstIndex = new Map<string, number>();
  envs.forEach((env, i) => {
    if (!isRecord(env)) return;
    for (const p of sizingProblems(env.sizing, ['environments', i, 'sizing'])) problems.push(p);
    for (const p of imagesProblems(env.images, ['environments', i, 'images'])) problems.push(p);
    if (typeof env.name !== 'string') return;
    const first = firstIndex.get(env.name);
    if (first === undefined) firstIndex.set(env.name, i);
    else problems.push({ path: pointer(['environments', i, 'name']), message: `the name "${env.name}" is already used by environments[${first}]` });
  });
  return problems;
}

/**
 * Everything wrong with one environment about to be saved next to environments named `otherNames`; paths are
 * relative to the environment (`/provider/region`), which is what a form needs to put the error beside its field.
 */
export function validateEnvironment(env: unknown, otherNames: Iterable<string> = []): Problem[] {
  const problems = merge(findCredentials(env), schemaErrorsOfEnvironment(env).flatMap((e) => schemaProblem(e) ?? []));
  if (isRecord(env)) {
    for (const p of sizingProblems(env.sizing, ['sizing'])) problems.push(p);
    for (const p of imagesProblems(env.images, ['images'])) problems.push(p);
    if (typeof env.name === 'string' && new Set(otherNames).has(env.name)) {
      problems.push({ path: '/name', message: `an environment named "${env.name}" already exists` });
    }
  }
  return problems;
}

/** Credential problems first; a schema problem at the same place ("unknown key") would only repeat it. */
function merge(credentials: Problem[], schema: Problem[]): Problem[] {
  const taken = new Set(credentials.map((p) => p.path));
  return [...credentials, ...schema.filter((p) => !taken.has(p.path))];
}

function sizingProblems(sizing: unknown, at: (string | number)[]): Problem[] {
  if (!isRecord(sizing) || !isRecord(sizing.services)) return [];
  const problems: Problem[] = [];
  for (const [service, answer] of Object.entries(sizing.services)) {
    if (!isRecord(answer) || typeof answer.minInstances !== 'number' || typeof answer.maxInstances !== 'number') continue;
    if (answer.maxInstances < answer.minInstances) {
      problems.push({
        path: pointer([...at, 'services', service, 'maxInstances']),
        message: `must be at least minInstances (${answer.minInstances})`,
      });
    }
  }
  return problems;
}

/** The image override's mirror and replacements must read as image references, and each says why not. */
function imagesProblems(images: unknown, at: (string | number)[]): Problem[] {
  if (!isRecord(images)) return [];
  const problems: Problem[] = [];
  if (typeof images.mirror === 'string' && images.mirror !== '') {
    const why = mirrorProblem(images.mirror);
    if (why) problems.push({ path: pointer([...at, 'mirror']), message: `is not a registry mirror: ${why}` });
  }
  if (isRecord(images.replace)) {
    for (const [from, to] of Object.entries(images.replace)) {
      const keyWhy = from === '' ? undefined : imageReferenceProblem(from);
      if (keyWhy) problems.push({ path: pointer([...at, 'replace', from]), target: 'key', message: `"${from}" is not an image reference: ${keyWhy}` });
      const valueWhy = typeof to === 'string' && to !== '' ? imageReferenceProblem(to) : undefined;
      if (valueWhy) problems.push({ path: pointer([...at, 'replace', from]), message: `"${to}" is not an image reference: ${valueWhy}` });
    }
  }
  return problems;
}
