// Pure (no vscode): every message the host sends the form, brought within the limits the page checks (limits.ts).
// What an app or a machine holds has no upper bound (thousands of resources, a planner warning per secret, a save
// error that quotes a long path), and a message over a limit would be dropped whole by the page. Lists keep their
// first items and say how many more there were; long text is cut with "…".
import { clip, FORM_LIMITS, RESOURCE_NAME_MAX_LENGTH, withinLength } from '../../model/limits';
import type { FieldProblem, HostMessage, IdentityView, PreviewView, SizingQuestionView } from '../../model/messages';
import type { CostEstimate } from '../../model/plan';
import { fitGkeClusters } from './gkeClusters';
import { capFormOptions } from './options';

export function fitHostMessage(message: HostMessage): HostMessage {
  switch (message.type) {
    case 'init':
      return { ...message, appName: clip(message.appName, FORM_LIMITS.label), options: capFormOptions(message.options) };
    case 'options':
      return { ...message, options: capFormOptions(message.options) };
    case 'evaluation': {
      const { questions, problems } = fitQuestions(message.sizing);
      return {
        ...message,
        problems: fitProblems([...problems, ...message.problems]),
        sizing: questions,
        preview: fitPreview(message.preview),
        summary: clip(message.summary, FORM_LIMITS.message),
        ...(message.cost && { cost: fitCost(message.cost) }),
      };
    }
    case 'identity':
      return { ...message, identity: fitIdentity(message.identity) };
    case 'gkeClusters':
      return { ...message, clusters: fitGkeClusters(message.clusters) };
    case 'submitFailed':
      return { ...message, message: clip(message.message, FORM_LIMITS.message), problems: fitProblems(message.problems) };
    case 'dropped':
      return { ...message, message: clip(message.message, FORM_LIMITS.message) };
    case 'submitting':
      return message;
  }
}

/** At most FORM_LIMITS.problems problems, the last one saying how many more there are. */
export function fitProblems(problems: readonly FieldProblem[]): FieldProblem[] {
  const fit = (p: FieldProblem): FieldProblem => ({ field: withinLength(p.field, FORM_LIMITS.label) ? p.field : 'form', message: clip(p.message, FORM_LIMITS.line) });
  if (problems.length <= FORM_LIMITS.problems) return problems.map(fit);
  const shown = problems.slice(0, FORM_LIMITS.problems - 1).map(fit);
  return [...shown, { field: 'form', message: `…and ${(problems.length - shown.length).toLocaleString('en-US')} more problems.` }];
}

/**
 * The sizing questions the page can show. A resource whose name is longer than the environments file allows cannot
 * have its answers saved, so its questions are left out and a problem says why.
 */
function fitQuestions(sizing: readonly SizingQuestionView[]): { questions: SizingQuestionView[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const tooLong = new Set<string>();
  const questions: SizingQuestionView[] = [];
  for (const q of sizing) {
    if (!withinLength(q.resource, RESOURCE_NAME_MAX_LENGTH)) {
      if (!tooLong.has(q.resource)) {
        tooLong.add(q.resource);
        problems.push({
          field: 'form',
          message: `The ${q.resourceKind} "${clip(q.resource, 60)}" has a name longer than ${RESOURCE_NAME_MAX_LENGTH} characters, which encore.environments.json cannot hold: give it a shorter name in the app's code.`,
        });
      }
      continue;
    }
    questions.push({ ...q, label: clip(q.label, FORM_LIMITS.label), unit: clip(q.unit, FORM_LIMITS.sizingValue) });
  }
  if (questions.length > FORM_LIMITS.sizingAnswers) {
    problems.push({ field: 'form', message: `The app asks ${questions.length.toLocaleString('en-US')} sizing questions; the form shows the first ${FORM_LIMITS.sizingAnswers}.` });
    questions.length = FORM_LIMITS.sizingAnswers;
  }
  return { questions, problems };
}

function fitPreview(preview: PreviewView): PreviewView {
  if (preview.state === 'unavailable') return { state: 'unavailable', message: clip(preview.message, FORM_LIMITS.message) };
  const line = (s: string) => clip(s, FORM_LIMITS.line);
  const groups = preview.groups.slice(0, FORM_LIMITS.previewGroups - (preview.groups.length > FORM_LIMITS.previewGroups ? 1 : 0)).map((g) => {
    const resources = g.resources.length <= FORM_LIMITS.previewResources ? g.resources : g.resources.slice(0, FORM_LIMITS.previewResources - 1);
    const fitted = resources.map((r) => ({ label: line(r.label), detail: line(r.detail), stateful: r.stateful }));
    const more = g.resources.length - resources.length;
    if (more > 0) fitted.push({ label: `…and ${more.toLocaleString('en-US')} more`, detail: '', stateful: false });
    return { label: line(g.label), description: line(g.description), icon: withinLength(g.icon, 100) ? g.icon : 'symbol-misc', resources: fitted };
  });
  const moreGroups = preview.groups.length - groups.length;
  if (moreGroups > 0) groups.push({ label: `…and ${moreGroups.toLocaleString('en-US')} more groups`, description: '', icon: 'ellipsis', resources: [] });
  const warnings = preview.warnings.length <= FORM_LIMITS.warnings ? preview.warnings.map(line) : [
    ...preview.warnings.slice(0, FORM_LIMITS.warnings - 1).map(line),
    `…and ${(preview.warnings.length - FORM_LIMITS.warnings + 1).toLocaleString('en-US')} more warnings.`,
  ];
  return { state: 'ok', resourceCount: preview.resourceCount, groups, warnings };
}

/** At most FORM_LIMITS.costLines lines, the last saying how many more there were (their prices stay in the total). */
function fitCost(cost: CostEstimate): CostEstimate {
  const text = (v: string) => clip(v, FORM_LIMITS.line);
  const lines = cost.lines.map((l) => ({ ...l, id: text(l.id), summary: text(l.summary), basis: text(l.basis) }));
  const kept = lines.length <= FORM_LIMITS.costLines ? lines : [
    ...lines.slice(0, FORM_LIMITS.costLines - 1),
    { id: 'more', summary: '', monthlyUsd: null, basis: `…and ${(lines.length - FORM_LIMITS.costLines + 1).toLocaleString('en-US')} more resources, counted in the total` },
  ];
  return { ...cost, lines: kept, pricesTakenAt: clip(cost.pricesTakenAt, FORM_LIMITS.label), source: text(cost.source) };
}

function fitIdentity(identity: IdentityView): IdentityView {
  if (identity.state === 'checking') return identity;
  if (identity.state === 'failed') return { state: 'failed', message: clip(identity.message, FORM_LIMITS.message) };
  const text = (v: string) => clip(v, FORM_LIMITS.line);
  return { state: 'ok', principal: text(identity.principal), scope: text(identity.scope), ...(identity.source !== undefined && { source: text(identity.source) }) };
}
