import type { ErrorObject } from 'ajv';
import { credentialKeyProblem, looksLikeCredentialKey } from './credentials';
import { pointer, segments, type Problem } from './problems';

// ajv says `must match pattern "^[a-z]([-a-z0-9]*[a-z0-9])?$"`; people need to hear what the pattern means. Keyed by
// the pattern itself, so a test can check that every pattern in the published schema has its sentence here.
export const PATTERN_MESSAGES: Record<string, string> = {
  '^[a-z]([-a-z0-9]*[a-z0-9])?$':
    'must be a DNS label: lowercase letters, digits and dashes, starting with a letter and not ending with a dash',
  '^[a-z]{2}(-[a-z]+)+-\\d$': 'must be an AWS region such as eu-west-1 or us-east-1',
  '^[a-z][-a-z0-9]{4,28}[a-z0-9]$':
    'must be a GCP project id: 6 to 30 lowercase letters, digits and dashes, starting with a letter and not ending with a dash',
  '^[a-z]+-[a-z]+\\d+$': 'must be a GCP region such as europe-west1 or us-central1',
  '^[a-z]+-[a-z]+\\d+(-[a-z])?$': 'must be a GCP region or zone such as europe-west1 or europe-west1-b',
  '^[0-9A-Za-z][A-Za-z0-9\\-_]*$': 'must be an EKS cluster name: letters, digits, dashes and underscores, starting with a letter or digit',
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$':
    'must be a Kubernetes namespace: lowercase letters, digits and dashes, not starting or ending with a dash',
  '^[a-zA-Z0-9.-]+(:[0-9]{1,5})?/[a-z0-9]+([._/-][a-z0-9]+)*$':
    'must be an image repository: a registry host (with its port, if any), a slash and a lowercase path, such as ghcr.io/acme/shop or 127.0.0.1:5000/shop',
};

const ARTICLE: Record<string, string> = { object: 'an object', array: 'an array', integer: 'an integer' };

const quoteList = (values: unknown[]) => {
  const q = values.map((v) => JSON.stringify(v));
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
};

/** The constant values of a discriminated oneOf's tag, read from the failing schema (ajv's `verbose` option). */
function tagValues(parentSchema: unknown, tag: string): unknown[] {
  const oneOf = (parentSchema as { oneOf?: { properties?: Record<string, { const?: unknown }> }[] } | undefined)?.oneOf;
  return (oneOf ?? []).map((branch) => branch.properties?.[tag]?.const).filter((v) => v !== undefined);
}

/**
 * One ajv error as a problem a person can act on, pointing at the offending key or value; undefined for an error
 * that only repeats another (ajv follows a bad property name's own error with a "propertyNames" one).
 */
export function schemaProblem(e: ErrorObject): Problem | undefined {
  const at = segments(e.instancePath);
  const p = e.params as Record<string, unknown>;
  // A property name that fails `propertyNames` (a resource name in the sizing maps): the key is what is wrong.
  if (e.propertyName !== undefined) {
    const name = e.propertyName;
    const what = e.keyword === 'maxLength' ? `must be at most ${String(p.limit)} characters` : e.keyword === 'minLength' ? 'must not be empty' : (e.message ?? 'is not allowed');
    return { path: pointer([...at, name]), target: 'key', message: `the resource name ${what}` };
  }
  switch (e.keyword) {
    case 'propertyNames':
      return undefined;
    case 'maxProperties':
      return { path: e.instancePath, message: `must have at most ${String(p.limit)} entries` };
    case 'minProperties':
      return { path: e.instancePath, message: `must have at least ${String(p.limit)} ${p.limit === 1 ? 'entry' : 'entries'}; leave it out instead` };
    case 'maxItems':
      return { path: e.instancePath, message: `must have at most ${String(p.limit)} items` };
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      if (looksLikeCredentialKey(key)) return credentialKeyProblem(at, key);
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return { path: pointer([...at, key]), target: 'key', message: `unknown key "${key}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}` };
    }
    case 'required':
      return { path: e.instancePath, message: `missing "${String(p.missingProperty)}"` };
    case 'discriminator': {
      const tag = String(p.tag);
      const values = quoteList(tagValues(e.parentSchema, tag));
      return p.error === 'mapping'
        ? { path: pointer([...at, tag]), message: `must be ${values}` }
        : { path: e.instancePath, message: `missing "${tag}": one of ${values}` };
    }
    case 'enum':
      return { path: e.instancePath, message: `must be ${quoteList(p.allowedValues as unknown[])}` };
    case 'const':
      return { path: e.instancePath, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'pattern':
      return { path: e.instancePath, message: PATTERN_MESSAGES[String(p.pattern)] ?? `must match ${String(p.pattern)}` };
    case 'minLength':
      return { path: e.instancePath, message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters` };
    case 'maxLength':
      return { path: e.instancePath, message: `must be at most ${String(p.limit)} characters` };
    case 'type':
      return { path: e.instancePath, message: `must be ${ARTICLE[String(p.type)] ?? `a ${String(p.type)}`}` };
    case 'minimum':
      return { path: e.instancePath, message: `must be at least ${String(p.limit)}` };
    case 'exclusiveMinimum':
      return { path: e.instancePath, message: `must be more than ${String(p.limit)}` };
    default:
      return { path: e.instancePath, message: e.message ?? `fails the schema's "${e.keyword}" rule` };
  }
}
