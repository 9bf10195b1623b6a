import * as vscode from 'vscode';

// The two QuickInput primitives of the keyboard-only Create path: a QuickPick and an InputBox, each a promise that
// settles once with the choice, 'back' (the Back button) or undefined (Escape).

export type Nav<T> = T | 'back' | undefined;

export interface Item extends vscode.QuickPickItem {
  value?: string;
  other?: boolean;
  step?: number;
}

const TITLE = 'Create Environment';

export interface At {
  step: number;
  totalSteps: number;
  back: boolean;
}

export function pick(at: At, o: { placeholder: string; items: Item[]; active?: Item; matchOnDescription?: boolean }): Promise<Nav<Item>> {
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = TITLE;
  qp.step = at.step;
  qp.totalSteps = at.totalSteps;
  qp.placeholder = o.placeholder;
  qp.items = o.items;
  qp.matchOnDescription = o.matchOnDescription ?? false;
  qp.ignoreFocusOut = true;
  if (o.active) qp.activeItems = [o.active];
  qp.buttons = at.back ? [vscode.QuickInputButtons.Back] : [];
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: Nav<Item>) => {
      if (settled) return;
      settled = true;
      resolve(v);
      qp.dispose();
    };
    qp.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && done('back'));
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0] ?? qp.activeItems[0];
      if (item) done(item);
    });
    qp.onDidHide(() => done(undefined));
    qp.show();
  });
}

export function input(at: At, o: { prompt: string; placeholder: string; value: string; validate: (v: string) => string | undefined }): Promise<Nav<string>> {
  const box = vscode.window.createInputBox();
  box.title = TITLE;
  box.step = at.step;
  box.totalSteps = at.totalSteps;
  box.prompt = o.prompt;
  box.placeholder = o.placeholder;
  box.value = o.value;
  box.ignoreFocusOut = true;
  box.buttons = at.back ? [vscode.QuickInputButtons.Back] : [];
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: Nav<string>) => {
      if (settled) return;
      settled = true;
      resolve(v);
      box.dispose();
    };
    // Checked as the user types, and once more on Enter (a value that was never edited was never checked).
    const check = (v: string) => {
      box.validationMessage = v === '' && o.value === '' && !box.validationMessage ? undefined : o.validate(v);
    };
    box.onDidChangeValue(check);
    box.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && done('back'));
    box.onDidAccept(() => {
      const problem = o.validate(box.value);
      box.validationMessage = problem;
      if (!problem) done(box.value);
    });
    box.onDidHide(() => done(undefined));
    box.show();
  });
}

