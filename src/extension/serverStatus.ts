import * as vscode from 'vscode';

/** What the status item shows: the client's view of the server process plus the server's own status. */
export type ServerUiState =
  | { kind: 'starting' }
  | { kind: 'ready' }
  | { kind: 'analysing'; message?: string }
  /** The server runs, but an app's analysis failed (the message says which and why). */
  | { kind: 'analysisFailed'; message: string }
  /** The server process is not running: it failed to start, crashed, or was stopped. */
  | { kind: 'failed'; message: string };

const SHOW_LOGS = 'encore.showServerLogs';
const RESTART = 'encore.restartServer';

/**
 * The "Encore" status bar item, like rust-analyzer's: an icon for the state, a tooltip that says what is going on with
 * links to Show Logs and Restart, and a click that does the useful thing (restart when failed, logs otherwise).
 */
export class ServerStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('encore.server', vscode.StatusBarAlignment.Left, 0);

  constructor() {
    this.item.name = 'Encore Language Server';
  }

  show(state: ServerUiState): void {
    const { icon, words, background } = present(state);
    const item = this.item;
    item.text = `${icon} Encore`;
    item.accessibilityInformation = { label: `Encore language server: ${words}` };
    item.backgroundColor = background ? new vscode.ThemeColor(background) : undefined;
    item.command = state.kind === 'failed' ? RESTART : SHOW_LOGS;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = { enabledCommands: [SHOW_LOGS, RESTART] };
    tooltip.appendMarkdown(`**Encore language server**: ${words}\n\n`);
    if ('message' in state && state.message) tooltip.appendText(`${state.message}\n\n`);
    tooltip.appendMarkdown(`[$(output) Show Logs](command:${SHOW_LOGS}) · [$(debug-restart) Restart](command:${RESTART})`);
    item.tooltip = tooltip;
    item.show();
  }

  hide(): void {
    this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}

function present(state: ServerUiState): { icon: string; words: string; background?: string } {
  switch (state.kind) {
    case 'starting':
      return { icon: '$(sync~spin)', words: 'starting' };
    case 'ready':
      return { icon: '$(check)', words: 'running' };
    case 'analysing':
      return { icon: '$(sync~spin)', words: 'analysing' };
    case 'analysisFailed':
      return { icon: '$(warning)', words: 'analysis failed', background: 'statusBarItem.warningBackground' };
    case 'failed':
      return { icon: '$(error)', words: 'failed', background: 'statusBarItem.errorBackground' };
  }
}
