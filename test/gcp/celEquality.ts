// A small evaluator of the CEL form a Workload Identity provider's attribute condition takes here: equalities of
// `assertion.FIELD` with a single-quoted string, joined by `&&`. Anything else is refused (it is not the form the
// provider writes), so a test that evaluates a condition evaluates what IAM would, not a guess.
export type Claims = Record<string, string>;

const TERM = /^assertion\.([a-z_]+) == '([^'\\]*)'$/;

export function evaluateEqualities(condition: string, claims: Claims): boolean {
  const terms = condition.split('&&').map((t) => t.trim());
  if (terms.length === 0 || terms.some((t) => !TERM.test(t))) throw new Error(`not an equality condition: ${condition}`);
  return terms.every((t) => {
    const [, field, value] = TERM.exec(t)!;
    return claims[field!] === value;
  });
}

/** The claims of a GitHub Actions OIDC token for a run in `repository` at `ref` (of a `event` run). */
export function githubClaims(repository: string, ref: string, event = 'push'): Claims {
  return { repository, ref, event_name: event, sub: `repo:${repository}:ref:${ref}`, repository_owner: repository.split('/')[0]! };
}
