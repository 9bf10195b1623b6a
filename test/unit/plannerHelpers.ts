// Shared inputs for the planner tests: the two analysed apps, one environment per provider and type.
import path from 'node:path';
import { AppAnalyzer } from '../../src/analyzer/analyzer';
import type { AppModel } from '../../src/model/appModel';
import type { DesiredGraph, DesiredResource } from '../../src/model/desiredGraph';
import type { Environment, EnvironmentType, ProviderSettings } from '../../src/model/environment';

const repo = path.join(__dirname, '..', '..');
export const sampleRoot = path.join(repo, 'examples', 'sample-app');
export const everythingRoot = path.join(repo, 'test', 'fixtures', 'apps', 'everything');
export const sample: AppModel = new AppAnalyzer(sampleRoot).analyze();
export const everything: AppModel = new AppAnalyzer(everythingRoot).analyze();

export const PROVIDERS: Record<ProviderSettings['kind'], ProviderSettings> = {
  aws: { kind: 'aws', region: 'eu-west-1', profile: 'shop' },
  gcp: { kind: 'gcp', project: 'shop-prod-1', region: 'europe-west1' },
  kubernetes: { kind: 'kubernetes', context: 'kind-dev' },
};

export const COMBOS: [ProviderSettings['kind'], EnvironmentType][] = [
  ['aws', 'production'],
  ['aws', 'development'],
  ['gcp', 'production'],
  ['gcp', 'development'],
  ['kubernetes', 'production'],
  ['kubernetes', 'development'],
];

export function env(kind: ProviderSettings['kind'], type: EnvironmentType, extra: Partial<Environment> = {}): Environment {
  return { name: type === 'production' ? 'prod' : 'dev', type, deploy: { trigger: 'manual' }, provider: PROVIDERS[kind], ...extra };
}

export function byId(graph: DesiredGraph, id: string): DesiredResource {
  const r = graph.resources.find((x) => x.id === id);
  if (!r) throw new Error(`no resource ${id} in the graph; ids: ${graph.resources.map((x) => x.id).join(', ')}`);
  return r;
}

export function ofKind(graph: DesiredGraph, kind: DesiredResource['kind']): DesiredResource[] {
  return graph.resources.filter((r) => r.kind === kind);
}

/** kind → sorted provider types, for "every kind × provider × type" tables. */
export function kindTable(graph: DesiredGraph): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const r of graph.resources) (out[r.kind] ??= new Set()).add(r.providerType);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
}
