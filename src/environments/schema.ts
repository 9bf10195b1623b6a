import type { ErrorObject, ValidateFunction } from 'ajv';
import schema from '../../schemas/encore.environments.schema.json';

// The published schema is the single source of truth: the store validates with the same file that VS Code uses for
// completion while the user edits by hand. Compiling costs a few milliseconds, so it happens once, on first use.
let compiled: { file: ValidateFunction; environment: ValidateFunction } | undefined;

function validators(): { file: ValidateFunction; environment: ValidateFunction } {
  if (!compiled) {
    // Required here, not imported: a bundle then evaluates ajv on the first validation, not at its own load, which
    // keeps ajv out of the extension's activation (issue 13).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: Ajv } = require('ajv') as typeof import('ajv');
    // `discriminator` makes a wrong provider or deploy report the errors of the branch its `kind`/`trigger` names,
    // instead of every branch of the oneOf; `verbose` puts the failing schema on each error, for the messages.
    const ajv = new Ajv({ strict: true, allErrors: true, discriminator: true, verbose: true });
    const file = ajv.compile(schema);
    const environment = ajv.getSchema(`${schema.$id}#/definitions/environment`);
    if (!environment) throw new Error('the environments schema has no definitions/environment');
    compiled = { file, environment };
  }
  return compiled;
}

/** Raw ajv errors for a whole environments document. */
export function schemaErrorsOfFile(value: unknown): ErrorObject[] {
  const validate = validators().file;
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

/** Raw ajv errors for one environment, with paths relative to it (`/provider/region`). */
export function schemaErrorsOfEnvironment(value: unknown): ErrorObject[] {
  const validate = validators().environment;
  return validate(value) ? [] : [...(validate.errors ?? [])];
}
