import { applyEdits, findNodeAtLocation, parseTree, type Edit, type Node } from 'jsonc-parser';
import type { Environment } from '../model/environment';
import type { TextStyle } from './serialize';

/** One change to the list of environments, as the store makes them. */
export type EnvironmentEdit =
  | { kind: 'append'; env: Environment }
  | { kind: 'replace'; index: number; env: Environment }
  | { kind: 'remove'; index: number };

const BOM = '\uFEFF';

/**
 * The file's text with one environment added, replaced or removed, and every other byte as it was: the other
 * environments keep their formatting, the file its BOM, indentation and line ends. Undefined when the text does not
 * have the shape the edit needs (the caller then writes the whole document).
 *
 * The edits are computed on jsonc-parser's tree and applied with its applyEdits. Its `modify` is not used with
 * formatting on, because its formatter also reformats the lines around the change (a neighbour written on one line
 * would be spread over many); the new environment is indented here like the one it replaces or follows.
 */
export function editEnvironments(raw: string, edit: EnvironmentEdit, style: TextStyle): string | undefined {
  const bom = raw.startsWith(BOM) ? BOM : '';
  const text = raw.slice(bom.length);
  const root = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
  const list = root && findNodeAtLocation(root, ['environments']);
  if (!list || list.type !== 'array' || !list.children) return undefined;
  const items = list.children;
  let change: Edit;
  if (edit.kind === 'append') {
    const last = items.at(-1);
    if (last) {
      const indent = indentOf(text, last) ?? `${lineIndent(text, list.offset)}${style.indent}`;
      change = { offset: last.offset + last.length, length: 0, content: `,${style.eol}${indent}${stringify(edit.env, indent, style)}` };
    } else {
      const outer = lineIndent(text, list.offset);
      const indent = `${outer}${style.indent}`;
      change = { offset: list.offset + 1, length: list.length - 2, content: `${style.eol}${indent}${stringify(edit.env, indent, style)}${style.eol}${outer}` };
    }
  } else {
    const target = items[edit.index];
    if (!target) return undefined;
    if (edit.kind === 'replace') {
      const indent = indentOf(text, target) ?? lineIndent(text, target.offset);
      change = { offset: target.offset, length: target.length, content: stringify(edit.env, indent, style) };
    } else if (items.length === 1) {
      change = { offset: list.offset + 1, length: list.length - 2, content: '' };
    } else if (edit.index < items.length - 1) {
      // From this item to the next one: its comma and the line break after it go with it.
      const next = items[edit.index + 1];
      change = { offset: target.offset, length: next.offset - target.offset, content: '' };
    } else {
      // The last item: from the end of the one before it, taking the comma that separated them.
      const previous = items[edit.index - 1];
      change = { offset: previous.offset + previous.length, length: target.offset + target.length - (previous.offset + previous.length), content: '' };
    }
  }
  return bom + applyEdits(text, [change]);
}

/** The indentation before `node` when it starts its own line; undefined when something else precedes it there. */
function indentOf(text: string, node: Node): string | undefined {
  const start = text.lastIndexOf('\n', node.offset - 1) + 1;
  const before = text.slice(start, node.offset);
  return /^[ \t]*$/.test(before) ? before : undefined;
}

/** The indentation of the line `offset` is on. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, offset))?.[0] ?? '';
}

/** The environment as pretty JSON whose lines after the first start at `indent`. */
function stringify(env: Environment, indent: string, style: TextStyle): string {
  return JSON.stringify(env, null, style.indent).replace(/\n/g, `${style.eol}${indent}`);
}
