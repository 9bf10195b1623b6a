// Pure (no vscode): the steps of Create Environment (Quick…), the keyboard-only path. It fills the same FormDraft as
// the webview form, so both paths end in the same evaluation (evaluateDraft) and the same store call.
import type { FormDraft, FormField } from '../../model/messages';

export { sizingAnswer, withSizingAnswer } from '../../model/messages';

export type QuickStep = 'name' | 'type' | 'trigger' | 'branch' | 'provider' | 'awsProfile' | 'awsRegion' | 'gcpProject' | 'gcpRegion' | 'kubeContext' | 'kubeNamespace' | 'sizing' | 'confirm';

/**
 * The steps for the draft as it stands: choices made earlier decide the later steps (no branch for a manual deploy,
 * each provider's own settings, sizing only for Production with questions to ask). Recomputed after every step, so
 * going Back and changing a choice changes what follows.
 */
export function quickSteps(draft: FormDraft, hasSizingQuestions: boolean): QuickStep[] {
  const steps: QuickStep[] = ['name', 'type', 'trigger'];
  if (draft.trigger === 'push') steps.push('branch');
  steps.push('provider');
  if (draft.provider === 'aws') steps.push('awsProfile', 'awsRegion');
  else if (draft.provider === 'gcp') steps.push('gcpProject', 'gcpRegion');
  else steps.push('kubeContext', 'kubeNamespace');
  if (draft.type === 'production' && hasSizingQuestions) steps.push('sizing');
  steps.push('confirm');
  return steps;
}

/** The form field a step sets, whose problems it shows. */
export function stepField(step: QuickStep): FormField | undefined {
  return step === 'sizing' || step === 'confirm' ? undefined : step;
}

