import type * as vscode from 'vscode';

/** An AbortSignal for the core (which never sees vscode) that fires when VS Code cancels the progress. */
export function abortOn(token: vscode.CancellationToken): AbortSignal {
  const controller = new AbortController();
  token.onCancellationRequested(() => controller.abort(new Error('cancelled in VS Code')));
  return controller.signal;
}
