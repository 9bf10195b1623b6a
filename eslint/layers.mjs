// The architecture's import rules (DESIGN.md "Layout"), as an ESLint rule: which top-level folder of src/ may import
// which. A relative import is resolved against the importing file; `webview/` counts as a layer of its own.
import path from 'node:path';

/** Layer → the layers it may import (besides itself). */
export const ALLOWED = {
  model: [],
  files: [],
  analyzer: ['model'],
  server: ['analyzer', 'model'],
  environments: ['model', 'files'],
  provisioning: ['model', 'files'],
  session: ['model', 'files', 'environments', 'provisioning', 'analyzer'],
  extension: ['model', 'files', 'environments', 'session', 'analyzer'],
  cli: ['model', 'files', 'environments', 'session', 'analyzer'],
  webview: ['model'],
};

function layerOf(file, root) {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === 'webview') return 'webview';
  if (rel[0] === 'src' && rel.length >= 2) return rel[1];
  return null;
}

export const layers = {
  rules: {
    layers: {
      meta: {
        type: 'problem',
        docs: { description: 'Imports between the top-level folders of src/ follow the architecture (DESIGN.md "Layout").' },
        schema: [],
        messages: { forbidden: "{{from}}/ may not import {{to}}/ ({{from}}/ may import {{allowed}}; DESIGN.md \"Layout\")." },
      },
      create(context) {
        const root = context.cwd;
        const file = context.filename;
        const from = layerOf(file, root);
        if (!from || !(from in ALLOWED)) return {};
        const check = (node, spec) => {
          if (typeof spec !== 'string' || !spec.startsWith('.')) return;
          const to = layerOf(path.resolve(path.dirname(file), spec), root);
          if (!to || to === from || ALLOWED[from].includes(to)) return;
          context.report({ node, messageId: 'forbidden', data: { from, to, allowed: ALLOWED[from].length ? ALLOWED[from].join(', ') : 'nothing else of src' } });
        };
        return {
          ImportDeclaration: (node) => check(node, node.source.value),
          ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
          ExportAllDeclaration: (node) => check(node, node.source.value),
          ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
        };
      },
    },
  },
};
