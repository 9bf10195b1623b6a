// Two parts of the form kept apart from the rest of the page: who would act with the chosen provider settings (said
// before anything is created), and the estimated monthly cost in the infrastructure preview.
import { html, nothing, type TemplateResult } from 'lit';
import { draftIdentityKey, type FormDraft, type IdentityView } from '../src/model/messages';
import type { CostEstimate } from '../src/model/plan';

export interface ShownIdentity {
  key: string;
  identity: IdentityView;
}

/** The identity for the draft's current settings; one for other settings (an answer that came late) is not shown. */
export function identityBlock(draft: FormDraft, shown: ShownIdentity | undefined): TemplateResult {
  const current = shown && shown.key === draftIdentityKey(draft) ? shown.identity : undefined;
  let body: TemplateResult;
  if (!current || current.state === 'checking') body = html`<span class="codicon codicon-loading codicon-modifier-spin"></span> Checking who acts…`;
  else if (current.state === 'failed') body = html`<span class="codicon codicon-warning"></span> <span id="identity-message">${current.message}</span>`;
  else {
    body = html`<span class="codicon codicon-account"></span> Acting as <strong id="identity-principal">${current.principal}</strong>
      <br><span id="identity-scope">${current.scope}</span>${current.source ? html` <span class="hint">(${current.source})</span>` : nothing}`;
  }
  return html`<div class="identity" id="identity" role="status" data-state=${current?.state ?? 'checking'}>${body}</div>`;
}

const usd = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** Per resource and in total, marked as an estimate; an unknown price is said as such and left out of the total. */
export function costBlock(cost: CostEstimate | undefined): TemplateResult | typeof nothing {
  if (!cost) return nothing;
  const unknown = cost.lines.filter((l) => l.monthlyUsd === null).length;
  return html`<div class="cost" id="cost">
    <h3>Estimated cost</h3>
    <p id="cost-total"><strong>About ${usd(cost.monthlyUsd)} a month</strong>${cost.complete ? nothing : html`, plus ${unknown} resource${unknown === 1 ? '' : 's'} whose price is unknown`}</p>
    <p class="hint">An estimate: on-demand prices of ${cost.pricesTakenAt} (${cost.source}); usage (requests, data, storage growth) not included.</p>
    <table class="cost-lines">
      ${cost.lines.map((l) => html`<tr title=${l.basis}>
        <td class="usd">${l.monthlyUsd === null ? html`<span class="unknown">unknown</span>` : usd(l.monthlyUsd)}</td>
        <td>${l.id}<br><span class="hint">${l.basis}</span></td>
      </tr>`)}
    </table>
  </div>`;
}

export const WHO_AND_COST_STYLE = `
.identity { margin: 8px 0 12px; padding: 6px 10px; border-left: 2px solid var(--vscode-focusBorder); }
.identity[data-state="failed"] { border-left-color: var(--vscode-editorWarning-foreground); }
.identity .codicon { vertical-align: text-bottom; }
.cost h3 { font-size: 1em; font-weight: 600; margin: 16px 0 4px; }
.cost-lines { border-collapse: collapse; margin-top: 6px; }
.cost-lines td { padding: 2px 8px 4px 0; vertical-align: top; }
.cost-lines td.usd { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.cost-lines .unknown { color: var(--vscode-editorWarning-foreground); }
`;
