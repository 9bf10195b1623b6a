// The stand-in `encore` (test/deploy/encore-standin/encore) on a PATH of its own: only the tests that pass this
// environment see it, so nothing else on the machine picks it up for the real CLI.
import path from 'node:path';

export const STANDIN_DIR = path.join(__dirname, 'encore-standin');
export const STANDIN = path.join(STANDIN_DIR, 'encore');

/** An environment whose PATH has the stand-in first, then this Node (its `#!/usr/bin/env node`), then the system's. */
export function standinEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: [STANDIN_DIR, path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter), ...extra };
  // A failure mode left in the outer environment must not leak into a test that did not ask for one.
  if (!('ENCORE_STANDIN_FAIL' in extra)) delete env.ENCORE_STANDIN_FAIL;
  return env;
}
