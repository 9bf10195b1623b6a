import * as vscode from 'vscode';
import type { DeclarationKind } from '../model/appModel';
import { REVEAL_RESOURCE_COMMAND } from '../model/revealResource';
import type { AppModels } from './appModels';
import { lensStatuses } from './tree/lensStatus';
import type { GraphFn, StatusFn } from './tree/treeData';
import type { WorkspaceApps } from './workspaceApps';

const KINDS = new Set<string>(['service', 'database', 'topic', 'subscription', 'cronJob', 'cache', 'bucket', 'secret']);

/**
 * Adds one lens per environment after each of the server's `Encore: …` lenses: "staging: StatefulSet postgres:16",
 * "prod: RDS PostgreSQL db.m5.large". Each runs encore.revealResource with the environment as a fourth argument, so
 * a click shows the resource in that environment's part of the tree.
 */
export function environmentLensDecorator(apps: WorkspaceApps, models: AppModels, graphFor: GraphFn, statusOf?: StatusFn) {
  return (lenses: vscode.CodeLens[], document: vscode.TextDocument): vscode.CodeLens[] => {
    const out: vscode.CodeLens[] = [];
    for (const lens of lenses) {
      out.push(lens);
      const args = lens.command?.command === REVEAL_RESOURCE_COMMAND ? lens.command.arguments : undefined;
      if (!args || args.length !== 3) continue;
      const [root, kind, name] = args as unknown[];
      if (typeof root !== 'string' || typeof kind !== 'string' || !KINDS.has(kind) || typeof name !== 'string') continue;
      const state = models.state(root);
      const envs = apps.find(root)?.environments;
      if (state.kind !== 'ready' || !envs?.ok) continue;
      const statuses = lensStatuses(state.model, envs.environments, { kind: kind as DeclarationKind, name, file: document.uri.fsPath, line: lens.range.start.line }, graphFor, statusOf);
      for (const s of statuses) {
        out.push(new vscode.CodeLens(lens.range, { title: s.title, tooltip: s.tooltip, command: REVEAL_RESOURCE_COMMAND, arguments: [root, kind, name, s.env] }));
      }
    }
    return out;
  };
}
