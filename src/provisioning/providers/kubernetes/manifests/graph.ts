/**
 * Every manifest of a graph at once, without a cluster: the context each renderer needs is taken from the graph
 * itself (fresh generated values, the infra config's hash). For the manifest validation test (a server-side dry run
 * of each) and for showing what an apply would write.
 */

import { dependencyOrder, type DesiredGraph, type DesiredResource } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import type { RenderContext } from './common';
import { renderResource, supportsType } from './index';
import { infraConfigHash, infraConfigText, secretValues } from './secrets';

export function renderGraph(graph: DesiredGraph): { resource: DesiredResource; manifest: KubeObject }[] {
  const base: RenderContext = { environment: graph.environment, namespace: graph.namespace, production: graph.type === 'production' };
  const infra = graph.resources.find((r) => r.kind === 'infraConfig');
  const hash = infra ? infraConfigHash(infraConfigText(infra)) : undefined;
  const out: { resource: DesiredResource; manifest: KubeObject }[] = [];
  for (const r of dependencyOrder(graph)) {
    if (!supportsType(r.providerType)) continue;
    const ctx: RenderContext = { ...base };
    if (r.providerType === 'k8s/v1/Secret') ctx.secretValues = secretValues(r, null);
    if (r.providerType === 'k8s/apps/v1/Deployment') ctx.infraConfigHash = hash;
    out.push({ resource: r, manifest: renderResource(r, ctx) });
  }
  return out;
}
