// Who would act with the form's provider settings, said in the form before anything is created: the provider is
// asked (STS GetCallerIdentity, a Kubernetes SelfSubjectReview) a moment after the settings stop changing. Only the
// principal and where it acts go to the page, never a credential.
import * as vscode from 'vscode';
import type { Environment } from '../../model/environment';
import { describeIdentity, type ProviderIdentity } from '../../model/providerApi';
import { draftIdentityKey, type FormDraft, type HostMessage, type IdentityView } from '../../model/messages';
import { log } from '../log';

/** Asks a provider who acts for an environment's settings. */
export type IdentityProbe = (env: Environment, signal: AbortSignal) => Promise<ProviderIdentity>;

const SETTLE_MS = 600;

export class FormIdentity implements vscode.Disposable {
  private key: string | undefined;
  private last: IdentityView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: AbortController | undefined;

  constructor(
    private readonly probe: IdentityProbe | undefined,
    private readonly post: (message: Extract<HostMessage, { type: 'identity' }>) => void,
  ) {}

  /** The draft changed: ask again when its provider settings did (the answer is kept otherwise). */
  update(draft: FormDraft, env: Environment, force = false): void {
    const key = draftIdentityKey(draft);
    if (key === this.key && !force) {
      if (this.last) this.post({ type: 'identity', key, identity: this.last });
      return;
    }
    this.key = key;
    this.cancel();
    const say = (identity: IdentityView) => {
      if (this.key !== key) return;
      this.last = identity;
      this.post({ type: 'identity', key, identity });
    };
    const missing = missingSetting(env);
    if (missing) return say({ state: 'failed', message: `Who acts is checked once ${missing} is chosen.` });
    if (!this.probe) return say({ state: 'failed', message: 'Who acts cannot be checked here.' });
    if (!vscode.workspace.isTrusted) return say({ state: 'failed', message: 'Who acts is checked with your credentials: trust this workspace to see it here. Plan says it too.' });
    say({ state: 'checking' });
    const probe = this.probe;
    this.timer = setTimeout(() => {
      const controller = new AbortController();
      this.running = controller;
      probe(env, controller.signal).then(
        (identity) => {
          log().info(`Create Environment form: acting as ${describeIdentity(identity)}`);
          say({ state: 'ok', principal: identity.principal, scope: identity.scope, ...(identity.source !== undefined && { source: identity.source }) });
        },
        (err: unknown) => {
          if (controller.signal.aborted) return;
          say({ state: 'failed', message: `Could not tell who acts: ${(err as Error).message}` });
        },
      );
    }, SETTLE_MS);
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

function missingSetting(env: Environment): string | undefined {
  const p = env.provider;
  if (p.kind === 'aws') return p.region ? undefined : 'a region';
  if (p.kind === 'gcp') return p.project ? undefined : 'a project';
  return p.context ? undefined : 'a context';
}
