// Pure (no vscode): each environment's status of one infrastructure declaration, for the CodeLens line above it,
// e.g. "staging: StatefulSet postgres:16" and "prod: RDS PostgreSQL db.m5.large".
import type { AppModel, DeclarationKind } from '../../model/appModel';
import type { Environment } from '../../model/environment';
import { declarationSource, primaryResource, shortSummary, sourceKey } from './resourceGroups';
import { summarize, type GraphFn, type StatusFn } from './treeData';

export interface Declared {
  kind: DeclarationKind;
  name: string;
  /** Where the lens is, to tell apart subscriptions of the same name on different topics. */
  file: string;
  line: number;
}

export interface LensStatus {
  env: string;
  title: string;
  tooltip: string;
}

/** `statusOf` gives recorded statuses (provision/liveStatus.ts); without it everything is "not provisioned". */
export function lensStatuses(model: AppModel, envs: readonly Environment[], d: Declared, graphFor: GraphFn, statusOf?: StatusFn): LensStatus[] {
  const topic =
    d.kind === 'subscription'
      ? (model.subscriptions.find((s) => s.name === d.name && s.declaration.file === d.file && s.declaration.range.start.line === d.line) ??
          model.subscriptions.find((s) => s.name === d.name))?.topic
      : undefined;
  const key = sourceKey(declarationSource(d.kind, d.name, topic));
  return envs.map((env) => {
    let resources;
    try {
      resources = graphFor(model, env).resources.filter((r) => r.source && sourceKey(r.source) === key);
    } catch (err) {
      return { env: env.name, title: `${env.name}: cannot plan`, tooltip: `The planner failed on ${env.name}: ${(err as Error).message}` };
    }
    const primary = primaryResource(resources);
    if (!primary) {
      // Encore leaves out what no service uses; so does the planner.
      return { env: env.name, title: `${env.name}: not deployed`, tooltip: `No service uses it, so ${env.name} does not get it.` };
    }
    const n = resources.length;
    const statuses = resources.map((r) => statusOf?.(model.root, env.name, r.id).status ?? 'not provisioned');
    // The title says the primary resource's status once anything is recorded, e.g. "staging: StatefulSet postgres:16 · ready".
    const shown = statusOf?.(model.root, env.name, primary.id);
    const primaryStatus = shown?.status ?? 'not provisioned';
    const recorded = statuses.some((st) => st !== 'not provisioned');
    // A service's lens says what revision its Deployment runs since the last deploy.
    const runs = shown?.revision ? ` · runs ${shown.revision}` : '';
    return {
      env: env.name,
      title: `${env.name}: ${shortSummary(primary)}${recorded ? ` · ${primaryStatus}` : ''}${runs}`,
      tooltip: `${env.name}: ${primary.summary} (${n} ${n === 1 ? 'resource' : 'resources'}), ${summarize(statuses)}${shown?.revision ? `; runs revision ${shown.revision} (its last deploy)` : ''}. Click to show it in the Environments view.`,
    };
  });
}
