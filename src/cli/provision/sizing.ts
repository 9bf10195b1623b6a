/**
 * The sizing questions on a terminal: a resource that entered a Production environment since its sizing was last
 * answered (a new database, cache or service), asked with Encore's default offered. The session saves the answers
 * to encore.environments.json, onto the environment as the file holds it then.
 */

import type { SessionHooks, SizingQuestion } from '../../session';
import { checkSizingAnswer } from '../../session';
import type { CliIO } from './commands';

export function terminalSizing(io: CliIO): NonNullable<SessionHooks['askSizing']> {
  return async (questions, env) => {
    const what = [...new Set(questions.map((q) => `${q.resource.kind} ${q.resource.name}`))].join(', ');
    io.err(`New in Production environment "${env.name}": ${what}. Size them (Enter keeps the default):\n`);
    const answers: { question: SizingQuestion; value: number }[] = [];
    for (const question of questions) answers.push({ question, value: await askOne(question, io) });
    return answers;
  };
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
