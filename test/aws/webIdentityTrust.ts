// Test equipment: IAM's decision on AssumeRoleWithWebIdentity for a role's trust policy, for the operators the
// product's trust policies use (StringEquals, StringLike, and their ForAnyValue forms are not used, so not here).
// moto 5.2.5 accepts any token for any role (emulatorGaps.ts), so the trust the product writes is judged by this.
// The rules are IAM's policy evaluation logic: an explicit Deny wins, else some Allow statement must match the
// action, the federated principal (the token issuer's OIDC provider) and every condition key; a key whose
// condition lists several values matches when the claim equals any of them; a claim the token lacks fails the key.

export interface TrustStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Principal?: { Federated?: string | string[]; [k: string]: unknown };
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface TrustDocument {
  Version?: string;
  Statement: TrustStatement[];
}

export interface WebIdentityRequest {
  /** The OIDC provider ARN of the token's issuer: `arn:aws:iam::<account>:oidc-provider/<issuer host and path>`. */
  providerArn: string;
  /** The token's claims (`aud`, `sub`, …). */
  claims: Record<string, unknown>;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());

/** IAM's `*` and `?` wildcards of StringLike. */
function like(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(value);
}

/** The claim a condition key names: `<issuer host>:<claim>` for an OIDC provider's keys. */
function claimOf(key: string, issuerHost: string, claims: Record<string, unknown>): string[] | undefined {
  if (!key.startsWith(`${issuerHost}:`)) return undefined;
  const v = claims[key.slice(issuerHost.length + 1)];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

function conditionHolds(condition: TrustStatement['Condition'], issuerHost: string, claims: Record<string, unknown>): { ok: boolean; why: string } {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    const match = operator === 'StringEquals' ? (a: string, b: string) => a === b : operator === 'StringLike' ? like : undefined;
    if (!match) return { ok: false, why: `operator ${operator} is not one this evaluator knows (so it refuses)` };
    for (const [key, wanted] of Object.entries(keys)) {
      const have = claimOf(key, issuerHost, claims);
      if (!have) return { ok: false, why: `the token has no value for ${key}` };
      // A multi-valued claim (aud can be a list) matches when one of its values matches one wanted value.
      if (!have.some((h) => list(wanted).some((w) => match(w, h)))) return { ok: false, why: `${key} is ${JSON.stringify(have.length === 1 ? have[0] : have)}, not ${JSON.stringify(wanted)}` };
    }
  }
  return { ok: true, why: 'every condition key matches' };
}

/** Whether IAM lets this token assume the role, and why (or why not). */
export function webIdentityDecision(trust: TrustDocument, request: WebIdentityRequest): { allowed: boolean; why: string } {
  const issuerHost = request.providerArn.replace(/^arn:[^:]+:iam::\d{12}:oidc-provider\//, '');
  const applies = (s: TrustStatement) =>
    list(s.Action).some((a) => a === 'sts:AssumeRoleWithWebIdentity' || a === 'sts:*' || a === '*') && list(s.Principal?.Federated as string | string[] | undefined).includes(request.providerArn);
  const reasons: string[] = [];
  for (const s of trust.Statement.filter((x) => x.Effect === 'Deny' && applies(x))) {
    if (conditionHolds(s.Condition, issuerHost, request.claims).ok) return { allowed: false, why: 'an explicit Deny matches' };
  }
  for (const s of trust.Statement.filter((x) => x.Effect === 'Allow')) {
    if (!applies(s)) {
      reasons.push('a statement for another action or principal');
      continue;
    }
    const held = conditionHolds(s.Condition, issuerHost, request.claims);
    if (held.ok) return { allowed: true, why: held.why };
    reasons.push(held.why);
  }
  return { allowed: false, why: reasons.length ? reasons.join('; ') : 'no statement allows it' };
}

/** The claims of a JWT, without checking its signature (the emulator has no issuer keys). */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** An unsigned JWT with these claims, shaped like the token GitHub Actions mints for a job. */
export function githubToken(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256', typ: 'JWT', kid: 'test' })}.${b64({ iss: 'https://token.actions.githubusercontent.com', iat: now, nbf: now, exp: now + 300, ...claims })}.c2lnbmF0dXJl`;
}
