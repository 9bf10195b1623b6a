// The sizing questions a Plan or Apply finds in VS Code, as the CLI asks them on a terminal: a database, cache or
// service that entered a Production environment since its sizing was answered. The answers (or Encore's defaults,
// when the user picks them) are saved to encore.environments.json before anything is planned, so the plan shows
// the sizes the environment will really get and the question is asked once.
import * as vscode from 'vscode';
import type { AppModel } from '../../model/appModel';
import type { Environment } from '../../model/environment';
import { checkSizingAnswer, sizingQuestions, withSizingAnswers, type SizingQuestion } from '../../provisioning/planner/sizing';
import { log } from '../log';
import type { WorkspaceApps } from '../workspaceApps';
import type { Target } from './target';

/** The target with its new resources sized; undefined when the user cancelled. */
export async function answerNewSizing(apps: WorkspaceApps, model: AppModel, t: Target): Promise<Target | undefined> {
  const questions = sizingQuestions(model, t.env);
  if (questions.length === 0) return t;
  const what = [...new Set(questions.map((q) => `${q.resource.kind} ${q.resource.name}`))].join(', ');
  const how = await vscode.window.showQuickPick(
    [
      { label: `Answer the ${questions.length} sizing question${questions.length === 1 ? '' : 's'}`, value: 'answer' as const },
      { label: "Use Encore's defaults", value: 'defaults' as const, detail: questions.map((q) => `${q.resource.name} ${q.field} ${q.default} ${q.unit}`).join(', ') },
    ],
    { title: `New in Production environment "${t.env.name}": ${what}`, placeHolder: 'Size them before planning; the answers are saved to encore.environments.json', ignoreFocusOut: true },
  );
  if (!how) return undefined;
  const answers: { question: SizingQuestion; value: number }[] = [];
  for (const [i, question] of questions.entries()) {
    if (how.value === 'defaults') {
      answers.push({ question, value: question.default });
      continue;
    }
    const typed = await vscode.window.showInputBox({
      title: `Size "${t.env.name}": question ${i + 1} of ${questions.length}`,
      prompt: `${question.label} (${question.unit}, ${question.min}–${question.max})`,
      value: String(question.default),
      ignoreFocusOut: true,
      validateInput: (v) => checkSizingAnswer(question, Number(v.trim() === '' ? NaN : v)) ?? undefined,
    });
    if (typed === undefined) return undefined;
    answers.push({ question, value: Number(typed) });
  }
  return { ...t, env: await save(apps, t, answers) };
}

/** Records the answers on the environment as the file holds it now, so an edit made meanwhile is kept. */
async function save(apps: WorkspaceApps, t: Target, answers: { question: SizingQuestion; value: number }[]): Promise<Environment> {
  const app = (await apps.list()).find((a) => a.found.root === t.root);
  if (!app) throw new Error(`the app at ${t.root} is no longer in the workspace`);
  const current = app.store.current();
  const env = current?.ok ? current.environments.find((e) => e.name === t.env.name) : undefined;
  if (!env) throw new Error(`environment "${t.env.name}" is no longer in ${app.store.file}; nothing was saved`);
  const updated = withSizingAnswers(env, answers);
  await app.store.update(env.name, updated);
  await apps.storesChanged();
  log().info(`sized ${answers.length} new setting(s) of "${env.name}" and saved them to ${app.store.file}`);
  return updated;
}
