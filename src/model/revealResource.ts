/**
 * The command every CodeLens runs, apart from the rest of the protocol (protocol.ts re-exports it): the extension's
 * start needs the name, and importing protocol.ts would bring vscode-languageserver-protocol into it (issue 13).
 */
import type { DeclarationKind } from './appModel';

/** The command every CodeLens runs, with the arguments `[root, kind, name]`. Registered by the extension. */
export const REVEAL_RESOURCE_COMMAND = 'encore.revealResource';

export type RevealResourceArgs = [root: string, kind: DeclarationKind, name: string];
