// Pure (no vscode): the planner, memoised. The planner is pure, so a graph is reused for as long as the model object
// and the environment's content are the same: a tree refresh after a file change re-plans only what changed, and the
// CodeLens statuses cost a lookup.
import type { AppModel } from '../../model/appModel';
import type { DesiredGraph } from '../../model/desiredGraph';
import type { Environment } from '../../model/environment';
import { desiredGraph, githubRepository, readMigrationSql } from '../../session';
import type { GraphFn } from './treeData';

/** `appIdOf` gives Encore's app id (encore.app `id`) for an app root, which the planner uses in resource names. */
export function cachedGraphs(appIdOf: (root: string) => string | undefined): GraphFn {
  const graphs = new WeakMap<AppModel, Map<string, DesiredGraph>>();
  const repositories = new WeakMap<AppModel, string | null>();
  // Read once per model, and only for an AWS environment that deploys on push (its deploy role trusts the repository).
  const repositoryOf = (model: AppModel, env: Environment): string | undefined => {
    if (env.provider.kind !== 'aws' || env.deploy.trigger !== 'push') return undefined;
    if (!repositories.has(model)) repositories.set(model, githubRepository(model.root).repository);
    return repositories.get(model) ?? undefined;
  };
  return (model, env) => {
    let byEnv = graphs.get(model);
    if (!byEnv) {
      byEnv = new Map();
      graphs.set(model, byEnv);
    }
    const key = JSON.stringify(env satisfies Environment);
    let graph = byEnv.get(key);
    if (!graph) {
      // The migrations' SQL too, so the tree shows the graph an apply would (the database Jobs carry it).
      graph = desiredGraph(model, env, { appId: appIdOf(model.root), migrationSql: readMigrationSql(model), ciRepository: repositoryOf(model, env) });
      byEnv.set(key, graph);
    }
    return graph;
  };
}
