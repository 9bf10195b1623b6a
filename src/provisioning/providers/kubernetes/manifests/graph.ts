/**
 * Every manifest of a graph at once, without a cluster: the context each renderer needs is taken from the graph
 * itself (fresh generated values, the infra config's hash, each Job's server from its StatefulSet's manifest). For
 * the manifest validation test (a server-side dry run of each) and for showing what an apply would write.
 */

import { dependencyOrder, type DesiredGraph, type DesiredResource } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { type ImageChoice, type RenderContext, type ServerInfo } from './common';
import { renderResource, serverIdOf, supportsType } from './index';
import { infraConfigHash, infraConfigText, secretValues } from './secrets';

export function serverInfoOf(statefulSet: KubeObject): ServerInfo {
  const container = (statefulSet.spec as { template: { spec: { containers: { image: string; env?: ServerInfo['env'] }[] } } }).template.spec.containers[0];
  if (!container) throw new Error(`StatefulSet ${statefulSet.metadata.name} has no container`);
  return { name: statefulSet.metadata.name, image: container.image, env: container.env ?? [] };
}

export function renderGraph(graph: DesiredGraph, options: { images?: ImageChoice } = {}): { resource: DesiredResource; manifest: KubeObject }[] {
  const base: RenderContext = { environment: graph.environment, namespace: graph.namespace, production: graph.type === 'production', images: options.images };
  const infra = graph.resources.find((r) => r.kind === 'infraConfig');
  const hash = infra ? infraConfigHash(infraConfigText(infra)) : undefined;
  const byId = new Map(graph.resources.map((r) => [r.id, r]));
  const out: { resource: DesiredResource; manifest: KubeObject }[] = [];
  for (const r of dependencyOrder(graph)) {
    if (!supportsType(r.providerType)) continue;
    const ctx: RenderContext = { ...base };
    if (r.providerType === 'k8s/v1/Secret') ctx.secretValues = secretValues(r, null);
    if (r.providerType === 'k8s/apps/v1/Deployment') ctx.infraConfigHash = hash;
    const serverId = serverIdOf(r);
    if (serverId) {
      const server = byId.get(serverId);
      if (!server) throw new Error(`${r.id}: its server ${serverId} is not in the graph`);
      ctx.server = serverInfoOf(renderResource(server, base));
    }
    out.push({ resource: r, manifest: renderResource(r, ctx) });
  }
  return out;
}
