import os from 'node:os';
import path from 'node:path';

/** The user's cache folder for this tool: $XDG_CACHE_HOME, %LOCALAPPDATA% or ~/.cache, then encore-environments. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || (process.platform === 'win32' ? env.LOCALAPPDATA : undefined) || path.join(os.homedir(), '.cache');
  return path.join(base, 'encore-environments');
}
