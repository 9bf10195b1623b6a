/**
 * artifactregistry.googleapis.com/Repository: the environment's Docker repository for the deploy step, made and
 * deleted through long-running operations.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import type { LiveObject, Outputs, ResolvedResource, StepContext } from '../../../../model/providerApi';
import { isAlreadyExists, isNotFound } from '../connection';
import { labelsFor, marked, out, plainLabels, str, waitOperation, type GcpContext, type Handler } from './common';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Artifact Registry's messages

const repoPath = (c: GcpContext, location: string, name: string) => `projects/${c.project}/locations/${location}/repositories/${name}`;

async function getRepo(c: GcpContext, location: string, name: string, signal: AbortSignal): Promise<Json | null> {
  const client = await c.clients.get('artifactregistry');
  try {
    const [repo] = (await c.call('artifactregistry', 'repositories.get', () => client.getRepository({ name: repoPath(c, location, name) }), signal)) as Json[];
    return repo;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Where Docker pushes to: the `registryUri` Artifact Registry reports, or its documented form when it reports none. */
const registryOf = (c: GcpContext, location: string, name: string, repo: Json | null) =>
  typeof repo?.registryUri === 'string' && repo.registryUri !== '' ? repo.registryUri : `${location}-docker.pkg.dev/${c.project}/${name}`;

const outputsOf = (c: GcpContext, location: string, name: string, repo: Json | null): Outputs => ({
  name: out(repoPath(c, location, name)),
  registry: out(registryOf(c, location, name, repo)),
});

/** The Docker location Artifact Registry reports for repository `name` in `location`, or null when there is none. */
export async function repositoryRegistry(c: GcpContext, location: string, name: string, signal: AbortSignal): Promise<string | null> {
  const repo = await getRepo(c, location, name, signal);
  return repo ? registryOf(c, location, name, repo) : null;
}

async function read(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const location = str(r.settings, 'location', r.id);
  const repo = await getRepo(c, location, r.name, signal);
  if (!repo) return null;
  return { externalId: String(repo.name), observed: { format: String(repo.format) }, outputs: outputsOf(c, location, r.name, repo), status: { state: 'ready' }, ours: marked(plainLabels(repo.labels), r, c) };
}

async function ensure(r: ResolvedResource, c: GcpContext, step: StepContext): Promise<Outputs> {
  const client = await c.clients.get('artifactregistry');
  const location = str(r.resolved, 'location', r.id);
  let repo = await getRepo(c, location, r.name, step.signal);
  if (!repo) {
    try {
      const [op] = (await c.call('artifactregistry', 'repositories.create', () => client.createRepository({
        parent: `projects/${c.project}/locations/${location}`, repositoryId: r.name,
        repository: { format: str(r.resolved, 'format', r.id), description: `Images of Encore environment ${c.environment}`, labels: labelsFor(r, c) },
      }), step.signal)) as Json[];
      await waitOperation(c, step, 'artifactregistry', client, String(op.name), `Artifact Registry repository ${r.name}`, r.id, 10 * 60_000);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    repo = await getRepo(c, location, r.name, step.signal);
  }
  return outputsOf(c, location, r.name, repo);
}

export const artifactRegistryHandler: Handler = {
  managed: ['format'],
  read,
  create: ensure,
  update: ensure,
  async delete(r, c, step) {
    const client = await c.clients.get('artifactregistry');
    const location = str(r.settings, 'location', r.id);
    if (!(await getRepo(c, location, r.name, step.signal))) return;
    const [op] = (await c.call('artifactregistry', 'repositories.delete', () => client.deleteRepository({ name: repoPath(c, location, r.name) }), step.signal)) as Json[];
    await waitOperation(c, step, 'artifactregistry', client, String(op.name), `deleting Artifact Registry repository ${r.name}`, r.id, 10 * 60_000);
  },
  async waitReady() {
    // Usable once created.
  },
};
