import type { CodeLens } from 'vscode-languageserver';
import { declarations, type AppModel, type DeclarationKind } from '../model/appModel';
import { REVEAL_RESOURCE_COMMAND, type RevealResourceArgs } from '../model/protocol';

/** How each declaration kind is named in lens titles and hovers. */
export const kindLabel: Record<DeclarationKind, string> = {
  service: 'service',
  database: 'database',
  topic: 'topic',
  subscription: 'subscription',
  cronJob: 'cron job',
  cache: 'cache cluster',
  bucket: 'bucket',
  secret: 'secret',
};

/**
 * One lens per infrastructure declaration in `file`, branded "Encore:" so users can tell whose lens it is. The client
 * adds each environment's status to these once environments exist.
 */
export function codeLenses(model: AppModel, file: string): CodeLens[] {
  return declarations(model)
    .filter((d) => d.file === file)
    .map((d) => {
      const args: RevealResourceArgs = [model.root, d.kind, d.name];
      return {
        range: d.range,
        command: { title: `Encore: ${kindLabel[d.kind]} ${d.name}`, command: REVEAL_RESOURCE_COMMAND, arguments: args },
      };
    });
}
