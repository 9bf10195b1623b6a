import Ajv, { type Options, type ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import schema from '../../schemas/encore.environments.schema.json';

// The published schema is the single source of truth: the store validates with the same file that VS Code uses for
// completion while the user edits by hand. The bundles do not compile it at run time: esbuild.mjs replaces this
// module with standaloneSource()'s code, generated at build time, so neither ajv nor its compiler loads (issue 13).

export interface SchemaValidators {
  file: ValidateFunction;
  environment: ValidateFunction;
}

const ENVIRONMENT = `${schema.$id}#/definitions/environment`;

function ajvWith(extra: Options = {}): Ajv {
  // `discriminator` makes a wrong provider or deploy report the errors of the branch its `kind`/`trigger` names,
  // instead of every branch of the oneOf; `verbose` puts the failing schema on each error, for the messages.
  const ajv = new Ajv({ strict: true, allErrors: true, discriminator: true, verbose: true, ...extra });
  ajv.addSchema(schema);
  return ajv;
}

/** The validators, compiled from the schema now (when this module runs unbundled, as in the unit tests). */
export function compileValidators(): SchemaValidators {
  const ajv = ajvWith();
  const file = ajv.getSchema(schema.$id);
  const environment = ajv.getSchema(ENVIRONMENT);
  if (!file || !environment) throw new Error('the environments schema has no definitions/environment');
  return { file, environment } as SchemaValidators;
}

/** The same validators as the source of an ES module with this module's exports, for the bundles. */
export function standaloneSource(): string {
  const code = standaloneCode(ajvWith({ code: { source: true, esm: true } }), { file: schema.$id, environment: ENVIRONMENT });
  return `${code}\nexport function compileValidators() { return { file, environment }; }\nexport function standaloneSource() { throw new Error('a bundle holds the generated validators only'); }\n`;
}
