import os from 'node:os';

/** Who runs this process, for the lock holder and the operation record. */
export interface Identity {
  user: string;
  host: string;
  pid: number;
}

export function currentIdentity(): Identity {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // Containers can run under a uid with no passwd entry, where userInfo throws.
    user = process.env.USER ?? process.env.USERNAME ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return { user, host: os.hostname(), pid: process.pid };
}
