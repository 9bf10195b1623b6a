import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

export interface FindExecutableOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Where a relative command with a directory part (`./bin/auth`) is resolved from. */
  baseDir?: string;
}

/**
 * Where `command` would be run from: an absolute or relative path as it is, a bare name looked up on PATH (with
 * PATHEXT on Windows). The PATH is the one given, because VS Code started from the desktop often has a shorter PATH
 * than the user's shell, and that is exactly the PATH the extension will run plugins with.
 */
export async function findExecutable(command: string, options: FindExecutableOptions = {}): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const p = platform === 'win32' ? path.win32 : path.posix;
  const extensions = platform === 'win32' ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  const candidates = (base: string) => extensions.map((ext) => base + ext);
  if (p.isAbsolute(command) || command.includes('/') || (platform === 'win32' && command.includes('\\'))) {
    const full = p.resolve(options.baseDir ?? process.cwd(), command);
    return firstExecutable(candidates(full), platform);
  }
  const dirs = (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : ':').filter(Boolean);
  for (const dir of dirs) {
    const found = await firstExecutable(candidates(p.join(dir, command)), platform);
    if (found) return found;
  }
  return undefined;
}

async function firstExecutable(files: string[], platform: NodeJS.Platform): Promise<string | undefined> {
  for (const file of files) {
    try {
      if (!(await stat(file)).isFile()) continue;
      if (platform !== 'win32') await access(file, constants.X_OK);
      return file;
    } catch {
      // not there, or not executable: try the next
    }
  }
  return undefined;
}
