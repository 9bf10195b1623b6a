// The sizing questions a Plan or Apply finds in VS Code, as the CLI asks them on a terminal: a database, cache or
// service that entered a Production environment since its sizing was answered. The session saves the answers (or
// Encore's defaults, when the user picks them) to encore.environments.json before anything is planned, onto the
// environment as the file holds it then, so the plan shows the sizes the environment will really get, the
// question is asked once, and an edit made meanwhile is kept.
import * as vscode from 'vscode';
import { checkSizingAnswer, type SessionHooks, type SizingAnswer } from '../../session';

export const askSizingInVsCode: NonNullable<SessionHooks['askSizing']> = async (questions, env) => {
  const what = [...new Set(questions.map((q) => `${q.resource.kind} ${q.resource.name}`))].join(', ');
  const how = await vscode.window.showQuickPick(
    [
      { label: `Answer the ${questions.length} sizing question${questions.length === 1 ? '' : 's'}`, value: 'answer' as const },
      { label: "Use Encore's defaults", value: 'defaults' as const, detail: questions.map((q) => `${q.resource.name} ${q.field} ${q.default} ${q.unit}`).join(', ') },
    ],
    { title: `New in Production environment "${env.name}": ${what}`, placeHolder: 'Size them before planning; the answers are saved to encore.environments.json', ignoreFocusOut: true },
  );
  if (!how) return null;
  if (how.value === 'defaults') return 'defaults';
  const answers: SizingAnswer[] = [];
  for (const [i, question] of questions.entries()) {
    const typed = await vscode.window.showInputBox({
      title: `Size "${env.name}": question ${i + 1} of ${questions.length}`,
      prompt: `${question.label} (${question.unit}, ${question.min}–${question.max})`,
      value: String(question.default),
      ignoreFocusOut: true,
      validateInput: (v) => checkSizingAnswer(question, Number(v.trim() === '' ? NaN : v)) ?? undefined,
    });
    if (typed === undefined) return null;
    answers.push({ question, value: Number(typed) });
  }
  return answers;
};
