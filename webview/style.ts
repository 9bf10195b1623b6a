// The page's layout. Colours and fonts come from VS Code's theme variables, so the form follows the theme. It is
// adopted as a constructed stylesheet: the CSP allows no inline <style>.
export const PAGE_STYLE = `
body { padding: 0 20px 40px; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
main { display: grid; grid-template-columns: minmax(320px, 560px) minmax(280px, 1fr); gap: 32px; align-items: start; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
h1 { font-size: 1.6em; font-weight: 600; margin: 18px 0 4px; grid-column: 1 / -1; }
.lead { grid-column: 1 / -1; margin: 0; color: var(--vscode-descriptionForeground); }
section h2 { font-size: 1.1em; font-weight: 600; margin: 20px 0 6px; }
.field { margin: 12px 0; }
.field vscode-textfield, .field vscode-single-select { width: 100%; }
.hint { color: var(--vscode-descriptionForeground); margin: 4px 0 0; }
.error { color: var(--vscode-errorForeground); margin: 4px 0 0; }
.error:empty, .hint:empty { display: none; }
.note { color: var(--vscode-descriptionForeground); border-left: 2px solid var(--vscode-textBlockQuote-border); padding-left: 8px; margin: 6px 0; }
.banner { grid-column: 1 / -1; padding: 8px 12px; border: 1px solid var(--vscode-inputValidation-errorBorder); background: var(--vscode-inputValidation-errorBackground); }
.banner:empty { display: none; }
.actions { display: flex; gap: 8px; margin-top: 20px; }
.sizing-grid { display: grid; grid-template-columns: 1fr 120px; gap: 6px 12px; align-items: center; }
.sizing-grid vscode-textfield { width: 100%; min-width: 0; }
.sizing-grid .sizing-error { grid-column: 1 / -1; }
.sizing-grid .resource { grid-column: 1 / -1; font-weight: 600; margin-top: 8px; }
.preview { position: sticky; top: 12px; }
.preview ul { list-style: none; padding-left: 0; margin: 4px 0; }
.preview li.group { margin: 8px 0 2px; }
.preview li.group > .codicon { margin-right: 4px; vertical-align: text-bottom; }
.preview li.res { padding-left: 22px; color: var(--vscode-descriptionForeground); }
.preview .count { color: var(--vscode-descriptionForeground); }
.preview .stateful { color: var(--vscode-charts-orange); }
.warning { color: var(--vscode-editorWarning-foreground); }
`;
