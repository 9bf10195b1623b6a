// The estimated monthly cost of what the form's environment would run, for the infrastructure preview: the same
// estimate the plan shows (src/provisioning/cost/), from the same memoised desired graph the preview lists.
import type { Environment } from '../../model/environment';
import type { CostEstimate } from '../../model/plan';
import { estimateCost } from '../../session';
import type { GraphFn, ModelState } from '../tree/treeData';

export function costPreview(model: ModelState, env: Environment, graphFor: GraphFn): CostEstimate | undefined {
  if (model.kind !== 'ready') return undefined;
  try {
    return estimateCost(graphFor(model.model, { ...env, name: env.name || 'new-environment' }), env);
  } catch {
    // The preview says why the graph cannot be made; the cost just stays away.
    return undefined;
  }
}
