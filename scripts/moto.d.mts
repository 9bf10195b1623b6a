// Types for moto.mjs, which stays plain JavaScript so `node scripts/moto.mjs build` runs it without a build.

/** The moto release installed, read from test/aws/moto/requirements.txt (e.g. "5.2.5"). */
export const MOTO_VERSION: string;
export const cacheDir: string;
/** The virtual environment moto is installed in. */
export const venvDir: string;
export const venvPython: string;

export function motoReady(): boolean;
export function buildMoto(options?: { force?: boolean }): Promise<{ venvDir: string; python: string }>;

export interface MotoServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  pid: number | undefined;
  /** The folder holding moto.log. */
  dir: string;
  log: string;
  /** Milliseconds from spawning moto to the first 200 from /moto-api/. */
  readyMs: number;
  motoVersion: string;
  /** Resident memory of the moto process in kB. */
  rssKb(): number;
  /** Forgets every resource of every account and region (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** Stops moto; deletes `dir` unless the caller passed it. Safe to call twice. */
  stop(): Promise<void>;
}

export function startMoto(options?: { dir?: string; readyTimeoutMs?: number; env?: Record<string, string> }): Promise<MotoServer>;
