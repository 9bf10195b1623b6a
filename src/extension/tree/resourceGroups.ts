// Pure (no vscode): how the planner's resources are grouped and labelled, shared by the tree, the form's preview and
// the CodeLens statuses, so all three say the same thing.
import type { DeclarationKind } from '../../model/appModel';
import type { DesiredGraph, DesiredResource, ResourceKind, SourceKind, SourceRef } from '../../model/desiredGraph';

/** The resources that exist for one Encore declaration, or the environment-wide ones (`source` null). */
export interface ResourceGroup {
  /** Stable within an environment: `shared`, or `<source kind>:<source name>`. */
  key: string;
  source: SourceRef | null;
  label: string;
  description: string;
  /** A codicon name. */
  icon: string;
  resources: DesiredResource[];
}

const SOURCE_LABEL: Record<SourceKind, string> = {
  service: 'service',
  gateway: 'gateway',
  database: 'database',
  cache: 'cache cluster',
  topic: 'topic',
  subscription: 'subscription',
  bucket: 'bucket',
  secret: 'secret',
  cronJob: 'cron job',
};

export const SOURCE_ICON: Record<SourceKind, string> = {
  service: 'server-process',
  gateway: 'globe',
  database: 'database',
  cache: 'zap',
  topic: 'broadcast',
  subscription: 'inbox',
  bucket: 'archive',
  secret: 'key',
  cronJob: 'watch',
};

/**
 * Which of a declaration's resources stands for it in one line (the CodeLens, a group's description): the thing a
 * person would name when asked "what does the users database become?".
 */
const PRIMARY: readonly ResourceKind[] = [
  'databaseServer',
  'cache',
  'topic',
  'subscription',
  'bucket',
  'statefulSet',
  'deployment',
  'cronJob',
  'secret',
  'database',
];

export function sourceKey(source: SourceRef | null): string {
  return source ? `${source.kind}:${source.name}` : 'shared';
}

/** Groups the graph's resources: the environment-wide ones first, then one group per declaration in plan order. */
export function groupResources(graph: DesiredGraph): ResourceGroup[] {
  const groups = new Map<string, ResourceGroup>();
  groups.set('shared', { key: 'shared', source: null, label: 'Shared infrastructure', description: '', icon: 'server-environment', resources: [] });
  for (const r of graph.resources) {
    const key = sourceKey(r.source);
    let group = groups.get(key);
    if (!group && r.source) {
      group = { key, source: r.source, label: sourceName(r.source), description: '', icon: SOURCE_ICON[r.source.kind], resources: [] };
      groups.set(key, group);
    }
    group?.resources.push(r);
  }
  const out = [...groups.values()].filter((g) => g.resources.length > 0);
  for (const g of out) g.description = groupDescription(g);
  return out;
}

function sourceName(source: SourceRef): string {
  // A subscription's source name is `<topic>/<subscription>`; the subscription's own name reads better.
  return source.kind === 'subscription' ? source.name.slice(source.name.indexOf('/') + 1) : source.name;
}

function groupDescription(g: ResourceGroup): string {
  if (!g.source) {
    const heads = [...new Set(g.resources.map((r) => headOf(r.summary)))];
    return heads.length > 4 ? `${heads.slice(0, 4).join(', ')}, …` : heads.join(', ');
  }
  const kind = g.source.kind === 'subscription' ? `subscription to ${g.source.name.split('/')[0]}` : SOURCE_LABEL[g.source.kind];
  const primary = primaryResource(g.resources);
  return primary ? `${kind} · ${shortSummary(primary)}` : kind;
}

/** The resource that stands for a declaration (see PRIMARY). */
export function primaryResource(resources: readonly DesiredResource[]): DesiredResource | undefined {
  for (const kind of PRIMARY) {
    const found = resources.find((r) => r.kind === kind);
    if (found) return found;
  }
  return resources[0];
}

/** What a resource becomes, without its "users DB → " prefix: "RDS PostgreSQL db.m5.large, 7-day backups". */
export function resourceLabel(r: DesiredResource): string {
  const at = r.summary.indexOf(' → ');
  return at >= 0 ? r.summary.slice(at + 3) : r.summary;
}

/** The first clause of the label, without parentheses, for one-line statuses: "RDS PostgreSQL db.m5.large". */
export function shortSummary(r: DesiredResource, max = 48): string {
  const text = resourceLabel(r).replace(/\s*\([^)]*\)/g, '').split(', ')[0].trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The part of a summary before the arrow: "network", "Pub/Sub", "users DB". */
function headOf(summary: string): string {
  const at = summary.indexOf(' → ');
  return at >= 0 ? summary.slice(0, at) : summary.split(' ')[0];
}

/** The planner's source for a CodeLens declaration (a subscription needs its topic: its source name is `topic/sub`). */
export function declarationSource(kind: DeclarationKind, name: string, topic?: string): SourceRef {
  if (kind === 'subscription') return { kind, name: `${topic ?? ''}/${name}` };
  return { kind, name };
}
