import type { Environment, EnvironmentsFile } from '../model/environment';

export interface TextStyle {
  indent: string;
  eol: '\n' | '\r\n';
}

/**
 * The indentation and line ends of the existing file, so a save does not reformat a hand-kept file; a new file gets
 * two spaces and `\n`. The file always ends with a line end.
 */
export function detectStyle(text: string | undefined): TextStyle {
  const eol = text?.includes('\r\n') ? '\r\n' : '\n';
  const indented = text?.match(/^([ \t]+)\S/m)?.[1];
  const indent = indented === undefined ? '  ' : indented.startsWith('\t') ? '\t' : indented;
  return { indent, eol };
}

export function serializeDocument(doc: EnvironmentsFile, style: TextStyle): string {
  // `$schema` first, as editors and people expect it; then the environments in their existing order.
  const ordered: EnvironmentsFile = doc.$schema === undefined ? { environments: doc.environments } : { $schema: doc.$schema, environments: doc.environments };
  return `${JSON.stringify(ordered, null, style.indent)}\n`.replace(/\n/g, style.eol);
}

/**
 * The environment with its keys in the schema's order (name, type, deploy, provider, sizing, images), so environments
 * written by the form read the same as each other whatever order the form built them in.
 */
export function canonicalEnvironment(env: Environment): Environment {
  const deploy: Environment['deploy'] = env.deploy.trigger === 'push' ? { trigger: 'push', branch: env.deploy.branch } : { trigger: 'manual' };
  const p = env.provider;
  const provider: Environment['provider'] =
    p.kind === 'aws'
      ? { kind: 'aws', region: p.region, ...(p.profile !== undefined && { profile: p.profile }), ...(p.cluster !== undefined && { cluster: { name: p.cluster.name } }) }
      : p.kind === 'gcp'
        ? {
            kind: 'gcp', project: p.project, region: p.region,
            ...(p.autopilot !== undefined && { autopilot: p.autopilot }),
            ...(p.cluster !== undefined && { cluster: { name: p.cluster.name, location: p.cluster.location } }),
          }
        : {
            kind: 'kubernetes',
            context: p.context,
            ...(p.namespace !== undefined && { namespace: p.namespace }),
            ...(p.registry !== undefined && { registry: p.registry }),
            ...(p.baseImage !== undefined && { baseImage: p.baseImage }),
          };
  const images = env.images && {
    ...(env.images.mirror !== undefined && { mirror: env.images.mirror }),
    ...(env.images.replace !== undefined && { replace: env.images.replace }),
  };
  return { name: env.name, type: env.type, deploy, provider, ...(env.sizing !== undefined && { sizing: env.sizing }), ...(images !== undefined && { images }) };
}
