import type { Environment } from '../model/environment';
import { formatProblem, type FileProblem } from './problems';
import { EnvStore } from './store';

export type EnvironmentsRead =
  | { kind: 'missing'; file: string }
  | { kind: 'ok'; file: string; environments: Environment[] }
  | {
      kind: 'invalid';
      file: string;
      /** Every problem on its own line, with its position: for a tooltip or a log. */
      message: string;
      /** The same problems with line, column and offsets, to show them in the editor. */
      errors: FileProblem[];
    };

/**
 * Reads the environments file beside an app's `encore.app`, read-only, with the store's full validation (the
 * published schema, unique names, no credentials). For a view that also writes and watches, use EnvStore.
 */
export async function readEnvironments(appRoot: string): Promise<EnvironmentsRead> {
  const result = await new EnvStore(appRoot).load();
  if (!result.ok) return { kind: 'invalid', file: result.file, message: result.errors.map(formatProblem).join('\n'), errors: result.errors };
  if (!result.exists) return { kind: 'missing', file: result.file };
  return { kind: 'ok', file: result.file, environments: result.environments };
}
