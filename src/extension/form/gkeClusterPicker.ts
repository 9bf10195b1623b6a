// The existing GKE clusters of the form's project, asked for a moment after the project stops changing (the GKE
// API is called with the user's ADC) and sent to the page as plain choices. A failure is a hint under the field.
import type * as vscode from 'vscode';
import type { FormDraft, GkeClustersView, HostMessage } from '../../model/messages';

/** Lists a project's clusters for the picker (kubeconfig and GKE API, merged). */
export type GkeClusterLister = (project: string, region: string, signal: AbortSignal) => Promise<GkeClustersView>;

const SETTLE_MS = 600;

export class FormGkeClusters implements vscode.Disposable {
  private key: string | undefined;
  private last: GkeClustersView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: AbortController | undefined;

  constructor(
    private readonly list: GkeClusterLister | undefined,
    private readonly post: (message: Extract<HostMessage, { type: 'gkeClusters' }>) => void,
    /** For the log: a lister that threw (a bug; discovery itself never throws). */
    private readonly warn: (message: string) => void,
    private readonly settleMs = SETTLE_MS,
  ) {}

  /** The draft changed: look again when its GCP project did (`force`: after Refresh, or a reloaded page). */
  update(draft: FormDraft, force = false): void {
    const project = draft.provider === 'gcp' ? draft.gcpProject.trim() : '';
    if (project === '' || !this.list) return;
    if (project === this.key && !force) {
      if (this.last) this.post({ type: 'gkeClusters', clusters: this.last });
      return;
    }
    this.key = project;
    this.cancel();
    const say = (clusters: GkeClustersView) => {
      if (this.key !== project) return;
      this.last = clusters;
      this.post({ type: 'gkeClusters', clusters });
    };
    say({ project, state: 'checking', clusters: [], problems: [] });
    const list = this.list;
    const region = draft.gcpRegion.trim();
    this.timer = setTimeout(() => {
      const controller = new AbortController();
      this.running = controller;
      list(project, region, controller.signal).then(say, (err: unknown) => {
        if (controller.signal.aborted) return;
        this.warn(`Create Environment form: listing the GKE clusters of ${project} failed: ${(err as Error).message}`);
        say({ project, state: 'done', clusters: [], problems: [`Could not list the GKE clusters of ${project}: ${(err as Error).message}`] });
      });
    }, this.settleMs);
  }

  private cancel(): void {
    clearTimeout(this.timer);
    this.running?.abort();
    this.running = undefined;
  }

  dispose(): void {
    this.cancel();
    this.key = undefined;
  }
}
