import * as vscode from 'vscode';
import type { Choice, FormDraft, FormField } from '../../model/messages';
import { sizingFieldId } from '../../model/messages';
import { log } from '../log';
import { evaluateDraft, newDraft } from './draft';
import type { FormHost } from './formPanel';
import { quickSteps, sizingAnswer, stepField, withSizingAnswer, type QuickStep } from './quickSteps';

type Nav<T> = T | 'back' | undefined;

interface Item extends vscode.QuickPickItem {
  value?: string;
  other?: boolean;
  step?: number;
}

const TITLE = 'Create Environment';

/**
 * Create Environment (Quick…): the keyboard-only path, one QuickPick or InputBox per setting, each with a Back
 * button; Escape cancels the whole flow and writes nothing. It fills the same draft as the form and ends in the same
 * checks and the same store call.
 */
export async function quickCreateEnvironment(host: FormHost, root: string): Promise<void> {
  const options = await host.discoverOptions(root);
  let draft = newDraft(options);
  const evaluate = (d: FormDraft, withPreview = false) => {
    const app = host.app(root);
    const names = app?.environments.ok ? app.environments.environments.map((e) => e.name) : [];
    return evaluateDraft({ draft: d, otherNames: names, model: host.model(root), graphFor: host.graphFor, withPreview });
  };
  const problemOf = (d: FormDraft, field: FormField) => evaluate(d).problems.find((p) => p.field === field)?.message;

  let index = 0;
  for (;;) {
    const hasQuestions = evaluate(draft).sizing.length > 0;
    const steps = quickSteps(draft, hasQuestions);
    const step = steps[Math.min(index, steps.length - 1)];
    const at = { step: index + 1, totalSteps: steps.length, back: index > 0 };
    const result = await runStep(step, at);
    if (result === undefined) {
      log().info('Create Environment (Quick…) cancelled');
      return;
    }
    if (result === 'back') {
      index = Math.max(0, index - 1);
      continue;
    }
    if (result === 'done') break;
    if (typeof result === 'number') {
      index = result;
      continue;
    }
    draft = result;
    index++;
  }

  const e = evaluate(draft, true);
  const app = host.app(root);
  if (!app) throw new Error('this Encore app is no longer in the workspace');
  await app.store.create(e.env);
  log().info(`created environment "${e.env.name}" in ${app.store.file} (quick path)`);
  await host.saved(root, e.env, 'create');

  /** One step: a new draft, 'back', 'done' (created), a step index to jump to, or undefined when cancelled. */
  async function runStep(step: QuickStep, at: At): Promise<FormDraft | 'back' | 'done' | number | undefined> {
    const set = (field: FormField, value: string): FormDraft => ({ ...draft, [field]: value });
    switch (step) {
      case 'name': {
        const value = await input(at, {
          prompt: 'The environment name: lowercase letters, digits and dashes, starting with a letter',
          placeholder: 'e.g. staging',
          value: draft.name,
          validate: (v) => problemOf(set('name', v), 'name'),
        });
        return typeof value === 'string' ? set('name', value.trim()) : value;
      }
      case 'type':
        return choose(at, 'type', 'What kind of environment?', [
          { label: 'Development', value: 'development', detail: 'Postgres and Redis as StatefulSets inside the cluster, on persistent volumes, one replica' },
          { label: 'Production', value: 'production', detail: 'Managed databases with 7-day backups and point-in-time recovery, managed Redis and Pub/Sub, autoscaling' },
        ]);
      case 'trigger':
        return choose(at, 'trigger', 'What deploys to it?', [
          { label: 'On push to a branch', value: 'push' },
          { label: 'Manually', value: 'manual' },
        ]);
      case 'branch':
        return discovered(at, 'branch', 'The branch whose pushes deploy', options.branches, 'e.g. main');
      case 'provider':
        return choose(at, 'provider', 'Where does it run?', [
          { label: 'AWS', value: 'aws', description: found(options.awsProfiles.length, 'profile') },
          { label: 'GCP', value: 'gcp', description: found(options.gcpProjects.length, 'project') },
          { label: 'Kubernetes', value: 'kubernetes', description: found(options.kubeContexts.length, 'context') },
        ]);
      case 'awsProfile':
        return discovered(at, 'awsProfile', 'The AWS profile plan and apply use', [{ value: '', description: 'the default credential chain' }, ...options.awsProfiles], 'a profile from ~/.aws/config');
      case 'awsRegion':
        return discovered(at, 'awsRegion', 'The AWS region', regionsFirst(options.awsRegions, draft.awsRegion), 'e.g. eu-west-1');
      case 'gcpProject':
        return discovered(at, 'gcpProject', 'The GCP project id', options.gcpProjects, 'e.g. shop-prod-123');
      case 'gcpRegion':
        return discovered(at, 'gcpRegion', 'The GCP region', regionsFirst(options.gcpRegions, draft.gcpRegion), 'e.g. europe-west1');
      case 'kubeContext':
        return discovered(at, 'kubeContext', 'The kubeconfig context', options.kubeContexts, 'a context name');
      case 'kubeNamespace': {
        const value = await input(at, {
          prompt: `The namespace; leave empty to use the environment's name (${draft.name})`,
          placeholder: draft.name,
          value: draft.kubeNamespace,
          validate: (v) => problemOf(set('kubeNamespace', v), 'kubeNamespace'),
        });
        return typeof value === 'string' ? set('kubeNamespace', value.trim()) : value;
      }
      case 'sizing':
        return sizing(at);
      case 'confirm':
        return confirm(at);
    }
  }

  async function choose(at: At, field: 'type' | 'trigger' | 'provider', placeholder: string, items: Item[]): Promise<Nav<FormDraft>> {
    const picked = await pick(at, { placeholder, items, active: items.find((i) => i.value === draft[field]) });
    return picked === 'back' || picked === undefined ? picked : { ...draft, [field]: picked.value };
  }

  /** A discovered value, or Other… to type one; with nothing discovered, straight to typing. */
  async function discovered(at: At, field: FormField, placeholder: string, choices: Choice[], example: string): Promise<Nav<FormDraft>> {
    for (;;) {
      if (choices.length > 0) {
        const items: Item[] = [
          ...choices.map((c) => ({ label: c.value === '' ? `(${c.description ?? 'none'})` : c.value, description: c.value === '' ? '' : c.description, value: c.value })),
          { label: '$(edit) Other…', other: true, alwaysShow: true },
        ];
        const picked = await pick(at, { placeholder, items, active: items.find((i) => !i.other && i.value === draft[field]), matchOnDescription: true });
        if (picked === 'back' || picked === undefined) return picked;
        if (!picked.other) {
          const next = { ...draft, [field]: picked.value ?? '' };
          const problem = problemOf(next, field);
          if (!problem) return next;
          void vscode.window.showWarningMessage(`Encore: ${problem}`);
          continue;
        }
      }
      const typed = await input({ ...at, back: at.back || choices.length > 0 }, {
        prompt: placeholder,
        placeholder: example,
        value: choices.some((c) => c.value === draft[field]) ? '' : String(draft[field]),
        validate: (v) => problemOf({ ...draft, [field]: v }, field),
      });
      if (typed === 'back' && choices.length > 0) continue;
      return typeof typed === 'string' ? { ...draft, [field]: typed.trim() } : typed;
    }
  }

  async function sizing(at: At): Promise<Nav<FormDraft>> {
    const questions = evaluate(draft).sizing;
    for (;;) {
      const how = await pick(at, {
        placeholder: `Production asks ${questions.length} sizing questions, once per resource`,
        items: [
          { label: "Use Encore's defaults", value: 'defaults', detail: 'You can change every answer later with Edit Environment' },
          { label: `Answer each of the ${questions.length} questions`, value: 'answer' },
        ],
      });
      if (how === 'back' || how === undefined) return how;
      if (how.value === 'defaults') return { ...draft, sizing: [] };
      let next = draft;
      let i = 0;
      while (i < questions.length) {
        const q = questions[i];
        const current = sizingAnswer(next, q);
        const value = await input({ ...at, back: true }, {
          prompt: `${q.label} (${q.unit}, ${q.min}–${q.max}); question ${i + 1} of ${questions.length}`,
          placeholder: String(q.defaultValue),
          value: current ?? String(q.defaultValue),
          validate: (v) => evaluate(withSizingAnswer(next, q, v)).problems.find((p) => p.field === sizingFieldId(q))?.message,
        });
        if (value === undefined) return undefined;
        if (value === 'back') {
          if (i === 0) break;
          i--;
          continue;
        }
        next = withSizingAnswer(next, q, value.trim());
        i++;
      }
      if (i === questions.length) return next;
    }
  }

  async function confirm(at: At): Promise<'back' | 'done' | number | undefined> {
    const e = evaluate(draft, true);
    const steps = quickSteps(draft, e.sizing.length > 0);
    const items: Item[] = [];
    if (e.problems.length === 0) {
      items.push({ label: `$(check) Create "${e.env.name}"`, value: 'create', detail: e.summary });
    } else {
      for (const p of e.problems) {
        const target = steps.findIndex((s) => stepField(s) === p.field);
        items.push({ label: `$(error) ${p.message}`, description: 'fix it', step: target >= 0 ? target : 0 });
      }
    }
    if (e.preview.state === 'ok') {
      items.push({ label: `${e.preview.resourceCount} resources, none provisioned yet`, kind: vscode.QuickPickItemKind.Separator });
      for (const g of e.preview.groups) items.push({ label: `$(${g.icon}) ${g.label}`, description: g.description, value: 'info' });
    } else {
      items.push({ label: e.preview.message, value: 'info' });
    }
    for (;;) {
      const picked = await pick(at, { placeholder: `${e.summary}: create it?`, items });
      if (picked === 'back' || picked === undefined) return picked;
      if (picked.step !== undefined) return picked.step;
      if (picked.value === 'create') return 'done';
    }
  }
}

function found(n: number, what: string): string {
  return n === 0 ? `no ${what} found on this machine` : `${n} ${what}${n === 1 ? '' : 's'} found`;
}

/** Puts the current value first, so Enter keeps it. */
function regionsFirst(regions: Choice[], current: string): Choice[] {
  const hit = regions.find((r) => r.value === current);
  return hit ? [hit, ...regions.filter((r) => r !== hit)] : regions;
}

interface At {
  step: number;
  totalSteps: number;
  back: boolean;
}

function pick(at: At, o: { placeholder: string; items: Item[]; active?: Item; matchOnDescription?: boolean }): Promise<Nav<Item>> {
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = TITLE;
  qp.step = at.step;
  qp.totalSteps = at.totalSteps;
  qp.placeholder = o.placeholder;
  qp.items = o.items;
  qp.matchOnDescription = o.matchOnDescription ?? false;
  qp.ignoreFocusOut = true;
  if (o.active) qp.activeItems = [o.active];
  qp.buttons = at.back ? [vscode.QuickInputButtons.Back] : [];
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: Nav<Item>) => {
      if (settled) return;
      settled = true;
      resolve(v);
      qp.dispose();
    };
    qp.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && done('back'));
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0] ?? qp.activeItems[0];
      if (item) done(item);
    });
    qp.onDidHide(() => done(undefined));
    qp.show();
  });
}

function input(at: At, o: { prompt: string; placeholder: string; value: string; validate: (v: string) => string | undefined }): Promise<Nav<string>> {
  const box = vscode.window.createInputBox();
  box.title = TITLE;
  box.step = at.step;
  box.totalSteps = at.totalSteps;
  box.prompt = o.prompt;
  box.placeholder = o.placeholder;
  box.value = o.value;
  box.ignoreFocusOut = true;
  box.buttons = at.back ? [vscode.QuickInputButtons.Back] : [];
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: Nav<string>) => {
      if (settled) return;
      settled = true;
      resolve(v);
      box.dispose();
    };
    // Checked as the user types, and once more on Enter (a value that was never edited was never checked).
    const check = (v: string) => {
      box.validationMessage = v === '' && o.value === '' && !box.validationMessage ? undefined : o.validate(v);
    };
    box.onDidChangeValue(check);
    box.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && done('back'));
    box.onDidAccept(() => {
      const problem = o.validate(box.value);
      box.validationMessage = problem;
      if (!problem) done(box.value);
    });
    box.onDidHide(() => done(undefined));
    box.show();
  });
}

