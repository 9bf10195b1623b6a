import type { DesiredResource } from '../../model/desiredGraph';
import type { FieldChange, LiveObject, Outputs, ResolvedResource, StepContext } from '../../model/providerApi';

/** One cloud resource type: what a cloud driver (AWS, GCP) does for it, over that driver's context `C`. */
export interface CloudHandler<C> {
  /** The settings paths (dotted) the handler reads back and compares; the rest are the planner's notes. */
  readonly managed: readonly string[];
  read(r: DesiredResource, c: C, signal: AbortSignal): Promise<LiveObject | null>;
  /** Creates, or adopts and updates; waits only for what its outputs need. */
  create(r: ResolvedResource, c: C, step: StepContext): Promise<Outputs>;
  update(r: ResolvedResource, c: C, step: StepContext): Promise<Outputs>;
  delete(r: DesiredResource, c: C, step: StepContext): Promise<void>;
  waitReady(r: ResolvedResource, c: C, step: StepContext): Promise<void>;
  /** A diff of its own, for settings that are not compared field by field (IAM policy documents). */
  diff?(desired: ResolvedResource, live: LiveObject): FieldChange[];
}
