// The statuses the tree shows before any plan or apply of this session: the recorded state of every environment,
// read when the apps or their environments change. Only in a trusted workspace (the state backend is chosen from the
// workspace's settings), and without a driver: nothing reaches a cluster just to draw the view (a Kubernetes
// environment's statuses come from the local copy of its Secret, as last seen by a plan, apply or destroy).
import * as vscode from 'vscode';
import type { EnvState } from '../../model/state';
import { recordedState } from '../../session';
import { log } from '../log';
import type { WorkspaceApps } from '../workspaceApps';
import type { Target } from './target';

export async function loadRecordedStates(apps: WorkspaceApps, onState: (t: Target, state: EnvState | null) => void): Promise<void> {
  if (!vscode.workspace.isTrusted) return;
  let count = 0;
  for (const app of await apps.list()) {
    if (!app.environments.ok) continue;
    for (const env of app.environments.environments) {
      const t = { root: app.found.root, env };
      try {
        const loaded = await recordedState(t.root, env);
        onState(t, loaded.state);
        if (loaded.state) count++;
      } catch (err) {
        // A corrupt or unreadable state file is Plan's to report, with what to do; the view just shows no status.
        log().warn(`recorded state of "${env.name}" not read: ${(err as Error).message}`);
      }
    }
  }
  log().info(`recorded state read for ${count} environment(s)`);
}
