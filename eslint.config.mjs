import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layers } from './eslint/layers.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'examples/**', 'test/fixtures/**', 'test-results/**', '*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', performance: 'readonly', __dirname: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The core runs in node tests and in the CLI: only the VS Code adapter may import `vscode` (DESIGN.md).
    files: ['src/**/*.ts'],
    ignores: ['src/extension/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Only src/extension/ may import vscode.' }] }],
    },
  },
  {
    // Which top-level folder of src/ may import which (DESIGN.md "Layout"); test/lintLayers.test.ts proves it fires.
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    plugins: { layers },
    rules: { 'layers/layers': 'error' },
  },
  {
    // The CLI's TypeScript is the parser alone (esbuild.mjs): its nodes lack the language service's methods.
    files: ['src/analyzer/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: 'CallExpression > MemberExpression.callee[object.name!="ts"] > Identifier.property[name=/^(getStart|getEnd|getText|getFullText|getFullStart|getWidth|getFullWidth|getLeadingTriviaWidth|getChildren|getChildAt|getChildCount|getFirstToken|getLastToken|getSourceFile|forEachChild|getLineAndCharacterOfPosition|getLineStarts|getPositionOfLineAndCharacter|getLineEndOfPosition|getNamedDeclarations)$/]',
        message: "A method of the language service's nodes, which the CLI's TypeScript does not have: use node.pos, node.end, ts.forEachChild or a scanner.",
      }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', MessageEvent: 'readonly' } },
  },
);
