// Types for go-tool.mjs, which stays plain JavaScript so the build scripts run without a build.

export const cacheDir: string;
export function requiredVersion(moduleDir: string, modulePath: string): string;

export interface GoTool {
  name: string;
  /** The release the wrapper module's go.mod requires, e.g. "v0.22.1". */
  version: string;
  /** The cache folder holding the binaries and the `version` stamp. */
  dir: string;
  /** The first package's binary. */
  binary: string;
  /** Every binary, by its package's last path element. */
  binaries: Record<string, string>;
  ready(): boolean;
  ensure(options?: { force?: boolean }): Promise<string>;
}

/** `folder`: the cache folder's name (default NAME-VERSION). */
export function goTool(options: { name: string; moduleDir: string; modulePath: string; pkgs: string[]; folder?: string; log?: (message: string) => void }): GoTool;
