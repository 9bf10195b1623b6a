import os from 'node:os';
import path from 'node:path';
import { readRegular } from './regularFile';

/**
 * Reads a file that may well not exist: `undefined` when it does not, a problem when it cannot be read. A named pipe
 * or a device in its place is a problem too, never a read that blocks discovery for ever.
 */
export async function readOptional(file: string, problems: string[]): Promise<string | undefined> {
  try {
    return (await readRegular(file))?.toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') problems.push(`cannot read ${file}: ${(err as Error).message}`);
    return undefined;
  }
}

/** `~/x` → `<home>/x`, as the AWS SDKs and kubectl expand paths given in environment variables. */
export function expandHome(file: string, homedir: string): string {
  return file === '~' ? homedir : file.startsWith('~/') || file.startsWith('~\\') ? path.join(homedir, file.slice(2)) : file;
}

/** The defaults every discovery function takes, so tests can point them at temp folders. */
export interface DiscoveryEnv {
  env?: NodeJS.ProcessEnv;
  homedir?: string;
}

export function resolveEnv(options: DiscoveryEnv): { env: NodeJS.ProcessEnv; homedir: string } {
  return { env: options.env ?? process.env, homedir: options.homedir ?? os.homedir() };
}
