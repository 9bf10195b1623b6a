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
 * maps are resource names from the app's code (a database may well be called "tokens"), and those of the image
 * replacements image names, so those are not keys in this sense. A walk with its own stack: `value` is user data, and its depth is not the call stack's to bound.
 */
export function findCredentials(value: unknown, at: (string | number)[] = []): Problem[] {
  // Paths are linked lists of segments, turned into arrays only for a problem: copying the path at every level
  // would cost time and memory quadratic in the depth.
  type Path = { key: string | number; up: Path | undefined } | undefined;
  type Item = { value: unknown; path: Path } | { problem: Problem };
  const segmentsOf = (p: Path): (string | number)[] => {
    const out: (string | number)[] = [];
    for (let q = p; q; q = q.up) out.push(q.key);
    return [...at, ...out.reverse()];
  };
  const problems: Problem[] = [];
  const stack: Item[] = [{ value, path: undefined }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if ('problem' in item) {
      problems.push(item.problem);
      continue;
    }
    const { value: v, path } = item;
    const next: Item[] = [];
    if (typeof v === 'string') {
      if (CREDENTIAL_VALUE.some((re) => re.test(v))) problems.push({ path: pointer(segmentsOf(path)), message: `this value looks like key material: ${ADVICE}` });
    } else if (Array.isArray(v)) {
      v.forEach((child, i) => next.push({ value: child, path: { key: i, up: path } }));
    } else if (typeof v === 'object' && v !== null) {
      // `…/sizing/<group>`: its keys are resource names. The segment before the last, wherever it is kept.
      const secondLast = path?.up ? path.up.key : path ? at.at(-1) : at.at(-2);
      const last = path ? path.key : at.at(-1);
      // `…/images/replace`: its keys are image references (an image may be called "vault-token").
      const isResourceMap = secondLast === 'sizing' || (secondLast === 'images' && last === 'replace');
      for (const [key, child] of Object.entries(v)) {
        next.push(!isResourceMap && looksLikeCredentialKey(key) ? { problem: credentialKeyProblem(segmentsOf(path), key) } : { value: child, path: { key, up: path } });
      }
    }
    // Reversed, so the first child is visited first (a loop: a spread of a huge array overflows the stack too).
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]);
  }
  return problems;
}
