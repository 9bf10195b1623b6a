/**
 * The sizing questions a plan finds: a resource that entered a Production environment since its sizing was last
 * answered (a new database, cache or service). On a terminal they are asked, with Encore's default offered, and the
 * answers are saved to encore.environments.json; elsewhere the plan says which defaults it used and how to answer.
 */

import { AppAnalyzer } from '../../analyzer/analyzer';
import { EnvStore } from '../../environments';
import type { Environment } from '../../model/environment';
import { checkSizingAnswer, sizingQuestions, withSizingAnswers, type SizingQuestion } from '../../provisioning/planner/sizing';
import type { CliIO } from './commands';
import type { AppRef } from './context';

export async function answerNewSizing(app: AppRef, env: Environment, io: CliIO, canAsk: boolean): Promise<Environment> {
  const questions = sizingQuestions(new AppAnalyzer(app.root).analyze(), env);
  if (questions.length === 0) return env;
  const what = [...new Set(questions.map((q) => `${q.resource.kind} ${q.resource.name}`))].join(', ');
  if (!canAsk) {
    io.err(
      `note: new in Production environment "${env.name}" since its sizing was answered: ${what}. This plan uses Encore's ` +
        `defaults (${questions.map((q) => `${q.resource.name} ${q.field} ${q.default} ${q.unit}`).join(', ')}); ` +
        `answer them by running this command in a terminal, or with Edit Environment in VS Code.\n`,
    );
    return env;
  }
  io.err(`New in Production environment "${env.name}": ${what}. Size them (Enter keeps the default):\n`);
  const answers: { question: SizingQuestion; value: number }[] = [];
  for (const question of questions) answers.push({ question, value: await askOne(question, io) });
  const updated = withSizingAnswers(env, answers);
  await new EnvStore(app.root).update(env.name, updated);
  io.err(`Saved the answers to encore.environments.json.\n`);
  return updated;
}

async function askOne(q: SizingQuestion, io: CliIO): Promise<number> {
  for (;;) {
    const answer = (await io.ask(`  ${q.label} [${q.default} ${q.unit}]: `)).trim();
    if (answer === '') return q.default;
    const value = Number(answer);
    const problem = checkSizingAnswer(q, value);
    if (!problem) return value;
    io.err(`  ${problem}\n`);
  }
}
