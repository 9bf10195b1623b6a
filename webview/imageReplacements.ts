// The form's section of per-image replacements (`images.replace` of the image override): one row per image the
// product runs in the cluster, replaced by an image the cluster can pull (a mirror that renamed it, a patched
// build). The host checks the rows as the store would and says what is wrong beside the row's input.
import { html, nothing, type TemplateResult } from 'lit';
import { FORM_LIMITS } from '../src/model/limits';
import { imageReplacementFieldId, type Choice, type ImageReplacementDraft } from '../src/model/messages';
import type { Handlers, PageState } from './view';

export function imageReplacementsSection(s: PageState, h: Handlers, error: (field: string) => string): TemplateResult {
  const rows = s.draft.imageReplacements;
  const set = (next: ImageReplacementDraft[], touched: string) => h.setImageReplacements(next, touched);
  const change = (i: number, part: keyof ImageReplacementDraft, value: string) =>
    set(rows.map((r, j) => (j === i ? { ...r, [part]: value } : r)), imageReplacementFieldId(i, part));
  const full = rows.length >= FORM_LIMITS.imageReplacements;
  return html`<section id="image-replacements">
    <h2>Image replacements (optional)</h2>
    <p class="hint">For an image Encore Environments runs in the cluster, the image to pull instead (a mirror that renamed it, a build of your own). A replacement wins over the image mirror.</p>
    ${rows.map((r, i) => {
      const fromId = imageReplacementFieldId(i, 'from');
      const toId = imageReplacementFieldId(i, 'to');
      return html`<div class="field image-replacement" data-row=${i}>
        <vscode-label for=${fromId}>Image</vscode-label>
        <vscode-single-select id=${fromId} .value=${r.from} ?invalid=${!!error(fromId)} @change=${(e: Event) => change(i, 'from', valueOf(e))}>
          <vscode-option value="">(choose an image)</vscode-option>
          ${imageChoices(s.options.productImages, r.from).map((c) => html`<vscode-option value=${c.value} description=${c.description ?? ''}>${c.value}</vscode-option>`)}
        </vscode-single-select>
        <p class="error" id=${`${fromId}-error`} role="status">${error(fromId)}</p>
        <vscode-label for=${toId}>Pull instead</vscode-label>
        <vscode-textfield id=${toId} placeholder="registry.example.com/team/postgres:16" maxlength=${FORM_LIMITS.text} .value=${r.to} ?invalid=${!!error(toId)}
          @input=${(e: Event) => change(i, 'to', valueOf(e))}></vscode-textfield>
        <p class="error" id=${`${toId}-error`} role="status">${error(toId)}</p>
        <vscode-button secondary class="remove-image-replacement" @click=${() => set(rows.filter((_, j) => j !== i), fromId)}>Remove</vscode-button>
      </div>`;
    })}
    <vscode-button secondary id="add-image-replacement" ?disabled=${full} @click=${() => { if (!full) set([...rows, { from: '', to: '' }], imageReplacementFieldId(rows.length, 'from')); }}>Add an image replacement</vscode-button>
    ${full ? html`<p class="hint">At most ${FORM_LIMITS.imageReplacements} replacements.</p>` : nothing}
  </section>`;
}

/** The images offered for a row: the product's, and the row's own when the file names another one (flagged). */
function imageChoices(images: readonly Choice[], current: string): Choice[] {
  const value = current.trim();
  if (value === '' || images.some((c) => c.value === value)) return [...images];
  return [{ value: current, description: 'not an image Encore Environments runs' }, ...images];
}

function valueOf(e: Event): string {
  const target = e.target as { value?: unknown } | null;
  return typeof target?.value === 'string' ? target.value : '';
}
