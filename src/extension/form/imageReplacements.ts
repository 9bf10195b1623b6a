// Pure (no vscode): the form's rows of per-image replacements (`images.replace` of the image override) to and from
// the environment, and the problems of the rows themselves. The references' grammar is the store's check
// (validateEnvironment), whose problems draft.ts puts beside the row they are about.
import { imageReplacementFieldId, type FieldProblem, type ImageReplacementDraft } from '../../model/messages';
import { PRODUCT_IMAGES } from '../../session';

/** The file's replacements as rows, in the file's order. */
export function imageReplacementRows(replace: Readonly<Record<string, string>> | undefined): ImageReplacementDraft[] {
  return Object.entries(replace ?? {}).map(([from, to]) => ({ from, to }));
}

/**
 * The rows as `images.replace`, trimmed; rows without an image to replace are left out (their problem says so), and
 * a repeated image keeps its first row. Undefined when no row names an image.
 */
export function replaceFromRows(rows: readonly ImageReplacementDraft[]): Record<string, string> | undefined {
  // Object.fromEntries defines own properties, so an image typed as "__proto__" stays a plain key.
  const entries = new Map<string, string>();
  for (const row of rows) {
    const from = row.from.trim();
    if (from !== '' && !entries.has(from)) entries.set(from, row.to.trim());
  }
  return entries.size > 0 ? Object.fromEntries(entries) : undefined;
}

/** What is wrong with each row before the store looks at the references: missing halves, unknown or repeated images. */
export function imageReplacementProblems(rows: readonly ImageReplacementDraft[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  const known = new Set(PRODUCT_IMAGES);
  const firstRow = new Map<string, number>();
  rows.forEach((row, i) => {
    const from = row.from.trim();
    const to = row.to.trim();
    const fromField = imageReplacementFieldId(i, 'from');
    const toField = imageReplacementFieldId(i, 'to');
    if (from === '') {
      out.push({ field: fromField, message: to === '' ? 'Choose the image to replace, or remove this row.' : 'Choose the image to replace.' });
      return;
    }
    if (!known.has(from)) {
      out.push({ field: fromField, message: `"${from}" is not an image Encore Environments runs, so replacing it changes nothing (the images are: ${PRODUCT_IMAGES.join(', ')}).` });
    } else if (firstRow.has(from)) {
      out.push({ field: fromField, message: `${from} is already replaced in row ${firstRow.get(from)! + 1}: keep one row for it.` });
    } else {
      firstRow.set(from, i);
    }
    if (to === '') out.push({ field: toField, message: `Enter the image to pull instead of ${from}, e.g. registry.example.com/${lastPart(from)}.` });
    else if (to === from) out.push({ field: toField, message: 'This is the image itself: remove the row to pull it as it is.' });
  });
  return out;
}

/** The image's name without its registry and path, for an example replacement. */
function lastPart(image: string): string {
  return image.slice(image.lastIndexOf('/') + 1);
}
