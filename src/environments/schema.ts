import type { ErrorObject } from 'ajv';
import { compileValidators, type SchemaValidators } from './schemaValidators';

// Compiling (unbundled) costs a few milliseconds, so it happens once, on first use.
let compiled: SchemaValidators | undefined;

/** Raw ajv errors for a whole environments document. */
export function schemaErrorsOfFile(value: unknown): ErrorObject[] {
  const validate = (compiled ??= compileValidators()).file;
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

/** Raw ajv errors for one environment, with paths relative to it (`/provider/region`). */
export function schemaErrorsOfEnvironment(value: unknown): ErrorObject[] {
  const validate = (compiled ??= compileValidators()).environment;
  return validate(value) ? [] : [...(validate.errors ?? [])];
}
