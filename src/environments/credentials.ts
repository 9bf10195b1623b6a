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
 * Finds keys and values that look like credentials anywhere in `value`. The keys of the sizing maps are resource
 * names from the app's code (a database may well be called "tokens"), so those are not keys in this sense.
 */
export function findCredentials(value: unknown, at: (string | number)[] = []): Problem[] {
  const problems: Problem[] = [];
  if (typeof value === 'string') {
    if (CREDENTIAL_VALUE.some((re) => re.test(value))) {
      problems.push({ path: pointer(at), message: `this value looks like key material: ${ADVICE}` });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => problems.push(...findCredentials(item, [...at, i])));
  } else if (typeof value === 'object' && value !== null) {
    const isResourceMap = at.length >= 2 && at[at.length - 2] === 'sizing';
    for (const [key, child] of Object.entries(value)) {
      if (!isResourceMap && looksLikeCredentialKey(key)) {
        problems.push(credentialKeyProblem(at, key));
      } else {
        problems.push(...findCredentials(child, [...at, key]));
      }
    }
  }
  return problems;
}
