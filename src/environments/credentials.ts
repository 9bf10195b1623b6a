import { pointer, type Problem } from './problems';

// The file is committed with the app, so a credential in it would leak to everyone with the repository. The schema
// already rejects unknown keys; this check is a second line that also names the reason, and it does not depend on
// the schema staying strict.
const CREDENTIAL_KEY =
  /pass(word|wd|phrase)?$|secret|token|credential|api[-_]?key|access[-_]?key|private[-_]?key|session[-_]?key|client[-_]?key|^auth$|^authorization$|bearer|cookie/i;

// Values that are key material whatever key they sit under: AWS access key ids and PEM private keys.
const CREDENTIAL_VALUE = [/^(AKIA|ASIA)[A-Z0-9]{16}$/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/];

const ADVICE =
  'credentials never go in encore.environments.json; they come from your AWS profile, Application Default Credentials or kubeconfig';

export function looksLikeCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key);
}

/** The problem for a credential-like key `key` in the object at `at`; it points at the key. */
export function credentialKeyProblem(at: (string | number)[], key: string): Problem {
  return { path: pointer([...at, key]), target: 'key', message: `"${key}" looks like a credential: ${ADVICE}` };
}

/**
 * Finds keys and values that look like credentials anywhere in `value`, in document order. The keys of the sizing
 * maps are resource names from the app's code (a database may well be called "tokens"), so those are not keys in
 * this sense. A walk with its own stack: `value` is user data, and its depth is not the call stack's to bound.
 */
export function findCredentials(value: unknown, at: (string | number)[] = []): Problem[] {
  type Item = { value: unknown; at: (string | number)[] } | { problem: Problem };
  const problems: Problem[] = [];
  const stack: Item[] = [{ value, at }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if ('problem' in item) {
      problems.push(item.problem);
      continue;
    }
    const { value: v, at: here } = item;
    const next: Item[] = [];
    if (typeof v === 'string') {
      if (CREDENTIAL_VALUE.some((re) => re.test(v))) problems.push({ path: pointer(here), message: `this value looks like key material: ${ADVICE}` });
    } else if (Array.isArray(v)) {
      v.forEach((child, i) => next.push({ value: child, at: [...here, i] }));
    } else if (typeof v === 'object' && v !== null) {
      const isResourceMap = here.length >= 2 && here[here.length - 2] === 'sizing';
      for (const [key, child] of Object.entries(v)) {
        next.push(!isResourceMap && looksLikeCredentialKey(key) ? { problem: credentialKeyProblem(here, key) } : { value: child, at: [...here, key] });
      }
    }
    // Reversed, so the first child is visited first (a loop: a spread of a huge array overflows the stack too).
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]);
  }
  return problems;
}
