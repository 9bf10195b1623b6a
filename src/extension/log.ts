import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

/** The extension's one log, shown as "Encore" in the Output panel; its level follows "Developer: Set Log Level". */
export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Encore', { log: true });
  return channel;
}
