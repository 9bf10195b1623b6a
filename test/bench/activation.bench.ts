// Activation time of the extension in real VS Code (code-server) on the sample app, as VS Code itself measures it
// (the "Activation" figure of Developer: Show Running Extensions: loading the bundle plus running activate()), and
// activate()'s own time from the extension's log. Each round reloads the window, which starts a new extension host.
import { openWorkbench } from '../e2e/harness';

const ROUNDS = Number(process.env.ROUNDS ?? 7);

export async function benchActivation(): Promise<Record<string, number>> {
  const wb = await openWorkbench('bench-activation');
  const vscodeMs: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) {
        await wb.page.reload();
        await wb.page.waitForSelector('.monaco-workbench .part.activitybar');
      }
      await wb.showEnvironmentsView();
      await wb.runCommand('Developer: Show Running Extensions');
      const row = wb.page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'Environments for Encore' });
      // On a loaded machine the row can still say "Activating..." when it first shows: wait for the figure.
      await row.filter({ hasText: /Activation: \d+ms/ }).waitFor({ timeout: 60_000 }).catch(() => undefined);
      const text = await row.innerText();
      const ms = Number(/Activation: (\d+)ms/.exec(text)?.[1]);
      if (!Number.isFinite(ms)) throw new Error(`no activation time in ${JSON.stringify(text)}`);
      vscodeMs.push(ms);
      // Running Extensions opens as a modal editor; Escape closes it.
      await wb.page.keyboard.press('Escape');
      await row.waitFor({ state: 'detached' });
    }
    const ownMs = [...wb.extensionLog().matchAll(/activated in ([\d.]+) ms/g)].map((m) => Number(m[1]));
    return {
      rounds: ROUNDS,
      'vscode_activation_ms_median': median(vscodeMs),
      'vscode_activation_ms_max': Math.max(...vscodeMs),
      'activate_call_ms_median': median(ownMs),
    };
  } finally {
    await wb.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
