// Resource names as Google's APIs check them, shared by the fakes.
import { invalidArgument } from '../googleErrors';

/** Splits `projects/P/locations/L` (the `parent` of a create), or refuses it as the API does. */
export function projectLocation(parent: unknown): { project: string; location: string } {
  const match = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(String(parent ?? ''));
  if (!match) throw invalidArgument(`parent "${String(parent)}" is not of the form projects/{project}/locations/{location}`);
  return { project: match[1], location: match[2] };
}

/** An id that follows the common rule for Google resource ids: a lowercase letter, then lowercase letters, digits, hyphens. */
export function checkId(kind: string, id: unknown, maxLength: number): string {
  const text = String(id ?? '');
  if (!new RegExp(`^[a-z](?:[-a-z0-9]{0,${maxLength - 2}}[a-z0-9])?$`).test(text)) {
    throw invalidArgument(
      `${kind} id "${text}" is invalid: it must start with a lowercase letter, contain only lowercase letters, digits and hyphens, not end with a hyphen, and be at most ${maxLength} characters`,
    );
  }
  return text;
}

/** The paths of a FieldMask as the clients send it (`{ paths: [...] }`). */
export function maskPaths(mask: unknown): string[] {
  const paths = (mask as { paths?: unknown } | undefined)?.paths;
  return Array.isArray(paths) ? paths.map(String) : [];
}
