// Types for actionlint.mjs, which stays plain JavaScript so `node scripts/actionlint.mjs` runs without a build.
import type { GoTool } from './go-tool.mjs';

export const actionlint: GoTool;
export function ensureActionlint(): Promise<string>;
/** Lints workflow files (shellcheck and pyflakes off): actionlint's exit code and output. */
export function runActionlint(files: string[], options?: { cwd?: string }): Promise<{ code: number; output: string }>;
