import * as vscode from 'vscode';
import type { Choice, FormDraft, FormField, FormOptions } from '../../model/messages';
import { sizingFieldId } from '../../model/messages';
import { log } from '../log';
import { evaluateDraft, newDraft } from './draft';
import type { FormHost } from './formPanel';
import { input, pick, type At, type Item, type Nav } from './quickInput';
import { quickSteps, sizingAnswer, stepField, withSizingAnswer, type QuickStep } from './quickSteps';

/** What a step gives back: the new draft, 'back', 'done' (create it), a step index to jump to, or undefined (cancelled). */
type StepResult = FormDraft | 'back' | 'done' | number | undefined;

/**
 * Create Environment (Quick…): the keyboard-only path, one QuickPick or InputBox per setting, each with a Back
 * button; Escape cancels the whole flow and writes nothing. It fills the same draft as the form and ends in the same
 * checks and the same store call.
 */
export async function quickCreateEnvironment(host: FormHost, root: string): Promise<void> {
  const flow = new QuickCreateFlow(host, root, await host.discoverOptions(root));
  const draft = await flow.run();
  if (!draft) {
    log().info('Create Environment (Quick…) cancelled');
    return;
  }
  const e = flow.evaluate(draft, true);
  const app = host.app(root);
  if (!app) throw new Error('this Encore app is no longer in the workspace');
  await app.store.create(e.env);
  log().info(`created environment "${e.env.name}" in ${app.store.file} (quick path)`);
  await host.saved(root, e.env, 'create');
}

/** The steps of the quick path over one draft; `run` walks them, with Back and jumps from the last step's problems. */
class QuickCreateFlow {
  private draft: FormDraft;

  constructor(
    private readonly host: FormHost,
    private readonly root: string,
    private readonly options: FormOptions,
  ) {
    this.draft = newDraft(options);
  }

  /** The finished draft, or undefined when the user cancelled. */
  async run(): Promise<FormDraft | undefined> {
    let index = 0;
    for (;;) {
      const steps = quickSteps(this.draft, this.evaluate(this.draft).sizing.length > 0);
      const step = steps[Math.min(index, steps.length - 1)];
      const result = await this.runStep(step, { step: index + 1, totalSteps: steps.length, back: index > 0 });
      if (result === undefined) return undefined;
      if (result === 'done') return this.draft;
      if (result === 'back') index = Math.max(0, index - 1);
      else if (typeof result === 'number') index = result;
      else {
        this.draft = result;
        index++;
      }
    }
  }

  evaluate(d: FormDraft, withPreview = false) {
    const app = this.host.app(this.root);
    const names = app?.environments.ok ? app.environments.environments.map((e) => e.name) : [];
    return evaluateDraft({ draft: d, otherNames: names, model: this.host.model(this.root), graphFor: this.host.graphFor, withPreview });
  }

  private problemOf(d: FormDraft, field: FormField): string | undefined {
    return this.evaluate(d).problems.find((p) => p.field === field)?.message;
  }

  private runStep(step: QuickStep, at: At): Promise<StepResult> {
    const { draft, options } = this;
    switch (step) {
      case 'name':
        return this.typed(at, 'name', {
          prompt: 'The environment name: lowercase letters, digits and dashes, starting with a letter',
          placeholder: 'e.g. staging',
        });
      case 'type':
        return this.choose(at, 'type', 'What kind of environment?', [
          { label: 'Development', value: 'development', detail: 'Postgres and Redis as StatefulSets inside the cluster, on persistent volumes, one replica' },
          { label: 'Production', value: 'production', detail: 'Managed databases with 7-day backups and point-in-time recovery, managed Redis and Pub/Sub, autoscaling' },
        ]);
      case 'trigger':
        return this.choose(at, 'trigger', 'What deploys to it?', [
          { label: 'On push to a branch', value: 'push' },
          { label: 'Manually', value: 'manual' },
        ]);
      case 'branch':
        return this.discovered(at, 'branch', 'The branch whose pushes deploy', options.branches, 'e.g. main');
      case 'provider':
        return this.choose(at, 'provider', 'Where does it run?', [
          { label: 'AWS', value: 'aws', description: found(options.awsProfiles.length, 'profile') },
          { label: 'GCP', value: 'gcp', description: found(options.gcpProjects.length, 'project') },
          { label: 'Kubernetes', value: 'kubernetes', description: found(options.kubeContexts.length, 'context') },
        ]);
      case 'awsProfile':
        return this.discovered(at, 'awsProfile', 'The AWS profile plan and apply use', [{ value: '', description: 'the default credential chain' }, ...options.awsProfiles], 'a profile from ~/.aws/config');
      case 'awsRegion':
        return this.discovered(at, 'awsRegion', 'The AWS region', currentFirst(options.awsRegions, draft.awsRegion), 'e.g. eu-west-1');
      case 'gcpProject':
        return this.discovered(at, 'gcpProject', 'The GCP project id', options.gcpProjects, 'e.g. shop-prod-123');
      case 'gcpRegion':
        return this.discovered(at, 'gcpRegion', 'The GCP region', currentFirst(options.gcpRegions, draft.gcpRegion), 'e.g. europe-west1');
      case 'kubeContext':
        return this.discovered(at, 'kubeContext', 'The kubeconfig context', options.kubeContexts, 'a context name');
      case 'kubeNamespace':
        return this.typed(at, 'kubeNamespace', {
          prompt: `The namespace; leave empty to use the environment's name (${draft.name})`,
          placeholder: draft.name,
        });
      case 'sizing':
        return this.sizing(at);
      case 'confirm':
        return this.confirm(at);
    }
  }

  /** A value typed into an InputBox, checked as it is typed. */
  private async typed(at: At, field: 'name' | 'kubeNamespace', o: { prompt: string; placeholder: string }): Promise<Nav<FormDraft>> {
    const set = (v: string): FormDraft => ({ ...this.draft, [field]: v });
    const value = await input(at, { ...o, value: this.draft[field], validate: (v) => this.problemOf(set(v), field) });
    return typeof value === 'string' ? set(value.trim()) : value;
  }

  private async choose(at: At, field: 'type' | 'trigger' | 'provider', placeholder: string, items: Item[]): Promise<Nav<FormDraft>> {
    const picked = await pick(at, { placeholder, items, active: items.find((i) => i.value === this.draft[field]) });
    return picked === 'back' || picked === undefined ? picked : { ...this.draft, [field]: picked.value };
  }

  /** A discovered value, or Other… to type one; with nothing discovered, straight to typing. */
  private async discovered(at: At, field: FormField, placeholder: string, choices: Choice[], example: string): Promise<Nav<FormDraft>> {
    const draft = this.draft;
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
          const problem = this.problemOf(next, field);
          if (!problem) return next;
          void vscode.window.showWarningMessage(`Encore: ${problem}`);
          continue;
        }
      }
      const typed = await input({ ...at, back: at.back || choices.length > 0 }, {
        prompt: placeholder,
        placeholder: example,
        value: choices.some((c) => c.value === draft[field]) ? '' : String(draft[field]),
        validate: (v) => this.problemOf({ ...draft, [field]: v }, field),
      });
      if (typed === 'back' && choices.length > 0) continue;
      return typeof typed === 'string' ? { ...draft, [field]: typed.trim() } : typed;
    }
  }

  /** Encore's defaults, or each sizing question in turn (Back goes to the previous question). */
  private async sizing(at: At): Promise<Nav<FormDraft>> {
    const questions = this.evaluate(this.draft).sizing;
    for (;;) {
      const how = await pick(at, {
        placeholder: `Production asks ${questions.length} sizing questions, once per resource`,
        items: [
          { label: "Use Encore's defaults", value: 'defaults', detail: 'You can change every answer later with Edit Environment' },
          { label: `Answer each of the ${questions.length} questions`, value: 'answer' },
        ],
      });
      if (how === 'back' || how === undefined) return how;
      if (how.value === 'defaults') return { ...this.draft, sizing: [] };
      let next = this.draft;
      let i = 0;
      while (i < questions.length) {
        const q = questions[i];
        const value = await input({ ...at, back: true }, {
          prompt: `${q.label} (${q.unit}, ${q.min}–${q.max}); question ${i + 1} of ${questions.length}`,
          placeholder: String(q.defaultValue),
          value: sizingAnswer(next, q) ?? String(q.defaultValue),
          validate: (v) => this.evaluate(withSizingAnswer(next, q, v)).problems.find((p) => p.field === sizingFieldId(q))?.message,
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

  /** The summary, the preview and Create; each problem is an item that jumps to the step that fixes it. */
  private async confirm(at: At): Promise<'back' | 'done' | number | undefined> {
    const e = this.evaluate(this.draft, true);
    const steps = quickSteps(this.draft, e.sizing.length > 0);
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
function currentFirst(regions: Choice[], current: string): Choice[] {
  const hit = regions.find((r) => r.value === current);
  return hit ? [hit, ...regions.filter((r) => r !== hit)] : regions;
}
