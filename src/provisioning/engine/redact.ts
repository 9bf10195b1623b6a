/**
 * The secret values this run has seen (outputs a driver flagged secret), so no message that reaches a progress
 * event, the journal, state or a log can carry one by accident, for instance inside a driver's error text.
 */

// Very short values would match ordinary text ("1", "ok") and say nothing about the secret anyway.
const MIN_LENGTH = 6;

export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: unknown): void {
    const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);
    if (text.length >= MIN_LENGTH) this.secrets.add(text);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  /** True when `text` contains a secret this run has seen. */
  leaks(text: string): boolean {
    for (const s of this.secrets) if (text.includes(s)) return true;
    return false;
  }
}
